# Migrations are history: core/migrations/0004_table_clock.py holds a frozen copy of the
# functions below. If their SQL changes, add a migration that installs the new SQL
# (tests/core/test_table_clock.py compares the database with FUNCTIONS_SQL).
"""Table clocks: a version per database table that grows with every commit that wrote it
(issue 19: the API lists' response cache, ``core.api_cache``).

A PostgreSQL statement-level trigger (AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE … FOR EACH
STATEMENT) on every table of every installed model — M2M and history tables included, the
clock table itself excluded — ticks the table in the same transaction as the write:

    INSERT INTO core_tableclock (table_name, xid, n) VALUES (<table>, txid_current(), 1)
    ON CONFLICT (table_name, xid) DO NOTHING

A table's version is ``sum(n)`` of its rows. Each transaction writes a row of its own, so
writers never wait on each other for the clock (no hot counter row) and never deadlock (no
row is locked by two writers). Uncommitted ticks are invisible to other sessions; a rolled
back one disappears; a committed one adds 1 forever — so the version never goes back and two
equal versions mean no commit wrote the table in between.

**Compaction** keeps the rows few: ``core_table_clock_compact(table)`` deletes the table's
committed tick rows (``DELETE … RETURNING``) and adds their sum to its base row (``xid`` 0),
in one transaction, so every reader sees the same sum before and after. It runs only under
``pg_try_advisory_xact_lock`` (per table): two compactions never meet, and none ever waits.
The trigger runs it with probability 1/32 (``random()``): about 32 rows per table between
compactions, at the cost of one small DELETE in one write of 32. Readers never compact (they
may read a replica, which cannot write).

The triggers are installed by ``install_triggers`` on ``post_migrate`` (idempotent: one query
lists the tables that have the trigger, the rest get it), so a table added later is covered
without anyone remembering; ``tests/core/test_table_clock.py`` lists the database's tables and
fails for any project table without it.

**Dependencies recorded**: ``recording()`` collects the tables named in every SQL statement
run while it is open (``connection.execute_wrapper`` on every database alias; a known table
name in the text, quoted or not). Code that serves something from a cache that is not the
database (a per-process memo of table contents) calls ``depends_on(*tables)`` so that the
recording knows. ``versions(tables)`` reads the versions of many tables in one index query.

SQLite (development, ``scripts/serve``): no triggers, ``supported()`` is false and nothing
that depends on the clocks is cached.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from functools import cache

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections

TABLE = "core_tableclock"
TRIGGER = "core_table_clock"
TICK_FUNCTION = "core_table_clock_tick"
COMPACT_FUNCTION = "core_table_clock_compact"
COMPACT_EVERY = 32  # the trigger compacts with probability 1 / COMPACT_EVERY

FUNCTIONS_SQL = [
    f"""
CREATE OR REPLACE FUNCTION {COMPACT_FUNCTION}(t text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    folded bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('{TABLE}:' || t)) THEN
        RETURN 0;
    END IF;
    WITH gone AS (
        DELETE FROM {TABLE}
         WHERE table_name = t AND xid <> 0 AND xid <> txid_current()
        RETURNING n
    )
    SELECT sum(n) INTO folded FROM gone;
    IF folded IS NOT NULL THEN
        INSERT INTO {TABLE} (table_name, xid, n) VALUES (t, 0, folded)
        ON CONFLICT (table_name, xid) DO UPDATE SET n = {TABLE}.n + EXCLUDED.n;
    END IF;
    RETURN coalesce(folded, 0);
END
$$""",
    f"""
