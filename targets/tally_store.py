# Migrations are history: targets/migrations/ hold a frozen copy of the SQL installed here.
# If the store's SQL changed: add a migration that installs the new SQL
# (tests/test_migrations_are_history.py fails until then).
"""Reporting tallies (``ReportingTally``): per plan, period and region, the figures owed and
the reports among them by status, on time or late — what ``reports.dashboards.reporting()``
used to count by walking every target × owing region × period (≈ 11 million cells at national
scale, issue 9). The dashboards now read one row per region.

Semantics (exactly ``reports.dashboards.reporting_from_reports``, the raw path kept as the
reference): a region owes a report-fed target's figure for a period of the target's plan when
the target is set for the region or allocated to it (neither retired, 停用) and the period's
year is not after the target's year (the plan's last year when the target has none). ``owed``
counts such figures; ``draft`` / ``submitted`` / ``approved`` / ``returned`` count the reports
among them by status; ``on_time`` and ``late`` split the submitted and approved ones with a
submission time by the period's deadline (the first instant after the due date in
``settings.TIME_ZONE``, ``reports.completeness.deadline``). Rows with ``owed`` = 0 are never
written.

How the table is kept (same choice as the roll-ups, ``targets/rollup_store.py``): PostgreSQL
statement-level triggers, in the same transaction as the change, whatever door it came
through.

* Reports (insert / update / delete): signed deltas of the owing reports, summed per plan,
  period and region, one upsert per statement — an approval costs one row update.
* Structure — allocations, targets (feed, region, year, plan), reporting periods (period,
  due date) and plans (last year): the rows the change can touch are recomputed from the
  owing pairs and the reports (an allocation: its plan × its region; a period: its plan × that
  period; a plan's last year or a target's region: the plan × the regions involved). Such edits
  are rare and made by staff; at national scale a target's edit recomputes its plan's rows for
  every region it is allocated to (seconds), a period's due date its period (seconds), an
  allocation ≈ 200 targets × 20 periods of one region (milliseconds). A target edit that does
  not change what is owed (its name, its order, …) recomputes nothing.
  The recomputation locks the tally table against concurrent deltas (SHARE ROW EXCLUSIVE),
  so a report approved meanwhile is either in the recomputed rows or added on top of them.

The deadline's time zone is written into the trigger functions when they are installed
(``settings.TIME_ZONE``); ``manage.py rebuild_rollups`` reinstalls them and rebuilds, which is
also what to run after changing TIME_ZONE. SQLite has no triggers here: the dashboards count
from the reports there (``reporting`` falls back to the raw path).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import connections, transaction

from targets import signals
from targets.rollup_store import DEFER_SETTING, supported

TABLE = "targets_reportingtally"
REPORTS = "targets_progressreport"
TARGETS = "targets_target"
ALLOCATIONS = "targets_allocation"
PERIODS = "targets_reportingperiod"
PLANS = "planning_plan"
COUNTS = ("owed", "draft", "submitted", "approved", "returned", "on_time", "late")
REFRESH_FUNCTION = "fireplan_tally_refresh"


def _deadline(due_on: str) -> str:
    """SQL for a period's deadline: the first instant after ``due_on`` in the site's zone."""
    zone = settings.TIME_ZONE.replace("'", "")
    return f"(({due_on} + 1)::timestamp AT TIME ZONE '{zone}')"


def _status_parts(report: str, period: str, sign: str = "1") -> list[str]:
    """The six status columns for one report row (NULL report → all 0)."""
    reported = f"{report}.status IN ('submitted', 'approved')"
    deadline = _deadline(f"{period}.due_on")
    parts = [
        f"CASE WHEN {report}.status = '{status}' THEN {sign} ELSE 0 END"
        for status in ("draft", "submitted", "approved", "returned")
    ]
    parts += [
        f"CASE WHEN {reported} AND {report}.submitted_at < {deadline} THEN {sign} ELSE 0 END",
        f"CASE WHEN {reported} AND {report}.submitted_at >= {deadline} THEN {sign} ELSE 0 END",
    ]
    return parts


def _status_counts(report: str, period: str, sign: str = "1") -> str:
    return ", ".join(_status_parts(report, period, sign))


# Retired (停用) targets and allocations owe nothing (targets/owed.py, the same rule).
LIVE_TARGET = "t.retired_on IS NULL"
LIVE_ALLOCATION = "a.retired_on IS NULL"

# Owing pairs: (target, plan, region, last year) — a report-fed target's own region and each
# region it is allocated to (UNION removes an allocation to the target's own region).
_OWING = f"""
    SELECT t.id AS target_id, t.plan_id, t.region_id,
           COALESCE(t.target_year, p.end_year) AS last_year
      FROM {TARGETS} t JOIN {PLANS} p ON p.id = t.plan_id
     WHERE t.feed = 'reports' AND t.plan_id = ANY(plan_ids) AND {LIVE_TARGET}
       AND (region_ids IS NULL OR t.region_id = ANY(region_ids))
    UNION
    SELECT t.id, t.plan_id, a.region_id, COALESCE(t.target_year, p.end_year)
      FROM {ALLOCATIONS} a JOIN {TARGETS} t ON t.id = a.target_id
      JOIN {PLANS} p ON p.id = t.plan_id
     WHERE t.feed = 'reports' AND t.plan_id = ANY(plan_ids) AND {LIVE_TARGET}
       AND {LIVE_ALLOCATION}
       AND (region_ids IS NULL OR a.region_id = ANY(region_ids))"""

_COUNT_COLUMNS = ", ".join(f"COALESCE(SUM(d{i}), 0)" for i in range(6))
# One join and GROUP BY (a report is unique per target, region and period): a hash join when
# whole plans are recomputed, index lookups when a few regions are.
_REPORT_SUMS = ", ".join(f"SUM({part})" for part in _status_parts("r", "rp"))
_REFRESH = f"""
    CREATE OR REPLACE FUNCTION {REFRESH_FUNCTION}(plan_ids bigint[], region_ids bigint[],
                                                  period_codes text[])
    RETURNS void LANGUAGE plpgsql AS $body$
    BEGIN
        IF plan_ids IS NULL OR cardinality(plan_ids) = 0 THEN
            RETURN;
        END IF;
        LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE;
        DELETE FROM {TABLE} y
         WHERE y.plan_id = ANY(plan_ids)
           AND (region_ids IS NULL OR y.region_id = ANY(region_ids))
           AND (period_codes IS NULL OR y.period = ANY(period_codes));
        INSERT INTO {TABLE} (plan_id, period, region_id, {", ".join(COUNTS)})
        SELECT o.plan_id, rp.period, o.region_id, COUNT(*), {_REPORT_SUMS}
          FROM ({_OWING}) o
          JOIN {PERIODS} rp ON rp.plan_id = o.plan_id
                           AND left(rp.period, 4)::int <= o.last_year
                           AND (period_codes IS NULL OR rp.period = ANY(period_codes))
          LEFT JOIN {REPORTS} r ON r.target_id = o.target_id AND r.region_id = o.region_id
                               AND r.period = rp.period
         GROUP BY o.plan_id, rp.period, o.region_id
         ORDER BY o.plan_id, rp.period, o.region_id;
    END
    $body$;
