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
from django.db.models import Sum

from fireplan.bench.synthetic import figure
from planning.models import Plan, Region
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
    labels = ["总览", "区县页", "填报列表", "保存一条填报", "审核通过一条填报", "任务台账导出",
              "填报导入"]  # fmt: skip
    for label in labels:
        line = next(line for line in text.splitlines() if line.startswith(label))
        assert "系统 system" in line and "基线 baseline" in line and "比值 ratio" in line
    assert sum(line.startswith("内存 memory") for line in text.splitlines()) == 2
    result = json.loads(path.read_text(encoding="utf-8"))
    assert result["scale"] == "small" and result["cpu_count"] >= 1
    assert {"python", "django", "postgresql"} <= set(result)
    assert set(result["operations"]) == {
        "overview", "county_dashboard", "reports_list", "report_save", "report_approve",
        "ledger_export", "figures_import",
    }  # fmt: skip
    for figures in result["operations"].values():
        assert figures["operation"]["median_ms"] > 0 and figures["baseline"]["median_ms"] > 0
        assert figures["ratio"] > 0
    assert set(result["memory"]) == {"ledger_export", "figures_import"}
    assert result["data"]["reports"] == 12 * 5 * 4
    # Everything ran in a rolled-back transaction.
    assert (Plan.objects.count(), Region.objects.count(), ProgressReport.objects.count()) == before
