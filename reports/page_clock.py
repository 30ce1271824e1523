# Migrations are history: reports/migrations/ hold a frozen copy of the SQL installed here.
# If this SQL changes: add a migration that installs the new SQL
# (tests/reports/test_page_cache.py fails until then).
"""The clocks of the cached dashboards (``PageClock``): PostgreSQL triggers that count every
change of what the dashboards show, in the same transaction as the change.

``reports.page_cache`` keeps a page's whole main content in the shared cache under a key
holding the sum and count of the clocks of the plans it shows (one query): a change of
anything the page shows ticks one of those clocks, so the key changes and the old content is
simply not found again. Three kinds of row (``plan_id``, ``region_id``):

* **(plan, region)** — a figure (``ProgressReport``) of the plan's target reported by the
  region changed (saved, submitted, approved, returned, reopened, deleted). The row is the
  reporting region's own, not its ancestors': two counties' approvals tick different rows,
  so writers of one plan do not queue on one row (the key sums the plan's rows).
* **(plan, 0)** — anything else of the plan: its targets (and, for the integrity check, the
  targets implementing them), milestones, allocations, adjustments, evaluation notes, base
  figures, reporting periods and lock exceptions, sections, stages, tasks, their responsible
  units and progress notes; and, for plans with formula or station-register targets, fire
  statistics and stations (what those targets are judged on).
* **(0, 0)** — what every page names: plans (titles, parents, successors), regions (names,
  the tree), units, and the names of users (the history's "who"). These change rarely; a
  login's ``last_login`` does not tick it.

A plan's history rows are written with the change they record, so they need no trigger of
their own. Writers touch only clock rows, upserted in (plan, region) order."""

from __future__ import annotations

from django.db import connections

from targets import rollup_store

CLOCK = "reports_pageclock"
WHOLE = 0  # region 0: the whole plan; plan 0: what every page names
EXTERNAL_FEEDS = "('formula', 'station_register')"

_TICK = f"""
        INSERT INTO {CLOCK} AS c (plan_id, region_id, version)
        SELECT k.plan_id, k.region_id, 1
          FROM (SELECT DISTINCT plan_id, region_id FROM ({{changes}}) AS ticks
                 WHERE plan_id IS NOT NULL) AS k
         ORDER BY k.plan_id, k.region_id
        ON CONFLICT (plan_id, region_id) DO UPDATE SET version = c.version + 1"""


def _plan(source: str, column: str = "plan_id") -> str:
    return f"SELECT {column} AS plan_id, {WHOLE} AS region_id FROM {source}"


def _targets(source: str, column: str = "target_id") -> str:
    """The plans of the targets in ``source`` and of the targets implementing them (the
    integrity check of a plan compares a target with the one it implements)."""
    return (
        f"SELECT t.plan_id, {WHOLE} AS region_id FROM targets_target t "
        f"WHERE t.id IN (SELECT {column} FROM {source}) "
        f"UNION ALL SELECT t.plan_id, {WHOLE} FROM targets_target t "
        f"WHERE t.parent_target_id IN (SELECT {column} FROM {source})"
    )


def _target_rows(source: str) -> str:
    """A target's own rows: its plan, the plans implementing it, the plan of its parent."""
    return (
        f"{_plan(source)} UNION ALL {_targets(source, 'id')} UNION ALL "
        f"SELECT p.plan_id, {WHOLE} FROM targets_target p "
        f"WHERE p.id IN (SELECT parent_target_id FROM {source})"
    )


def _tasks(source: str) -> str:
    return (
        f"SELECT x.plan_id, {WHOLE} AS region_id FROM planning_task x "
        f"WHERE x.id IN (SELECT task_id FROM {source})"
    )


def _milestones(source: str) -> str:
    return f"{_plan(source)} UNION ALL {_targets(source)}"


def _reports(source: str) -> str:
    return (
        f"SELECT t.plan_id, r.region_id FROM targets_target t JOIN {source} r ON r.target_id = t.id"
    )


def _lock_exceptions(source: str) -> str:
    return (
        "SELECT p.plan_id, e.region_id FROM targets_reportingperiod p "
        f"JOIN {source} e ON e.reporting_period_id = p.id"
    )


def _external(source: str) -> str:
    """The plans judging formula or station-register targets, when ``source`` holds a row."""
    return (
        f"SELECT DISTINCT t.plan_id, {WHOLE} AS region_id FROM targets_target t "
        f"WHERE t.feed IN {EXTERNAL_FEEDS} AND EXISTS (SELECT 1 FROM {source})"
    )


