"""Target cascade (指标分解, issue 17): a target under the higher-level one it implements, and
its value split province → city → county → town, each level with its own value; the parts
are checked as typed and again by the service, and the integrity check reports levels that do
not add up. There is no 河南省 plan in the seeds: the tests create one (and a town).
"""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import Region
from core.services import InvalidInput, NotAllowed, ServiceError
from targets import tally_store
from targets.allocations import cascade_tree, link_parent_target, split_allocation
from targets.integrity import check_plan_integrity
from targets.models import Allocation, ProgressReport, Target
from targets.owed import owing_regions
from tests import factories
from tests.api import client_for as api_client_for
from tests.conftest import make_user
from tests.planning.editing import form_data

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def henan(seeded):
    """河南省's plan and its 新建消防站 target (made up for the test: 30 stations), a second
    city beside 南阳, a town under 内乡县, and staff of the province."""
    province = Region.objects.get(name="河南省", parent=None)
    plan = factories.plan("henan-test", region=province, title="河南省测试规划")
    target = factories.target(plan, "hn-new-stations", target_value=30, measure_unit="个")
    return {
        "province": province,
        "plan": plan,
        "target": target,
        "nanyang": Region.objects.get(name="南阳市"),
        "other_city": factories.region("测试市", parent=province),
        "neixiang": Region.objects.get(name="内乡县"),
        "nanzhao": Region.objects.get(name="南召县"),
        "town": factories.region("赤眉镇", level="town", parent=Region.objects.get(name="内乡县")),
        "staff": make_user("staff_henan", "staff", "河南省"),
    }


@pytest.fixture
def nanyang_stations(seeded) -> Target:
    return Target.objects.get(plan__code="nanyang-2021-2025", code="tg-new-stations")


def three_levels(henan, town_value=10) -> None:
    """province 30 → 南阳 24 + 测试市 6; 南阳 24 → 内乡县 10 + 南召县 14; 内乡县 10 → town."""
    target, staff = henan["target"], henan["staff"]
    split_allocation(
        target,
        actor=staff,
        whole_region_id=None,
        values={henan["nanyang"].pk: 24, henan["other_city"].pk: 6},
        reason="省级分解",
    )
    split_allocation(
        target,
        actor=staff,
        whole_region_id=henan["nanyang"].pk,
        values={henan["neixiang"].pk: 10, henan["nanzhao"].pk: 14},
        reason="市级分解",
    )
    split_allocation(
        target,
        actor=staff,
        whole_region_id=henan["neixiang"].pk,
        values={henan["town"].pk: town_value},
        reason="县级分解",
    )


def findings_of(plan_code: str) -> list:
    return [f for f in check_plan_integrity() if f.plan == plan_code]


# ------------------------------------------------------------------------------ the tree


def test_a_three_level_split_adds_up_and_the_integrity_check_finds_nothing(henan):
    three_levels(henan)
    target = henan["target"]
    parent_of = dict(Region.objects.values_list("pk", "parent_id"))
    names = dict(Region.objects.values_list("pk", "name"))
    tree = cascade_tree(target, target.allocations.all(), parent_of, names)
    rows = [(n.region_name, n.depth, n.value, n.adds_up) for n in tree.walk()]
    assert rows == [
        ("河南省", 0, 30, True),
        ("南阳市", 1, 24, True),
        ("内乡县", 2, 10, True),
        ("赤眉镇", 3, 10, None),
        ("南召县", 2, 14, None),
        ("测试市", 1, 6, None),
    ]
    assert findings_of("henan-test") == []


def test_a_wrong_split_at_the_county_level_is_reported_with_its_rows(henan):
    three_levels(henan, town_value=7)
    (finding,) = [f for f in findings_of("henan-test") if f.code.startswith("allocation")]
    assert finding.code == "allocation_level_mismatch"
    assert "在内乡县" in finding.message and "合计 7" in finding.message and "10" in finding.message
    assert finding.item_codes == ["hn-new-stations/内乡县", "hn-new-stations/赤眉镇"]


def test_nanyangs_annex_still_reports_the_target_level_mismatch(seeded):
    codes = {(f.code, f.item_codes[0]) for f in findings_of("nanyang-2021-2025")}
    assert ("allocation_total_mismatch", "tg-new-stations") in codes