CREATE OR REPLACE FUNCTION {TICK_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {TABLE} (table_name, xid, n) VALUES (TG_TABLE_NAME, txid_current(), 1)
    ON CONFLICT (table_name, xid) DO NOTHING;
    IF random() < 1.0 / {COMPACT_EVERY} THEN
        PERFORM {COMPACT_FUNCTION}(TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END
$$""",
]

_VERSIONS = f"""
    SELECT table_name, sum(n) FROM {TABLE} WHERE table_name = ANY(%s) GROUP BY table_name"""


def supported(using: str = DEFAULT_DB_ALIAS) -> bool:
    return connections[using].vendor == "postgresql"


def excluded() -> set[str]:
    """Tables without a clock: the clock itself and the shared cache (not a model)."""
    return {TABLE, getattr(settings, "SHARED_CACHE_TABLE", "")}


@cache
def clocked_tables() -> frozenset[str]:
    """Every table of every installed model: M2M tables and history tables included."""
    found = set()
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        found.add(meta.db_table)
    return frozenset(found - excluded())


def _trigger_sql(table: str) -> str:
    quoted = connections[DEFAULT_DB_ALIAS].ops.quote_name(table)
    return (
        f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {quoted} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {TICK_FUNCTION}()"
    )


def tables_with_trigger(using: str = DEFAULT_DB_ALIAS) -> set[str]:
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             WHERE t.tgname = %s AND NOT t.tgisinternal
            """,
            [TRIGGER],
        )
        return {name for (name,) in cursor.fetchall()}


def install_triggers(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Give every clocked table that lacks it the tick trigger; the tables it was added to."""
    if not supported(using):
        return []
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT to_regprocedure(%s)", [f"{TICK_FUNCTION}()"])
        if cursor.fetchone()[0] is None:  # before core's migration 0004 (a partial migrate)
            return []
        existing = set(connections[using].introspection.table_names(cursor))
        missing = sorted((clocked_tables() & existing) - tables_with_trigger(using))
        for table in missing:
            cursor.execute(_trigger_sql(table))
    return missing


def on_post_migrate(sender, using=DEFAULT_DB_ALIAS, plan=None, **kwargs) -> None:
    """After ``migrate``: triggers on new tables. After ``flush`` (sent with no plan: the
    tests' transactional flush) the clocks restarted from zero, so the shared cache's
    entries made under the old clocks are dropped too — a version seen again must never
    match content from before."""
    if using not in settings.DATABASES or using in getattr(settings, "REPLICA_DATABASES", ()):
        return
    install_triggers(using)
    if plan is None and supported(using):
        caches["shared"].clear()


def versions(tables: Iterable[str], using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """The versions of ``tables`` (0 for a table never written), in one index query."""
    names = sorted(set(tables))
    found = dict.fromkeys(names, 0)
    if not names:
        return found
    with connections[using].cursor() as cursor:
        cursor.execute(_VERSIONS, [names])
        found.update((name, int(total)) for name, total in cursor.fetchall())
    return found


def compact(table: str, using: str = DEFAULT_DB_ALIAS) -> int:
    """Fold the table's committed ticks into its base row now (0 when another compaction
    holds the table); the number of ticks folded. The trigger does this by itself."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT {COMPACT_FUNCTION}(%s)", [table])
        return int(cursor.fetchone()[0])


# ------------------------------------------------------------------------- dependencies

_recording: ContextVar[set[str] | None] = ContextVar("fireplan_table_clock_recording", default=None)


@cache
def _table_pattern() -> re.Pattern:
    names = sorted(clocked_tables(), key=len, reverse=True)
    return re.compile(r"(?<![\w$])(" + "|".join(map(re.escape, names)) + r")(?![\w$])")


def tables_in(sql: str) -> set[str]:
    """The clocked tables named in ``sql`` (``"planning_region"`` or planning_region)."""
    return set(_table_pattern().findall(sql))


def depends_on(*tables: str) -> None:
    """Declare that what is being rendered reads ``tables`` other than through SQL (a memo
    of their rows): a response cached from it is current only while they are unchanged."""
    found = _recording.get()
    if found is not None:
        found.update(tables)


@contextlib.contextmanager
def recording() -> Iterator[set[str]]:
    """The tables read by every SQL statement run in the block, on any database alias (and
    those declared with ``depends_on``)."""
    found: set[str] = set()
    token = _recording.set(found)

    def record(execute, sql, params, many, context):
        found.update(tables_in(sql))
        return execute(sql, params, many, context)

    try:
        with contextlib.ExitStack() as stack:
            for alias in settings.DATABASES:
                stack.enter_context(connections[alias].execute_wrapper(record))
            yield found
    finally:
        _recording.reset(token)
