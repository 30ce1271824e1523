"""Migrations are history: a migration never imports app code that may change later.

- No migration imports a project module (nor loads one through importlib): SQL that a
  migration installs is frozen in the migration itself.
- A fresh ``migrate`` installs exactly the trigger functions and triggers that the roll-up and
  tally stores install today; when a store's SQL changes, a new migration installs the new SQL.
- The frozen initial builds of the derived tables give what the stores' rebuilds give.
"""

import ast
import datetime
import importlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from planning.models import Plan
from targets import rollup_store, tally_store
from targets.demo import generate_demo_progress
from targets.models import Allocation, ProgressReport, ReportingPeriod

ROOT = Path(settings.BASE_DIR)
PROJECT_MODULES = {
    "accounts",
    "planning",
    "targets",
    "stations",
    "reports",
    "fireplan",
    "core",
    "seeds",
    "bench",
    "faults",
}
EXCLUDED: set[str] = set()
# Django records a field's upload_to callable by its dotted path and compares it with the
# model's: the migration that creates a model with one must import it (Django's documented
# rule: keep such a function as long as a migration names it). Only that, nowhere else.
ALLOWED = {"core/migrations/0001_region_unit_evidence_moved_from_planning.py": {"core.models"}}
STORE_CHANGED = "the store's SQL changed: add a migration that installs the new SQL"


def migration_files() -> list[Path]:
    return sorted(
        path
        for path in ROOT.glob("*/migrations/*.py")
        if path.relative_to(ROOT).as_posix() not in EXCLUDED
    )


def forbidden_imports(path: Path) -> list[str]:
    """``line: what`` for every import of a project module or use of importlib in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x, from ..models import y: the app itself
                found.append(f"{node.lineno}: relative import")
                continue
            names = [node.module or ""]
        elif isinstance(node, ast.Name) and node.id == "__import__":
            found.append(f"{node.lineno}: __import__")
            continue
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in PROJECT_MODULES or top == "importlib":
                found.append(f"{node.lineno}: import {name}")
    return found


def test_no_migration_imports_project_code():
    files = migration_files()
    assert len(files) >= 15  # the glob found the migrations
    assert ROOT / "targets/migrations/0004_report_rollups.py" in files
    offending = {
        path.relative_to(ROOT).as_posix(): found
        for path in files
        if (
            found := [
                line
                for line in forbidden_imports(path)
                if line.split("import ", 1)[-1]
                not in ALLOWED.get(path.relative_to(ROOT).as_posix(), ())
            ]
        )
    }
    assert offending == {}, "migrations are history: freeze the code into the migration"


def test_the_import_check_catches_what_it_should(tmp_path):
    sample = tmp_path / "0001_sample.py"
    sample.write_text(
        "import importlib\n"
        "from django.db import migrations\n"
        "from targets import rollup_store\n"
        "import planning.models\n"
        "from .helpers import guard\n"
        "x = __import__('stations')\n",
        encoding="utf-8",
    )
    assert forbidden_imports(sample) == [
        "1: import importlib",
        "3: import targets",
        "4: import planning.models",
        "5: relative import",
        "6: __import__",
    ]


# ----------------------------------------------------------------------- installed SQL


def store_triggers() -> set[tuple[str, str]]:
    """(table, trigger) of every trigger the stores install today, from their removal SQL."""
    found = set()
    for statement in rollup_store.remove_triggers_sql() + tally_store.remove_triggers_sql():
        if statement.startswith("DROP TRIGGER IF EXISTS "):
            trigger, table = statement.removeprefix("DROP TRIGGER IF EXISTS ").split(" ON ")
            found.add((table, trigger))
    return found


def installed() -> dict:
    """What the database holds: the definitions of the stores' triggers and of every other
    trigger on their tables, and of the functions they run and the stores' other functions."""
    tables = sorted({table for table, _ in store_triggers()})
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid),
                   t.tgfoid::regprocedure::text, pg_get_functiondef(t.tgfoid)
              FROM pg_trigger t
             WHERE NOT t.tgisinternal AND t.tgrelid = ANY(%s::regclass[])
             ORDER BY 1, 2
            """,
            [tables],
        )
        rows = cursor.fetchall()
        cursor.execute(
            """
            SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid)
              FROM pg_proc p
             WHERE p.proname ~ '^fireplan_(rollup|tally)_'
             ORDER BY 1
            """
        )
        functions = dict(cursor.fetchall())
    triggers = {(table, name): definition for table, name, definition, *_ in rows}
    functions.update({function: definition for *_, function, definition in rows})
    return {"triggers": triggers, "functions": functions}


# Not transactional: the test's transaction is rolled back, so the stores' reinstall below does
# not outlive it, and pytest-django runs it before every transactional test — it sees the
# functions of a fresh ``migrate``, not ones a transactional test (re)installed.
@pytest.mark.django_db(transaction=False)
@pytest.mark.usefixtures("on_postgres")
def test_migrate_installs_exactly_what_the_stores_install_today():
    migrated = installed()
    assert store_triggers() <= set(migrated["triggers"]), STORE_CHANGED
    assert len(migrated["functions"]) >= len(store_triggers()) + 1  # + the tally refresh
    rollup_store.install_triggers()
    tally_store.install_triggers()
    assert installed() == migrated, STORE_CHANGED


# -------------------------------------------------------------------- frozen initial builds


def frozen(migration: str):
    return importlib.import_module(f"targets.migrations.{migration}")


def run(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@pytest.fixture
def figures(seeded):
    """The seed plans with yearly reporting periods, seed_demo's figures and approved (some
    demo) county figures on every allocation, so that sums below a region count."""
    plans = list(Plan.objects.all())
    for plan in plans:
        for year in range(plan.start_year, plan.end_year + 1):
            ReportingPeriod.objects.get_or_create(
                plan=plan,
                period=str(year),
                defaults={
                    "due_on": datetime.date(year + 1, 1, 31),
                    "locks_on": datetime.date(year + 1, 3, 31),
                },
            )
    generate_demo_progress(plans, until_year=2024)
    ProgressReport.objects.bulk_create(
        [
            ProgressReport(
                target_id=a.target_id,
                region_id=a.region_id,
                period=period,
                value=Decimal(index % 7 + 1),
                status="approved",
                is_demo=index % 3 == 0,
            )
            for index, a in enumerate(Allocation.objects.order_by("pk"))
            for period in ("2022", "2023")
        ],
        ignore_conflicts=True,
    )


@pytest.mark.django_db(transaction=False)
@pytest.mark.usefixtures("on_postgres", "figures")
def test_the_frozen_initial_builds_equal_the_stores_rebuilds():
    run([f"DELETE FROM {rollup_store.TABLE}", f"DELETE FROM {tally_store.TABLE}"])
    run(frozen("0004_report_rollups").REBUILD)
    run(frozen("0010_rollups_count_children_once").REBUILD)  # the rule of issue 17
    run(frozen("0006_reporting_tally").REBUILD)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {rollup_store.TABLE} WHERE below_count > 0")
        assert cursor.fetchone()[0] > 50
        cursor.execute(f"SELECT COUNT(*) FROM {tally_store.TABLE}")
        assert cursor.fetchone()[0] > 50
    assert rollup_store.rollups_match_raw() == []
    assert tally_store.tally_matches_reports() == []
