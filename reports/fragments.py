"""Keys of the rendered fragments the dashboards cache (the target tables, the charts' tables
of judgements): the judgement clocks of the plans shown (``targets.judgement.clocks_of_plans``),
the region tree's names, the date, the user's scope and the language. A change of any of them
is a new key, so a cached fragment is never shown stale: it is simply not found again (and
expires from the shared cache). Fragments of what the clocks do not count — reporting
(tallies), recent changes (history), tasks — are not cached."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable

from django.db import connection
from django.utils import translation

from core.scope import scope_of
from targets.judgement import clocks_of_plans

FRAGMENT_SECONDS = 24 * 3600

_REGION_NAMES = """
    SELECT md5(string_agg(id || ':' || coalesce(parent_id, 0) || ':' || name, ',' ORDER BY id))
      FROM planning_region"""


def region_names() -> str:
    """The region tree's names and parents (rows and charts name regions, the ranking compares
    a region's children; a rename ticks no clock)."""
    with connection.cursor() as cursor:
        cursor.execute(_REGION_NAMES)
        return cursor.fetchone()[0] or ""


def fragment_key(user, plan_ids: Iterable[int], on: datetime.date) -> str:
    """The part of a fragment's cache key that says what it was rendered from; the
    template's ``{% cache %}`` adds the fragment's name and page."""
    scope = scope_of(user)
    parts = [
        clocks_of_plans(plan_ids),
        region_names(),
        on.isoformat(),
        f"{scope.role}:{scope.region_id}:{scope.unit_id}:{scope.everything}",
        translation.get_language() or "",
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
