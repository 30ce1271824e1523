"""A small world of its own for the fault tests: one city, one plan, two targets reported
by a liaison and reviewed by staff, period 2024 open.

Several tests here need a second database connection to see committed rows (a lock held by
another request), so they are transactional. They build this world instead of loading the
five seed plans, which would cost seconds per test after each flush.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone

from targets import services
from targets.models import ProgressReport, ReportingPeriod, Target
from tests import factories
from tests.conftest import make_user


@dataclass
class World:
    region: object
    plan: object
    stations: Target
    engines: Target
    liaison: object
    staff: object
    period: str = "2024"

    def page(self, target: Target) -> str:
        return reverse("targets:report_edit", args=[target.pk, self.region.pk, self.period])

    def report(self, target: Target) -> ProgressReport | None:
        return ProgressReport.objects.filter(
            target=target, region=self.region, period=self.period
        ).first()

    def draft(self, target: Target, value=5, *, submit=False) -> ProgressReport:
        return services.save_report(
            actor=self.liaison, target=target, region=self.region, period=self.period,
            value=value, submit=submit,
        )  # fmt: skip


def build_world() -> World:
    region = factories.region("故障市")
    plan = factories.plan("fault-plan", region=region)
    today = timezone.localdate()
    ReportingPeriod.objects.create(
        plan=plan,
        period="2024",
        due_on=today + datetime.timedelta(days=10),
        locks_on=today + datetime.timedelta(days=30),
    )
    return World(
        region=region,
        plan=plan,
        stations=factories.target(plan, "g-stations", measure_unit="座", target_value=100),
        engines=factories.target(
            plan, "g-engines", name="消防车", measure_unit="辆", target_value=100
        ),
        liaison=make_user("liaison_fault", "liaison", "故障市"),
        staff=make_user("staff_fault", "staff", "故障市"),
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def committed_world(transactional_db) -> World:
    return build_world()