"""

# ---------------------------------------------------------------------------- report deltas

_REPORT_ROWS = """
    SELECT target_id, region_id, period, status, submitted_at, {sign} AS sign FROM {rows}"""
_REPORT_DELTAS = f"""
    INSERT INTO {TABLE} AS y (plan_id, period, region_id, {", ".join(COUNTS)})
    SELECT t.plan_id, c.period, c.region_id, 0, {_COUNT_COLUMNS}
      FROM ({{changes}}) c
      JOIN {TARGETS} t ON t.id = c.target_id AND t.feed = 'reports' AND {LIVE_TARGET}
      JOIN {PLANS} p ON p.id = t.plan_id
      JOIN {PERIODS} rp ON rp.plan_id = t.plan_id AND rp.period = c.period
      CROSS JOIN LATERAL (SELECT {_status_counts("c", "rp", "c.sign")})
            s(d0, d1, d2, d3, d4, d5)
     WHERE left(c.period, 4)::int <= COALESCE(t.target_year, p.end_year)
       AND (c.region_id = t.region_id OR EXISTS (
            SELECT 1 FROM {ALLOCATIONS} a
             WHERE a.target_id = c.target_id AND a.region_id = c.region_id
               AND {LIVE_ALLOCATION}))
     GROUP BY t.plan_id, c.period, c.region_id
    HAVING {" OR ".join(f"SUM(d{i}) <> 0" for i in range(6))}
     ORDER BY t.plan_id, c.period, c.region_id
    ON CONFLICT (plan_id, period, region_id) DO UPDATE SET
        {", ".join(f"{c} = y.{c} + EXCLUDED.{c}" for c in COUNTS[1:])}
