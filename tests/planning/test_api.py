"""REST API for plans, sections, tasks, task updates, regions, units, stations and targets'
writes: a table-driven permission matrix by role and scope, summaries, integrity, tokens."""

import re

import pytest
from django.urls import reverse

from core.models import Unit
from planning.models import Plan, Section, Task, TaskAssignment
from stations.models import Station
from targets.models import Milestone, Target
from tests.api import client_for, count_list_queries, error_code, if_match

pytestmark = pytest.mark.django_db

NANYANG, FUXIN = "nanyang-2021-2025", "fuxin-2021-2025"


def first(model, plan_code):
    rows = model.objects.filter(plan__code=plan_code).order_by("pk")
    return rows.first()


# resource → (url, how to find a row of a plan, a harmless change)
RESOURCES = {
    "plans": ("/api/v1/plans/", lambda code: Plan.objects.get(code=code), {"issuer": "测试修改"}),
    "sections": ("/api/v1/sections/", lambda code: first(Section, code), {"title": "测试章节"}),
    "tasks": ("/api/v1/tasks/", lambda code: first(Task, code), {"title": "测试任务"}),
    "targets": ("/api/v1/targets/", lambda code: first(Target, code), {"name": "测试指标"}),
    "milestones": ("/api/v1/milestones/", lambda code: first(Milestone, code), {"text": "测试"}),
    "stations": ("/api/v1/stations/", lambda code: first(Station, code), {"address": "测试地址"}),
}

# who → (list, retrieve inside, change inside, retrieve outside, change outside)
MATRIX = {
    "staff_nanyang": (200, 200, 200, 404, 404),
    "liaison_nanzhao": (200, 200, 403, 404, 403),
    "supervisor_nanyang": (200, 200, 403, 404, 403),
    "viewer_nanyang": (200, 200, 403, 404, 403),
    "outsider": (200, 404, 404, 200, 200),  # 阜新 staff: 南阳 is outside, 阜新 inside
}


# A station stands in one county: a county liaison sees the stations of its own county (and
# above), not those of the neighbouring counties of the same city.
EXCEPTIONS = {("liaison_nanzhao", "stations"): (200, 404, 403, 404, 403)}


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("who", MATRIX)
def test_permission_matrix(request, resource, who):
    user = request.getfixturevalue(who)
    url, find, change = RESOURCES[resource]
    listed, get_in, patch_in, get_out, patch_out = EXCEPTIONS.get((who, resource), MATRIX[who])
    client = client_for(user)
    inside, outside = find(NANYANG), find(FUXIN)
    assert client.get(url).status_code == listed
    assert client.get(f"{url}{inside.pk}/").status_code == get_in
    patched = client.patch(f"{url}{inside.pk}/", change, format="json", **if_match(inside))
    assert patched.status_code == patch_in
    assert client.get(f"{url}{outside.pk}/").status_code == get_out
    patched = client.patch(f"{url}{outside.pk}/", change, format="json", **if_match(outside))
    assert patched.status_code == patch_out
    # DELETE exists for the parts of a plan (deleted only when nothing is attached,
    # tests/targets/test_retire.py); without a version it is refused before anything else.
    assert client.delete(f"{url}{inside.pk}/").status_code in (405, 403, 404, 428)
    assert type(inside).objects.filter(pk=inside.pk).exists()


@pytest.mark.parametrize("resource", RESOURCES)
def test_anonymous_gets_401(resource, seeded):
    assert client_for().get(RESOURCES[resource][0]).status_code == 401


def test_a_change_through_the_api_is_in_the_history_with_the_user(staff_nanyang):
    plan = Plan.objects.get(code=NANYANG)
    response = client_for(staff_nanyang).patch(
        f"/api/v1/plans/{plan.pk}/", {"issuer": "南阳市人民政府"}, format="json", **if_match(plan)
    )
    assert response.status_code == 200
    record = plan.history.first()
    assert (record.issuer, record.history_user) == ("南阳市人民政府", staff_nanyang)