def test_parts_over_the_whole_are_refused_and_nothing_is_written(henan):
    three_levels(henan)
    before = set(Allocation.objects.values_list("region_id", "value"))
    with pytest.raises(ServiceError) as refused:
        split_allocation(
            henan["target"],
            actor=henan["staff"],
            whole_region_id=henan["nanyang"].pk,
            values={henan["neixiang"].pk: 11},  # 11 + 14 > 24
            reason="调整",
        )
    assert refused.value.code == "allocation_sum_exceeds"
    assert "25" in refused.value.message and "24" in refused.value.message
    assert set(Allocation.objects.values_list("region_id", "value")) == before


def test_a_split_needs_a_reason_regions_directly_below_and_parts_removed_bottom_up(henan):
    three_levels(henan)
    target, staff = henan["target"], henan["staff"]
    with pytest.raises(InvalidInput) as no_reason:
        split_allocation(
            target, actor=staff, whole_region_id=None, values={henan["nanyang"].pk: 20}, reason=" "
        )
    assert "reason" in no_reason.value.errors
    with pytest.raises(InvalidInput) as too_long:  # the history keeps 100 characters
        split_allocation(
            target,
            actor=staff,
            whole_region_id=None,
            values={henan["nanyang"].pk: 20},
            reason="理" * 101,
        )
    assert "修改原因最多 100 个字" in too_long.value.errors["reason"][0]
    with pytest.raises(InvalidInput) as not_below:
        split_allocation(
            target,
            actor=staff,
            whole_region_id=henan["nanyang"].pk,
            values={henan["town"].pk: 1},  # a town is below 内乡县, not directly below 南阳
            reason="分解",
        )
    assert "不是 南阳市 的直接下级" in not_below.value.message
    with pytest.raises(InvalidInput) as split_further:
        split_allocation(
            target,
            actor=staff,
            whole_region_id=henan["nanyang"].pk,
            values={henan["neixiang"].pk: None},
            reason="删除",
        )
    assert "请先删除其下级分解" in split_further.value.message
    split_allocation(
        target,
        actor=staff,
        whole_region_id=henan["neixiang"].pk,
        values={henan["town"].pk: ""},
        reason="撤销到镇的分解",
    )
    assert not Allocation.objects.filter(target=target, region=henan["town"]).exists()


def test_every_change_leaves_history_with_the_actor_and_the_reason(henan):
    three_levels(henan)
    target, staff = henan["target"], henan["staff"]
    split_allocation(
        target,
        actor=staff,
        whole_region_id=henan["nanyang"].pk,
        values={henan["nanzhao"].pk: 13},
        reason="南召县调减",
    )
    share = Allocation.objects.get(target=target, region=henan["nanzhao"])
    assert share.value == 13
    latest = share.history.first()
    assert (latest.history_type, latest.history_user, latest.history_change_reason) == (
        "~",
        staff,
        "南召县调减",
    )
    created = Allocation.history.filter(region=henan["town"]).get()
    assert (created.history_type, created.history_change_reason) == ("+", "县级分解")


def test_only_staff_in_scope_split(henan, staff_nanyang, liaison_nanzhao):
    target = henan["target"]
    for outsider in (staff_nanyang, liaison_nanzhao):  # 南阳 staff cannot change 河南省's plan
        with pytest.raises((NotAllowed, PermissionDenied)):
            split_allocation(
                target,
                actor=outsider,
                whole_region_id=None,
                values={henan["nanyang"].pk: 24},
                reason="越权",
            )
    assert not Allocation.objects.filter(target=target).exists()


# ------------------------------------------------------------------------- parent target


def test_nanyangs_new_stations_are_linked_under_henans_target(henan, nanyang_stations):
    three_levels(henan)
    linked = link_parent_target(
        nanyang_stations,
        actor=make_user("staff_nanyang_link", "staff", "南阳市"),
        parent=henan["target"],
        version=nanyang_stations.version,
        reason="落实省规划",
    )
    assert linked.parent_target == henan["target"]
    assert linked.history.first().history_change_reason == "落实省规划"
    assert list(henan["target"].child_targets.all()) == [nanyang_stations]
    # The province gives 南阳 24, 南阳's own target is 24: nothing to report.
    assert not [f for f in findings_of("nanyang-2021-2025") if f.code.startswith("parent")]


