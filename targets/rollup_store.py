# Migrations are history: targets/migrations/ hold a frozen copy of the SQL installed here.
# If the store's SQL changed: add a migration that installs the new SQL
# (tests/test_migrations_are_history.py fails until then).
"""Roll-ups of approved figures (``ReportRollup``): one row per target × region × period that
holds the region's own approved figure and the sum of every approved figure below it, so the
status engine and the dashboards read a few rows instead of aggregating raw reports (issue 9:
≈ 11 million figures at national scale).

Semantics (exactly the engine's raw rule, ``targets/status.py``, fixed by issue 17): for a
target, a region and a period, ``own_value`` is the approved figure reported for the region
itself (NULL if none); ``below_value`` is the sum of its **children's** effective figures (NULL
when ``below_count`` = 0); ``effective_value`` is own, else below — so a region's figure is its
own, else its children's, each own-else-children again, and a city and its county both
reporting count once (before issue 17 ``below_value`` summed every figure below, counting the
county twice in the province). ``below_count``, ``report_count`` and ``demo_count`` count
approved figures (and demo ones) strictly below / in and below the region. "Approved" means
status approved with a value, as the engine reads them. Rows whose counts fell back to zero
stay (all NULL / 0) and mean the same as no row: deleting them would race with a concurrent
writer that has already locked them.

How the table is kept — why triggers, not service hooks, not a materialized view:

* A **materialized view** refreshed within 60 s is wrong for up to a minute after an approval
  (a liaison approves, reloads, sees the old light) and needs a refresher process; refreshing
  12 million rows every minute at national scale costs minutes of I/O. Rejected.
* **Service hooks** (recompute in ``approve_report`` / ``reopen_report``) miss every write that
  does not pass there: ``bulk_create`` in ``seed_demo``, queryset ``update()``/``delete()``,
  the admin, a shell, a data fix, the bench generator's COPY — and the test suite itself
  creates approved reports with the ORM (the engine's ~90 tests must pass unchanged). One
  forgotten path and the dashboards silently disagree with the figures.
* **Statement-level PostgreSQL triggers** on ``targets_progressreport`` (AFTER INSERT / UPDATE
  / DELETE, with transition tables) see every write, in the same transaction, whatever door it
  came through. They are set-based: one statement of N changed reports adds its signed deltas
  (+value/+1 for a figure that became approved, −value/−1 for one that stopped being approved
  or was deleted, both for a changed value) to the region and each ancestor in one upsert, so a
  single approval costs O(depth) row updates (≈ 1 ms) and a 500-row ``bulk_create`` one
  statement. Changes that cancel out (an approved report's note edited) write nothing.
  Own-else-children is not additive, so the change is carried up level by level, deepest
  first (a session temporary table, ``rollup_pending``, holds the next level's deltas): each
  level's upsert reads the latest committed row it locks, and the row before the statement is
  recovered from the row after it and the deltas applied, so the change of the region's
  effective figure — the parent's delta — is right under READ COMMITTED even when a sibling
  committed meanwhile; a region with its own figure passes its counts up but no value change.
  Lock order: one statement locks the rollup rows deepest level first, then by target,
  period, region, so two statements never lock the same rows in opposite order. Across
  statements (``bulk_approve``: one approval after another) two batches can still lock two
  chains in opposite order; PostgreSQL then aborts one with a deadlock error like any other
  write conflict (the batch is all or nothing).

SQLite (development and ``scripts/serve`` only) has no triggers here: there the engine reads
raw reports (``load_status_inputs`` source "auto"), which is fine at development size.

Bulk loads: ``deferred_rollups()`` switches the triggers off for one transaction (the
``fireplan.defer_rollups`` setting) and rebuilds the touched targets at the end — use it for
millions of rows (``seed_scale``); otherwise the triggers handle bulk inserts correctly, only
slower than a rebuild. ``rebuild_rollups`` is set-based SQL, level by level from the deepest
regions: first one row per approved report, then per depth one ``INSERT … SELECT … GROUP BY``
upsert from the children rows into their parents. A region moved to another parent leaves
the old ancestors' rows stale: run ``manage.py rebuild_rollups`` after editing the tree.
``rollups_match_raw`` rebuilds into a temporary table and lists every row that differs
(``manage.py rebuild_rollups --check``).

Measured (2-core machine shared with other jobs, load average ≈ 10, so upper bounds): seed
plans + demo, 1 631 rows: rebuild 0.25 s, one approval's trigger 1–3 ms. 510 720 approved
figures (100 targets × 300 counties × 17 periods): rebuild 38 s (515 031 rows), check 32 s,
the same rows through the triggers as one DELETE and one INSERT statement 122 s and 185 s —
hence ``deferred_rollups`` for bulk loads. Both ways matched the raw figures exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connections, transaction

from core import bulkload
from targets import signals

TABLE = "targets_reportrollup"
REPORTS = "targets_progressreport"
REGIONS = "planning_region"
COLUMNS = (
    "own_value",
    "below_value",
    "below_count",
    "effective_value",
    "report_count",
    "demo_count",
)
DEFER_SETTING = "fireplan.defer_rollups"


def supported(using: str = "default") -> bool:
    return connections[using].vendor == "postgresql"


# ------------------------------------------------------------------------------ triggers

_APPROVED = "status = 'approved' AND value IS NOT NULL"
_NEW_ROWS = f"""
    SELECT target_id, region_id, period, value AS dv, 1 AS dc,
           CASE WHEN is_demo THEN 1 ELSE 0 END AS dd
      FROM new_rows WHERE {_APPROVED}"""
_OLD_ROWS = f"""
    SELECT target_id, region_id, period, -value, -1, CASE WHEN is_demo THEN -1 ELSE 0 END
      FROM old_rows WHERE {_APPROVED}"""

# The own-figure changes of one statement, carried up the tree level by level from the deepest
# region: each level's upsert returns how much each region's effective figure (own, else the
# sum of its children's) and counts changed, and that change is the next level's delta.
_PENDING = "rollup_pending"
_PREPARE = f"""
    IF to_regclass('pg_temp.{_PENDING}') IS NULL THEN
        CREATE TEMPORARY TABLE {_PENDING} (
            target_id bigint, region_id bigint, period varchar(6), depth integer,
            own_dv numeric, own_dc integer, below_dv numeric, below_dc integer, dd integer
        ) ON COMMIT DELETE ROWS;
    END IF;
    WITH RECURSIVE
    changes(target_id, region_id, period, dv, dc, dd) AS ({{changes}}),
    own AS (
        SELECT target_id, region_id, period, SUM(dv) AS dv, SUM(dc) AS dc, SUM(dd) AS dd
          FROM changes GROUP BY target_id, region_id, period
        HAVING SUM(dv) <> 0 OR SUM(dc) <> 0 OR SUM(dd) <> 0
    ),
    up(start_id, region_id, depth) AS (
        SELECT DISTINCT region_id, region_id, 0 FROM own
        UNION ALL
        SELECT up.start_id, r.parent_id, up.depth + 1
          FROM up JOIN {REGIONS} r ON r.id = up.region_id
         WHERE r.parent_id IS NOT NULL AND up.depth < 32
    )
    INSERT INTO {_PENDING}
    SELECT o.target_id, o.region_id, o.period, d.depth, o.dv, o.dc, 0, 0, o.dd
      FROM own o JOIN (SELECT start_id, MAX(depth) AS depth FROM up GROUP BY start_id) d
        ON d.start_id = o.region_id;
    SELECT MAX(depth) INTO at_depth FROM {_PENDING};
    WHILE at_depth IS NOT NULL AND at_depth >= 0 LOOP
        WITH
        pending AS (
            SELECT target_id, region_id, period, SUM(own_dv) AS own_dv, SUM(own_dc) AS own_dc,
                   SUM(below_dv) AS below_dv, SUM(below_dc) AS below_dc, SUM(dd) AS dd
              FROM {_PENDING} WHERE depth = at_depth
             GROUP BY target_id, region_id, period
        ),
        applied AS (
            INSERT INTO {TABLE} AS r (target_id, region_id, period, own_value, below_value,
                                      below_count, effective_value, report_count, demo_count)
            SELECT target_id, region_id, period,
                   CASE WHEN own_dc <> 0 OR own_dv <> 0 THEN own_dv END,
                   CASE WHEN below_dc <> 0 OR below_dv <> 0 THEN below_dv END,
                   below_dc,
                   CASE WHEN own_dc > 0 THEN own_dv WHEN below_dc > 0 THEN below_dv END,
                   own_dc + below_dc,
                   dd
              FROM pending
             ORDER BY target_id, period, region_id
            ON CONFLICT (target_id, region_id, period) DO UPDATE SET
                own_value = CASE
                    WHEN (r.own_value IS NOT NULL)::int
                         + EXCLUDED.report_count - EXCLUDED.below_count > 0
                    THEN COALESCE(r.own_value, 0) + COALESCE(EXCLUDED.own_value, 0) END,
                below_value = CASE
                    WHEN r.below_count + EXCLUDED.below_count > 0
                    THEN COALESCE(r.below_value, 0) + COALESCE(EXCLUDED.below_value, 0) END,
                below_count = r.below_count + EXCLUDED.below_count,
                effective_value = CASE
                    WHEN (r.own_value IS NOT NULL)::int
                         + EXCLUDED.report_count - EXCLUDED.below_count > 0
                    THEN COALESCE(r.own_value, 0) + COALESCE(EXCLUDED.own_value, 0)
                    WHEN r.below_count + EXCLUDED.below_count > 0
                    THEN COALESCE(r.below_value, 0) + COALESCE(EXCLUDED.below_value, 0) END,
                report_count = r.report_count + EXCLUDED.report_count,
                demo_count = r.demo_count + EXCLUDED.demo_count
            RETURNING r.target_id, r.region_id, r.period, r.own_value, r.below_value,
                      r.below_count, r.effective_value, r.report_count
        ),
        changed AS (
            -- the row before this statement, from the row after it and the deltas applied
            SELECT a.target_id, a.region_id, a.period, p.own_dc + p.below_dc AS dc, p.dd,
                   COALESCE(a.effective_value, 0) - CASE
                       WHEN a.report_count - a.below_count - p.own_dc > 0
                       THEN COALESCE(a.own_value, 0) - p.own_dv
                       WHEN a.below_count - p.below_dc > 0
                       THEN COALESCE(a.below_value, 0) - p.below_dv
                       ELSE 0 END AS dv
              FROM applied a JOIN pending p USING (target_id, region_id, period)
        )
        INSERT INTO {_PENDING}
        SELECT c.target_id, g.parent_id, c.period, at_depth - 1, 0, 0, c.dv, c.dc, c.dd
          FROM changed c JOIN {REGIONS} g ON g.id = c.region_id
         WHERE g.parent_id IS NOT NULL AND (c.dv <> 0 OR c.dc <> 0 OR c.dd <> 0);
        DELETE FROM {_PENDING} WHERE depth >= at_depth;
        at_depth := at_depth - 1;
    END LOOP;
    DELETE FROM {_PENDING}"""


def _trigger_function(name: str, changes: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        at_depth integer;
    BEGIN
        IF current_setting('{DEFER_SETTING}', true) = 'on' THEN
            RETURN NULL;
        END IF;
        {_PREPARE.format(changes=changes)};
        RETURN NULL;
    END
    $body$;
    """


