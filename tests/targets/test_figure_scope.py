"""One rule for figures (issue 20, finding 5): a user sees the figures of their scope and the
totals of the regions above it, never a sibling region's own figure — in the target page, the
series endpoint, the exports and the 409 of a create (``targets.scope_rules.sees_figures``)."""

import pytest

from core.models import Region
from reports.excel import scoring
from targets.models import ProgressReport, Target
from tests.api import client_for, error_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_stations(seeded):
    """南阳 新建消防站24个, allocated per county (附件1: 南召县 3)."""
    return Target.objects.select_related("plan").get(
        plan__code="nanyang-2021-2025", code="tg-new-stations"
    )


@pytest.fixture
def nanzhao_figure(new_stations):
    """An approved 南召县 figure (made up by the test, 2 stations in 2022)."""
    return ProgressReport.objects.create(
        target=new_stations,
        region=Region.objects.get(name="南召县"),
        period="2022",
        value=2,
        status="approved",
    )


def _shares(user, target):
    body = client_for(user).get(f"/api/v1/targets/{target.pk}/series/?on=2023-06-30").json()
    return {r["region_name"]: r for r in body["regions"]}, body


def test_the_series_shows_a_liaison_their_own_share_not_a_siblings(
    liaison_xixia, liaison_nanzhao, staff_nanyang, new_stations, nanzhao_figure
):
    xixia_view, _ = _shares(liaison_xixia, new_stations)
    assert "南召县" not in xixia_view and set(xixia_view) == {"西峡县"}
    nanzhao_view, _ = _shares(liaison_nanzhao, new_stations)
    assert nanzhao_view["南召县"]["actual"] == 2
    staff_view, body = _shares(staff_nanyang, new_stations)
    assert staff_view["南召县"]["actual"] == 2 and len(staff_view) == 13
    # the city's total (a region above the liaison) stays visible to both liaisons
    assert body["figures_hidden"] is False


def test_a_target_set_for_a_sibling_region_shows_its_plan_not_its_figures(
    client, liaison_xixia, staff_nanyang, new_stations, nanzhao_figure
):
    Target.objects.filter(pk=new_stations.pk).update(region=nanzhao_figure.region)
    _, body = _shares(liaison_xixia, new_stations)
    assert body["figures_hidden"] is True and body["status"] is None
    assert [p["actual"] for p in body["points"]] == [None] * len(body["points"])
    assert any(p["planned"] is not None for p in body["points"])
    _, body = _shares(staff_nanyang, new_stations)
    assert body["figures_hidden"] is False and 2 in [p["actual"] for p in body["points"]]
    assert (
        client_for(liaison_xixia).get(f"/api/v1/targets/{new_stations.pk}/").json()["progress"]
        is None
    )
    assert client_for(staff_nanyang).get(f"/api/v1/targets/{new_stations.pk}/").json()["progress"]
    client.force_login(liaison_xixia)
    page = client.get(f"/targets/{new_stations.pk}/")
    assert page.status_code == 200
    assert "figures-hidden" in page.content.decode()


def test_the_target_page_leaves_out_a_siblings_share(
    client, liaison_xixia, staff_nanyang, new_stations, nanzhao_figure
):
    client.force_login(liaison_xixia)
    page = client.get(f"/targets/{new_stations.pk}/").content.decode()
    table = page.split('data-testid="allocations"')[1].split("</table>")[0]
    assert "西峡县" in table and "南召县" not in table
    client.force_login(staff_nanyang)
    page = client.get(f"/targets/{new_stations.pk}/").content.decode()
    table = page.split('data-testid="allocations"')[1].split("</table>")[0]
    assert "南召县" in table


def test_the_evaluation_export_leaves_out_a_sibling_target(
    liaison_xixia, new_stations, nanzhao_figure
):
    Target.objects.filter(pk=new_stations.pk).update(region=nanzhao_figure.region)
    rows = scoring.build_evaluation(new_stations.plan, user=liaison_xixia)
    assert new_stations.pk not in {row.target.pk for row in rows}
    assert all(row.region_label != "南召县" for row in rows)


def test_the_assessment_export_leaves_out_a_sibling_target(
    liaison_xixia, staff_nanyang, new_stations, nanzhao_figure
):
    Target.objects.filter(pk=new_stations.pk).update(region=nanzhao_figure.region)
    mine = scoring.build_assessment(new_stations.plan, 2022, user=liaison_xixia)
    targets = {i.object_id for i in mine.overall.items if i.kind == "target"}
    assert targets and new_stations.pk not in targets
    theirs = scoring.build_assessment(new_stations.plan, 2022, user=staff_nanyang)
    assert new_stations.pk in {i.object_id for i in theirs.overall.items if i.kind == "target"}


def test_a_create_does_not_reveal_a_report_above_the_scope(
    liaison_nanzhao, new_stations, open_2024
):
    city = new_stations.region
    above = ProgressReport.objects.create(
        target=new_stations, region=city, period="2024", value=5, status="approved"
    )
    response = client_for(liaison_nanzhao).post(
        "/api/v1/reports/",
        {"target": new_stations.pk, "region": city.pk, "period": "2024", "value": "1"},
        format="json",
    )
    assert response.status_code == 403, response.content
    assert error_code(response) == "out_of_scope"
    assert f"编号 {above.pk}" not in response.content.decode()
