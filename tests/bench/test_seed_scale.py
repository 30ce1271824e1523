"""The scale generator and the benchmark at a tiny scale, so neither rots (issue 9). Timings
are not asserted, only that every figure is produced and nothing is left behind."""

import io
import json
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from bench.synthetic import figure
from core import bulkload
from core.models import Region
from planning.models import Plan
from targets.models import Allocation, ProgressReport, ReportingPeriod, Target

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_scale", regions=12, targets=5, periods=4, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def empty_database(seeded, on_postgres):
    """No real plan left (inside the test's transaction): what seed_scale requires."""
    Plan.objects.all().delete()


def test_seed_scale_refuses_a_database_holding_real_plans(seeded, on_postgres):
    with pytest.raises(CommandError, match=r"非合成规划.*nanjing-2021-2023"):
        seed()
    assert not Region.objects.filter(name="合成全国").exists()
    assert not Plan.objects.filter(code__startswith="SYN-").exists()


def test_seed_scale_builds_exactly_the_requested_scale(empty_database):
    text = seed(seed=3)
    plan = Plan.objects.get(code="SYN-12x5x4-s3")
    assert plan.title.startswith("【合成数据】")
    root = plan.region
    assert root.name == "合成全国" and root.parent is None
    counties = Region.objects.filter(level="district", parent__parent__parent=root)
    # 合成全国 → 1 province → 2 cities (9 counties each at most) → 12 counties.
    assert counties.count() == 12
    assert Region.objects.filter(name__startswith="合成").count() == 1 + 1 + 2 + 12
    assert sorted(counties.values_list("name", flat=True))[0] == "合成县0001"
    assert Target.objects.filter(plan=plan).count() == 5
    periods = ReportingPeriod.objects.filter(plan=plan).order_by("period")
    assert list(periods.values_list("period", flat=True)) == [f"2021Q{q}" for q in (1, 2, 3, 4)]
    assert Allocation.objects.filter(target__plan=plan).count() == 5 * 12
    reports = ProgressReport.objects.filter(target__plan=plan)
    assert reports.count() == 12 * 5 * 4
    assert set(reports.values_list("status", "is_demo").distinct()) == {("approved", True)}
    # Values are the deterministic hash: county 0, target 1 (an increment), period 2.
    first = counties.get(name="合成县0001")
    target = Target.objects.get(plan=plan, order=1)
    assert reports.get(target=target, region=first, period="2021Q3").value == figure(0, 1, 2, 3)
    users = get_user_model().objects
    assert users.get(username="bench_staff").profile.region == root
    assert users.get(username="bench_liaison").profile.region == first
    assert "Synthetic-bench_staff-3!" in text and "行/秒" in text
    if apps.is_installed("targets") and "reportrollup" in apps.all_models["targets"]:
        # The rollups were rebuilt after the COPY: the root's figure is the counties' sum.
        rollup = apps.get_model("targets", "ReportRollup")
        row = rollup.objects.get(target=target, region=root, period="2021Q3")
        expected = reports.filter(target=target, period="2021Q3").aggregate(s=Sum("value"))["s"]
        assert expected == Decimal(sum(figure(c, 1, 2, 3) for c in range(12)))
        assert row.effective_value == expected


LOADED = ["targets_progressreport", "targets_allocation", "targets_reportrollup"]


def schema(tables: list[str]) -> dict[str, list[tuple]]:
    """Every constraint, index and (non-internal) trigger of ``tables`` by name, with its
    definition as PostgreSQL prints it."""
    found = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                """
                SELECT conname, contype::text, pg_get_constraintdef(oid), condeferrable,
                       condeferred, convalidated
                  FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY conname
                """,
                [table],
            )
            rows = [("constraint", *row) for row in cursor.fetchall()]
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                "ORDER BY indexname",
                [table],
            )
            rows += [("index", *row) for row in cursor.fetchall()]
            cursor.execute(
                """
                SELECT tgname, pg_get_triggerdef(oid), tgenabled::text FROM pg_trigger
                 WHERE tgrelid = %s::regclass AND NOT tgisinternal ORDER BY tgname
                """,
                [table],
            )
            rows += [("trigger", *row) for row in cursor.fetchall()]
            found[table] = rows
    return found