TRIGGERS = {
    # name: (event, referencing, the statement's changes)
    "insert": ("INSERT", "NEW TABLE AS new_rows", _NEW_ROWS),
    "update": (
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        f"{_NEW_ROWS} UNION ALL {_OLD_ROWS}",
    ),
    "delete": ("DELETE", "OLD TABLE AS old_rows", _OLD_ROWS),
}


def install_triggers_sql() -> list[str]:
    statements = []
    for name, (event, referencing, changes) in TRIGGERS.items():
        function = f"fireplan_rollup_on_{name}"
        statements += [
            _trigger_function(function, changes),
            f"DROP TRIGGER IF EXISTS {function} ON {REPORTS}",
            f"CREATE TRIGGER {function} AFTER {event} ON {REPORTS} "
            f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    return statements


def remove_triggers_sql() -> list[str]:
    statements = []
    for name in TRIGGERS:
        function = f"fireplan_rollup_on_{name}"
        statements += [
            f"DROP TRIGGER IF EXISTS {function} ON {REPORTS}",
            f"DROP FUNCTION IF EXISTS {function}()",
        ]
    return statements


def install_triggers(using: str = "default") -> None:
    if not supported(using):
        return
    with connections[using].cursor() as cursor:
        for statement in install_triggers_sql():
            cursor.execute(statement)


@contextmanager
def deferred_rollups(using: str = "default", target_ids: Iterable[int] | None = None) -> Iterator:
    """One transaction with the triggers off; rebuilds (``target_ids`` or all) at the end,
    with the reporting tallies of their plans (``targets/tally_store.py``, same switch).
    For bulk loads of millions of figures, where a rebuild is cheaper than the deltas."""
    with transaction.atomic(using=using):
        if supported(using):
            with connections[using].cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'on', true)", [DEFER_SETTING])
        yield
        if supported(using):
            with connections[using].cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'off', true)", [DEFER_SETTING])
            rebuild_rollups(target_ids, using=using)
            _rebuild_tallies(target_ids, using)


