"""API list responses kept whole in the shared cache, never served stale (issue 19).

A list response is a function of the rows its SQL reads, the request and the code. So the
cache records, while a list renders on a miss, every table its SQL reads
(``core.table_clock.recording``), and stores with the body the versions those tables had
**before** the render: ``{tables: versions, body, headers}`` under a key of everything else
the body depends on (``list_key``). A request looks the entry up, reads the versions of its
tables in one query on the database the view reads from (a replica for a GET, see
``core.db_router``) and serves the stored bytes when they are all equal; otherwise it renders
and stores again.

Why the versions are read before the render, under READ COMMITTED: every statement sees the
commits made before it started. A commit that lands between the version read and the data
read makes the stored body newer than its versions say, never older; the next reader reads
versions that include that commit, finds them different and renders again. Reading the
versions after the render could store an older body under newer versions — a stale hit.
A table's version only grows (``core.table_clock``), so equal versions mean that no commit
wrote any table the body was read from.

What is in the key: the view, the scheme, host and path (the page links are absolute), the
whole query string (sorted), the user, the user's scope (role, region, unit, the regions it
covers, everything) and staff / superuser flags, the language, the renderer and media type
asked for, the local date (a target's status depends on the day; no list serializer reads
the time finer than that: the jobs list, whose ``downloadable`` does, is not a lean list and
is not cached), the settings that shape a body (``KEYED_SETTINGS``) and the code version.
Authentication, permissions, throttling and the scope run on every request: only the
queryset, the serialisation and the rendering are skipped by a hit.

Never cached: anything but GET, any format but JSON (the browsable API's page holds the
session's CSRF token), a status other than 200, a response that sets a cookie, a
request inside a transaction that has written (``wrote_in_transaction``: its own uncommitted
rows would be visible to the render and a rollback takes their ticks back — under
pytest-django's ``db`` fixture every request runs inside the test's transaction, which has
usually written, so ``transaction=True`` tests exercise the cache), a render that wrote
inside a transaction, ``API_LIST_CACHE=False``, and SQLite (no clocks). Lists do not answer ETags
(``core.api.ETagMixin`` covers detail responses only), so there is no If-None-Match here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.http import HttpResponse
from django.utils import timezone, translation

from core import table_clock
from core.models import TableClock
from core.scope import scope_of

SECONDS = 24 * 3600
PREFIX = "apilist"
# Set again on every response by the view (DRF's finalize_response): not stored.
VIEW_HEADERS = {"vary", "allow"}
# JSON only: the browsable API's page holds the session's CSRF token and forms.
CACHED_FORMATS = {"json"}
# Settings that shape a list's body: the status engine's tolerances (a target's light), the
# time zone of the times shown, DRF's defaults (page size, formats).
KEYED_SETTINGS = ("STATUS_RULES", "TIME_ZONE", "USE_TZ", "REST_FRAMEWORK")
# A copy of recent entries in each process (``_current``): bodies up to LOCAL_LIMIT bytes,
# at most the alias's MAX_ENTRIES of them (settings.CACHES: 200 × 256 KiB bounds a worker's
# copies at 50 MiB; a 100-row page is 10–40 KiB).
LOCAL = "api_lists"
LOCAL_LIMIT = 256 * 1024
RUNTIME_APPS = ("core", "accounts", "planning", "stations", "targets", "reports", "fireplan")


def enabled(using: str) -> bool:
    return getattr(settings, "API_LIST_CACHE", True) and table_clock.supported(using)


@cache
def code_version() -> str:
    """The runtime apps' code as deployed (once per process): a release never serves a body
    that the previous one wrote."""
    root = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    for app in RUNTIME_APPS:
        for path in sorted((root / app).glob("**/*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def wrote_in_transaction(using: str) -> bool:
    """Whether the request runs inside a transaction that has written (on ``using`` or the
    primary). Its own uncommitted rows would be visible to the render and its own ticks to
    the version read, and a rollback takes both back: never cached then. A transaction that
    has not written (no transaction id yet) reads what autocommit reads."""
    for alias in {using, DEFAULT_DB_ALIAS}:
        connection = connections[alias]
        if connection.in_atomic_block:
            # On the driver's own cursor: bookkeeping of tests and the bench (a request is
            # never inside a transaction in production), left out of query counts.
            with connection.connection.cursor() as cursor:
                cursor.execute("SELECT txid_current_if_assigned() IS NOT NULL")
                if cursor.fetchone()[0]:
                    return True
    return False


def list_key(request, view) -> str:
    user = request.user
    scope = scope_of(user)
    query = urlencode(sorted(request.query_params.lists()), doseq=True)
    text = "|".join(
        map(
            str,
            [
                f"{type(view).__module__}.{type(view).__qualname__}",
                # next / previous links are absolute: scheme and host are part of the body
                f"{request.scheme}://{request.get_host()}{request.path}",
                query,
                user.pk,
                f"{scope.role}:{scope.region_id}:{scope.unit_id}:{scope.everything}",
                # ints hash the same in every process: the regions the scope covers
                hash((scope.region_ids, scope.above_ids)),
                f"{user.is_staff}:{user.is_superuser}",
                translation.get_language() or "",
                getattr(request.accepted_renderer, "format", ""),
                getattr(request, "accepted_media_type", ""),
                timezone.localdate().isoformat(),
                *(repr(getattr(settings, name, None)) for name in KEYED_SETTINGS),
                code_version(),
            ],
        )
    )
    return f"{PREFIX}:{hashlib.sha256(text.encode()).hexdigest()}"


def _replay(entry: dict) -> HttpResponse:
    response = HttpResponse(entry["body"], status=200)
    for name, value in entry["headers"]:
        response[name] = value
    return response


def _cacheable(response) -> bool:
    return response.status_code == 200 and not response.cookies


def cached_list(request, view, render: Callable[[], object]):
    """The list response: the stored bytes while the tables it was read from are unchanged,
    else ``render()`` (a DRF Response) rendered here and stored."""
    using = router.db_for_read(TableClock)  # where the view's reads go
    if (
        request.method != "GET"
        or getattr(request.accepted_renderer, "format", None) not in CACHED_FORMATS
        or not enabled(using)
        or wrote_in_transaction(using)
    ):
        return render()
    key = list_key(request, view)
    entry = _current(key, using)
    if entry is not None:
        return _replay(entry)
    before = table_clock.versions(table_clock.clocked_tables(), using)  # first: see above
    with table_clock.recording() as tables:
        response = render()
        response = view.finalize_response(request, response)
        response.render()
    if tables and _cacheable(response) and not wrote_in_transaction(using):
        headers = [(k, v) for k, v in response.items() if k.lower() not in VIEW_HEADERS]
        versions = {table: before.get(table, 0) for table in tables}
        keep(key, {"tables": versions, "body": response.content, "headers": headers})
    return response


def _current(key: str, using: str) -> dict | None:
    """The stored entry whose tables are unchanged: this process's copy, else the shared one
    (then copied here). A copy is checked exactly as the shared entry is — served only while
    its tables' versions are the ones read now — so it is never staler than the shared
    cache; what it saves is the shared cache's round trip on a warm hit."""
    local = caches[LOCAL].get(key)
    if local is not None and table_clock.versions(local["tables"], using) == local["tables"]:
        return local
    entry = caches["shared"].get(key)
    if entry is None or (local is not None and entry["tables"] == local["tables"]):
        return None  # none, or the same outdated entry
    if table_clock.versions(entry["tables"], using) != entry["tables"]:
        return None
    _keep_local(key, entry)
    return entry


def keep(key: str, entry: dict) -> None:
    caches["shared"].set(key, entry, SECONDS)
    _keep_local(key, entry)


def _keep_local(key: str, entry: dict) -> None:
    if len(entry["body"]) <= LOCAL_LIMIT:
        caches[LOCAL].set(key, entry, SECONDS)


def forget(*args, **kwargs) -> None:
    """Drop this process's copies. Connected to ``post_migrate``: a ``flush`` (the tests
    between transactional tests) empties the clocks, whose sums then start again from 0, so
    an old copy could meet its versions again. (The database cache is flushed with the
    database; a Redis one is emptied by hand after a restore: README「备份与恢复」.)"""
    caches[LOCAL].clear()
