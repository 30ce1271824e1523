"""Bulk loads into empty tables: drop a table's keys, indexes and foreign keys, load it, and
create them again from their own definitions (what ``pg_restore`` does). Used by
``seed_scale`` for the reports and by ``targets.rollup_store.rebuild_rollups`` for the first
build of the roll-ups.

Why: Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, so every inserted row queues
one check per foreign key, run one by one (≈ 20 µs each) immediately or at COMMIT, and every
index takes one insert per row. Built afterwards, an index is one sort and a foreign key one
validating anti-join (``ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY``): 2 million rows, two
foreign keys, 80 s of checks at COMMIT → 2 s.

Everything happens in the caller's transaction, so a failure leaves the schema as it was;
the names and definitions (``pg_get_constraintdef``, ``pg_get_indexdef``: DEFERRABLE
INITIALLY DEFERRED included) come back exactly as they were, validated. Check constraints
and NOT NULL stay (cheap per row), and so does a primary or unique key that a foreign key
uses (the report's primary key: evidence links point at it).

Locks: dropping a foreign key takes ACCESS EXCLUSIVE on the table it references, until the
transaction ends — fine for a fresh database or a migration, not for a live one; callers
use it only on an empty table.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, transaction

MAINTENANCE_WORK_MEM = "1GB"  # index sorts of 11 M rows in memory
OBJECT_IN_USE = "55006"

# Constraints to drop (primary / unique keys no foreign key uses, foreign keys) and indexes that
# back no constraint, with their definitions; keys first, foreign keys last when re-created.
_DROPPABLE = """
    SELECT c.contype, c.conname, pg_get_constraintdef(c.oid)
      FROM pg_constraint c
     WHERE c.conrelid = %(table)s::regclass
       AND (c.contype = 'f'
            OR c.contype IN ('p', 'u') AND NOT EXISTS (
                SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid))
    UNION ALL
    SELECT 'i', i.relname, pg_get_indexdef(i.oid)
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     WHERE x.indrelid = %(table)s::regclass
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid
                                                      AND c.conrelid = x.indrelid)
"""
_ORDER = {"p": 0, "u": 1, "i": 2, "f": 3}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def is_empty(cursor, table: str) -> bool:
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {quote(table)})")
    return cursor.fetchone()[0]


def drop_for_load(cursor, table: str) -> list[tuple[str, str, str]]:
    """Drop the table's droppable keys, indexes and foreign keys; return them for
    ``recreate``. Only for an empty table: nothing to check per row while loading. All or
    nothing: when a table its foreign keys reference has checks queued in this transaction,
    PostgreSQL refuses to alter it ("pending trigger events"); then nothing is dropped (with
    the foreign keys kept, each loaded row would queue checks of its own, and those would
    block re-creating the keys)."""
    cursor.execute(_DROPPABLE, {"table": quote(table)})
    found = sorted(cursor.fetchall(), key=lambda row: _ORDER[row[0]])
    try:
        with transaction.atomic(using=cursor.db.alias):
            for kind, name, _ in reversed(found):  # foreign keys first
                if kind == "i":
                    cursor.execute(f"DROP INDEX {quote(name)}")
                else:
                    cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    except OperationalError as refused:
        if getattr(refused.__cause__, "pgcode", None) != OBJECT_IN_USE:
            raise
        return []
    return found


def recreate(cursor, table: str, dropped: list[tuple[str, str, str]]) -> None:
    """Create again what ``drop_for_load`` dropped: keys, then indexes (one sort each), then
    foreign keys (one validating query each; a row that does not match fails the load)."""
    if not dropped:
        return
    cursor.execute("SELECT current_setting('maintenance_work_mem')")
    previous = cursor.fetchone()[0]
    cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [MAINTENANCE_WORK_MEM])
    for kind, name, definition in dropped:
        if kind == "i":
            cursor.execute(definition)
        else:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
    cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [previous])


@contextmanager
def loading(cursor, tables: list[str]) -> Iterator[list[str]]:
    """Around a load into ``tables``: those that are empty lose their keys, indexes and
    foreign keys for the load and get them back, validated, at the end (inside the caller's
    transaction). Yields the names of the tables so treated; on an error nothing is
    re-created — the caller's transaction rolls back, which restores them."""
    treated = [(table, drop_for_load(cursor, table)) for table in tables if is_empty(cursor, table)]
    yield [table for table, _ in treated]
    for table, dropped in treated:
        recreate(cursor, table, dropped)
