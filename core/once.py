"""One effect per form, however often it is sent (double click, reload, a retried request).

Every form that writes carries a one-time token (a hidden field, a fresh random value each
time the form is rendered). ``@once_per_form`` claims the token atomically before the view
runs (``cache.add`` on the shared cache, atomic). The first POST runs; when it
ends in a redirect (POST/redirect/GET: it succeeded) the token remembers where it led for
24 hours. A second POST with the same token does not run the view: it is sent to that same
page with 「该表单已提交，请勿重复提交」. If the first POST failed (form errors, refused by a
service, an exception) the token is released, so correcting the form and sending it again works.

A POST without a token (an old page, a test, a script) is handled as before. The token is not
a secret and grants nothing; CSRF and the login still protect the form.

The tokens live in the "shared" cache (``core.checks``), which every gunicorn worker sees:
Redis when ``REDIS_URL`` is set, a database table otherwise (``cache.add`` is atomic in both:
an INSERT on the table's primary key). A per-process cache would dedupe each worker's own
requests only: the system check refuses it outside DEBUG.
"""

from __future__ import annotations

import functools
import re
import secrets
import time

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy

from core.checks import shared_cache

FIELD = "once_token"
ALREADY_SENT = gettext_lazy("该表单已提交，请勿重复提交")
PENDING = "pending"
DONE_SECONDS = 24 * 3600
PENDING_SECONDS = 120  # a claim whose request died without releasing it expires
WAIT_SECONDS = 15  # how long a duplicate waits for the first request to finish
_VALID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_token() -> str:
    return secrets.token_urlsafe(18)


class OnceTokenField(forms.CharField):
    """The hidden one-time token; a fresh one each time an unbound form is rendered."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.HiddenInput)
        kwargs.setdefault("required", False)
        kwargs.setdefault("initial", new_token)
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)


class OnceFormMixin(forms.Form):
    """Add to a form class to carry the one-time token."""

    once_token = OnceTokenField()


def _key(request, token: str) -> str:
    user = getattr(request, "user", None)
    who = user.pk if user is not None and user.is_authenticated else "anonymous"
    return f"once:{who}:{token}"


def _wait_for_result(key: str) -> str | None:
    cache = shared_cache()
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = cache.get(key)
        if value is None:
            return None  # the first request failed and released the token
        if value != PENDING:
            return value
        time.sleep(0.1)
    return None


def once_per_form(view):
    """Run a POST view at most once per one-time token (see the module docstring)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        token = request.POST.get(FIELD, "") if request.method == "POST" else ""
        if not _VALID.match(token):
            return view(request, *args, **kwargs)
        key = _key(request, token)
        cache = shared_cache()
        if not cache.add(key, PENDING, PENDING_SECONDS):
            location = _wait_for_result(key)
            if location is None and cache.add(key, PENDING, PENDING_SECONDS):
                pass  # the first try failed and let go: this one runs
            else:
                messages.info(request, ALREADY_SENT)
                return redirect(location or request.path)
        succeeded = False
        try:
            response = view(request, *args, **kwargs)
            succeeded = response.status_code in (301, 302, 303) and response.has_header("Location")
            return response
        finally:
            if succeeded:
                cache.set(key, response["Location"], DONE_SECONDS)
            else:
                cache.delete(key)

    return wrapper
