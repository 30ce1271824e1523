"""Keys of the rendered fragments the dashboards cache (the target tables, the charts' tables
of judgements): the judgement clocks of the plans shown (``targets.judgement.clocks_of_plans``),
the region tree's names, the plans' rows, the date, the user's scope and the language. A
change of any of them is a new key, so a cached fragment is never shown stale: it is simply
not found again (and expires from the shared cache after a day, the templates' timeout).
Fragments of what the clocks do not count — reporting (tallies), recent changes (history),
tasks — are not cached.

The key is read before the page reads what it shows (as ``targets.judgement`` reads its
clocks first): a change committed in between can only put newer data under an older key,
which no reader asks for again — never older data under the newer key."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable

from django.db import connection
from django.utils import translation

from core.scope import scope_of
from targets.judgement import clocks_of_plans

# The region tree's names and parents (rows and charts name regions, the ranking compares a
# region's children; a rename ticks no clock) and the plans' own rows (a plan without targets
# has no clock, yet the charts list it by title).
_NAMES = """
    SELECT (SELECT md5(string_agg(id || ':' || coalesce(parent_id, 0) || ':' || name, ','
                                  ORDER BY id)) FROM planning_region),
           (SELECT md5(string_agg(p::text, ',' ORDER BY p.id)) FROM planning_plan p
             WHERE p.id = ANY(%(plans)s))"""


def names(plan_ids: list[int]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(_NAMES, {"plans": plan_ids})
        regions, plans = cursor.fetchone()
    return f"{regions}|{plans}|{','.join(map(str, plan_ids))}"


def fragment_key(user, plan_ids: Iterable[int], on: datetime.date) -> str:
    """The part of a fragment's cache key that says what it was rendered from; the
    template's ``{% cache %}`` adds the fragment's name and page."""
    scope = scope_of(user)
    plan_ids = sorted(set(plan_ids))
    parts = [
        clocks_of_plans(plan_ids),
        names(plan_ids),
        on.isoformat(),
        f"{scope.role}:{scope.region_id}:{scope.unit_id}:{scope.everything}",
        translation.get_language() or "",
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
