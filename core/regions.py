"""The region tree in memory: one query, then sub-tree and ancestor look-ups without more.

At national scale the tree has thousands of regions and every request reads it (the user's
scope). Each process keeps the tree it read last with the regions' table clock then
(``core.table_clock``: a PostgreSQL statement trigger adds to it in the same transaction as
every change of ``planning_region``). ``load`` asks, in its one query, for the clock and —
only when the clock is not the one kept — the regions, so a warm read is one row, not
thousands. A version seen inside a transaction that itself wrote the regions holds ticks a
rollback would take back (and a later commit could bring the same sum with other rows):
such a read is used for that transaction only, never kept. Elsewhere (SQLite) the tree is
read every time."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connections, router

from core import table_clock
from core.models import Region

# The regions' clock, whether this transaction ticked it itself, and — when the clock is not
# ``known`` or the transaction wrote the regions — every region in the order of
# ``Region.Meta.ordering`` (level, name), as ``Region.objects.values_list`` reads them.
# OFFSET 0 keeps the sub-query apart, so the version test is a one-time filter: on a hit the
# regions are never scanned (joined plainly, PostgreSQL scanned and sorted them all and its
# estimate switched JIT compiling on: 60–200 ms).
_READ = f"""
    SELECT c.version, c.own, r.id, r.parent_id, r.name
      FROM (SELECT coalesce(sum(n), 0) AS version,
                   count(*) FILTER (WHERE xid = txid_current_if_assigned()) AS own
              FROM {table_clock.TABLE} WHERE table_name = %(table)s) c
      LEFT JOIN LATERAL (SELECT id, parent_id, name, level FROM planning_region
                          WHERE c.version <> %(known)s OR c.own > 0 OFFSET 0) r ON true
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
        if not table_clock.supported(using):
            return cls.from_rows(Region.objects.using(using).values_list("pk", "parent_id", "name"))
        known_version, known_tree = _cached.get(using, (-1, None))
        with connections[using].cursor() as cursor:
            cursor.execute(_READ, {"table": Region._meta.db_table, "known": known_version})
            rows = cursor.fetchall()
        version, own = rows[0][0], rows[0][1]
        table_clock.depends_on(Region._meta.db_table)  # a list cached from this tree
        if version == known_version and not own:
            return known_tree
        tree = cls.from_rows(row[2:] for row in rows if row[2] is not None)
        if not own:
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


def forget(*args, **kwargs) -> None:
    """Drop this process's cached trees. Connected to ``post_migrate``: a ``flush`` (the
    transactional tests') empties the table clocks, so a version could come back with other
    regions. Otherwise the clock makes it unnecessary."""
    with _lock:
        _cached.clear()
