"""The Content-Security-Policy holds in a real browser: the main pages, the admin and the API
docs render with no violation (the session's console listener, tests/browser/conftest.py,
fails the test on any) and the policy really is the one the pages get."""

import pytest
from django.urls import reverse

from planning.models import Plan, Task
from stations.models import Station
from targets.models import Target

pytestmark = pytest.mark.django_db(transaction=True)


def visit(session, url: str, *, wait_for: str | None = None, timeout: int = 10_000) -> None:
    response = session.page.goto(url)
    assert response.status == 200, url
    assert "script-src 'self';" in response.headers["content-security-policy"], url
    session.page.wait_for_load_state("networkidle")
    if wait_for:
        session.page.wait_for_selector(wait_for, timeout=timeout)


def test_main_pages_admin_and_api_docs_render_without_a_csp_violation(
    open_session, staff_nanyang, liaison_nanzhao, open_2024
):
    staff_nanyang.is_staff = staff_nanyang.is_superuser = True
    staff_nanyang.save(update_fields=["is_staff", "is_superuser"])
    plan = Plan.objects.get(code="nanyang-2021-2025")
    target = Target.objects.filter(plan=plan, name="新建消防站").first()
    task = Task.objects.filter(plan=plan).first()

    staff = open_session("staff_nanyang")
    for url in [
        "/",
        reverse("reports:plan_detail", args=[plan.pk]),
        reverse("reports:task_detail", args=[task.pk]),
        reverse("stations:station_list"),
        reverse("targets:review_inbox"),
        reverse("reports:completeness"),
        "/admin/",
        reverse("admin:planning_plan_changelist"),
    ]:
        visit(staff, url)
    if Station.objects.exists():
        visit(staff, reverse("stations:station_detail", args=[Station.objects.first().pk]))

    visit(
        staff,
        reverse("targets:target_detail", args=[target.pk]),
        wait_for="#target-chart[data-loaded=true]",
    )
    assert staff.csp_violations == []
    staff.page.hover("#target-chart svg")  # the chart's tooltip is built by script too

    visit(staff, "/api/docs/", wait_for=".swagger-ui .opblock")
    # Redoc always tries to show its logo from cdn.redoc.ly: the policy blocks it (the page
    # stays offline) and that is the one violation the page may report.
    visit(staff, "/api/redoc/", wait_for=".api-content", timeout=60_000)  # a large schema
    staff.page.wait_for_timeout(500)
    assert all("cdn.redoc.ly/redoc/logo-mini.svg" in v for v in staff.csp_violations)
    staff.csp_violations.clear()
    visit(staff, "/api/v1/")  # DRF's browsable API: inline styles allowed there alone
    visit(staff, "/api/v1/plans/")

    liaison = open_session("liaison_nanzhao")
    visit(liaison, reverse("targets:my_reports"))
    # The sessions' close() asserts no violation, no JavaScript error, no other host.
