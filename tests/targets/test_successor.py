"""The plan of the next period (issue 17 item 3): ``targets.successor.create_successor``, the
page button and ``POST /api/v1/plans/{id}/successor/``."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from core.models import Region
from core.services import ServiceError
from planning.models import Plan, Task
from targets import services
from targets.models import Milestone, ProgressReport, Target
from targets.series import target_series
from targets.successor import create_successor
from tests.conftest import open_period

LIANZHOU = "lianzhou-2021-2025"
HYDRANTS = [("2021", 20), ("2022", 30), ("2023", 40), ("2024", 50), ("2025", 45)]


def report_hydrants(liaison, staff):
    """2021–2025 hydrant figures 20, 30, 40, 50, 45, reported and approved."""
    target = Target.objects.get(plan__code=LIANZHOU, code="t-hydrants")
    region = Region.objects.get(name="连州市")
    for period, value in HYDRANTS:
        open_period(LIANZHOU, period)
        report = services.save_report(
            actor=liaison, target=target, region=region, period=period, value=value, submit=True
        )
        services.approve_report(report, actor=staff)
    return target


@pytest.fixture
def hydrants(liaison_lianzhou, staff_lianzhou):
    return report_hydrants(liaison_lianzhou, staff_lianzhou)


def test_successor_starts_hydrants_from_the_total_achieved(hydrants, staff_lianzhou):
    plan = Plan.objects.get(code=LIANZHOU)
    successor = create_successor(plan, actor=staff_lianzhou, start_year=2026, end_year=2030)

    assert successor.code == "lianzhou-2026-2030"
    assert "十五五" in successor.title
    assert successor.status == "draft"
    assert successor.predecessor == plan
    assert plan.successor == successor
    copied = Target.objects.get(plan=successor, code="t-hydrants")
    assert copied.name == "新增市政消火栓"
    assert copied.baseline_value == Decimal(185)
    assert copied.baseline_year == 2025
    assert copied.baseline_source == "上期规划实际值（2025年）"
    assert copied.target_year == 2030
    assert copied.predecessor == hydrants
    # Milestones move five years; nothing is reported in the new plan.
    due = sorted(Milestone.objects.filter(target=copied).values_list("due_on", flat=True))
    assert due[0] == datetime.date(2026, 12, 31)
    assert not ProgressReport.objects.filter(target__plan=successor).exists()
    # Sections, tasks and units come along.
    assert Task.objects.filter(plan=successor).count() == Task.objects.filter(plan=plan).count()
    old_units = set(Task.objects.get(plan=plan, code="t12").assignments.values_list("unit", "role"))
    new_units = set(
        Task.objects.get(plan=successor, code="t12").assignments.values_list("unit", "role")
    )
    assert new_units == old_units
    # Every row has a history record with the reason.
    assert successor.history.first().history_change_reason == "编制下一期规划"
    assert copied.history.first().history_user == staff_lianzhou


def test_a_level_target_starts_from_the_last_level(liaison_lianzhou, staff_lianzhou):
    plan = Plan.objects.get(code=LIANZHOU)
    level = Target.objects.filter(plan=plan, measure="level", feed="reports").first()
    if level is None:
        pytest.skip("no report-fed level target in the 连州 seed")
    region = level.region
    for period, value in [("2024", 7), ("2025", 9)]:
        open_period(LIANZHOU, period)
        report = services.save_report(
            actor=liaison_lianzhou, target=level, region=region, period=period, value=value,
            submit=True,
        )  # fmt: skip
        services.approve_report(report, actor=staff_lianzhou)
    successor = create_successor(plan, actor=staff_lianzhou, start_year=2026, end_year=2030)
    assert Target.objects.get(plan=successor, code=level.code).baseline_value == Decimal(9)


def test_series_reads_across_both_periods(hydrants, staff_lianzhou):
    plan = Plan.objects.get(code=LIANZHOU)
    successor = create_successor(plan, actor=staff_lianzhou, start_year=2026, end_year=2030)
    copied = Target.objects.get(plan=successor, code="t-hydrants")
    series = target_series(copied, on=datetime.date(2026, 12, 6))
    periods = [p["period"] for p in series["points"]]
    assert periods == [str(y) for y in range(2021, 2031)]
    earlier = {p["period"]: p for p in series["points"] if p["plan"] == plan.pk}
    assert earlier["2025"]["actual"] == 185
    assert series["predecessor"]["plan"] == plan.pk


def test_a_second_successor_is_refused(staff_lianzhou):
    plan = Plan.objects.get(code=LIANZHOU)
    create_successor(plan, actor=staff_lianzhou, start_year=2026, end_year=2030)
    with pytest.raises(ServiceError) as error:
        create_successor(plan, actor=staff_lianzhou, start_year=2026, end_year=2030, code="x")
    assert error.value.code == "successor_exists"


@pytest.mark.parametrize(("start", "end"), [(2025, 2030), (2027, 2026), (2026, 2040), ("", 1)])
def test_bad_years_are_refused_and_nothing_is_written(staff_lianzhou, start, end):
    plan = Plan.objects.get(code=LIANZHOU)
    before = Plan.objects.count()
    with pytest.raises(ServiceError) as error:
        create_successor(plan, actor=staff_lianzhou, start_year=start, end_year=end)
    assert error.value.code == "invalid_years"
    assert Plan.objects.count() == before


def test_outsider_cannot_create_a_successor(outsider):
    plan = Plan.objects.get(code=LIANZHOU)
    with pytest.raises(ServiceError):
        create_successor(plan, actor=outsider, start_year=2026, end_year=2030)
    assert not Plan.objects.filter(predecessor=plan).exists()


def test_api_creates_the_successor(hydrants, staff_lianzhou, client):
    plan = Plan.objects.get(code=LIANZHOU)
    client.force_login(staff_lianzhou)
    url = f"/api/v1/plans/{plan.pk}/successor/"
    response = client.post(
        url, {"start_year": 2026, "end_year": 2030}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "lianzhou-2026-2030"
    assert body["predecessor"] == plan.pk
    assert client.get(f"/api/v1/plans/{plan.pk}/").json()["successor"] == body["id"]
    again = client.post(
        url, {"start_year": 2026, "end_year": 2030}, content_type="application/json"
    )
    assert again.status_code == 400
    assert again.json()["code"] == "successor_exists"


def test_api_refuses_bad_years_with_a_code(staff_lianzhou, client):
    plan = Plan.objects.get(code=LIANZHOU)
    client.force_login(staff_lianzhou)
    response = client.post(
        f"/api/v1/plans/{plan.pk}/successor/",
        {"start_year": 2024, "end_year": 2030},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_years"


def test_plan_page_button_creates_the_successor_and_links_both(staff_lianzhou, client):
    plan = Plan.objects.get(code=LIANZHOU)
    client.force_login(staff_lianzhou)
    page = client.get(reverse("reports:plan_detail", args=[plan.pk]))
    assert "编制下一期规划" in page.content.decode()
    response = client.post(
        reverse("reports:plan_successor", args=[plan.pk]),
        {"start_year": 2026, "end_year": 2030},
    )
    successor = Plan.objects.get(predecessor=plan)
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:plan_detail", args=[successor.pk])
    text = client.get(response["Location"]).content.decode()
    assert "上期规划" in text and plan.title in text
    text = client.get(reverse("reports:plan_detail", args=[plan.pk])).content.decode()
    assert "下一期规划" in text and successor.title in text


def test_plan_page_shows_bad_years_as_a_message(staff_lianzhou, client):
    plan = Plan.objects.get(code=LIANZHOU)
    client.force_login(staff_lianzhou)
    response = client.post(
        reverse("reports:plan_successor", args=[plan.pk]),
        {"start_year": 2020, "end_year": 2030},
        follow=True,
    )
    assert response.status_code == 200
    assert "起始年度应晚于" in response.content.decode()
    assert not Plan.objects.filter(predecessor=plan).exists()


def test_target_page_shows_both_periods_and_the_baseline_source(hydrants, staff_lianzhou, client):
    plan = Plan.objects.get(code=LIANZHOU)
    successor = create_successor(plan, actor=staff_lianzhou, start_year=2026, end_year=2030)
    copied = Target.objects.get(plan=successor, code="t-hydrants")
    client.force_login(staff_lianzhou)
    text = client.get(reverse("targets:target_detail", args=[copied.pk])).content.decode()
    assert "上期规划实际值（2025年）" in text
    assert text.count('data-testid="predecessor-year"') == 5  # 2021–2025
    assert reverse("targets:target_detail", args=[hydrants.pk]) in text
    series = client.get(reverse("target-series", args=[copied.pk])).json()
    assert series["points"][0]["period"] == "2021"
    assert series["points"][4]["actual"] == 185


def test_the_api_says_a_finished_target_is_unmet(hydrants, staff_lianzhou, client):
    client.force_login(staff_lianzhou)
    body = client.get(f"/api/v1/targets/{hydrants.pk}/", {"on": "2026-01-31"}).json()
    progress = body["progress"]
    assert progress["on"] == "2026-01-31"
    assert (progress["status"], progress["finished"]) == ("unmet", True)
    assert progress["verdict"] == "未完成（差 5 个，完成 97.4%）"
