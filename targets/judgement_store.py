# Migrations are history: targets/migrations/ hold a frozen copy of the SQL installed here.
# If the store's SQL changed: add a migration that installs the new SQL
# (tests/targets/test_judgement_store.py fails until then).
"""The clocks of the stored judgement (``JudgementClock``): PostgreSQL triggers that count
every change of what the status engine reads, in the same transaction as the change.

``targets.judgement`` stores each target's (and allocation's) judgement labelled with the
clocks it was judged under; a stored row is read only while its clocks still hold those
values. Two kinds of clock (one table, ``region_id`` 0 for the second):

* **(target, region)** — ticked by every change of the target's roll-up rows of that region
  (``ReportRollup``: an approval, a reopening, a return or deletion of an approved figure
  reaches the region and each ancestor through the roll-up triggers). One approval ticks
  O(depth) clocks: the county's judgement of the target, its city's, its province's … — not
  the other counties'.
* **(target, 0)** — ticked by every change of the target itself (value, year, baseline,
  retirement …), its plan (dates, status), its milestones, allocations and adjustments, and —
  for every formula and station-register target — fire statistics, base figures, stations and
  the region tree; also by a change of the demo count at the tree's root (whether a judgement
  counts demo figures, 演示数据, depends on the whole tree), and, while the roll-up triggers
  are deferred (``rollup_store.deferred_rollups``), by every roll-up change of the target.

Why clocks, not a "dirty" flag on the stored rows: a row that does not exist yet cannot be
marked, and a reader that judged before a change committed must not store its result as
current. A reader reads the clocks first, then the inputs, and labels what it stores with the
clock values it read: a change committed in between leaves a newer clock, so the row is
judged again on the next read. Writers touch only clock rows and readers only judgement rows:
neither waits for the other. The clocks are upserted in (target, region) order, as the
roll-up triggers lock their rows, so two writers never lock them in opposite order.

``TRUNCATE`` of the roll-ups (``rebuild_rollups`` of everything) empties the stored
judgement: everything is judged again when read.
"""

from __future__ import annotations

from django.db import connections

from targets import rollup_store

CLOCK = "targets_judgementclock"
JUDGEMENT = "targets_targetjudgement"
WHOLE_TARGET = 0  # the clock's region for changes of the whole target
# Targets that read more than their figures (targets.choices.Feed).
EXTERNAL_FEEDS = "('formula', 'station_register')"

_TICK = f"""
        INSERT INTO {CLOCK} AS c (target_id, region_id, version)
        SELECT k.target_id, k.region_id, 1
          FROM (SELECT DISTINCT target_id, region_id FROM ({{changes}}) AS ticks
                 WHERE target_id IS NOT NULL) AS k
         ORDER BY k.target_id, k.region_id
        ON CONFLICT (target_id, region_id) DO UPDATE SET version = c.version + 1"""


def _whole(source: str, column: str = "target_id") -> str:
    return f"SELECT {column} AS target_id, {WHOLE_TARGET} AS region_id FROM {source}"


def _external(source: str) -> str:
    """Every formula and station-register target, when ``source`` holds a row."""
    return (
        f"SELECT t.id AS target_id, {WHOLE_TARGET} AS region_id FROM targets_target t "
        f"WHERE t.feed IN {EXTERNAL_FEEDS} AND EXISTS (SELECT 1 FROM {source})"
    )


def _plan_targets(source: str) -> str:
    return (
        f"SELECT t.id AS target_id, {WHOLE_TARGET} AS region_id FROM targets_target t "
        f"WHERE t.plan_id IN (SELECT id FROM {source})"
    )


def _rollup_changes(source: str) -> str:
    """A roll-up change ticks its (target, region) clock, and the whole target's when the
    demo count of a root row is not zero (deferred roll-ups: the whole target only)."""
    return f"""
        SELECT r.target_id, CASE WHEN deferred THEN {WHOLE_TARGET} ELSE r.region_id END
          FROM {source} r
        UNION ALL
        SELECT r.target_id, {WHOLE_TARGET} FROM {source} r
          JOIN planning_region g ON g.id = r.region_id
         WHERE g.parent_id IS NULL AND r.demo_count <> 0"""


