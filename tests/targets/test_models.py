"""The database refuses malformed targets, milestones, allocations and reports."""

from decimal import Decimal

import pytest
from django.db import transaction

from core.periods import is_valid_period, period_bounds
from targets.models import Allocation, BaseFigure, FireStatistic, Milestone, ProgressReport
from tests import factories
from tests.planning.test_models import refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def target():
    return factories.target(factories.plan())


def report(target, period="2022", **fields):
    return ProgressReport.objects.create(
        target=target, region=target.region, period=period, **fields
    )


def test_one_report_per_target_region_and_period(target):
    report(target, "2022", value=3)
    refused(lambda: report(target, "2022", value=4))
    report(target, "2023", value=4)


@pytest.mark.parametrize("period", ["2022", "2022H1", "2022H2", "2022Q1", "2022Q4"])
def test_well_formed_periods_are_accepted(target, period):
    assert report(target, period).period == period


@pytest.mark.parametrize("period", ["22", "2022H3", "2022Q5", "2022-1", "202Q1", "2022q1", ""])
def test_malformed_periods_are_refused_by_the_database(target, period):
    refused(lambda: report(target, period))
    assert not is_valid_period(period)


def test_period_bounds_cover_years_halves_and_quarters():
    assert [str(d) for d in period_bounds("2022")] == ["2022-01-01", "2022-12-31"]
    assert [str(d) for d in period_bounds("2022H2")] == ["2022-07-01", "2022-12-31"]
    assert [str(d) for d in period_bounds("2024Q1")] == ["2024-01-01", "2024-03-31"]
    with pytest.raises(ValueError):
        period_bounds("2022Q5")


def test_reported_values_cannot_be_negative(target):
    refused(lambda: report(target, value=Decimal("-1")))


def test_target_values_cannot_be_negative():
    owner = factories.plan()
    refused(lambda: factories.target(owner, target_value=-5))
    refused(lambda: factories.target(owner, "g2", baseline_value=-1))


def test_target_code_is_unique_within_a_plan(target):
    refused(lambda: factories.target(target.plan, target.code))


def test_milestone_belongs_to_a_target_or_a_task_but_not_both_or_neither(target):
    task = factories.task(target.plan)
    Milestone.objects.create(plan=target.plan, target=target, code="m1", due_on="2021-12-31")
    Milestone.objects.create(plan=target.plan, task=task, code="m2", due_on="2022-06-30")
    refused(lambda: Milestone.objects.create(plan=target.plan, code="m3", due_on="2022-12-31"))
    refused(
        lambda: Milestone.objects.create(
            plan=target.plan, target=target, task=task, code="m4", due_on="2022-12-31"
        )
    )


def test_milestone_planned_value_cannot_be_negative(target):
    refused(
        lambda: Milestone.objects.create(
            plan=target.plan, target=target, code="m1", due_on="2021-12-31", planned_value=-20
        )
    )


def test_one_allocation_per_region_and_no_negative_shares(target):
    Allocation.objects.create(target=target, region=target.region, value=2)
    refused(lambda: Allocation.objects.create(target=target, region=target.region, value=3))
    other = factories.region("乙县", level="district", parent=target.region)
    refused(lambda: Allocation.objects.create(target=target, region=other, value=-1))


def test_fire_statistics_are_counts_and_one_row_per_year():
    city = factories.region()
    FireStatistic.objects.create(region=city, year=2016, fires=10, deaths=0)
    refused(lambda: FireStatistic.objects.create(region=city, year=2016, fires=11))
    refused(lambda: FireStatistic.objects.create(region=city, year=2017, deaths=-1))
    refused(lambda: FireStatistic.objects.create(region=city, year=2018, direct_loss_10k_yuan=-3))


def test_base_figure_is_unique_per_region_year_and_name_and_not_negative():
    city = factories.region()
    BaseFigure.objects.create(region=city, year=2020, name="消防站", value=38)
    refused(lambda: BaseFigure.objects.create(region=city, year=2020, name="消防站", value=39))
    refused(lambda: BaseFigure.objects.create(region=city, year=2020, name="消火栓", value=-1))
    with transaction.atomic():
        BaseFigure.objects.create(region=city, year=2025, name="消防站", value=62)
