"""Security pieces the settings name: the Content-Security-Policy fallback for Django < 6.0,
the session time-outs, the client address, django-axes' slow-down and lock-out response, and
a small rate limit (password reset by e-mail).

The policy itself is settings.SECURE_CSP. Django 6.0+ sends it with its own
``ContentSecurityPolicyMiddleware`` and ``csp_override``; on Django 5.2 the two small
stand-ins below do the same from the same setting.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from functools import wraps

import django
from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.db.models import Max, Sum
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
    """The client's address (lock-out, slow-down, rate limits): REMOTE_ADDR, or behind
    TRUSTED_PROXY_COUNT proxies the address the outermost of them saw.

    Each proxy appends the address it received the request from to X-Forwarded-For (nginx:
    ``proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;``), so the header is read
    from the right: the last entry is what the proxy next to us saw, the Nth from the right
    what the Nth (outermost) proxy saw — the client. Entries further left are whatever the
    client sent and are never used. With TRUSTED_PROXY_NETWORKS set, the header is believed
    only from a proxy inside them; an entry that is not an IP address (a proxy fewer than
    configured, a forged header) is not used either: REMOTE_ADDR then."""
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if not count or not _from_trusted_proxy(remote):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote


def _from_trusted_proxy(remote: str | None) -> bool:
    networks = settings.TRUSTED_PROXY_NETWORKS
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


LOCKED_OUT_MESSAGE = gettext_lazy(
    "登录失败次数过多，请 %(duration)s后再试。如忘记密码，请联系系统管理员重置。"
)
# The slow-down's longest wait between two tries (before the lock-out takes over).
SLOWDOWN_MAX_SECONDS = 60


def slowdown_seconds(failures: int) -> int:
    """The wait after the last failure before the next try, with ``failures`` failures of a
    user name from an address: none below LOGIN_SLOWDOWN_AFTER, then 2, 4, 8 … seconds."""
    after = settings.LOGIN_SLOWDOWN_AFTER
    if not after or failures < after:
        return 0
    return min(2 ** (failures - after + 1), SLOWDOWN_MAX_SECONDS)


class SlowDownAxesHandler(AxesDatabaseHandler):
    """django-axes' database handler (settings.AXES_HANDLER) that slows repeated failures
    down before it locks out: past LOGIN_SLOWDOWN_AFTER failures of a user name from an
    address, a try that comes sooner than ``slowdown_seconds`` after the last failure is
    refused before the password is checked — 429 请稍后再试 with Retry-After — and is not
    counted as a failure. No worker sleeps: the client is told when to come back.

    Every way in goes through here (the login page, the admin login, the token endpoint:
    all call ``authenticate``), and unknown user names are answered exactly the same."""

    def is_allowed(self, request, credentials=None) -> bool:
        if not super().is_allowed(request, credentials):
            return False
        wait = self.slowdown_wait(request, credentials)
        if wait:
            request.login_retry_after = wait
            request.axes_locked_out = True  # AxesMiddleware and the token view answer 429
            return False
        return True

    def slowdown_wait(self, request, credentials=None) -> int:
        if not settings.LOGIN_SLOWDOWN_AFTER:
            return 0
        failures, last = 0, None
        for attempts in self.get_user_attempts(request, credentials):
            row = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            failures = max(failures, row["failures"] or 0)
            if row["last"] is not None and (last is None or row["last"] > last):
                last = row["last"]
        delay = slowdown_seconds(failures)
        if not delay or last is None:
            return 0
        remaining = (last - request.axes_attempt_time).total_seconds() + delay
        return math.ceil(remaining) if remaining > 0 else 0

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is not None and getattr(request, "login_retry_after", None):
            return  # refused before the password was checked: not a failure
        super().user_login_failed(sender, credentials, request, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' AXES_LOCKOUT_CALLABLE: 429 with Retry-After, a Chinese page (or the
    API's error body under /api/) — for a lock-out (``locked_out``) and for a try that came
    too soon after repeated failures (``slow_down``). The same for any user name, existing
    or not."""
    wait = getattr(request, "login_retry_after", None)
    if wait:
        seconds, code = wait, "slow_down"
        message = _("登录失败次数较多，请稍后再试（%(seconds)s 秒后）。") % {"seconds": wait}
    else:
        seconds, code = int(settings.AXES_COOLOFF_TIME.total_seconds()), "locked_out"
        message = LOCKED_OUT_MESSAGE % {"duration": _duration_text(seconds)}
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"code": code, "message": message}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response


# --------------------------------------------------------------------------- rate limits
def rate_limit(scope: str, ident: str, limit: int, window: int) -> int:
    """Count one request of ``ident`` (an address, an account) under ``scope``: 0 when it is
    within ``limit`` requests per ``window`` seconds, else the seconds until it will be (the
    refused request is not counted). A sliding window in the cache — shared by the workers
    with REDIS_URL; ``ident`` is hashed, so no address or e-mail lands in a key."""
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    key = f"fireplan:rate:{scope}:{digest}"
    now = time.time()
    history = [moment for moment in cache.get(key, []) if moment > now - window]
    if len(history) >= limit:
        return max(1, math.ceil(history[0] + window - now))
    history.append(now)
    cache.set(key, history, window)
    return 0
