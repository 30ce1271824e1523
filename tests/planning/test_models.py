"""The database itself refuses rows that break the plan model's rules."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.models import Region, Unit
from planning.models import Section, Stage, TaskAssignment, TaskUpdate
from tests import factories

pytestmark = pytest.mark.django_db


def refused(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_plan_cannot_end_before_it_starts():
    refused(lambda: factories.plan(start_year=2025, end_year=2021))


def test_plan_code_is_unique():
    factories.plan("same")
    refused(lambda: factories.plan("same", region=Region.objects.get(name="测试市")))


def test_region_cannot_be_its_own_parent():
    city = factories.region()
    city.parent = city
    refused(lambda: city.save())


def test_region_cannot_be_its_own_ancestor_in_the_database(on_postgres):
    city = factories.region("甲市")
    district = factories.region("乙区", level="district", parent=city)
    town = factories.region("丙镇", level="town", parent=district)
    city.parent = town
    refused(lambda: city.save())


def test_region_cycle_is_refused_by_validation_too():
    city = factories.region("甲市")
    district = factories.region("乙区", level="district", parent=city)
    city.parent = district
    with pytest.raises(ValidationError):
        city.full_clean()


def test_region_names_are_unique_among_siblings_and_roots():
    city = factories.region("甲市")
    factories.region("乙区", level="district", parent=city)
    refused(lambda: factories.region("乙区", level="district", parent=city))
    refused(lambda: factories.region("甲市"))


def test_same_district_name_is_allowed_under_different_cities():
    factories.region("鼓楼区", level="district", parent=factories.region("甲市"))
    factories.region("鼓楼区", level="district", parent=factories.region("乙市"))
    assert Region.objects.filter(name="鼓楼区").count() == 2


def test_unit_name_is_unique_within_a_region():
    city = factories.region()
    Unit.objects.create(name="市消防救援支队", kind="fire_rescue", region=city)
    refused(lambda: Unit.objects.create(name="市消防救援支队", kind="fire_rescue", region=city))


def test_stage_cannot_end_before_it_starts():
    owner = factories.plan()
    refused(
        lambda: Stage.objects.create(
            plan=owner, name="全面实施", starts_on="2023-01-01", ends_on="2022-01-01"
        )
    )


def test_section_and_task_codes_are_unique_within_a_plan():
    owner = factories.plan()
    Section.objects.create(plan=owner, code="ch1", title="一")
    refused(lambda: Section.objects.create(plan=owner, code="ch1", title="二"))
    factories.task(owner, "t1")
    refused(lambda: factories.task(owner, "t1"))


def test_a_unit_is_assigned_to_a_task_once():
    owner = factories.plan()
    task = factories.task(owner)
    unit = Unit.objects.create(name="市发改委", kind="department", region=owner.region)
    TaskAssignment.objects.create(task=task, unit=unit, role="lead")
    refused(lambda: TaskAssignment.objects.create(task=task, unit=unit, role="support"))


def test_task_update_percent_stays_within_100():
    task = factories.task(factories.plan())
    refused(lambda: TaskUpdate.objects.create(task=task, text="进展", percent=101))
