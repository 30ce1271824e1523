"""Tasks, plans, regions and units roll up from their targets the way the module says."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Region, Unit
from planning.models import Plan, Task, TaskAssignment, TaskUpdate
from targets.models import Allocation, Milestone, ProgressReport, Target
from targets.rollups import StatusBoard, Summary, combine
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date.fromisoformat


def approve(target: Target, figures: dict[str, float], region: Region | None = None) -> None:
    for period, value in figures.items():
        ProgressReport.objects.create(
            target=target,
            region=region or target.region,
            period=period,
            value=Decimal(str(value)),
            status="approved",
        )


def milestone(task: Task, code: str, due_on: str, completed_on: str | None = None) -> Milestone:
    return Milestone.objects.create(
        plan=task.plan,
        task=task,
        code=code,
        due_on=D(due_on),
        completed_on=D(completed_on) if completed_on else None,
    )


def update(task: Task, percent: int | None, at: str) -> TaskUpdate:
    """A task update written on a given day (created_at is auto_now_add, so set it after)."""
    note = TaskUpdate.objects.create(task=task, text="进展情况", percent=percent)
    written = datetime.datetime.fromisoformat(f"{at}T12:00:00+08:00")
    TaskUpdate.objects.filter(pk=note.pk).update(created_at=written)
    return note


def board(plan: Plan, on: str) -> StatusBoard:
    return StatusBoard([plan], on=D(on))


def counts(summary: Summary) -> dict[str, int]:
    return {status: n for status, n in summary.counts.items() if n}


@pytest.fixture
def plan() -> Plan:
    """A 2021–2025 plan: without milestones, pace is 2/5 of the goal at the end of 2022."""
    return factories.plan("rollup-plan")


def paced_target(plan: Plan, code: str, figures: dict[str, float], **fields) -> Target:
    """An increment target of 50 by 2025 (20 due at the end of 2022) with these figures."""
    fields = {"target_value": 50} | fields
    goal = factories.target(plan, code, **fields)
    approve(goal, figures)
    return goal


# ------------------------------------------------------------------------------ combine


@pytest.mark.parametrize(
    ("statuses", "combined"),
    [
        ([], None),
        (["met", "met"], "met"),
        (["met", "lagging", "critical"], "critical"),
        (["on_track", "no_data", "lagging"], "lagging"),
        (["met", "on_track", "no_data"], "no_data"),
        (["critical", "no_data", "not_due"], "critical"),
        (["met", "not_due"], "on_track"),
        (["on_track", "not_due"], "on_track"),
        (["not_due", "not_due"], "not_due"),
    ],
)
def test_combine_takes_all_met_then_the_worst_then_on_track_then_not_due(statuses, combined):
    assert combine(statuses) == combined


# ------------------------------------------------------------------------------ tasks from targets


class TestTasksFromTargets:
    def test_a_task_whose_target_lags_is_lagging(self, plan):
        task = factories.task(plan)
        paced_target(plan, "g1", {"2021": 10, "2022": 7}, task=task)  # 17 of 20: 85 %
        progress = board(plan, "2022-12-31").task_progress[task.pk]
        assert (progress.status, progress.target_statuses) == ("lagging", ["lagging"])

    def test_one_critical_target_makes_the_task_critical(self, plan):
        task = factories.task(plan)
        paced_target(plan, "g1", {"2021": 10, "2022": 10}, task=task, order=1)  # on track
        paced_target(plan, "g2", {"2021": 5, "2022": 5}, task=task, order=2)  # 10 of 20
        progress = board(plan, "2022-12-31").task_progress[task.pk]
        assert progress.target_statuses == ["on_track", "critical"]
        assert progress.status == "critical"

    def test_a_met_and_an_on_track_target_make_an_on_track_task(self, plan):
        task = factories.task(plan)
        paced_target(plan, "g1", {"2021": 10}, task=task, target_value=10, order=1)  # met
        paced_target(plan, "g2", {"2021": 10, "2022": 10}, task=task, order=2)
        assert board(plan, "2022-12-31").task_progress[task.pk].status == "on_track"

    def test_a_task_is_met_only_when_every_target_is_met(self, plan):
        task = factories.task(plan)
        paced_target(plan, "g1", {"2021": 10}, task=task, target_value=10, order=1)
        paced_target(plan, "g2", {"2021": 30, "2022": 20}, task=task, order=2)  # 50 of 50
        assert board(plan, "2022-12-31").task_progress[task.pk].status == "met"

    def test_a_target_with_no_figure_makes_its_task_no_data(self, plan):
        task = factories.task(plan)
        paced_target(plan, "g1", {"2021": 10, "2022": 10}, task=task, order=1)
        paced_target(plan, "g2", {}, task=task, order=2)
        assert board(plan, "2022-12-31").task_progress[task.pk].status == "no_data"


# ------------------------------------------------------------------------------ milestones


class TestTasksFromQualitativeMilestones:
    @pytest.mark.parametrize(
        ("due_on", "completed_on", "state", "status"),
        [
            ("2022-06-30", "2022-06-01", "done", "met"),
            ("2022-06-30", None, "overdue", "critical"),
            ("2022-12-31", None, "pending", "not_due"),  # due on the day itself: not yet late
            ("2023-06-30", None, "pending", "not_due"),
            ("2022-06-30", "2023-01-15", "overdue", "critical"),  # done only after the date
        ],
    )
    def test_a_milestone_state_becomes_the_task_status(
        self, plan, due_on, completed_on, state, status
    ):
        task = factories.task(plan)
        step = milestone(task, "m1", due_on, completed_on)
        progress = board(plan, "2022-12-31").task_progress[task.pk]
        assert progress.milestone_states == {step.pk: state}
        assert progress.status == status

    def test_a_done_and_a_pending_milestone_make_an_on_track_task(self, plan):
        task = factories.task(plan)
        milestone(task, "m1", "2021-12-31", "2021-12-20")
        milestone(task, "m2", "2024-12-31")
        assert board(plan, "2022-12-31").task_progress[task.pk].status == "on_track"

    def test_milestones_and_targets_combine(self, plan):
        task = factories.task(plan)
        milestone(task, "m1", "2022-06-30", "2022-06-01")  # done → met
        paced_target(plan, "g1", {"2021": 10, "2022": 7}, task=task)  # lagging
        assert board(plan, "2022-12-31").task_progress[task.pk].status == "lagging"

    def test_lianzhou_task_17_is_critical_until_its_2021_milestone_is_marked_done(self, seeded):
        lianzhou = Plan.objects.get(code="lianzhou-2021-2025")
        task = Task.objects.get(plan=lianzhou, code="t17")  # 附表4: 2021 and 2025 milestones
        assert board(lianzhou, "2022-12-31").task_progress[task.pk].status == "critical"
        Milestone.objects.filter(task=task, due_on=D("2021-12-31")).update(
            completed_on=D("2021-12-01")
        )
        assert board(lianzhou, "2022-12-31").task_progress[task.pk].status == "on_track"


# ------------------------------------------------------------------------------ task's own fields


class TestTaskStatusAndDueDate:
    def test_a_completed_task_is_met_whatever_its_targets_say(self, plan):
        task = factories.task(plan, status="completed")
        paced_target(plan, "g1", {"2021": 1, "2022": 1}, task=task)  # 2 of 20: critical
        progress = board(plan, "2022-12-31").task_progress[task.pk]
        assert (progress.status, progress.target_statuses) == ("met", ["critical"])

    def test_a_cancelled_task_is_not_judged_nor_counted(self, plan):
        cancelled = factories.task(plan, "t1", status="cancelled", order=1)
        milestone(cancelled, "m1", "2021-06-30")  # overdue, would be critical
        factories.task(plan, "t2", status="completed", order=2)
        status_board = board(plan, "2022-12-31")
        assert status_board.task_progress[cancelled.pk].status is None
        tasks = status_board.plan_summary(plan)["tasks"]
        assert (counts(tasks), tasks.total) == ({"met": 1}, 1)

    def test_a_task_past_its_due_date_and_not_completed_is_critical(self, plan):
        task = factories.task(plan, due_on=D("2022-06-30"), status="in_progress")
        paced_target(plan, "g1", {"2021": 10, "2022": 10}, task=task)  # on track
        assert board(plan, "2022-12-31").task_progress[task.pk].status == "critical"
        assert board(plan, "2022-06-30").task_progress[task.pk].status == "on_track"


# ------------------------------------------------------------------------------ task updates


class TestTasksFromUpdates:
    """No targets, no milestones: the latest percent against the share of time elapsed.

    The plan starts on 2021-01-01 and the task is due on 2023-01-01 (730 days), so on
    2022-01-01 exactly half the time has gone: 50 % is on pace, 40 % is 80 % of pace.
    """

    @pytest.fixture
    def task(self, plan):
        return factories.task(plan, due_on=D("2023-01-01"), status="in_progress")

    @pytest.mark.parametrize(
        ("percent", "status"),
        [
            (100, "met"),
            (60, "on_track"),
            (50, "on_track"),  # exactly on pace
            (45, "lagging"),
            (40, "lagging"),  # 80 % of pace: the lagging band includes its floor
            (39, "critical"),
            (0, "critical"),
        ],
    )
    def test_the_latest_percent_is_graded_against_elapsed_time(self, plan, task, percent, status):
        update(task, percent, "2021-12-31")
        progress = board(plan, "2022-01-01").task_progress[task.pk]
        assert (progress.latest_percent, progress.status) == (percent, status)

    def test_the_tolerances_come_from_the_rules(self, plan, task, settings):
        update(task, 45, "2021-12-31")  # 90 % of pace
        settings.STATUS_RULES = {"lagging_below": "0.9", "critical_below": "0.5"}
        assert board(plan, "2022-01-01").task_progress[task.pk].status == "on_track"
        settings.STATUS_RULES = {"lagging_below": "1", "critical_below": "0.95"}
        assert board(plan, "2022-01-01").task_progress[task.pk].status == "critical"

    def test_an_update_written_after_the_date_does_not_count(self, plan, task):
        update(task, 20, "2021-10-01")
        update(task, 90, "2022-03-01")
        early = board(plan, "2022-01-01").task_progress[task.pk]
        assert (early.latest_percent, early.status) == (20, "critical")  # 40 % of pace
        later = board(plan, "2022-06-30").task_progress[task.pk]
        assert (later.latest_percent, later.status) == (90, "on_track")

    @pytest.mark.parametrize(("percent", "status"), [(0, "critical"), (40, "lagging")])
    def test_an_update_in_the_first_year_is_graded_against_elapsed_time_too(
        self, plan, task, percent, status
    ):
        # The docstring's first-year exception is only for a task with no update at all.
        # On 2021-11-30, 333 of 730 days (45.6 %) have gone: 40 % is 88 % of pace.
        update(task, percent, "2021-11-01")
        assert board(plan, "2021-11-30").task_progress[task.pk].status == status

    def test_without_any_update_it_is_not_due_in_the_first_year_then_no_data(self, plan, task):
        assert board(plan, "2021-06-30").task_progress[task.pk].status == "not_due"
        assert board(plan, "2021-12-31").task_progress[task.pk].status == "no_data"

    def test_updates_do_not_count_when_the_task_has_targets(self, plan, task):
        update(task, 100, "2021-12-31")
        paced_target(plan, "g1", {"2021": 1}, task=task, target_value=10)  # 1 of 2: critical
        assert board(plan, "2022-01-01").task_progress[task.pk].status == "critical"


# ------------------------------------------------------------------------------ plan summary


class TestPlanSummary:
    @pytest.fixture
    def targets(self, plan) -> dict[str, Target]:
        """One target in each state at the end of 2022 (pace: 20 of 50)."""
        return {
            "met": paced_target(plan, "g1", {"2021": 10}, target_value=10, order=1),
            "on_track": paced_target(plan, "g2", {"2021": 10, "2022": 10}, order=2),
            "lagging": paced_target(
                plan, "g3", {"2021": 10, "2022": 7}, order=3, attribute="binding"
            ),
            "critical": paced_target(
                plan, "g4", {"2021": 5, "2022": 5}, order=4, attribute="binding"
            ),
            "expected_lagging": paced_target(
                plan, "g5", {"2021": 9, "2022": 9}, order=5, attribute="expected"
            ),
            "no_data": paced_target(plan, "g6", {}, order=6, attribute="binding"),
            # A ratio without a baseline has no pace: not_due until met or overdue.
            "not_due": paced_target(
                plan, "g7", {"2021": 50, "2022": 60}, order=7, measure="ratio", target_value=100
            ),
        }

    def test_counts_by_status_and_the_share_on_track_among_the_judged(self, plan, targets):
        summary = board(plan, "2022-12-31").plan_summary(plan)["targets"]
        assert counts(summary) == {
            "met": 1,
            "on_track": 1,
            "lagging": 2,
            "critical": 1,
            "no_data": 1,
            "not_due": 1,
        }
        assert summary.total == 7
        assert summary.share_on_track == Decimal(2) / Decimal(5)  # met + on track of 5 judged
        assert (summary.reports_due, summary.reports_in) == (6, 5)
        assert summary.completeness == Decimal(5) / Decimal(6)

    def test_binding_targets_that_lag_or_are_critical_are_escalated(self, plan, targets):
        status_board = board(plan, "2022-12-31")
        summary = status_board.plan_summary(plan)["targets"]
        assert summary.binding_lagging == [targets["lagging"].pk, targets["critical"].pk]
        escalated = {
            name: status_board.target_progress[t.pk].escalate for name, t in targets.items()
        }
        assert escalated == {
            "met": False,
            "on_track": False,
            "lagging": True,
            "critical": True,
            "expected_lagging": False,  # 预期性, not 约束性
            "no_data": False,  # binding but without a figure: 未填报, not 滞后
            "not_due": False,
        }

    def test_tasks_are_summarised_apart_from_targets(self, plan, targets):
        lagging = factories.task(plan, "t1", order=1)
        Target.objects.filter(pk=targets["lagging"].pk).update(task=lagging)
        factories.task(plan, "t2", status="completed", order=2)
        summary = board(plan, "2022-12-31").plan_summary(plan)["tasks"]
        assert counts(summary) == {"lagging": 1, "met": 1}
        assert summary.share_on_track == Decimal("0.5")

    def test_nothing_judged_gives_no_share(self):
        summary = Summary()
        summary.add("no_data")
        summary.add("not_due")
        summary.add(None)  # a cancelled task
        assert (summary.total, summary.share_on_track, summary.completeness) == (2, None, None)

    def test_the_summary_as_data_lists_every_status(self, plan, targets):
        data = board(plan, "2022-12-31").plan_summary(plan)["targets"].as_dict()
        assert data["counts"] == {
            "met": 1,
            "on_track": 1,
            "lagging": 2,
            "critical": 1,
            "unmet": 0,
            "no_data": 1,
            "not_due": 1,
        }
        assert data["total"] == 7
        assert data["binding_lagging"] == [targets["lagging"].pk, targets["critical"].pk]

    def test_lianzhou_at_the_end_of_2022_with_hydrants_behind_pace(self, seeded):
        lianzhou = Plan.objects.get(code="lianzhou-2021-2025")
        approve(Target.objects.get(plan=lianzhou, code="t-hydrants"), {"2021": 20, "2022": 25})
        summary = board(lianzhou, "2022-12-31").plan_summary(lianzhou)
        assert counts(summary["targets"]) == {"lagging": 1, "no_data": 27}
        assert summary["targets"].share_on_track == 0
        # t12 (hydrants) lags; t17 has an overdue 2021 milestone; t8 and t29 have only
        # milestones still pending; every other task has nothing to judge it by yet.
        assert counts(summary["tasks"]) == {
            "lagging": 1,
            "critical": 1,
            "not_due": 2,
            "no_data": 25,
        }


# ------------------------------------------------------------------------------ regions


class TestRegionSummary:
    def test_a_county_sees_its_shares_of_the_city_targets(self, seeded):
        nanyang = Plan.objects.get(code="nanyang-2021-2025")
        new_stations = Target.objects.get(plan=nanyang, code="tg-new-stations")
        nanzhao = Region.objects.get(name="南召县")  # 附件1: 3 of the 24 new stations
        approve(new_stations, {"2021": 1, "2022": 1}, region=nanzhao)  # 2 of 1.2 due
        summary = board(nanyang, "2022-12-31").region_summary(nanzhao.pk)
        # 南召县 has no target of its own, and shares of three city targets: new stations
        # (on track), key-town stations and old-station upgrades (no figures).
        shares = Allocation.objects.filter(region=nanzhao, target__plan=nanyang)
        assert sorted(shares.values_list("target__code", flat=True)) == [
            "tg-b3-key-town",
            "tg-b3-old-stations",
            "tg-new-stations",
        ]
        assert summary["targets"].total == 0
        assert counts(summary["allocations"]) == {"on_track": 1, "no_data": 2}

    def test_the_city_counts_its_targets_and_not_its_own_allocations_again(self, seeded):
        nanyang = Plan.objects.get(code="nanyang-2021-2025")
        summary = board(nanyang, "2022-12-31").region_summary(nanyang.region_id)
        assert summary["targets"].total == 57
        assert summary["allocations"].total == 0

    def test_own_targets_below_the_region_and_allocations_are_kept_apart(self, plan):
        county = factories.region("甲县", level="district", parent=plan.region)
        other = factories.region("乙县", level="district", parent=plan.region)
        town = factories.region("甲镇", level="town", parent=county)
        city_goal = paced_target(plan, "g1", {}, order=1)
        Allocation.objects.create(target=city_goal, region=county, value=10)
        Allocation.objects.create(target=city_goal, region=other, value=40)
        approve(city_goal, {"2021": 2, "2022": 1.5}, region=county)  # 3.5 of 4 due: lagging
        paced_target(plan, "g2", {"2021": 10, "2022": 10}, order=2, region=town)
        status_board = board(plan, "2022-12-31")
        summary = status_board.region_summary(county.pk)
        assert counts(summary["targets"]) == {"on_track": 1}  # the town's own target
        assert counts(summary["allocations"]) == {"lagging": 1}  # 甲县's share only
        assert counts(status_board.region_summary(other.pk)["allocations"]) == {"no_data": 1}


# ------------------------------------------------------------------------------ units


class TestUnitSummary:
    def test_nanjing_fire_brigade_leads_some_tasks_and_supports_others(self, seeded):
        nanjing = Plan.objects.get(code="nanjing-2021-2023")
        brigade = Unit.objects.get(name="市消防救援支队", region__name="南京市")
        roles = dict.fromkeys(["lead", "support"], 0)
        for role in TaskAssignment.objects.filter(unit=brigade, task__plan=nanjing).values_list(
            "role", flat=True
        ):
            roles[role] += 1
        assert roles == {"lead": 7, "support": 16}

        def task(code: str) -> Task:
            return Task.objects.get(plan=nanjing, code=code)

        # Led: t6 (9 specialist teams by 2023: 6 of 6 due) is on track, a1.1 is done,
        # a1.2 is cancelled; a1.4, a1.5, a2.4 and a3.2 have nothing reported yet.
        approve(Target.objects.get(plan=nanjing, code="t-specialist-teams"), {"2021": 3, "2022": 3})
        Task.objects.filter(pk=task("a1.1").pk).update(status="completed")
        Task.objects.filter(pk=task("a1.2").pk).update(status="cancelled")
        # Supported: t4 (51 new stations by 2025) lags with 10 + 8 of 20.4 due.
        approve(Target.objects.get(plan=nanjing, code="t-new-stations"), {"2021": 10, "2022": 8})

        summary = board(nanjing, "2022-12-31").unit_summary(brigade.pk)
        assert counts(summary["lead_tasks"]) == {"on_track": 1, "met": 1, "no_data": 4}
        assert counts(summary["lead_targets"]) == {"on_track": 1, "no_data": 1}
        # t8 has only a pending 2023 milestone; the other 14 supported tasks have no data.
        assert counts(summary["support_tasks"]) == {"lagging": 1, "not_due": 1, "no_data": 14}
        assert counts(summary["support_targets"]) == {"lagging": 1, "no_data": 2}

    def test_a_unit_without_assignments_has_empty_summaries(self, seeded):
        nanjing = Plan.objects.get(code="nanjing-2021-2023")
        stranger = Unit.objects.create(name="无关单位", kind="other", region=nanjing.region)
        summary = board(nanjing, "2022-12-31").unit_summary(stranger.pk)
        assert {key: part.total for key, part in summary.items()} == {
            "lead_tasks": 0,
            "lead_targets": 0,
            "support_tasks": 0,
            "support_targets": 0,
        }


# ------------------------------------------------------------------------------ query count


def plan_with_targets(code: str, size: int) -> Plan:
    """A plan with `size` targets (two approved years each), one task with a milestone, an
    update and a lead unit, and one allocation: every kind of row the board reads."""
    owner = factories.plan(code, region=factories.region(f"{code}市"))
    county = factories.region(f"{code}县", level="district", parent=owner.region)
    task = factories.task(owner)
    Milestone.objects.create(plan=owner, task=task, code="m1", due_on=D("2023-12-31"))
    update(task, 40, "2022-06-30")
    unit = Unit.objects.create(name="消防救援支队", kind="fire_rescue", region=owner.region)
    TaskAssignment.objects.create(task=task, unit=unit, role="lead")
    targets = Target.objects.bulk_create(
        Target(
            plan=owner,
            task=task if i % 2 else None,
            code=f"g{i}",
            name=f"指标{i}",
            measure="increment",
            target_value=50,
            target_year=2025,
            region=owner.region,
            order=i,
        )
        for i in range(size)
    )
    ProgressReport.objects.bulk_create(
        ProgressReport(target=t, region=owner.region, period=p, value=10, status="approved")
        for t in targets
        for p in ("2021", "2022")
    )
    Allocation.objects.create(target=targets[0], region=county, value=5)
    return owner


# What reading and filling the stored judgement adds to a board's queries at most.
JUDGING_QUERIES = 10


def test_the_board_costs_the_same_queries_for_10_and_for_1000_targets():
    small, large = plan_with_targets("small", 10), plan_with_targets("large", 1000)
    captured, summaries = {}, {}
    for owner in (small, large):
        with CaptureQueriesContext(connection) as queries:
            status_board = StatusBoard([owner], on=D("2022-12-31"))
            summaries[owner.code] = status_board.plan_summary(owner)["targets"]
            status_board.region_summary(owner.region_id)
            status_board.unit_summary(status_board.assignments[0].unit_id)
        captured[owner.code] = len(queries)
    # 1 targets (with plan and region), 2 tasks (with section),
    # load_status_inputs: 3 target milestones, 4 allocations, 5 the status query (roll-ups;
    # the plans come with the targets, no formula or register target needs more);
    # 6 task milestones, 7 updates with a percent (latest kept per task),
    # 8 task assignments (with units), 9 regions (read when region_summary first uses the
    # tree). Summaries then compute without querying. A year end is stored (targets.judgement):
    # + reading the stored judgement (targets, then the allocations), the allocations apart
    # from the inputs, and storing what was judged — a fixed set too.
    assert captured["small"] == captured["large"] <= 9 + JUDGING_QUERIES
    assert counts(summaries["small"]) == {"on_track": 10}  # 20 of 20 due
    assert counts(summaries["large"]) == {"on_track": 1000}
