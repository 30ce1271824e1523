"""The dashboards' main content (总览, region, unit and plan pages) rendered once and kept in
the shared cache, never shown stale (issue 19: a warm read within 2× of the raw read).

The key says what the content was rendered from, read in one query before the page reads
anything else: the page clocks of the plans shown and of what every page names
(``reports/page_clock.py``: PostgreSQL triggers tick them in the same transaction as every
change of what the dashboards show — figures, targets, milestones, allocations, adjustments,
tasks, sections, stages, periods, plans, regions, units, user names), the plans themselves
(the user's scope decides which), the date (pace and days left depend on it), the user's
scope, the language, the judgement's tolerances and engine, and the templates and code that
render it. A change is a new key: the old content is simply not found again (and expires
after a day). A change committed between reading the key and reading the content can only
put newer content under the older key, which no reader asks for again.

Only what is the same for every user of a scope is cached: the CSRF token is a slot filled
per response; one-time form tokens are rendered per response outside the cached content
(``fill``). Pages with filters or odd query strings are rendered as before, uncached.
On SQLite (no triggers) nothing is cached."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import connections, router
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from core.scope import scope_of
from reports.models import PageClock
from targets import rollup_store
from targets.judgement import rules_key
from targets.status import StatusRules

SECONDS = 24 * 3600
# What {% csrf_token %} writes into cached content, replaced by the response's own token.
CSRF_SLOT = "page-cache-csrf-slot-5b0e2c7d"
WHOLE = 0

_CLOCKS = """
    SELECT count(*), coalesce(sum(version), 0) FROM reports_pageclock
     WHERE plan_id = ANY(%(plans)s)"""


def enabled() -> bool:
    return getattr(settings, "PAGE_CACHE", True) and rollup_store.supported()


@cache
def code_version() -> str:
    """The templates and the code that render the pages, as deployed (once per process): a
    new release never shows content rendered by the old one."""
    root = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    for pattern in ("templates/**/*.html", "reports/*.py", "targets/*.py", "planning/*.py"):
        for path in sorted(root.glob(pattern)):
            digest.update(path.as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def clocks(plan_ids: Iterable[int]) -> str:
    """The sum and count of the plans' clocks and of the one of what every page names —
    read from the database the page reads (a replica for a GET)."""
    using = router.db_for_read(PageClock)
    with connections[using].cursor() as cursor:
        cursor.execute(_CLOCKS, {"plans": sorted({WHOLE, *plan_ids})})
        count, total = cursor.fetchone()
    return f"{count}:{total}"


def page_key(user, page: str, plan_ids: Iterable[int], on: datetime.date, *parts) -> str:
    plan_ids = sorted(set(plan_ids))
    scope = scope_of(user)
    text = "|".join(
        map(
            str,
            [
                clocks(plan_ids),  # first: before the page reads what it shows
                ",".join(map(str, plan_ids)),
                on.isoformat(),
                f"{scope.role}:{scope.region_id}:{scope.unit_id}:{scope.everything}",
                f"{user.is_superuser}:{user.is_staff}",
                translation.get_language() or "",
                settings.TIME_ZONE,  # the times shown (recent changes, history)
                rules_key(StatusRules.from_settings()),
                code_version(),
                *parts,
            ],
        )
    )
    return f"page:{page}:{hashlib.sha256(text.encode()).hexdigest()}"


def render_content(request, template: str, context: dict) -> str:
    """The content as every user of the scope sees it: the CSRF token left as a slot."""
    return render_to_string(template, {**context, "csrf_token": CSRF_SLOT}, request)


def fill(html: str, request, slots: dict[str, Callable[[], str]] | None = None) -> SafeString:
    """The cached content made this response's: its CSRF token, and each slot's own render
    (one-time form tokens)."""
    if CSRF_SLOT in html:
        html = html.replace(CSRF_SLOT, get_token(request))
    for slot, render in (slots or {}).items():
        if slot in html:
            html = html.replace(slot, render())
    return mark_safe(html)  # rendered by our templates, escaped there


def content(
    request,
    page: str,
    plan_ids: Iterable[int],
    on: datetime.date,
    build: Callable[[], str],
    *parts,
    cacheable: bool = True,
) -> str:
    """The page's main content (``build`` renders it), from the shared cache when current."""
    if not (cacheable and enabled()):
        return build()
    key = page_key(request.user, page, plan_ids, on, *parts)
    store = caches["shared"]
    html = store.get(key)
    if html is None:
        html = build()
        store.set(key, html, SECONDS)
    return html


def plain_query(request, *allowed: str) -> bool:
    """Whether the query string holds only ``allowed`` names, each a short number: the page
    is cached per value (anything else is rendered uncached, not cached under junk keys)."""
    for name, values in request.GET.lists():
        if name not in allowed or len(values) != 1:
            return False
        value = values[0]
        if not (value.isdigit() and len(value) <= 6):
            return False
    return True