def _names(source: str) -> str:
    return f"SELECT {WHOLE} AS plan_id, {WHOLE} AS region_id WHERE EXISTS (SELECT 1 FROM {source})"


_USER_NAMES = (
    f"SELECT {WHOLE} AS plan_id, {WHOLE} AS region_id WHERE EXISTS ("
    "SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id "
    "WHERE (n.username, n.first_name, n.last_name) "
    "IS DISTINCT FROM (o.username, o.first_name, o.last_name))"
)

_NEW, _OLD, _BOTH = (
    "NEW TABLE AS new_rows",
    "OLD TABLE AS old_rows",
    "OLD TABLE AS old_rows NEW TABLE AS new_rows",
)


def _every_event(name: str, table: str, changes) -> dict[str, tuple[str, str, str, str]]:
    return {
        f"{name}_insert": (table, "INSERT", _NEW, changes("new_rows")),
        f"{name}_update": (
            table,
            "UPDATE",
            _BOTH,
            f"{changes('new_rows')} UNION ALL {changes('old_rows')}",
        ),
        f"{name}_delete": (table, "DELETE", _OLD, changes("old_rows")),
    }


# trigger name: (table, event, referencing, the statement's changes as (plan_id, region_id))
TRIGGERS: dict[str, tuple[str, str, str, str]] = {
    **_every_event("report", "targets_progressreport", _reports),
    **_every_event("target", "targets_target", _target_rows),
    **_every_event("milestone", "targets_milestone", _milestones),
    **{
        key: value
        for name, table in (
            ("allocation", "targets_allocation"),
            ("adjustment", "targets_targetadjustment"),
            ("evaluation_note", "targets_targetevaluationnote"),
        )
        for key, value in _every_event(name, table, _targets).items()
    },
    **{
        key: value
        for name, table in (
            ("base_figure", "targets_basefigure"),
            ("period", "targets_reportingperiod"),
            ("section", "planning_section"),
            ("stage", "planning_stage"),
            ("task", "planning_task"),
        )
        for key, value in _every_event(name, table, _plan).items()
    },
    **_every_event("lock_exception", "targets_lockexception", _lock_exceptions),
    **_every_event("assignment", "planning_taskassignment", _tasks),
    **_every_event("task_update", "planning_taskupdate", _tasks),
    **_every_event("fire_statistic", "targets_firestatistic", _external),
    **_every_event("station", "stations_station", _external),
    **_every_event("plan", "planning_plan", _names),
    **_every_event("region", "planning_region", _names),
    **_every_event("unit", "planning_unit", _names),
    "user_update": ("auth_user", "UPDATE", _BOTH, _USER_NAMES),
    "user_delete": ("auth_user", "DELETE", _OLD, _names("old_rows")),
}


def _function(name: str, changes: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
        {_TICK.format(changes=changes)};
        RETURN NULL;
    END
    $body$;
    """


def install_triggers_sql() -> list[str]:
    statements = []
    for name, (table, event, referencing, changes) in TRIGGERS.items():
        function = f"fireplan_page_on_{name}"
        statements += [
            _function(function, changes),
            f"DROP TRIGGER IF EXISTS {function} ON {table}",
            f"CREATE TRIGGER {function} AFTER {event} ON {table} "
            f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    return statements


def remove_triggers_sql() -> list[str]:
    statements = []
    for name, (table, *_rest) in TRIGGERS.items():
        function = f"fireplan_page_on_{name}"
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


_TICK_EVERYTHING = f"""
    INSERT INTO {CLOCK} AS c (plan_id, region_id, version) VALUES ({WHOLE}, {WHOLE}, 1)
    ON CONFLICT (plan_id, region_id) DO UPDATE SET version = c.version + 1"""


def tick_everything(sender=None, *, using: str = "default", **kwargs) -> None:
    """Tick (0, 0), which every page's key counts: every cached page is rendered afresh.
    Received from ``targets.signals.derived_rebuilt`` — a rebuild of the roll-ups or tallies
    changes what pages show without the reporting triggers firing — in the rebuild's
    transaction."""
    if not rollup_store.supported(using):
        return
    with connections[using].cursor() as cursor:
        cursor.execute(_TICK_EVERYTHING)
