"""The plan page's integrity findings come from the shared cache under the digest of what the
check reads (``targets.integrity.plan_findings``): a second view does not run the check, and
every change of its inputs — even one that bypasses the services — is seen at once."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import Region
from planning.models import Plan, Task
from targets.integrity import check_plan_integrity, plan_findings
from targets.models import Allocation, BaseFigure, Milestone, Target
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    return factories.plan("cache-me", region=factories.region("缓存市"))


def fresh(plan) -> list:
    return check_plan_integrity(Plan.objects.filter(pk=plan.pk))


def codes(findings) -> list:
    return sorted((f.code, tuple(f.item_codes)) for f in findings)


def cached(plan) -> list:
    """``plan_findings`` twice: the second read is the cache's, and equals the check's."""
    first = plan_findings(plan)
    second = plan_findings(plan)
    assert codes(first) == codes(second) == codes(fresh(plan))
    return codes(second)


def test_a_second_read_costs_two_queries_and_does_not_run_the_check(plan):
    stations = factories.target(plan, "stations", measure_unit="个", target_value=24)
    Allocation.objects.create(
        target=stations, region=factories.region("甲县", level="district", parent=plan.region),
        value=20,
    )  # fmt: skip
    with CaptureQueriesContext(connection) as first:
        findings = plan_findings(plan)
    with CaptureQueriesContext(connection) as second:
        assert codes(plan_findings(plan)) == codes(findings)
    # The digest of the inputs (one SELECT) and the cache read (one SELECT): no target,
    # allocation or milestone read.
    assert len(second) == 2, [q["sql"] for q in second]
    assert len(first) > len(second)
    assert not any("targets_allocation" in q["sql"] for q in second.captured_queries[1:])


def test_every_input_of_the_check_changes_the_cached_result_at_once(plan):
    hydrants = factories.target(plan, "hydrants", name="市政消火栓", measure_unit="个",
                                target_value=190)  # fmt: skip
    for i, value in enumerate([20, 30, 40, 50, 50]):
        Milestone.objects.create(
            plan=plan, target=hydrants, code=f"m{i}",
            due_on=datetime.date(2021 + i, 12, 31), planned_value=value,
        )  # fmt: skip
    assert cached(plan) == []
    # A milestone changed behind the services' back (no version bump): the clock triggers.
    Milestone.objects.filter(code="m4").update(planned_value=60)
    assert [c for c, _ in cached(plan)] == ["milestone_sum_mismatch"]
    Target.objects.filter(pk=hydrants.pk).update(target_value=200)
    assert cached(plan) == []
    # A new target (no clock yet), a task's date, a base figure, a region's split.
    factories.target(plan, "late", measure_unit="个", target_year=2030)
    assert ("target_year_outside_plan", ("late",)) in cached(plan)
    task = factories.task(plan, due_on=datetime.date(2025, 6, 30))
    before = cached(plan)
    Task.objects.filter(pk=task.pk).update(due_on=datetime.date(2026, 6, 30))
    assert set(cached(plan)) - set(before) == {("task_due_outside_plan", ("t1",))}
    for name, value in [("“十三五”期间新建消防站（含小型消防站）", 80), ("消防站（含专职队）", 5)]:
        BaseFigure.objects.create(
            region=plan.region, year=2020, name=name, value=value, measure_unit="个", plan=plan
        )
    assert "increment_exceeds_total" in [c for c, _ in cached(plan)]
    county = factories.region("乙县", level="district", parent=plan.region)
    Allocation.objects.create(target=hydrants, region=county, value=150)
    assert "allocation_total_mismatch" in [c for c, _ in cached(plan)]
    Region.objects.filter(pk=county.pk).update(name="丙县")
    assert any("丙县" in item for _, items in cached(plan) for item in items)


def test_the_plan_page_shows_a_new_finding_on_the_next_view(client, plan):
    from tests.conftest import make_user

    staff = make_user("staff_cache_city", "staff", "缓存市")
    client.force_login(staff)
    target = factories.target(plan, "stations", measure_unit="个", target_value=24)
    url = reverse("reports:plan_detail", args=[plan.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as warm:
        html = client.get(url).content.decode()
    assert "未发现矛盾或缺漏" in html
    Allocation.objects.create(
        target=target, region=factories.region("丁县", level="district", parent=plan.region),
        value=30,
    )  # fmt: skip
    with CaptureQueriesContext(connection) as changed:
        html = client.get(url).content.decode()
    assert "未发现矛盾或缺漏" not in html
    assert "丁县" in html.split('data-testid="findings"')[1]
    # The view after the change runs the check again (it reads the allocations); the warm one
    # did not.
    assert any("targets_allocation" in q["sql"] for q in changed.captured_queries)
    assert len(changed) > len(warm)
