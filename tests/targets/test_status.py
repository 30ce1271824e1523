"""The status engine judges targets the way a committee office does, on the seed plans."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Region
from stations.models import Station
from targets.choices import Feed, MilestoneState
from targets.models import BaseFigure, FireStatistic, Milestone, ProgressReport, Target
from targets.status import (
    StatusRules,
    compute_allocations,
    compute_status,
    load_status_inputs,
    milestone_state,
)
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date.fromisoformat


def target(plan_code: str, code: str) -> Target:
    return Target.objects.select_related("plan").get(plan__code=plan_code, code=code)


def approve(target: Target, figures: dict[str, float], region: Region | None = None) -> None:
    for period, value in figures.items():
        ProgressReport.objects.create(
            target=target,
            region=region or target.region,
            period=period,
            value=Decimal(str(value)),
            status="approved",
        )


def status(target: Target, on: str, **kwargs):
    return compute_status(target, load_status_inputs([target]), on=D(on), **kwargs)


@pytest.fixture
def hydrants(seeded):
    """连州 附表3: 20/30/40/50/50 new municipal hydrants in 2021–2025, 190 in all."""
    return target("lianzhou-2021-2025", "t-hydrants")


class TestLianzhouHydrants:
    def test_twenty_and_twenty_five_lag_behind_fifty_at_the_end_of_2022(self, hydrants):
        approve(hydrants, {"2021": 20, "2022": 25})
        result = status(hydrants, "2022-12-31")
        assert (result.actual, result.expected) == (Decimal(45), Decimal(50))
        assert result.status == "lagging"  # 45 / 50 = 90 %: below pace, above 80 %
        assert result.completion == Decimal(45) / Decimal(190)

    def test_twenty_and_thirty_are_on_track(self, hydrants):
        approve(hydrants, {"2021": 20, "2022": 30})
        assert status(hydrants, "2022-12-31").status == "on_track"

    def test_far_below_pace_is_critical(self, hydrants):
        approve(hydrants, {"2021": 20, "2022": 10})
        assert status(hydrants, "2022-12-31").status == "critical"  # 30 / 50 = 60 %

    def test_the_schedule_is_read_cumulatively_and_steps_at_each_milestone(self, hydrants):
        approve(hydrants, {"2021": 20})
        inputs = load_status_inputs([hydrants])
        expected = {
            on: compute_status(hydrants, inputs, on=D(on)).expected
            for on in ["2021-12-30", "2021-12-31", "2022-12-31", "2023-12-31", "2025-12-31"]
        }
        assert expected == {
            "2021-12-30": 0,
            "2021-12-31": 20,
            "2022-12-31": 50,
            "2023-12-31": 90,
            "2025-12-31": 190,
        }

    def test_before_the_plan_starts_nothing_is_due(self, hydrants):
        assert status(hydrants, "2020-06-30").status == "not_due"

    def test_no_figure_after_the_first_year_is_no_data(self, hydrants):
        assert status(hydrants, "2021-06-30").status == "not_due"
        assert status(hydrants, "2022-01-15").status == "no_data"

    def test_a_missing_latest_year_is_no_data_not_a_silent_lag(self, hydrants):
        approve(hydrants, {"2021": 20, "2022": 30})
        assert status(hydrants, "2023-12-31").status == "no_data"

    def test_after_the_plan_ends_unmet_is_unmet_and_met_is_met(self, hydrants):
        # The target year is the plan's end: once it has passed the plan is judged as finished
        # (issue 17) — 未完成, 5 short of 190, not 严重滞后; no projection.
        approve(hydrants, {"2021": 20, "2022": 30, "2023": 40, "2024": 50, "2025": 45})
        result = status(hydrants, "2026-01-01")
        assert (result.status, result.finished, result.margin) == ("unmet", True, 5)
        assert result.verdict == "未完成（差 5 个，完成 97.4%）"
        assert result.projection is None and not result.escalate
        ProgressReport.objects.filter(target=hydrants, period="2025").update(value=60)
        result = status(hydrants, "2026-01-01")
        assert (result.status, result.actual, result.completion) == ("met", 200, Decimal(200) / 190)
        assert result.completion_display == 1  # capped for display, not in value

    def test_only_approved_figures_count(self, hydrants):
        approve(hydrants, {"2021": 20})
        ProgressReport.objects.create(
            target=hydrants, region=hydrants.region, period="2022", value=30, status="submitted"
        )
        assert status(hydrants, "2022-12-31").actual == 20

    def test_projection_extends_the_current_pace_to_the_target_year(self, hydrants):
        approve(hydrants, {"2021": 20, "2022": 25})
        result = status(hydrants, "2022-12-31")
        # 45 in two years → about 22.5 a year → about 112 by the end of 2025, short of 190.
        assert Decimal(111) < result.projection < Decimal(114)
        assert result.projection_meets is False

    def test_tolerances_come_from_the_rules(self, hydrants):
        approve(hydrants, {"2021": 20, "2022": 25})
        strict = StatusRules(lagging_below=Decimal("0.8"), critical_below=Decimal("0.5"))
        assert status(hydrants, "2022-12-31", rules=strict).status == "on_track"
        harsh = StatusRules(lagging_below=Decimal("1"), critical_below=Decimal("0.95"))
        assert status(hydrants, "2022-12-31", rules=harsh).status == "critical"

    def test_settings_set_the_default_tolerances(self, hydrants, settings):
        approve(hydrants, {"2021": 20, "2022": 25})
        settings.STATUS_RULES = {"critical_below": "0.95"}
        assert status(hydrants, "2022-12-31").status == "critical"


class TestDistrictFigures:
    def test_sub_region_figures_add_up_when_the_region_itself_has_none(self, hydrants):
        towns = Region.objects.filter(parent=hydrants.region).order_by("pk")[:2]
        approve(hydrants, {"2021": 12}, region=towns[0])
        approve(hydrants, {"2021": 8}, region=towns[1])
        assert status(hydrants, "2021-12-31").actual == 20

    def test_the_regions_own_figure_wins_over_its_sub_regions(self, hydrants):
        town = Region.objects.filter(parent=hydrants.region).first()
        approve(hydrants, {"2021": 20})
        approve(hydrants, {"2021": 5}, region=town)
        assert status(hydrants, "2021-12-31").actual == 20


class TestLevelsWithBaseline:
    """南阳: 消防站总数 38 at the end of the 13th FYP → 62 by 2025."""

    @pytest.fixture
    def stations_total(self, seeded):
        return target("nanyang-2021-2025", "tg-stations-total")

    def test_pace_runs_from_the_baseline_to_the_total(self, stations_total):
        approve(stations_total, {"2021": 43, "2022": 47})
        result = status(stations_total, "2022-12-31")
        # 2 of 5 years: 38 + (62 − 38) × 2/5 = 47.6 expected; 47 is 9 of 9.6 → lagging.
        assert result.expected == Decimal("47.6")
        assert (result.actual, result.increment) == (47, 9)
        assert result.status == "lagging"

    def test_a_level_takes_the_latest_figure_not_the_sum(self, stations_total):
        approve(stations_total, {"2021": 45, "2022": 50})
        result = status(stations_total, "2022-12-31")
        assert (result.actual, result.status) == (50, "on_track")

    def test_reaching_the_total_is_met(self, stations_total):
        approve(stations_total, {"2021": 45, "2022": 62})
        assert status(stations_total, "2022-12-31").status == "met"

    def test_an_increment_with_a_baseline_reports_the_resulting_level(self, seeded):
        owner = factories.plan("inc-base")
        goal = factories.target(owner, target_value=24, baseline_value=38)
        approve(goal, {"2021": 5})
        result = status(goal, "2021-12-31")
        assert (result.actual, result.increment, result.level) == (5, 5, 43)


class TestCeilings:
    """连州 key indicator 1: 年均10万人口火灾死亡率 ≤ 0.15 (约束性), a formula target."""

    @pytest.fixture
    def death_rate(self, seeded):
        return target("lianzhou-2021-2025", "k-fire-death-rate")

    def deaths(self, region, figures):
        for year, deaths in figures.items():
            FireStatistic.objects.create(region=region, year=year, deaths=deaths, fires=100)

    def population(self, region, figures):
        for year, value in figures.items():
            BaseFigure.objects.create(
                region=region, year=year, name="常住人口（测试）", key="population", value=value
            )

    def test_without_population_it_says_what_is_missing_and_invents_nothing(self, death_rate):
        self.deaths(death_rate.region, {2021: 1, 2022: 0})
        result = status(death_rate, "2022-12-31")
        assert result.actual is None
        assert result.status == "no_data"
        assert result.missing == ["缺少基数：population，2021年", "缺少基数：population，2022年"]

    def test_with_population_the_yearly_rates_are_averaged(self, death_rate):
        self.deaths(death_rate.region, {2021: 1, 2022: 0})
        self.population(death_rate.region, {2021: 400000, 2022: 400000})
        result = status(death_rate, "2022-12-31")
        assert result.actual == Decimal("0.125")  # (0.25 + 0) / 2
        assert (result.status, result.completion) == ("met", 1)
        assert result.margin == Decimal("0.025")
        assert result.source == "2021—2022年平均"

    def test_a_breached_ceiling_is_graded_and_escalated_because_it_is_binding(self, death_rate):
        assert death_rate.attribute == "binding"
        self.deaths(death_rate.region, {2021: 1, 2022: 1})
        self.population(death_rate.region, {2021: 400000, 2022: 400000})
        result = status(death_rate, "2022-12-31")
        assert result.actual == Decimal("0.25")
        assert result.completion == Decimal("0.6")  # 0.15 / 0.25
        assert (result.status, result.escalate) == ("critical", True)

    def test_a_slightly_breached_ceiling_lags(self, death_rate):
        self.deaths(death_rate.region, {2021: 2, 2022: 2})
        self.population(death_rate.region, {2021: 1200000, 2022: 1200000})
        result = status(death_rate, "2022-12-31")  # 0.1667 > 0.15: the bound is 90 % of it
        assert (result.status, result.escalate) == ("lagging", True)

    def test_a_missing_deaths_figure_is_named(self, death_rate):
        self.population(death_rate.region, {2021: 400000})
        result = status(death_rate, "2021-12-31")
        assert result.missing == ["缺少火灾统计：deaths，2021年"]

    def test_population_of_a_recent_earlier_year_is_used_and_older_is_not(self, death_rate):
        self.deaths(death_rate.region, {2021: 1})
        self.population(death_rate.region, {2019: 400000})
        assert status(death_rate, "2021-12-31").actual == Decimal("0.25")
        rules = StatusRules(base_figure_max_age_years=1)
        assert status(death_rate, "2021-12-31", rules=rules).actual is None


class TestRatiosAndRelativeTargets:
    def test_a_ratio_without_baseline_is_not_due_until_met_or_overdue(self, seeded):
        intact = target("lianzhou-2021-2025", "t-hydrant-intact")  # 完好率 100 %
        approve(intact, {"2021": 92, "2022": 95})
        result = status(intact, "2022-12-31")
        assert (result.actual, result.expected, result.status) == (95, None, "not_due")
        approve(intact, {"2023": 100})
        assert status(intact, "2023-12-31").status == "met"

    def test_reduce_by_without_a_baseline_names_the_missing_baseline(self, seeded):
        share = target("lianzhou-2021-2025", "k-major-fire-share")  # 下降10%
        approve(share, {"2021": 3})
        result = status(share, "2021-12-31")
        assert result.status == "no_data"
        assert result.missing == ["缺少基期值，无法计算变化幅度"]

    @pytest.mark.parametrize(
        ("comparator", "baseline", "figure", "status_at_2022", "completion"),
        [
            ("reduce_by", 20, 16, "met", Decimal(2)),  # down 20 % of a 10 % goal
            ("reduce_by", 20, 19, "on_track", Decimal("0.5")),  # down 5 %, 4 % due by 2022
            ("reduce_by", 20, 19.5, "critical", Decimal("0.25")),  # down 2.5 % of 4 % due
            ("increase_by", 20, 22, "met", Decimal(1)),
            ("increase_by", 20, 20.8, "on_track", Decimal("0.4")),  # +4 % of 10 %, 2/5 due
        ],
    )
    def test_relative_targets_are_measured_against_the_baseline(
        self, comparator, baseline, figure, status_at_2022, completion
    ):
        owner = factories.plan("relative")
        goal = factories.target(
            owner,
            measure="ratio",
            comparator=comparator,
            target_value=10,
            baseline_value=baseline,
            measure_unit="%",
        )
        approve(goal, {"2022": figure})
        result = status(goal, "2022-12-31")
        assert (result.status, result.completion) == (status_at_2022, completion)

    def test_equal_targets_are_met_at_the_value(self, seeded):
        owner = factories.plan("equal")
        goal = factories.target(owner, comparator="eq", target_value=4, target_year=2022)
        approve(goal, {"2021": 2, "2022": 2})
        assert status(goal, "2022-12-31").status == "met"


class TestLinearPace:
    def test_without_milestones_pace_is_linear_by_whole_years(self, seeded):
        owner = factories.plan("linear")  # 2021–2025
        goal = factories.target(owner, target_value=50)
        approve(goal, {"2021": 10, "2022": 10})
        inputs = load_status_inputs([goal])
        assert compute_status(goal, inputs, on=D("2022-12-31")).expected == 20
        assert compute_status(goal, inputs, on=D("2023-06-30")).expected == 20
        assert compute_status(goal, inputs, on=D("2023-12-31")).expected == 30
        assert compute_status(goal, inputs, on=D("2022-12-31")).status == "on_track"


class TestStationRegister:
    def test_a_new_stations_target_can_count_the_register(self, seeded):
        new_stations = target("nanjing-2021-2023", "t-new-stations")  # 51 by 2025
        Target.objects.filter(pk=new_stations.pk).update(feed=Feed.STATION_REGISTER)
        new_stations.refresh_from_db()
        district = Region.objects.get(name="秦淮区")
        for year, state in [(2021, "in_service"), (2022, "built"), (2022, "planned")]:
            Station.objects.create(
                name=f"测试站{year}{state}",
                region=district,
                status=state,
                build_type="new",
                completed_year=year,
            )
        Station.objects.create(
            name="十三五老站", region=district, status="in_service", build_type="new",
            completed_year=2019,
        )  # fmt: skip
        result = status(new_stations, "2022-12-31")
        assert result.actual == 2  # the planned one and the 2019 one do not count
        assert result.source.startswith("按消防站台账计数")
        assert [value for _, value in result.series] == [1, 2]


class TestAllocations:
    def test_each_county_is_judged_against_its_own_share(self, seeded):
        new_stations = target("nanyang-2021-2025", "tg-new-stations")
        nanzhao = Region.objects.get(name="南召县")  # 附件1: 3 new stations
        approve(new_stations, {"2021": 1, "2022": 1}, region=nanzhao)
        inputs = load_status_inputs([new_stations])
        by_region = {
            a.region.name: p
            for a, p in compute_allocations(new_stations, inputs, on=D("2022-12-31"))
        }
        assert len(by_region) == 13
        assert by_region["南召县"].target_value == 3
        assert (by_region["南召县"].actual, by_region["南召县"].status) == (2, "on_track")
        assert by_region["邓州市"].status == "no_data"


class TestQualitativeMilestones:
    def test_done_pending_and_overdue(self, seeded):
        voice = Milestone.objects.filter(plan__code="lianzhou-2021-2025", task__isnull=False)[0]
        assert milestone_state(voice, voice.due_on) == MilestoneState.PENDING
        later = voice.due_on + datetime.timedelta(days=1)
        assert milestone_state(voice, later) == MilestoneState.OVERDUE
        voice.completed_on = voice.due_on
        assert milestone_state(voice, later) == MilestoneState.DONE


def test_status_inputs_cost_a_fixed_number_of_queries(seeded):
    few = list(Target.objects.filter(plan__code="lianzhou-2021-2025")[:3])
    many = list(Target.objects.all())
    with CaptureQueriesContext(connection) as few_queries:
        load_status_inputs(few)
    with CaptureQueriesContext(connection) as many_queries:
        inputs = load_status_inputs(many)
    # plans, milestones, allocations, and one status query (roll-ups, with fire statistics,
    # base figures, stations and the regions when a formula needs them): 4 queries for 3
    # targets or for all of them.
    assert len(few_queries) == len(many_queries) == 4
    with CaptureQueriesContext(connection) as compute_queries:
        for each in many:
            compute_status(each, inputs, on=D("2023-12-31"))
    assert len(compute_queries) == 0
