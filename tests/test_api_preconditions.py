"""No acknowledged edit is silently overwritten through the API: every PUT / PATCH names the
version it was based on (If-Match: the ETag of a GET, or a ``version`` field); without one →
428 precondition_required, with a stale one → 412 stale_edit. Both change nothing."""

import pytest

from planning.models import Plan
from targets import services
from targets.models import Target
from tests.api import client_for, error_code, if_match

NANYANG = "nanyang-2021-2025"


@pytest.fixture
def plan(seeded):
    return Plan.objects.get(code=NANYANG)


@pytest.fixture
def draft(liaison_nanzhao, open_2024):
    target = Target.objects.get(plan__code=NANYANG, code="tg-new-stations")
    region = target.allocations.get(region__name="南召县").region
    return services.save_report(
        actor=liaison_nanzhao, target=target, region=region, period="2024", value=1
    )


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_plan_change_without_if_match_is_428_and_changes_nothing(staff_nanyang, plan, method):
    client = client_for(staff_nanyang)
    body = client.get(f"/api/v1/plans/{plan.pk}/").json()
    body.pop("version")
    body["issuer"] = "无前提的修改"

    response = getattr(client, method)(f"/api/v1/plans/{plan.pk}/", body, format="json")

    assert (response.status_code, error_code(response)) == (428, "precondition_required")
    assert "If-Match" in response.json()["message"]
    plan.refresh_from_db()
    assert plan.issuer != "无前提的修改"


def test_a_report_change_without_if_match_is_428_and_changes_nothing(liaison_nanzhao, draft):
    response = client_for(liaison_nanzhao).patch(
        f"/api/v1/reports/{draft.pk}/", {"value": "2"}, format="json"
    )
    assert (response.status_code, error_code(response)) == (428, "precondition_required")
    draft.refresh_from_db()
    assert (draft.value, draft.version) == (1, 1)


def test_the_etag_of_a_get_is_the_precondition(staff_nanyang, plan):
    client = client_for(staff_nanyang)
    etag = client.get(f"/api/v1/plans/{plan.pk}/")["ETag"]
    url = f"/api/v1/plans/{plan.pk}/"

    first = client.patch(url, {"issuer": "第一次"}, format="json", HTTP_IF_MATCH=etag)
    again = client.patch(url, {"issuer": "第二次"}, format="json", HTTP_IF_MATCH=etag)

    assert first.status_code == 200 and first["ETag"] != etag
    assert (again.status_code, error_code(again)) == (412, "stale_edit")
    plan.refresh_from_db()
    assert plan.issuer == "第一次"


def test_a_version_field_is_the_same_precondition(staff_nanyang, plan):
    client = client_for(staff_nanyang)
    url, version = f"/api/v1/plans/{plan.pk}/", plan.version

    first = client.patch(url, {"issuer": "按版本", "version": version}, format="json")
    stale = client.patch(url, {"issuer": "过期版本", "version": version}, format="json")

    assert first.status_code == 200
    assert (stale.status_code, error_code(stale)) == (412, "stale_edit")
    plan.refresh_from_db()
    assert plan.issuer == "按版本"


def test_if_match_and_a_version_field_that_disagree_are_412(staff_nanyang, plan):
    response = client_for(staff_nanyang).patch(
        f"/api/v1/plans/{plan.pk}/",
        {"issuer": "矛盾", "version": plan.version - 1},
        format="json",
        **if_match(plan),
    )
    assert (response.status_code, error_code(response)) == (412, "stale_edit")


def test_the_workflow_actions_may_omit_the_precondition(liaison_nanzhao, draft):
    """POST …/submit/ (approve, return, reopen) checks If-Match when given; the action itself
    names what it does, and an approved figure changes only through a recorded reopening."""
    response = client_for(liaison_nanzhao).post(f"/api/v1/reports/{draft.pk}/submit/")
    assert response.status_code == 200
    stale = client_for(liaison_nanzhao).post(
        f"/api/v1/reports/{draft.pk}/submit/", HTTP_IF_MATCH=f'"{draft.pk}-1"'
    )
    assert stale.status_code == 412


def test_the_schema_documents_if_match_and_428_on_every_put_and_patch(client, seeded):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    writes = [
        (path, method, operation)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method in ("put", "patch", "delete")
    ]
    assert len(writes) >= 14
    for path, method, operation in writes:
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert "If-Match" in headers, (method, path)
        assert {"412", "428"} <= operation["responses"].keys(), (method, path)