def _rebuild_tallies(target_ids: Iterable[int] | None, using: str) -> None:
    from targets.models import Target
    from targets.tally_store import rebuild_tally

    plan_ids = None
    if target_ids is not None:
        plan_ids = set(
            Target.objects.using(using)
            .filter(pk__in=list(target_ids))
            .values_list("plan_id", flat=True)
        )
    rebuild_tally(plan_ids, using=using)


# ------------------------------------------------------------------------------ rebuild


def _target_filter(alias: str, target_ids: list[int] | None) -> tuple[str, list]:
    if target_ids is None:
        return "", []
    return f" AND {alias}.target_id = ANY(%s)", [target_ids]


def _build(cursor, table: str, target_ids: list[int] | None) -> None:
    """Fill ``table`` (empty for these targets) from the approved reports, level by level.
    Maintenance, not a request: the request statement timeout is lifted for the transaction.

    Every row is written once, by a plain INSERT (no upsert: 12.6 M rows at national scale).
    First the figures of regions without children in the tree: their rows are final. Then,
    from the deepest parents up to the roots, each parent's row: its own figure (kept aside in
    ``rollup_parent_own``, usually none) full-joined with the sums of its children's rows,
    which are complete by then. Regions outside the tree (deeper than 32) keep only their own
    figure, as before."""
    cursor.execute("SELECT current_setting('work_mem')")
    work_mem = cursor.fetchone()[0]
    # One hash aggregate over millions of child rows in memory instead of an external sort.
    cursor.execute("SELECT set_config('work_mem', '256MB', true)")
    cursor.execute("SELECT set_config('statement_timeout', '0', true)")
    cursor.execute("DROP TABLE IF EXISTS rollup_region_depth")
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE rollup_region_depth ON COMMIT DROP AS
        WITH RECURSIVE d(id, parent_id, depth) AS (
            SELECT id, parent_id, 0 FROM {REGIONS} WHERE parent_id IS NULL
            UNION ALL
            SELECT r.id, r.parent_id, d.depth + 1
              FROM {REGIONS} r JOIN d ON r.parent_id = d.id
             WHERE d.depth < 32
        )
        SELECT id, parent_id, depth FROM d
        """
    )
    cursor.execute("ANALYZE rollup_region_depth")  # the planner's row counts per depth
    columns = """(target_id, region_id, period, own_value, below_value, below_count,
                  effective_value, report_count, demo_count)"""
    approved = "p.status = 'approved' AND p.value IS NOT NULL"
    parent = "SELECT parent_id FROM rollup_region_depth WHERE parent_id IS NOT NULL"
    where, params = _target_filter("p", target_ids)
    cursor.execute(
        f"""
        INSERT INTO {table} {columns}
        SELECT p.target_id, p.region_id, p.period, p.value, NULL, 0, p.value, 1,
               CASE WHEN p.is_demo THEN 1 ELSE 0 END
          FROM {REPORTS} p
         WHERE {approved}{where} AND p.region_id NOT IN ({parent})
        """,
        params,
    )
    cursor.execute("DROP TABLE IF EXISTS rollup_parent_own")
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE rollup_parent_own ON COMMIT DROP AS
        SELECT p.target_id, p.region_id, p.period, p.value,
               CASE WHEN p.is_demo THEN 1 ELSE 0 END AS demo
          FROM {REPORTS} p
         WHERE {approved}{where} AND p.region_id IN ({parent})
        """,
        params,
    )
    cursor.execute("ANALYZE rollup_parent_own")
    cursor.execute("SELECT COALESCE(MAX(depth), 0) FROM rollup_region_depth")
    deepest = cursor.fetchone()[0]
    where, params = _target_filter("c", target_ids)
    for depth in range(deepest - 1, -1, -1):
        # The parents at ``depth``: children at depth + 1 are complete (their own figures and
        # everything below them); add them up, next to the parent's own figure.
        cursor.execute(
            f"""
            INSERT INTO {table} {columns}
            SELECT COALESCE(o.target_id, b.target_id), COALESCE(o.region_id, b.region_id),
                   COALESCE(o.period, b.period), o.value, b.below_value,
                   COALESCE(b.below_count, 0), COALESCE(o.value, b.below_value),
                   CASE WHEN o.region_id IS NULL THEN 0 ELSE 1 END + COALESCE(b.below_count, 0),
                   COALESCE(o.demo, 0) + COALESCE(b.demo_count, 0)
              FROM (SELECT o.* FROM rollup_parent_own o
                      JOIN rollup_region_depth g ON g.id = o.region_id
                     WHERE g.depth = %s) o
              FULL JOIN (
                    SELECT c.target_id, g.parent_id AS region_id, c.period,
                           SUM(c.effective_value) AS below_value,
                           SUM(c.report_count) AS below_count, SUM(c.demo_count) AS demo_count
                      FROM {table} c JOIN rollup_region_depth g ON g.id = c.region_id
                     WHERE g.depth = %s AND c.report_count > 0{where}
                     GROUP BY c.target_id, g.parent_id, c.period
                   ) b
                ON b.target_id = o.target_id AND b.region_id = o.region_id
               AND b.period = o.period
             ORDER BY 1, 2, 3
            """,
            [depth, depth + 1, *params],
        )
    cursor.execute("DROP TABLE IF EXISTS rollup_region_depth")
    cursor.execute("DROP TABLE IF EXISTS rollup_parent_own")
    cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])


