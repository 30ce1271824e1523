"""Token authentication that throttles bad tokens (the base of
accounts.authentication.ApiTokenAuthentication, which looks the tokens up), and the browsable
API's renderer with its Content-Security-Policy; both named in settings.REST_FRAMEWORK.

DRF authenticates before it throttles, so a wrong ``Authorization: Token …`` is answered 401
before the anonymous rate is ever counted: without this a client could try tokens at full
speed. Each bad token counts against the client's address (rate ``bad_token``,
API_BAD_TOKEN_RATE); past the rate every token request from that address is 429 until the
window passes — also a right token, or the answers would still tell a right guess apart.
Like api_policies, this module must not import DRF views.
"""

from django.conf import settings
from rest_framework import exceptions, renderers
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class BadTokenThrottle(SimpleRateThrottle):
    scope = "bad_token"

    def get_rate(self):
        # Read when used (not frozen at import like THROTTLE_RATES); no rate set: no limit.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def exceeded(self, request) -> bool:
        """Whether the address is over the rate; loads the history without counting."""
        if self.rate is None:
            return False
        self.key = self.get_cache_key(request)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return len(self.history) >= self.num_requests

    def record_failure(self, request) -> None:
        if self.rate is not None:
            self.exceeded(request)
            self.throttle_success()  # stores this failure in the address's history


class ThrottledTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != self.keyword.lower().encode():
            return None  # no token offered: the session or nobody
        throttle = BadTokenThrottle()
        if throttle.exceeded(request):
            raise exceptions.Throttled(wait=throttle.wait())
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_failure(request)
            raise

    def authenticate_credentials(self, key):
        """The token's owner and the token, or AuthenticationFailed: the token store is the
        accounts app's (accounts.authentication.ApiTokenAuthentication, named in settings)."""
        raise NotImplementedError("subclass ThrottledTokenAuthentication with a token store")


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's HTML pages carry a <style> element (code colours) and style attributes (filter
    buttons): these pages alone allow inline styles; their scripts stay files only."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_config = settings.SECURE_CSP | {
                "style-src": ["'self'", "'unsafe-inline'"]
            }
        return super().render(data, accepted_media_type, renderer_context)
