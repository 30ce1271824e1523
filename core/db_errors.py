"""When the database says no: lock and statement timeouts, deadlocks, a lost connection.

None of these is the user's fault or a bug in the page, so none may end as a 500. A row
locked by someone else (lock_timeout), a deadlock PostgreSQL broke by aborting us, or a
serialization failure → 409 「数据正被他人处理，请稍后重试」; a statement that ran too long or a
database that is gone → 503 「数据库暂时不可用，请稍后重试」. Both with ``Retry-After``. The
transaction that failed has been rolled back, so nothing was written.

Three doors lead here: pages through ``DatabaseErrorMiddleware.process_exception``, the API
through ``core.api.exception_handler``, and failures outside any view (the session or the
user loaded by middleware while PostgreSQL is down) through the 500 handler, which asks
``classify`` about the exception being handled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy

logger = logging.getLogger("core.db_errors")

BUSY_MESSAGE = gettext_lazy("数据正被他人处理，请稍后重试")
UNAVAILABLE_MESSAGE = gettext_lazy("数据库暂时不可用，请稍后重试")

# SQLSTATE codes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout, NOWAIT
DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"
QUERY_CANCELED = "57014"  # statement_timeout
UNIQUE_VIOLATION = "23505"  # two requests created the same row at the same moment
CONNECTION_CLASSES = ("08", "57P")  # connection exceptions; admin/crash shutdown


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    retry_after: int

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


LOCKED = Refusal(409, "conflict_locked", BUSY_MESSAGE, 2)
DEADLOCK = Refusal(409, "deadlock", BUSY_MESSAGE, 1)
DUPLICATE = Refusal(409, "conflict", BUSY_MESSAGE, 1)
TIMEOUT = Refusal(503, "timeout", UNAVAILABLE_MESSAGE, 5)
UNAVAILABLE = Refusal(503, "database_unavailable", UNAVAILABLE_MESSAGE, 10)


def sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of a driver error: psycopg2 says ``pgcode``, psycopg 3 ``sqlstate``."""
    for error in (exc, exc.__cause__):
        code = getattr(error, "pgcode", None) or getattr(error, "sqlstate", None)
        if code:
            return code
    return ""


def classify(exc: BaseException | None) -> Refusal | None:
    """The clean answer for a database failure, or None when ``exc`` is something else
    (other integrity errors, a ProgrammingError: those are bugs and stay 500)."""
    if exc is None or not isinstance(exc, DatabaseError):
        return None
    code = sqlstate(exc)
    if code == LOCK_NOT_AVAILABLE or code == SERIALIZATION_FAILURE:
        return LOCKED
    if code == DEADLOCK_DETECTED:
        return DEADLOCK
    if code == UNIQUE_VIOLATION:
        # Each check-then-insert (a new report, a new contribution) lost a race with another
        # request inserting the same key; the retry sees the other row and answers properly.
        return DUPLICATE
    if code == QUERY_CANCELED:
        return TIMEOUT
    if code.startswith(CONNECTION_CLASSES):
        return UNAVAILABLE
    if isinstance(exc, InterfaceError):  # "connection already closed"
        return UNAVAILABLE
    if isinstance(exc, OperationalError) and not code:
        # No SQLSTATE: the driver lost the server (refused, reset, terminated abnormally).
        return UNAVAILABLE
    return None


def _log(request, refusal: Refusal, exc: BaseException) -> None:
    logger.warning(
        "%s %s → %s %s: %s",
        request.method,
        request.path,
        refusal.status,
        refusal.code,
        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
    )


def json_response(refusal: Refusal) -> JsonResponse:
    body = {"code": refusal.code, "message": str(refusal.message)}
    return JsonResponse(body, status=refusal.status, headers=refusal.headers())


def page_response(request, refusal: Refusal) -> HttpResponse:
    """A page that needs no database: no base template, no context processors."""
    html = render_to_string("db_error.html", {"refusal": refusal, "path": request.get_full_path()})
    return HttpResponse(html, status=refusal.status, headers=refusal.headers())


def response_for(request, exc: BaseException | None) -> HttpResponse | None:
    refusal = classify(exc)
    if refusal is None:
        return None
    _log(request, refusal, exc)
    if request.path_info.startswith("/api/"):
        return json_response(refusal)
    return page_response(request, refusal)


class DatabaseErrorMiddleware:
    """Pages (and any view DRF did not answer for) that hit a database failure → 409/503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return response_for(request, exception)
