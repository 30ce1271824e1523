# Migrations are history: core/migrations/0004_region_clock.py holds a frozen copy of the SQL
# installed here. If this SQL changes, add a migration that installs the new SQL
# (tests/core/test_region_tree.py fails until then).
"""The region tree in memory: one query, then sub-tree and ancestor look-ups without more.

At national scale the tree has thousands of regions and every request reads it (the user's
scope). Each process keeps the tree it read last, with the region clock's version then: a
PostgreSQL statement trigger on the regions sets the clock (``core_regionclock``, one row) to
a new number of a sequence in the same transaction as every change. ``load`` asks, in its
one query, for the clock and — only when the clock is not the one cached — the regions, so a
warm read is one row, not thousands. The numbers come from a sequence, which a rollback does
not give back: a version seen inside a transaction that rolled back is never seen again, so
a tree read there is never served for another state of the table. Elsewhere (SQLite) the
tree is read every time."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connections, router

from core.models import Region

CLOCK = "core_regionclock"
CLOCK_SEQUENCE = "core_regionclock_seq"
TICK_FUNCTION = "fireplan_region_clock_tick"

# The clock and, when its version is not ``known``, every region in the order of
# ``Region.Meta.ordering`` (level, name) — as ``Region.objects.values_list`` reads them.
# OFFSET 0 keeps the sub-query apart, so the version test is a one-time filter: on a hit the
# regions are never scanned (joined plainly, PostgreSQL scanned and sorted them all, and its
# estimate of the unanalysed clock table switched JIT compiling on: 60–200 ms).
_READ = f"""
    SELECT c.version, r.id, r.parent_id, r.name
      FROM {CLOCK} c
      LEFT JOIN LATERAL (SELECT id, parent_id, name, level FROM planning_region
                          WHERE c.version <> %(known)s OFFSET 0) r ON true
     WHERE c.id = 1
     ORDER BY r.level, r.name"""

# Per database alias: (clock version, tree) of the last read. A tuple is swapped whole, so
# threads of one process never see a version with another version's tree.
_cached: dict[str, tuple[int, RegionTree]] = {}
_lock = threading.Lock()


@dataclass
class RegionTree:
    parent: dict[int, int | None] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows) -> RegionTree:
        tree = cls()
        for pk, parent_id, name in rows:
            tree.parent[pk] = parent_id
            tree.names[pk] = name
            if parent_id is not None:
                tree.children[parent_id].append(pk)
        return tree

    @classmethod
    def load(cls) -> RegionTree:
        """The tree as the database holds it now (one query). The same object may be handed
        to every caller of the process until a region changes: read it, never change it."""
        using = router.db_for_read(Region)
        if not clock_supported(using):
            return cls.from_rows(Region.objects.using(using).values_list("pk", "parent_id", "name"))
        known_version, known_tree = _cached.get(using, (-1, None))
        with connections[using].cursor() as cursor:
            cursor.execute(_READ, {"known": known_version})
            rows = cursor.fetchall()
        if not rows:  # no clock row (the migration's row was deleted): read every time
            return cls.from_rows(Region.objects.using(using).values_list("pk", "parent_id", "name"))
        version = rows[0][0]
        if version == known_version:
            return known_tree
        tree = cls.from_rows(row[1:] for row in rows if row[1] is not None)
        with _lock:
            _cached[using] = (version, tree)
        return tree

    def subtree(self, region_id: int) -> set[int]:
        """The region and every region below it."""
        return set(self.subtree_ids(region_id))

    def subtree_ids(self, region_id: int) -> frozenset[int]:
        """``subtree`` as a frozenset, walked once per tree (the scope of every request)."""
        # Not a field: subclasses fill the tree lazily (targets.status._LazyRegionTree).
        walked_before = self.__dict__.setdefault("_subtrees", {})
        found = walked_before.get(region_id)
        if found is not None:
            return found
        walked, stack = set(), [region_id]
        while stack:
            current = stack.pop()
            if current in walked:
                continue
            walked.add(current)
            stack.extend(self.children.get(current, ()))
        found = walked_before[region_id] = frozenset(walked)
        return found

    def ancestors(self, region_id: int) -> list[int]:
        chain, current = [], self.parent.get(region_id)
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parent.get(current)
        return chain


def clock_supported(using: str = "default") -> bool:
    return connections[using].vendor == "postgresql"


def forget() -> None:
    """Drop this process's cached trees (tests; the clock makes it unnecessary otherwise)."""
    with _lock:
        _cached.clear()


def install_clock_sql() -> list[str]:
    """The clock: its sequence, its one row, and the statement trigger that sets it to the
    sequence's next number on every change of the regions (TRUNCATE included)."""
    return [
        f"CREATE SEQUENCE IF NOT EXISTS {CLOCK_SEQUENCE}",
        f"CREATE TABLE IF NOT EXISTS {CLOCK} (id smallint PRIMARY KEY CHECK (id = 1), "
        "version bigint NOT NULL)",
        f"INSERT INTO {CLOCK} (id, version) VALUES (1, nextval('{CLOCK_SEQUENCE}')) "
        "ON CONFLICT (id) DO NOTHING",
        f"""
    CREATE OR REPLACE FUNCTION {TICK_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
        UPDATE {CLOCK} SET version = nextval('{CLOCK_SEQUENCE}');
        RETURN NULL;
    END
    $body$;
    """,
        f"DROP TRIGGER IF EXISTS {TICK_FUNCTION} ON planning_region",
        f"CREATE TRIGGER {TICK_FUNCTION} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON planning_region FOR EACH STATEMENT EXECUTE FUNCTION {TICK_FUNCTION}()",
    ]


def remove_clock_sql() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {TICK_FUNCTION} ON planning_region",
        f"DROP FUNCTION IF EXISTS {TICK_FUNCTION}()",
        f"DROP TABLE IF EXISTS {CLOCK}",
        f"DROP SEQUENCE IF EXISTS {CLOCK_SEQUENCE}",
    ]