"""


def _rows(name: str, sign: str) -> str:
    return _REPORT_ROWS.format(sign=sign, rows=name)


# ------------------------------------------------------------------------ structural changes

# Each: the refresh call's three arrays, from the statement's transition tables.
_ALLOCATION_KEYS = """
    SELECT array_agg(DISTINCT t.plan_id), array_agg(DISTINCT x.region_id), NULL::text[]
      FROM ({rows}) x JOIN {targets} t ON t.id = x.target_id"""
_TARGET_CHANGED = """
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.feed IS DISTINCT FROM o.feed OR n.region_id IS DISTINCT FROM o.region_id
        OR n.target_year IS DISTINCT FROM o.target_year OR n.plan_id IS DISTINCT FROM o.plan_id
        OR n.retired_on IS DISTINCT FROM o.retired_on"""
_STRUCTURE = {
    # table, event, referencing, SQL giving (plan_ids, region_ids, period_codes)
    "allocation_insert": (
        ALLOCATIONS,
        "INSERT",
        "NEW TABLE AS new_rows",
        _ALLOCATION_KEYS.format(rows="SELECT * FROM new_rows", targets=TARGETS),
    ),
    "allocation_update": (
        ALLOCATIONS,
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        _ALLOCATION_KEYS.format(
            rows="SELECT target_id, region_id FROM new_rows "
            "UNION SELECT target_id, region_id FROM old_rows",
            targets=TARGETS,
        ),
    ),
    "allocation_delete": (
        ALLOCATIONS,
        "DELETE",
        "OLD TABLE AS old_rows",
        _ALLOCATION_KEYS.format(rows="SELECT * FROM old_rows", targets=TARGETS),
    ),
    # A new target has no allocation nor report yet; a deleted one has none left (reports
    # protect it, allocations are deleted first): its own region is all it touches.
    "target_insert": (
        TARGETS,
        "INSERT",
        "NEW TABLE AS new_rows",
        "SELECT array_agg(DISTINCT plan_id), array_agg(DISTINCT region_id), NULL::text[] "
        "FROM new_rows",
    ),
    "target_delete": (
        TARGETS,
        "DELETE",
        "OLD TABLE AS old_rows",
        "SELECT array_agg(DISTINCT plan_id), array_agg(DISTINCT region_id), NULL::text[] "
        "FROM old_rows",
    ),
    "target_update": (
        TARGETS,
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        f"""
        WITH changed AS ({_TARGET_CHANGED}),
        touched(plan_id, region_id) AS (
            SELECT n.plan_id, n.region_id FROM new_rows n JOIN changed USING (id)
            UNION SELECT o.plan_id, o.region_id FROM old_rows o JOIN changed USING (id)
            UNION SELECT n.plan_id, a.region_id FROM new_rows n JOIN changed USING (id)
                  JOIN {ALLOCATIONS} a ON a.target_id = n.id
            UNION SELECT o.plan_id, a.region_id FROM old_rows o JOIN changed USING (id)
                  JOIN {ALLOCATIONS} a ON a.target_id = o.id
        )
        SELECT array_agg(DISTINCT plan_id), array_agg(DISTINCT region_id), NULL::text[]
          FROM touched""",
    ),
    "period_insert": (
        PERIODS,
        "INSERT",
        "NEW TABLE AS new_rows",
        "SELECT array_agg(DISTINCT plan_id), NULL::bigint[], array_agg(DISTINCT period) "
        "FROM new_rows",
    ),
    "period_update": (
        PERIODS,
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        """
        WITH changed AS (
            SELECT n.plan_id, n.period, o.plan_id AS old_plan_id, o.period AS old_period
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.due_on IS DISTINCT FROM o.due_on OR n.period IS DISTINCT FROM o.period
                OR n.plan_id IS DISTINCT FROM o.plan_id
        ), touched(plan_id, period) AS (
            SELECT plan_id, period FROM changed
            UNION SELECT old_plan_id, old_period FROM changed
        )
        SELECT array_agg(DISTINCT plan_id), NULL::bigint[], array_agg(DISTINCT period)
          FROM touched""",
    ),
    "period_delete": (
        PERIODS,
        "DELETE",
        "OLD TABLE AS old_rows",
        "SELECT array_agg(DISTINCT plan_id), NULL::bigint[], array_agg(DISTINCT period) "
        "FROM old_rows",
    ),
    "plan_update": (
        PLANS,
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "SELECT array_agg(DISTINCT n.id), NULL::bigint[], NULL::text[] "
        "FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.end_year <> o.end_year",
    ),
}

_REPORT_TRIGGERS = {
    "report_insert": ("INSERT", "NEW TABLE AS new_rows", _rows("new_rows", "1")),
    "report_update": (
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        f"{_rows('new_rows', '1')} UNION ALL {_rows('old_rows', '-1')}",
    ),
    "report_delete": ("DELETE", "OLD TABLE AS old_rows", _rows("old_rows", "-1")),
}


def _function(name: str, body: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        plans bigint[];
        regions bigint[];
        periods text[];
    BEGIN
        IF current_setting('{DEFER_SETTING}', true) = 'on' THEN
            RETURN NULL;
        END IF;
        {body}
        RETURN NULL;
    END
    $body$;
    """