def _both(changes) -> str:
    return f"{changes('new_rows')} UNION ALL {changes('old_rows')}"


_NEW, _OLD, _BOTH = (
    "NEW TABLE AS new_rows",
    "OLD TABLE AS old_rows",
    ("OLD TABLE AS old_rows NEW TABLE AS new_rows"),
)
# trigger name: (table, event, referencing, the statement's changes as (target_id, region_id))
TRIGGERS: dict[str, tuple[str, str, str, str]] = {
    "rollup_insert": ("targets_reportrollup", "INSERT", _NEW, _rollup_changes("new_rows")),
    "rollup_update": (
        "targets_reportrollup",
        "UPDATE",
        _BOTH,
        _both(_rollup_changes),
    ),
    "rollup_delete": ("targets_reportrollup", "DELETE", _OLD, _rollup_changes("old_rows")),
    "target_update": ("targets_target", "UPDATE", _NEW, _whole("new_rows", "id")),
    "target_delete": ("targets_target", "DELETE", _OLD, _whole("old_rows", "id")),
    "plan_update": ("planning_plan", "UPDATE", _NEW, _plan_targets("new_rows")),
    **{
        f"{name}_{event.lower()}": (table, event, referencing, changes)
        for name, table in (
            ("milestone", "targets_milestone"),
            ("allocation", "targets_allocation"),
            ("adjustment", "targets_targetadjustment"),
        )
        for event, referencing, changes in (
            ("INSERT", _NEW, _whole("new_rows")),
            ("UPDATE", _BOTH, _both(_whole)),
            ("DELETE", _OLD, _whole("old_rows")),
        )
    },
    **{
        f"{name}_{event.lower()}": (table, event, referencing, _external(rows))
        for name, table in (
            ("fire_statistic", "targets_firestatistic"),
            ("base_figure", "targets_basefigure"),
            ("station", "stations_station"),
        )
        for event, referencing, rows in (
            ("INSERT", _NEW, "new_rows"),
            ("UPDATE", _NEW, "new_rows"),
            ("DELETE", _OLD, "old_rows"),
        )
    },
    "region_update": ("planning_region", "UPDATE", _NEW, _external("new_rows")),
}


def _function(name: str, changes: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        deferred boolean :=
            coalesce(current_setting('{rollup_store.DEFER_SETTING}', true), '') = 'on';
    BEGIN
        {_TICK.format(changes=changes)};
        RETURN NULL;
    END
    $body$;
    """


_TRUNCATE_FUNCTION = f"""
    CREATE OR REPLACE FUNCTION fireplan_judgement_on_rollup_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $body$
    BEGIN
        DELETE FROM {JUDGEMENT};
        RETURN NULL;
    END
    $body$;
    """


def install_triggers_sql() -> list[str]:
    statements = []
    for name, (table, event, referencing, changes) in TRIGGERS.items():
        function = f"fireplan_judgement_on_{name}"
        statements += [
            _function(function, changes),
            f"DROP TRIGGER IF EXISTS {function} ON {table}",
            f"CREATE TRIGGER {function} AFTER {event} ON {table} "
            f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    statements += [
        _TRUNCATE_FUNCTION,
        "DROP TRIGGER IF EXISTS fireplan_judgement_on_rollup_truncate ON targets_reportrollup",
        "CREATE TRIGGER fireplan_judgement_on_rollup_truncate AFTER TRUNCATE ON "
        "targets_reportrollup FOR EACH STATEMENT "
        "EXECUTE FUNCTION fireplan_judgement_on_rollup_truncate()",
    ]
    return statements


def remove_triggers_sql() -> list[str]:
    statements = []
    names = [(name, table) for name, (table, *_rest) in TRIGGERS.items()]
    for name, table in [*names, ("rollup_truncate", "targets_reportrollup")]:
        function = f"fireplan_judgement_on_{name}"
        statements += [
            f"DROP TRIGGER IF EXISTS {function} ON {table}",
            f"DROP FUNCTION IF EXISTS {function}()",
        ]
    return statements


def install_triggers(using: str = "default") -> None:
    if not rollup_store.supported(using):
        return
    with connections[using].cursor() as cursor:
        for statement in install_triggers_sql():
            cursor.execute(statement)