def rebuild_rollups(target_ids: Iterable[int] | None = None, using: str = "default") -> int:
    """Recompute the roll-ups of these targets (all when None) from the approved reports, in
    one transaction; returns the number of rows. Concurrent approvals wait for it (their
    trigger needs the table lock) and then add their delta on top, so nothing is lost. A full
    rebuild truncates the table: readers wait until it commits (minutes at national scale).
    The first full build, into an empty table (a migration, ``seed_scale``), drops the table's
    keys, indexes and foreign keys and creates them again after it (``core.bulkload``):
    one sort per index and one validating pass per foreign key instead of a deferred check per
    row at COMMIT (≈ 20 µs × 2 × 12.6 M rows at national scale), at the price of locking the
    regions and targets tables until commit — later rebuilds leave them alone."""
    if not supported(using):
        return 0
    ids = None if target_ids is None else sorted({int(pk) for pk in target_ids})
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        dropped = []
        if ids is None:
            first = bulkload.is_empty(cursor, TABLE)
            cursor.execute(f"TRUNCATE {TABLE}")
            if first:
                dropped = bulkload.drop_for_load(cursor, TABLE)
        else:
            cursor.execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(f"DELETE FROM {TABLE} WHERE target_id = ANY(%s)", [ids])
        _build(cursor, TABLE, ids)
        bulkload.recreate(cursor, TABLE, dropped)
        signals.derived_rebuilt.send(sender=rebuild_rollups, using=using)
        where, params = _target_filter(TABLE, ids)
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE true{where}", params)
        return cursor.fetchone()[0]