def _triggers() -> list[tuple[str, str, str, str, str]]:
    """(function name, table, event, referencing, body) of every tally trigger."""
    found = []
    for name, (event, referencing, changes) in _REPORT_TRIGGERS.items():
        body = _REPORT_DELTAS.format(changes=changes) + ";"
        found.append((f"fireplan_tally_on_{name}", REPORTS, event, referencing, body))
    for name, (table, event, referencing, keys) in _STRUCTURE.items():
        body = (
            f"SELECT k.* INTO plans, regions, periods FROM ({keys}) k;\n"
            f"        PERFORM {REFRESH_FUNCTION}(plans, regions, periods);"
        )
        found.append((f"fireplan_tally_on_{name}", table, event, referencing, body))
    return found


def install_triggers_sql() -> list[str]:
    statements = [_REFRESH]
    for function, table, event, referencing, body in _triggers():
        statements += [
            _function(function, body),
            f"DROP TRIGGER IF EXISTS {function} ON {table}",
            f"CREATE TRIGGER {function} AFTER {event} ON {table} "
            f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    return statements


def remove_triggers_sql() -> list[str]:
    statements = []
    for function, table, *_ in _triggers():
        statements += [
            f"DROP TRIGGER IF EXISTS {function} ON {table}",
            f"DROP FUNCTION IF EXISTS {function}()",
        ]
    statements.append(f"DROP FUNCTION IF EXISTS {REFRESH_FUNCTION}(bigint[], bigint[], text[])")
    return statements


def install_triggers(using: str = "default") -> None:
    if not supported(using):
        return
    with connections[using].cursor() as cursor:
        for statement in install_triggers_sql():
            cursor.execute(statement)


# ------------------------------------------------------------------------------- rebuild


def _plan_ids(cursor, plan_ids: Iterable[int] | None) -> list[int]:
    if plan_ids is not None:
        return sorted({int(pk) for pk in plan_ids})
    cursor.execute(f"SELECT id FROM {PLANS} ORDER BY id")
    return [row[0] for row in cursor.fetchall()]


def rebuild_tally(plan_ids: Iterable[int] | None = None, using: str = "default") -> int:
    """Recompute the tallies of these plans (all when None) in one transaction; returns the
    number of rows. Maintenance: no statement time limit."""
    if not supported(using):
        return 0
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', '0', true)")
        ids = _plan_ids(cursor, plan_ids)
        if plan_ids is None:
            cursor.execute(f"DELETE FROM {TABLE}")  # rows of plans deleted meanwhile, if any
        cursor.execute(f"SELECT {REFRESH_FUNCTION}(%s::bigint[], NULL, NULL)", [ids])
        signals.derived_rebuilt.send(sender=rebuild_tally, using=using)
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE plan_id = ANY(%s)", [ids])
        return cursor.fetchone()[0]


def tally_matches_reports(using: str = "default", limit: int = 1000) -> list[dict]:
    """Rows where the kept tallies differ from a recomputation (empty: they agree). Each: the
    key and, per differing column, ``(kept, recomputed)``. Runs in a transaction it rolls back,
    so nothing changes."""
    if not supported(using):
        return []
    key = ("plan_id", "period", "region_id")
    differs = " OR ".join(f"k.{c} IS DISTINCT FROM e.{c}" for c in COUNTS)
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE tally_kept ON COMMIT DROP AS TABLE {TABLE}")
        cursor.execute("SELECT set_config('statement_timeout', '0', true)")
        cursor.execute(f"SELECT {REFRESH_FUNCTION}(array_agg(id), NULL, NULL) FROM {PLANS}")
        cursor.execute(
            f"""
            SELECT {", ".join(f"COALESCE(k.{c}, e.{c})" for c in key)},
                   {", ".join(f"k.{c}, e.{c}" for c in COUNTS)}
              FROM tally_kept k FULL OUTER JOIN {TABLE} e USING ({", ".join(key)})
             WHERE k.id IS NULL OR e.id IS NULL OR {differs}
             ORDER BY 1, 2, 3
             LIMIT %s
            """,
            [limit],
        )
        rows = cursor.fetchall()
        transaction.set_rollback(True, using=using)
    differences = []
    for row in rows:
        found = dict(zip(key, row[:3], strict=True))
        for index, column in enumerate(COUNTS):
            kept, recomputed = row[3 + 2 * index], row[4 + 2 * index]
            if kept != recomputed:
                found[column] = (kept, recomputed)
        differences.append(found)
    return differences