def test_a_stale_version_is_412_and_the_first_edit_stays(staff_nanyang):
    task = first(Task, NANYANG)
    client = client_for(staff_nanyang)
    etag = client.get(f"/api/v1/tasks/{task.pk}/")["ETag"]
    assert (
        client.patch(
            f"/api/v1/tasks/{task.pk}/", {"title": "第一次"}, format="json", HTTP_IF_MATCH=etag
        ).status_code
        == 200
    )
    stale = client.patch(
        f"/api/v1/tasks/{task.pk}/", {"title": "第二次"}, format="json", HTTP_IF_MATCH=etag
    )
    assert (stale.status_code, error_code(stale)) == (412, "stale_edit")
    task.refresh_from_db()
    assert task.title == "第一次"


def test_bad_values_are_400_with_field_errors_and_change_nothing(staff_nanyang):
    plan = Plan.objects.get(code=NANYANG)
    response = client_for(staff_nanyang).patch(
        f"/api/v1/plans/{plan.pk}/",
        {"start_year": 2030, "end_year": 2020},
        format="json",
        **if_match(plan),
    )
    assert response.status_code == 400
    assert "end_year" in response.json()["errors"] or "start_year" in response.json()["errors"]
    plan.refresh_from_db()
    assert (plan.start_year, plan.end_year) == (2021, 2025)


def test_a_task_lists_its_lead_and_supporting_units(staff_nanjing):
    task = Task.objects.filter(plan__code="nanjing-2021-2023", code="t1").get()
    body = client_for(staff_nanjing).get(f"/api/v1/tasks/{task.pk}/").json()
    roles = [(a["unit_name"], a["role"]) for a in body["assignments"]]
    expected = list(task.assignments.order_by("order").values_list("unit__name", "role"))
    assert roles == expected and roles[0][1] == "lead"


def test_tasks_filter_by_unit_and_role(staff_nanjing):
    unit = Unit.objects.get(name="市消防救援支队", region__name="南京市")
    client = client_for(staff_nanjing)
    led = client.get(f"/api/v1/tasks/?unit={unit.pk}&role=lead&page_size=100").json()
    expected = TaskAssignment.objects.filter(unit=unit, role="lead").count()
    assert led["count"] == expected == 7


def test_plan_summary_counts_targets_by_status(staff_nanyang):
    plan = Plan.objects.get(code=NANYANG)
    body = client_for(staff_nanyang).get(f"/api/v1/plans/{plan.pk}/summary/?on=2022-12-31").json()
    assert body["targets"]["total"] == Target.objects.filter(plan=plan).count() == 57
    assert sum(body["targets"]["counts"].values()) == 57
    assert body["on"] == "2022-12-31"


def test_plan_integrity_lists_the_contradictions(staff_nanyang):
    plan = Plan.objects.get(code=NANYANG)
    findings = client_for(staff_nanyang).get(f"/api/v1/plans/{plan.pk}/integrity/").json()
    errors = sorted(f["code"] for f in findings if f["level"] == "error")
    assert errors == [
        "allocation_total_mismatch",
        "allocation_total_mismatch",
        "conflicting_target_values",
    ]


def test_region_summary_includes_the_countys_allocations(liaison_nanzhao):
    from core.models import Region

    county = Region.objects.get(name="南召县")
    body = client_for(liaison_nanzhao).get(f"/api/v1/regions/{county.pk}/summary/").json()
    assert body["allocations"]["total"] == 3  # 附件1–3 shares of 南召县


def test_a_token_created_in_the_browser_works_and_stops_when_revoked(client, staff_nanyang):
    client.force_login(staff_nanyang)
    page = client.post(reverse("accounts:api_token"), {"action": "issue"})
    key = re.search(r'data-testid="new-token">([0-9a-f]{40})<', page.content.decode())[1]
    api = client_for()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/plans/").status_code == 200
    client.post(reverse("accounts:api_token"), {"action": "revoke"})
    response = api.get("/api/v1/plans/")
    assert (response.status_code, error_code(response)) == (401, "authentication_failed")


@pytest.mark.parametrize(
    "url", ["/api/v1/plans/", "/api/v1/tasks/", "/api/v1/sections/", "/api/v1/stations/",
            "/api/v1/regions/", "/api/v1/units/", "/api/v1/task-updates/"],
)  # fmt: skip
def test_list_queries_do_not_depend_on_page_size(staff_nanyang, url):
    assert count_list_queries(staff_nanyang, url + "?page_size=5") == count_list_queries(
        staff_nanyang, url + "?page_size=500"
    )