def rollups_match_raw(
    target_ids: Iterable[int] | None = None, using: str = "default", limit: int = 1000
) -> list[dict]:
    """Rows where the kept roll-ups differ from a rebuild from the raw reports (empty: they
    agree). Each difference: the key and, per column, ``(kept, rebuilt)``. Empty rows (all
    counts zero) count as absent."""
    if not supported(using):
        return []
    ids = None if target_ids is None else sorted({int(pk) for pk in target_ids})
    key = ("target_id", "region_id", "period")
    differs = " OR ".join(f"k.{c} IS DISTINCT FROM e.{c}" for c in COLUMNS)
    where, params = _target_filter("k", ids)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS rollup_expected")
        cursor.execute(
            f"CREATE TEMPORARY TABLE rollup_expected (LIKE {TABLE} INCLUDING ALL) ON COMMIT DROP"
        )
        _build(cursor, "rollup_expected", ids)
        empty = "k.report_count = 0 AND k.own_value IS NULL AND k.below_value IS NULL"
        cursor.execute(
            f"""
            SELECT {", ".join(f"COALESCE(k.{c}, e.{c})" for c in key)},
                   {", ".join(f"k.{c}, e.{c}" for c in COLUMNS)}
              FROM (SELECT * FROM {TABLE} k WHERE NOT ({empty}){where}) k
              FULL OUTER JOIN rollup_expected e USING ({", ".join(key)})
             WHERE k.id IS NULL OR e.id IS NULL OR {differs}
             ORDER BY 1, 3, 2
             LIMIT %s
            """,
            [*params, limit],
        )
        rows = cursor.fetchall()
        cursor.execute("DROP TABLE IF EXISTS rollup_expected")
    differences = []
    for row in rows:
        found = dict(zip(key, row[:3], strict=True))
        values = row[3:]
        for index, column in enumerate(COLUMNS):
            kept, rebuilt = values[2 * index], values[2 * index + 1]
            if kept != rebuilt:
                found[column] = (kept, rebuilt)
        differences.append(found)
    return differences
