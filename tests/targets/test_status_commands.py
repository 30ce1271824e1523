"""plan_status prints where a plan stands; seed_demo writes labelled demo figures and only them."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from targets.models import ProgressReport, Target

pytestmark = pytest.mark.django_db

LIANZHOU = "lianzhou-2021-2025"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def plan_status(*args: str) -> str:
    return run("plan_status", LIANZHOU, "--date", "2022-12-31", *args)


def lianzhou(code: str) -> Target:
    return Target.objects.get(plan__code=LIANZHOU, code=code)


def approve(target: Target, figures: dict[str, int], **fields) -> None:
    fields = {"status": "approved"} | fields
    for period, value in figures.items():
        ProgressReport.objects.create(
            target=target, region=target.region, period=period, value=value, **fields
        )


def row(output: str, code: str) -> list[str]:
    """The table row of a target, split on whitespace."""
    (line,) = [line for line in output.splitlines() if line.startswith(f"{code} ")]
    return line.split()


@pytest.fixture
def hydrants(seeded) -> Target:
    """连州 附表3: 20/30/40/50/50 new hydrants; 20 + 25 reported against 50 due by 2022."""
    hydrants = lianzhou("t-hydrants")
    approve(hydrants, {"2021": 20, "2022": 25})
    return hydrants


class TestPlanStatus:
    def test_the_table_shows_actual_pace_goal_completion_projection_and_status(self, hydrants):
        output = plan_status()
        assert output.splitlines()[0] == "截至 2022-12-31"
        # 45 of 50 due (90 %: 滞后); 45 / 190 = 24 %; 45 in two years → about 112.65 by 2025.
        assert row(output, "t-hydrants") == [
            "t-hydrants", "45", "50", "190", "24%", "112.65", "滞后", "新增市政消火栓",
        ]  # fmt: skip
        # No stated total: the goal is the schedule's last value (1 + 1 + 1), 2 due by 2022.
        assert row(output, "t-vehicles") == [
            "t-vehicles", "—", "2", "3", "—", "—", "未填报", "“十四五”消防救援车辆购置",
        ]  # fmt: skip
        assert " " * 26 + "! 缺少火灾统计：deaths，2021年" in output.splitlines()
        assert output.splitlines()[-3:] == [
            "指标：共 28（no_data: 27，lagging: 1）；正常或完成占比 0%",
            "任务：共 29（no_data: 25，not_due: 2，lagging: 1，critical: 1）；正常或完成占比 0%",
            "约束性指标滞后：0 项",
        ]

    def test_json_gives_each_target_with_its_figures(self, hydrants):
        data = json.loads(plan_status("--format", "json"))
        assert (data["plan"], data["on"]) == (LIANZHOU, "2022-12-31")
        entries = {entry["code"]: entry for entry in data["targets"]}
        assert len(entries) == 28
        entry = entries["t-hydrants"]
        assert entry["name"] == "新增市政消火栓"
        assert {key: Decimal(entry[key]) for key in ("actual", "expected", "target_value")} == {
            "actual": 45,
            "expected": 50,  # 20 + 30 of the 20/30/40/50/50 milestones
            "target_value": 190,
        }
        assert Decimal(entry["completion"]) == Decimal(45) / Decimal(190)
        assert (entry["status"], entry["status_label"], entry["escalate"]) == (
            "lagging",
            "滞后",
            False,
        )
        assert [(p["period"], Decimal(p["value"])) for p in entry["series"]] == [
            ("2021", 20),
            ("2022", 45),
        ]
        assert (entry["feed"], entry["source"], entry["is_demo"]) == (
            "reports",
            "审核通过的填报数据",
            False,
        )
        assert entry["projection_meets"] is False
        assert entries["k-fire-death-rate"]["missing"] == [
            "缺少火灾统计：deaths，2021年",
            "缺少火灾统计：deaths，2022年",
        ]
        summary = data["summary"]["targets"]
        assert summary["counts"] == {
            "met": 0,
            "on_track": 0,
            "lagging": 1,
            "critical": 0,
            "unmet": 0,
            "no_data": 27,
            "not_due": 0,
        }
        assert (summary["total"], Decimal(summary["share_on_track"])) == (28, 0)
        assert {task["code"]: task["status"] for task in data["tasks"]}["t12"] == "lagging"

    def test_without_figures_the_pace_is_still_given(self, seeded):
        entries = json.loads(plan_status("--format", "json"))["targets"]
        (entry,) = [e for e in entries if e["code"] == "t-hydrants"]
        assert (Decimal(entry["expected"]), entry["actual"], entry["status"]) == (
            50,
            None,
            "no_data",
        )

    def test_a_bad_date_is_refused_in_chinese(self, seeded):
        with pytest.raises(CommandError) as refused:
            run("plan_status", LIANZHOU, "--date", "2022-13-01")
        assert str(refused.value) == "日期格式应为 YYYY-MM-DD：2022-13-01"

    def test_an_unknown_plan_is_refused_in_chinese(self, seeded):
        with pytest.raises(CommandError) as refused:
            run("plan_status", "nowhere-2021-2025", "--date", "2022-12-31")
        assert str(refused.value) == "没有编码为 nowhere-2021-2025 的规划"


class TestSeedDemo:
    @pytest.fixture
    def debug(self, seeded, settings):
        settings.DEBUG = True

    def test_it_writes_only_approved_demo_figures_of_report_fed_targets(self, debug):
        assert ProgressReport.objects.count() == 0
        output = run("seed_demo", "--until", "2022")
        written = ProgressReport.objects.count()
        assert output == f"已生成演示数据 {written} 条（截至 2022 年）\n"
        assert written > 100
        demo = ProgressReport.objects.filter(is_demo=True, status="approved")
        assert demo.count() == written
        assert not ProgressReport.objects.exclude(
            note="演示数据（seed_demo 生成，非真实进度）"
        ).exists()
        assert set(ProgressReport.objects.values_list("period", flat=True)) == {"2021", "2022"}
        assert not ProgressReport.objects.exclude(target__feed="reports").exists()
        assert not ProgressReport.objects.filter(target__plan__status="reference").exists()

        def periods(code: str) -> list[str]:
            return sorted(lianzhou(code).reports.values_list("period", flat=True))

        assert periods("t-hydrants") == ["2021", "2022"]  # milestones in both years
        assert periods("t-town-brigades") == ["2022"]  # its first milestone is in 2022
        assert periods("t-vehicles") == []  # no stated total
        assert periods("k-major-fire-share") == []  # 下降10%: relative, not generated
        assert periods("k-fire-death-rate") == []  # a formula target

    def test_running_it_twice_writes_nothing_more(self, debug):
        run("seed_demo", "--until", "2022")
        first = sorted(ProgressReport.objects.values_list("pk", "value"))
        assert run("seed_demo", "--until", "2022") == "已生成演示数据 0 条（截至 2022 年）\n"
        assert sorted(ProgressReport.objects.values_list("pk", "value")) == first

    def test_it_never_touches_a_real_report_for_the_same_target_region_and_period(self, debug):
        hydrants = lianzhou("t-hydrants")
        approve(hydrants, {"2021": 7}, status="submitted", note="真实填报")
        real = ProgressReport.objects.get()
        history = real.history.count()
        run("seed_demo", "--until", "2022")
        real.refresh_from_db()
        assert (real.value, real.status, real.is_demo, real.note) == (
            7,
            "submitted",
            False,
            "真实填报",
        )
        assert real.history.count() == history
        assert sorted(hydrants.reports.values_list("period", "is_demo")) == [
            ("2021", False),
            ("2022", True),
        ]

    def test_clear_removes_the_demo_figures_and_nothing_else(self, debug):
        approve(lianzhou("t-hydrants"), {"2021": 20})
        run("seed_demo", "--until", "2022")
        demo = ProgressReport.objects.filter(is_demo=True).count()
        assert demo > 100
        assert run("seed_demo", "--clear") == f"已删除演示数据 {demo} 条\n"
        remaining = ProgressReport.objects.values_list("target__code", "period", "is_demo")
        assert list(remaining) == [("t-hydrants", "2021", False)]

    def test_it_refuses_without_debug_unless_forced(self, seeded, settings):
        settings.DEBUG = False
        with pytest.raises(CommandError) as refused:
            run("seed_demo", "--until", "2022")
        assert str(refused.value) == "生产环境（DEBUG 关闭）不生成演示数据；确需生成请加 --force"
        assert ProgressReport.objects.count() == 0
        assert run("seed_demo", "--until", "2022", "--force").startswith("已生成演示数据 ")
        assert ProgressReport.objects.filter(is_demo=True).count() > 100

    def test_plan_status_labels_demo_figures(self, debug):
        approve(lianzhou("t-vehicles"), {"2021": 1, "2022": 1})  # real figures, never demo
        run("seed_demo", "--until", "2022")
        output = plan_status()
        assert "[演示数据]" in row(output, "t-enforcement-equip")  # 7 by 2025, demo only
        assert "[演示数据]" not in row(output, "t-vehicles")
        assert "[演示数据]" not in row(output, "k-fire-death-rate")
        entries = {e["code"]: e for e in json.loads(plan_status("--format", "json"))["targets"]}
        assert (entries["t-enforcement-equip"]["is_demo"], entries["t-vehicles"]["is_demo"]) == (
            True,
            False,
        )
