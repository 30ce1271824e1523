"""The dashboards' chart data (reports.charts) through the API and the pages' tables, and the
简报: the numbers agree with the status engine, a region's children are compared side by
side, 「本月变化」 counts approvals, returns and adjustments, and every endpoint and page runs
the same number of queries with ten times the data."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core.choices import Attribute
from core.models import Region
from core.regions import RegionTree
from planning.models import Plan
from targets import services, upkeep
from targets.models import Target
from targets.rollups import StatusBoard
from targets.status import compute_allocations
from tests.planning.test_dashboards import count_queries, grow, settled_count

NANYANG = "nanyang-2021-2025"
pytestmark = pytest.mark.django_db


def nanzhao_new_stations() -> Target:
    return Target.objects.get(
        plan__code=NANYANG, name="新建消防站", allocations__region__name="南召县"
    )


def make_binding_lag(staff, liaison) -> Target:
    """The city's 新建消防站 made binding (the seeds mark none in 南阳) with 2 of 24 stations
    reported by 南召县 for 2024 and approved: behind (未完成 once the plan is over)."""
    Target.objects.filter(plan__code=NANYANG, code="tg-new-stations").update(
        attribute=Attribute.BINDING
    )
    target = nanzhao_new_stations()
    report = services.save_report(
        actor=liaison, target=target, region=Region.objects.get(name="南召县"), period="2024",
        value=2, submit=True,
    )  # fmt: skip
    services.approve_report(report, actor=staff)
    return Target.objects.get(plan__code=NANYANG, code="tg-new-stations")


def charts_json(client, url: str, **query) -> dict:
    response = client.get(url, query)
    assert response.status_code == 200, response.content
    return response.json()


def cells(html: str, testid: str) -> list[list[str]]:
    """The body rows of a table of the page (header cell and data cells, text only)."""
    table = re.search(rf'data-testid="{testid}".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    ]


def shown(value) -> str:
    return "—" if value is None else str(value)


def test_overview_charts_count_each_plans_lights_as_the_status_engine(
    client, staff_nanyang, liaison_nanzhao, open_2024
):
    lagging_target = make_binding_lag(staff_nanyang, liaison_nanzhao)
    client.force_login(staff_nanyang)
    on = timezone.localdate()
    data = charts_json(client, reverse("api_overview_charts"), on=on.isoformat())
    plans = list(Plan.objects.for_user(staff_nanyang).exclude(status="reference"))
    board = StatusBoard(plans, on=on)
    assert data["on"] == on.isoformat() and data["since"] == on.replace(day=1).isoformat()
    assert {row["plan"] for row in data["plans"]} == {p.pk for p in plans}
    for row in data["plans"]:
        counts = board.plan_summary(board.plans[row["plan"]])["targets"].counts
        assert row["counts"] == {k: counts[k] for k in row["counts"]}
    lagging = data["lagging"]
    assert lagging_target.pk in [row["target"] for row in lagging] and len(lagging) <= 5
    for row in lagging:
        target = Target.objects.get(pk=row["target"])
        assert target.attribute == Attribute.BINDING
        assert board.target_progress[target.pk].status == row["status"]
        assert row["status"] in ("lagging", "critical", "unmet")
    series = data["binding_series"]
    assert series and all(
        Target.objects.get(pk=s["target"]).attribute == Attribute.BINDING for s in series
    )
    stations = next(s for s in series if s["target"] == lagging_target.pk)
    assert [p["year"] for p in stations["points"]] == [2021, 2022, 2023, 2024, 2025]
    # 2 of 24 from 2024 on, nothing before
    assert [(p["actual"], p["completion"]) for p in stations["points"]] == [
        (None, None), (None, None), (None, None), (2.0, 8.3), (2.0, 8.3)
    ]  # fmt: skip
    # the regions compared: the districts under the plans' regions, each with its allocations
    tree = RegionTree.load()
    children = {c for p in plans for c in tree.children[p.region_id]}
    assert {r["region"] for r in data["regions"]} <= children
    nanzhao = next(r for r in data["regions"] if r["region_name"] == "南召县")
    full = StatusBoard(plans, on=on, allocation_regions=None)
    statuses = {
        allocation.region_id: progress.status
        for allocation, progress in compute_allocations(
            lagging_target, full.inputs, on=on, rules=full.rules
        )
    }
    assert nanzhao["binding_lagging"] == (
        statuses[nanzhao["region"]] in ("lagging", "critical", "unmet")
    )
    assert nanzhao["items"] == sum(
        1
        for t in full.targets
        for a in full.inputs.allocations[t.pk]
        if a.region_id == nanzhao["region"]
    ) + sum(1 for t in full.targets if t.region_id == nanzhao["region"])


def test_region_charts_compare_the_children_side_by_side(client, staff_nanyang):
    client.force_login(staff_nanyang)
    nanyang = Region.objects.get(name="南阳市")
    data = charts_json(client, reverse("region-charts", args=[nanyang.pk]), on="2024-06-30")
    children = set(RegionTree.load().children[nanyang.pk])
    assert data["region"] == nanyang.pk
    assert {row["region"] for row in data["regions"]} == children
    assert {row["region"] for row in data["reporting"]} == children
    nanzhao = next(r for r in data["regions"] if r["region_name"] == "南召县")
    assert nanzhao["items"] > 0  # the allocations of the city's targets to the county
    gaps = [r["gap"] for r in data["regions"] if r["gap"] is not None]
    assert gaps == sorted(gaps)  # furthest behind pace first


def test_region_charts_outside_the_scope_are_not_found(client, liaison_nanzhao):
    client.force_login(liaison_nanzhao)
    xixia = Region.objects.get(name="西峡县")
    assert client.get(reverse("region-charts", args=[xixia.pk])).status_code == 404


def test_a_bad_date_is_a_400_with_a_code(client, staff_nanyang):
    client.force_login(staff_nanyang)
    response = client.get(reverse("api_overview_charts"), {"since": "2024-13-01"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_changes_since_count_approvals_returns_and_adjustments(
    client, staff_nanyang, liaison_nanzhao, open_2024
):
    target = nanzhao_new_stations()
    nanzhao = Region.objects.get(name="南召县")
    city = Region.objects.get(name="南阳市")
    report = services.save_report(
        actor=liaison_nanzhao, target=target, region=nanzhao, period="2024", value=2, submit=True
    )
    services.return_report(report, actor=staff_nanyang, reason="请附验收报告")
    report.refresh_from_db()
    services.submit_report(report, actor=liaison_nanzhao)
    services.approve_report(report, actor=staff_nanyang)
    today = timezone.localdate()
    upkeep.adjust_target(
        target,
        actor=staff_nanyang,
        version=target.version,
        new_value=target.target_value + 1,
        new_year=None,
        doc_number="宛消〔2026〕1号",
        adopted_on=today,
        reason="新增园区",
    )
    client.force_login(staff_nanyang)
    for url in (reverse("api_overview_charts"), reverse("region-charts", args=[city.pk])):
        changes = charts_json(client, url)["changes"]
        assert (changes["approved"], changes["returned"], changes["adjusted"]) == (1, 1, 1)
        assert [i["kind"] for i in changes["items"]].count("approved") == 1
        assert changes["since"] == today.replace(day=1).isoformat()
    later = (today + datetime.timedelta(days=1)).isoformat()
    changes = charts_json(client, reverse("api_overview_charts"), on=later, since=later)["changes"]
    assert (changes["approved"], changes["returned"], changes["adjusted"]) == (0, 0, 0)


def test_overview_page_tables_hold_the_api_numbers(
    client, staff_nanyang, liaison_nanzhao, open_2024
):
    make_binding_lag(staff_nanyang, liaison_nanzhao)
    client.force_login(staff_nanyang)
    html = client.get(reverse("reports:home")).content.decode()
    data = charts_json(client, reverse("api_overview_charts"))
    assert 'data-url="/api/v1/charts/"' in html
    assert cells(html, "table-plans") == [
        [
            row["title"],
            *(
                str(row["counts"][k])
                for k in ("met", "on_track", "lagging", "critical", "no_data", "unmet")
            ),
        ]
        for row in data["plans"]
    ]
    assert cells(html, "table-regions") == [
        [
            row["region_name"],
            shown(row["completion"]),
            shown(row["pace"]),
            shown(row["gap"]),
            str(row["binding_lagging"]),
        ]
        for row in data["regions"]
    ]
    assert (
        cells(html, "table-reporting")
        == [
            [
                row["region_name"],
                str(row["owed"]),
                str(row["on_time"]),
                str(row["late"]),
                shown(row["on_time_rate"]),
            ]
            for row in data["reporting"]
        ]
        and data["reporting"]
    )


def test_briefing_shows_the_five_most_lagging_binding_targets_with_print_css(
    client, staff_nanyang, liaison_nanzhao, open_2024
):
    make_binding_lag(staff_nanyang, liaison_nanzhao)
    client.force_login(staff_nanyang)
    plan = Plan.objects.get(code=NANYANG)
    on = timezone.localdate().isoformat()
    response = client.get(reverse("reports:plan_briefing", args=[plan.pk]), {"on": on})
    assert response.status_code == 200
    html = response.content.decode()
    assert "reports/briefing.css" in html and "reports/charts.js" in html
    assert f'data-url="/api/v1/plans/{plan.pk}/charts/?on={on}"' in html
    data = charts_json(client, reverse("plan-charts", args=[plan.pk]), on=on)
    rows = cells(html, "briefing-lagging")
    assert len(rows) == len(data["lagging"]) and 0 < len(rows) <= 5
    assert [r[0] for r in rows] == [t["name"] for t in data["lagging"]]
    assert [r[-1] for r in rows] == [shown(t["completion"]) for t in data["lagging"]]
    assert f"截至 {on}" in html
    # the tables stay open on paper
    assert html.count('<details class="chart-data" open>') == 5


def test_briefing_css_sets_an_a4_page():
    from django.contrib.staticfiles import finders

    css = open(finders.find("reports/briefing.css"), encoding="utf-8").read()
    assert "@media print" in css and "size: A4" in css


def test_briefing_with_a_bad_date_says_so_and_answers(client, staff_nanyang):
    client.force_login(staff_nanyang)
    response = client.get(reverse("reports:briefing"), {"on": "2024-02-30"})
    assert response.status_code == 200
    assert "无法识别" in response.content.decode()


def test_region_briefing_outside_the_scope_is_not_found(client, liaison_nanzhao):
    client.force_login(liaison_nanzhao)
    xixia = Region.objects.get(name="西峡县")
    assert client.get(reverse("reports:region_briefing", args=[xixia.pk])).status_code == 404


def test_chart_endpoints_and_briefings_query_counts_are_the_same_with_ten_times_the_data(
    client, staff_nanyang, open_2024
):
    client.force_login(staff_nanyang)
    plan = Plan.objects.get(code=NANYANG)
    city = Region.objects.get(name="南阳市")
    urls = [
        reverse("api_overview_charts"),
        reverse("region-charts", args=[city.pk]),
        reverse("plan-charts", args=[plan.pk]),
        reverse("reports:briefing"),
        reverse("reports:region_briefing", args=[city.pk]),
        reverse("reports:plan_briefing", args=[plan.pk]),
    ]
    for url in urls:
        count_queries(client, url)  # warm the per-process caches
    # session, user, profile (+ region tree, notices on pages); plans; StatusBoard's fixed
    # set; periods and tallies; the report history (counts and rows); the adjustments.
    seed = [count_queries(client, url) for url in urls]
    grow(10)
    assert [settled_count(client, url) for url in urls] == seed