def test_a_parent_share_other_than_the_childs_value_is_a_warning(henan, nanyang_stations):
    split_allocation(
        henan["target"],
        actor=henan["staff"],
        whole_region_id=None,
        values={henan["nanyang"].pk: 20},
        reason="省级分解",
    )
    Target.objects.filter(pk=nanyang_stations.pk).update(parent_target=henan["target"])
    (finding,) = [
        f for f in findings_of("nanyang-2021-2025") if f.code == "parent_target_share_mismatch"
    ]
    assert finding.level == "warning" and "20" in finding.message and "24" in finding.message


def test_a_parent_must_be_above_and_not_below(henan, nanyang_stations, staff_nanyang):
    county_plan = factories.plan("neixiang-test", region=henan["neixiang"])
    county_target = factories.target(county_plan, "nx-stations")
    with pytest.raises(InvalidInput, match="上级区划"):
        link_parent_target(
            nanyang_stations,
            actor=staff_nanyang,
            parent=county_target,
            version=None,
            reason="错误",
        )
    # 内乡县's target under 南阳's, 南阳's under 河南省's: 河南省's cannot go under 内乡县's.
    Target.objects.filter(pk=county_target.pk).update(parent_target=nanyang_stations)
    Target.objects.filter(pk=nanyang_stations.pk).update(parent_target=henan["target"])
    county_target.refresh_from_db()
    with pytest.raises(InvalidInput, match="下级指标"):
        link_parent_target(
            henan["target"],
            actor=henan["staff"],
            parent=county_target,
            version=None,
            reason="成环",
        )


# ------------------------------------------------------------------------------ owed


@pytest.mark.usefixtures("on_postgres")
def test_every_allocation_region_at_any_depth_owes_in_python_and_in_the_tallies(henan):
    three_levels(henan)
    target = Target.objects.prefetch_related("allocations").get(pk=henan["target"].pk)
    expected = {
        henan[name].pk for name in ("province", "nanyang", "other_city", "neixiang", "nanzhao")
    } | {henan["town"].pk}
    assert owing_regions(target) == expected
    assert tally_store.tally_matches_reports() == []


# ------------------------------------------------------------------------------ pages


def test_the_target_page_shows_parent_children_and_the_tree_with_lights(henan, nanyang_stations):
    three_levels(henan)
    Target.objects.filter(pk=nanyang_stations.pk).update(parent_target=henan["target"])
    ProgressReport.objects.create(
        target=henan["target"],
        region=henan["town"],
        period="2022",
        value=Decimal(3),
        status="approved",
    )
    staff = henan["staff"]
    page = client_for(staff).get(reverse("targets:target_detail", args=[henan["target"].pk]))
    body = page.content.decode()
    assert page.status_code == 200
    rows = [(node.region_name, node.depth, p.actual) for node, p in page.context["cascade"]]
    assert ("赤眉镇", 3, 3) in rows and ("内乡县", 2, 3) in rows and ("南阳市", 1, 3) in rows
    assert [t.pk for t, _ in page.context["child_targets"]] == [nanyang_stations.pk]
    assert 'data-testid="split-link"' in body and "分解到区县" in body
    below = client_for(staff).get(reverse("targets:target_detail", args=[nanyang_stations.pk]))
    assert 'data-testid="parent-target"' in below.content.decode()
    assert below.context["parent_target"][0] == henan["target"]