def test_seed_scale_leaves_keys_indexes_foreign_keys_and_triggers_as_they_were(empty_database):
    before = schema(LOADED)
    kinds = {
        table: {row[2] for row in rows if row[0] == "constraint"} for table, rows in before.items()
    }
    assert all({"p", "u", "f"} <= found for found in kinds.values())
    assert any(row[0] == "trigger" for row in before["targets_progressreport"])
    with CaptureQueriesContext(connection) as queries:
        seed()
    # The load did drop them (the three tables were empty) and made them again.
    statements = [query["sql"] for query in queries.captured_queries]
    for table in LOADED:
        for name, kind in ((row[1], row[2]) for row in before[table] if row[0] == "constraint"):
            if kind == "f":
                assert f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"' in statements
                assert any(
                    sql.startswith(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY')
                    for sql in statements
                )
    assert schema(LOADED) == before
    assert ProgressReport.objects.count() == 240


def test_seed_scale_takes_as_many_queries_for_four_times_the_figures(empty_database):
    counts = []
    for regions, targets in ((12, 5), (24, 10)):
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            call_command(
                "seed_scale", regions=regions, targets=targets, periods=4, stdout=io.StringIO()
            )
            assert ProgressReport.objects.count() == regions * targets * 4
            transaction.set_rollback(True)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_foreign_key_made_again_after_a_load_checks_the_loaded_rows(empty_database):
    table = "targets_allocation"
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # nothing pending (see the next test)
        dropped = bulkload.drop_for_load(cursor, table)
        assert {kind for kind, _, _ in dropped} == {"p", "u", "i", "f"}
        # Check constraints and triggers stay.
        left = schema([table])[table]
        assert {row[0] for row in left} == {"constraint", "trigger"}
        assert {row[2] for row in left if row[0] == "constraint"} == {"c"}
        cursor.execute(
            f"INSERT INTO {table} (target_id, region_id, value, source_text) VALUES (-1, -1, 1, '')"
        )
        with pytest.raises(IntegrityError, match="violates foreign key"), transaction.atomic():
            bulkload.recreate(cursor, table, dropped)


def test_nothing_is_dropped_when_a_table_the_foreign_keys_reference_has_checks_pending(
    empty_database,
):
    """Deleting the plans queued deferred checks on the targets table: PostgreSQL refuses to
    alter it, so the foreign keys stay, and then so must everything (rows loaded with foreign
    keys queue checks that would block re-creating the keys)."""
    table = "targets_allocation"
    before = schema([table])[table]
    with connection.cursor() as cursor:
        assert bulkload.drop_for_load(cursor, table) == []
    assert schema([table])[table] == before


def test_a_later_full_rebuild_keeps_the_schema_and_agrees_with_the_figures(empty_database):
    seed()
    before = schema(LOADED)
    out = io.StringIO()
    call_command("rebuild_rollups", stdout=out)  # the table is not empty: nothing dropped
    assert "已重建填报汇总" in out.getvalue()
    assert schema(LOADED) == before
    call_command("rebuild_rollups", "--check", stdout=out)
    assert "一致" in out.getvalue()


def test_seed_scale_refuses_to_seed_twice(empty_database):
    seed()
    with pytest.raises(CommandError, match="已有合成数据"):
        seed()
    assert ProgressReport.objects.count() == 240


def test_bench_small_prints_every_operation_with_both_figures_and_a_ratio(
    seeded, on_postgres, tmp_path
):
    before = (Plan.objects.count(), Region.objects.count(), ProgressReport.objects.count())
    out = io.StringIO()
    path = tmp_path / "small.json"
    call_command("bench", scale="small", json_path=str(path), repeat=1, stdout=out)
    text = out.getvalue()
    labels = ["总览", "区县页", "规划页", "单位页", "填报列表", "指标列表", "目标分解列表",
              "保存一条填报", "审核通过一条填报", "任务台账导出", "填报导入"]  # fmt: skip
    for label in labels:
        line = next(line for line in text.splitlines() if line.startswith(label))
        assert "系统 system" in line and "基线 baseline" in line and "比值 ratio" in line
    assert sum(line.startswith("内存 memory") for line in text.splitlines()) == 2
    result = json.loads(path.read_text(encoding="utf-8"))
    assert result["scale"] == "small" and result["cpu_count"] >= 1
    assert {"python", "django", "postgresql"} <= set(result)
    assert set(result["operations"]) == {
        "overview", "county_dashboard", "plan_page", "unit_page", "reports_list",
        "targets_list", "allocations_list", "report_save", "report_approve", "ledger_export",
        "figures_import",
    }  # fmt: skip
    # The pages' first read of a day (the stored judgement emptied) is measured too.
    assert all(result["operations"][key]["cold_ms"] > 0 for key in ("overview", "unit_page"))
    for figures in result["operations"].values():
        assert figures["operation"]["median_ms"] > 0 and figures["baseline"]["median_ms"] > 0
        assert figures["ratio"] > 0
    assert set(result["memory"]) == {"ledger_export", "figures_import"}
    assert result["data"]["reports"] == 12 * 5 * 4
    # Everything ran in a rolled-back transaction.
    assert (Plan.objects.count(), Region.objects.count(), ProgressReport.objects.count()) == before
