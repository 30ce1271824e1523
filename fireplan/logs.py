"""Structured logs: a request id per request, one access line per request, JSON lines.

``RequestLogMiddleware`` (first in settings.MIDDLEWARE) takes a sane incoming ``X-Request-ID``
(from the proxy) or makes a uuid4, keeps it in a context variable for every log record of the
request, sends it back on the response, and writes one ``fireplan.access`` line when the
response is ready. ``JsonFormatter`` renders records as one JSON object a line
(settings.LOG_FORMAT=json); ``RequestContextFilter`` adds the request fields to every record,
so the plain format can show the id too.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from django.utils.functional import SimpleLazyObject

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is kept only if it is short and plain: it ends up in every log line.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
request_var: contextvars.ContextVar = contextvars.ContextVar("request", default=None)

access_log = logging.getLogger("fireplan.access")

# URL parameters that are secrets (the password reset link's ``token``): cut out of the
# access line and of every other record of the request (Django's "Not Found: <path>" …).
SECRET_URL_KWARGS = ("token",)
REDACTED = "[redacted]"


def current_request_id() -> str | None:
    return request_id_var.get()


def known_user_id(request) -> int | None:
    """The request's user id if it is already known: a log call must not query the database.
    (AuthenticationMiddleware's lazy user caches itself in ``_cached_user``; DRF puts the
    token's user straight on the request.)"""
    if request is None:
        return None
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        user = request.__dict__.get("_cached_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return user.pk
    return None


def url_secrets(request) -> list[str]:
    match = getattr(request, "resolver_match", None) if request is not None else None
    if match is None:
        return []
    return [str(match.kwargs[name]) for name in SECRET_URL_KWARGS if match.kwargs.get(name)]


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        id_token = request_id_var.set(request_id)
        request_token = request_var.set(request)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            path = redact(request.path, url_secrets(request))
            access_log.info(
                "%s %s %s",
                request.method,
                path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(id_token)
            request_var.reset(request_token)


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user_id`` of the current request (None outside one), and
    cuts the request's secret URL parameters out of the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx/5xx answer after the middleware has finished (``log_response``),
        # naming the request in the record.
        request = request_var.get() or getattr(record, "request", None)
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or getattr(request, "request_id", None)
        if not hasattr(record, "user_id"):
            record.user_id = known_user_id(request)
        secrets = url_secrets(request)
        if secrets:
            record.msg, record.args = redact(record.getMessage(), secrets), None
            if isinstance(getattr(record, "path", None), str):
                record.path = redact(record.path, secrets)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, user_id, and for
    access lines method, path, status and duration_ms; exceptions as ``exc_info`` text."""

    EXTRA_FIELDS = ("method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        for field in self.EXTRA_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
