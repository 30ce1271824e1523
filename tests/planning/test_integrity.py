"""The plan-integrity check finds numbers that do not add up, and only those."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from planning.models import Plan
from targets.integrity import ERROR, WARNING, check_plan_integrity, indicator_key
from targets.models import Allocation, BaseFigure, Milestone
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    return factories.plan("check-me", region=factories.region("核查市"))


def findings_for(plan):
    return check_plan_integrity(Plan.objects.filter(pk=plan.pk))


def codes(findings, level=None):
    return sorted((f.code, tuple(f.item_codes)) for f in findings if level in (None, f.level))


def yearly(target, values, *, cumulative=False):
    for i, value in enumerate(values):
        Milestone.objects.create(
            plan=target.plan,
            target=target,
            code=f"{target.code}-m{i + 1}",
            due_on=datetime.date(2021 + i, 12, 31),
            planned_value=value,
            is_cumulative=cumulative,
        )


def complete(plan, code, **fields):
    return factories.target(plan, code, measure_unit="个", **fields)


def test_a_schedule_that_adds_up_is_not_reported(plan):
    hydrants = complete(plan, "hydrants", name="市政消火栓", target_value=190)
    yearly(hydrants, [20, 30, 40, 50, 50])
    assert findings_for(plan) == []


def test_a_schedule_that_does_not_add_up_is_an_error(plan):
    hydrants = complete(plan, "hydrants", name="市政消火栓", target_value=200)
    yearly(hydrants, [20, 30, 40, 50, 50])
    [finding] = findings_for(plan)
    assert finding.level == ERROR
    assert finding.code == "milestone_sum_mismatch"
    assert finding.item_codes[0] == "hydrants"
    assert "190" in finding.message and "200" in finding.message


def test_a_cumulative_schedule_is_read_by_its_last_value(plan):
    hydrants = complete(plan, "hydrants", name="市政消火栓", target_value=190)
    yearly(hydrants, [20, 50, 90, 140, 190], cumulative=True)
    assert findings_for(plan) == []
    Milestone.objects.filter(code="hydrants-m5").update(planned_value=180)
    assert codes(findings_for(plan))[0][0] == "milestone_sum_mismatch"


def test_allocations_must_add_up_to_the_target(plan):
    stations = complete(plan, "stations", name="新建消防站", target_value=24)
    for name, value in [("甲县", 20), ("乙县", 3)]:
        region = factories.region(name, level="district", parent=plan.region)
        Allocation.objects.create(target=stations, region=region, value=value)
    [finding] = findings_for(plan)
    assert finding.code == "allocation_total_mismatch"
    assert sorted(finding.item_codes) == ["stations", "stations/乙县", "stations/甲县"]
    Allocation.objects.filter(region__name="乙县").update(value=4)
    assert findings_for(plan) == []


def test_baseline_plus_increment_must_equal_the_stated_total(plan):
    complete(plan, "new", name="新建消防站", target_value=24)
    total = complete(
        plan, "total", name="消防站总数", measure="level", target_value=62, baseline_value=38
    )
    assert findings_for(plan) == []
    total.target_value = 60
    total.save()
    assert codes(findings_for(plan)) == [("baseline_increment_mismatch", ("total", "new"))]


def test_two_statements_of_one_indicator_with_different_values_are_an_error(plan):
    complete(plan, "v1", name="注册消防志愿者人数", target_value=10000, measure="level")
    complete(plan, "v2", name="注册消防志愿者人数", target_value=200000, measure="level")
    assert codes(findings_for(plan), ERROR) == [("conflicting_target_values", ("v1", "v2"))]


def test_the_same_indicator_for_different_years_is_not_a_conflict(plan):
    complete(plan, "v1", name="消防车", target_value=10, target_year=2023)
    complete(plan, "v2", name="消防车", target_value=14, target_year=2025)
    assert findings_for(plan) == []


def test_more_built_in_a_period_than_exist_at_its_end_is_an_error(plan):
    for name, value in [("“十三五”期间新建消防站（含小型消防站）", 80), ("消防站（含专职队）", 5)]:
        BaseFigure.objects.create(
            region=plan.region, year=2020, name=name, value=value, measure_unit="个", plan=plan
        )
    [finding] = findings_for(plan)
    assert finding.code == "increment_exceeds_total"
    assert finding.item_codes == [
        "“十三五”期间新建消防站（含小型消防站）/2020",
        "消防站（含专职队）/2020",
    ]


def test_dates_outside_the_plan_period_are_warnings(plan):
    late = complete(plan, "late", target_year=2030)
    task = factories.task(plan, due_on=datetime.date(2026, 6, 30))
    Milestone.objects.create(plan=plan, task=task, code="early", due_on=datetime.date(2019, 1, 1))
    Milestone.objects.create(plan=plan, target=late, code="late-m1", due_on="2031-12-31")
    found = codes(findings_for(plan))
    assert found == [
        ("milestone_outside_plan", ("early",)),
        ("milestone_outside_plan", ("late-m1",)),
        ("target_year_outside_plan", ("late",)),
        ("task_due_outside_plan", ("t1",)),
    ]
    assert {f.level for f in findings_for(plan)} == {WARNING}


def test_targets_missing_a_unit_a_value_or_a_year_are_warnings(plan):
    factories.target(plan, "bare", target_value=None, target_year=None)
    [finding] = findings_for(plan)
    assert (finding.level, finding.code) == (WARNING, "target_incomplete")
    assert "目标值、计量单位、目标年度" in finding.message


def test_indicator_names_are_compared_by_what_they_measure():
    assert indicator_key("“十三五”期间新建消防站（含小型消防站）") == ("消防站", True)
    assert indicator_key("消防站总数") == ("消防站", False)
    assert indicator_key("现有政府专职消防队员") == ("政府专职消防队员", False)


def test_the_check_costs_a_fixed_number_of_queries(seeded):
    with CaptureQueriesContext(connection) as all_plans:
        check_plan_integrity()
    with CaptureQueriesContext(connection) as one_plan:
        check_plan_integrity(Plan.objects.filter(code="lianzhou-2021-2025"))
    # plans (with region), targets (with region and parent target), target milestones,
    # task milestones, dated tasks, base figures, the live allocations as rows, the region
    # tree (the levels and names of a split: once, when a target is split): the same 8
    # queries for one plan or all (a ninth, the parent targets' allocations, when a target
    # implements a higher-level one).
    assert len(all_plans) == len(one_plan) == 8


def test_check_plans_command_exits_non_zero_on_errors(plan, capsys):
    hydrants = complete(plan, "hydrants", name="市政消火栓", target_value=200)
    yearly(hydrants, [20, 30, 40, 50, 50])
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_plans", plan=["check-me"])
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "milestone_sum_mismatch" in out and "1 errors" in out


def test_check_plans_command_exits_zero_when_consistent(plan, capsys):
    complete(plan, "ok", name="市政消火栓", target_value=190)
    call_command("check_plans", plan=["check-me"])
    assert "0 errors, 0 warnings" in capsys.readouterr().out


def test_a_deadline_before_the_plan_was_issued_is_a_warning(plan):
    plan.issued_on = datetime.date(2022, 10, 11)
    plan.save()
    task = factories.task(plan)
    Milestone.objects.create(plan=plan, task=task, code="m1", due_on=datetime.date(2022, 6, 30))
    Milestone.objects.create(plan=plan, task=task, code="m2", due_on=datetime.date(2022, 12, 31))
    assert codes(findings_for(plan)) == [("milestone_before_issue", ("m1",))]
