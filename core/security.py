"""Security pieces the settings name: the Content-Security-Policy fallback for Django < 6.0,
the session time-outs, the client address, and django-axes' lock-out response.

The policy itself is settings.SECURE_CSP. Django 6.0+ sends it with its own
``ContentSecurityPolicyMiddleware`` and ``csp_override``; on Django 5.2 the two small
stand-ins below do the same from the same setting.
"""

from __future__ import annotations

import time
from functools import wraps

import django
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

CSP_HEADER = "Content-Security-Policy"

if django.VERSION >= (6, 0):
    from django.views.decorators.csp import csp_override
else:  # pragma: no cover - exercised on Python 3.11 (Django 5.2) only

    def csp_override(config):
        """A view's own policy (``None`` or ``{}``: none); the middleware keeps it."""

        def decorator(view):
            @wraps(view)
            def wrapped(*args, **kwargs):
                response = view(*args, **kwargs)
                response._csp_config = config
                return response

            return wrapped

        return decorator


def build_policy(config: dict) -> str:
    return "; ".join(
        f"{directive} {' '.join(values)}".rstrip()
        for directive, values in config.items()
        if values is not None and values is not False
    )


class ContentSecurityPolicyMiddleware:
    """Django < 6.0 only: sends settings.SECURE_CSP (or the view's ``csp_override``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        config = getattr(response, "_csp_config", settings.SECURE_CSP)
        if config and CSP_HEADER not in response:
            response[CSP_HEADER] = build_policy(config)
        return response


# --------------------------------------------------------------------------- sessions
SESSION_LOGIN_AT = "fireplan_login_at"
SESSION_SEEN_AT = "fireplan_seen_at"
# The idle clock is renewed at most this often: saving the session on every request
# (SESSION_SAVE_EVERY_REQUEST) would cost every page three queries for nothing.
SEEN_RESOLUTION_SECONDS = 60


@receiver(user_logged_in, dispatch_uid="core.security.remember_login_time")
def remember_login_time(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_LOGIN_AT] = now
        request.session[SESSION_SEEN_AT] = now


def _duration_text(seconds: int) -> str:
    if seconds % 3600 == 0:
        return _("%(hours)s 小时") % {"hours": seconds // 3600}
    return _("%(minutes)s 分钟") % {"minutes": max(1, seconds // 60)}


class SessionTimeoutMiddleware:
    """Two clocks on a login. Idle: the session expires SESSION_COOKIE_AGE after the last
    request (renewed here, at most once a minute). Absolute: a login lasts at most
    SESSION_ABSOLUTE_SECONDS however active the user is; then the session is flushed and
    pages go to the login page with a message, the API answers 401 — unless the request
    carries a token, which then decides alone. Needs sessions, auth and messages before it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if SESSION_KEY in session:  # a logged-in session; no query to know it
            now = int(time.time())
            login_at = session.setdefault(SESSION_LOGIN_AT, now)  # older sessions: from now
            limit = settings.SESSION_ABSOLUTE_SECONDS
            if limit and now - login_at > limit:
                logout(request)
                return self.expired(request, limit)
            if now - session.get(SESSION_SEEN_AT, 0) >= SEEN_RESOLUTION_SECONDS:
                session[SESSION_SEEN_AT] = now  # modified → saved with a new expiry
        return self.get_response(request)

    def expired(self, request, limit: int):
        message = _("登录已超过 %(duration)s，为安全起见请重新登录") % {
            "duration": _duration_text(limit)
        }
        if request.path_info.startswith("/api/"):
            if "HTTP_AUTHORIZATION" in request.META:
                return self.get_response(request)
            response = JsonResponse({"code": "session_expired", "message": message}, status=401)
            response["WWW-Authenticate"] = "Token"
            return response
        messages.warning(request, message)
        return redirect_to_login(request.get_full_path())


# --------------------------------------------------------------------------- lock-out
def client_ip(request) -> str | None:
    """The client's address for lock-out: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT
    proxies the address the outermost of them saw (X-Forwarded-For read from the right,
    so a client cannot choose it by sending its own header)."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR")


LOCKED_OUT_MESSAGE = gettext_lazy(
    "登录失败次数过多，请 %(duration)s后再试。如忘记密码，请联系系统管理员重置。"
)


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' AXES_LOCKOUT_CALLABLE: 429 with Retry-After, a Chinese page (or the
    API's error body under /api/). The same for any user name, existing or not."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    message = LOCKED_OUT_MESSAGE % {"duration": _duration_text(seconds)}
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"code": "locked_out", "message": message}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response