def test_the_split_page_saves_through_the_service_and_shows_refusals(henan):
    target, staff = henan["target"], henan["staff"]
    client = client_for(staff)
    url = reverse("targets:allocation_split", args=[target.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert {f.label for f in page.context["form"]} >= {"南阳市", "测试市", "理由"}
    too_much = form_data(
        page, **{f"region_{henan['nanyang'].pk}": "25", f"region_{henan['other_city'].pk}": "6"}
    ) | {"reason": "分解"}
    refused = client.post(url, too_much)
    assert refused.status_code == 400
    assert "超过" in refused.content.decode()
    assert not Allocation.objects.filter(target=target).exists()
    saved = client.post(url, too_much | {f"region_{henan['nanyang'].pk}": "２４"})
    assert saved.status_code == 302
    assert dict(Allocation.objects.filter(target=target).values_list("region__name", "value")) == {
        "南阳市": 24,
        "测试市": 6,
    }
    row = reverse("targets:allocation_split_region", args=[target.pk, henan["nanyang"].pk])
    page = client.get(row)
    assert page.status_code == 200 and page.context["whole_value"] == 24
    assert "内乡县" in {f.label for f in page.context["form"]}
    missing = reverse("targets:allocation_split_region", args=[target.pk, henan["town"].pk])
    assert client.get(missing).status_code == 404


def test_the_split_page_is_for_staff_in_scope(henan, staff_nanyang, viewer_nanyang):
    url = reverse("targets:allocation_split", args=[henan["target"].pk])
    assert client_for(staff_nanyang).get(url).status_code == 403  # sees the plan, cannot change
    assert client_for(viewer_nanyang).get(url).status_code == 403


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_pages_and_the_endpoint_take_the_same_queries_for_one_level_or_three(henan):
    """Constant: the target page, the split page and the cascade endpoint read the tree in a
    fixed number of queries (regions, allocations, roll-ups …), not one per row or level."""
    target, staff = henan["target"], henan["staff"]
    split_allocation(
        target,
        actor=staff,
        whole_region_id=None,
        values={henan["nanyang"].pk: 24},
        reason="一级",
    )
    client, api = client_for(staff), api_client_for(staff)
    urls = [
        reverse("targets:target_detail", args=[target.pk]),
        reverse("targets:allocation_split_region", args=[target.pk, henan["nanyang"].pk]),
    ]
    api_url = reverse("target-cascade", args=[target.pk])
    before = [queries(client, url) for url in urls]
    with CaptureQueriesContext(connection) as captured:
        assert api.get(api_url).status_code == 200
    api_before = len(captured)
    three_levels(henan)
    assert [queries(client, url) for url in urls] == before
    with CaptureQueriesContext(connection) as captured:
        assert api.get(api_url).status_code == 200
    assert len(captured) == api_before


# ------------------------------------------------------------------------------ API


def test_the_cascade_endpoint_gives_parent_children_and_levels(henan, nanyang_stations):
    three_levels(henan, town_value=7)
    Target.objects.filter(pk=nanyang_stations.pk).update(parent_target=henan["target"])
    body = (
        api_client_for(henan["staff"])
        .get(reverse("target-cascade", args=[henan["target"].pk]))
        .json()
    )
    assert body["parent"] is None
    assert [c["code"] for c in body["children"]] == ["tg-new-stations"]
    levels = {row["region_name"]: row for row in body["levels"]}
    assert levels["河南省"]["depth"] == 0 and levels["河南省"]["whole_region"] is None
    assert levels["内乡县"]["adds_up"] is False and Decimal(levels["内乡县"]["parts_total"]) == 7
    assert levels["赤眉镇"]["whole_region"] == henan["neixiang"].pk
    below = (
        api_client_for(henan["staff"])
        .get(reverse("target-cascade", args=[nanyang_stations.pk]))
        .json()
    )
    assert below["parent"]["id"] == henan["target"].pk


def test_the_edit_page_and_the_api_link_a_target_under_a_visible_higher_one(
    henan, nanyang_stations, staff_nanyang
):
    client = client_for(staff_nanyang)
    url = reverse("targets:target_edit", args=[nanyang_stations.pk])
    page = client.get(url)
    choices = list(page.context["form"].fields["parent_target"].queryset)
    assert choices == [henan["target"]]  # 河南省's, not 南阳's own plan's targets
    response = client.post(url, form_data(page, parent_target=str(henan["target"].pk)))
    assert response.status_code == 302
    nanyang_stations.refresh_from_db()
    assert nanyang_stations.parent_target == henan["target"]
    assert nanyang_stations.history.first().history_user == staff_nanyang
    # The API: unlink with PATCH (If-Match), the read shows the link.
    api = api_client_for(staff_nanyang)
    detail = reverse("target-detail", args=[nanyang_stations.pk])
    assert api.get(detail).json()["parent_target"] == henan["target"].pk
    county_plan = factories.plan("neixiang-api", region=henan["neixiang"])
    below = factories.target(county_plan, "nx-below")
    refused = api.patch(
        detail,
        {"parent_target": below.pk},
        format="json",
        HTTP_IF_MATCH=f'"{nanyang_stations.pk}-{nanyang_stations.version}"',
    )
    assert refused.status_code == 400, refused.content
    assert refused.json()["errors"]["parent_target"]
