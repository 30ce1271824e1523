"""The dashboards' charts in a real browser (issue 21): the overview, a region page and the
简报 draw every chart from the API (a canvas in each box, no script error, no CSP violation —
the session fails on either), pass axe, and the tables under the charts hold the numbers of
the API's JSON that the charts drew."""

import re

import pytest
from django.urls import reverse

from core.models import Region
from planning.models import Plan
from tests.browser.conftest import ARTIFACTS
from tests.reports.test_charts import make_binding_lag

pytestmark = pytest.mark.django_db(transaction=True)

CHARTS = ["chart-plans", "chart-regions", "chart-binding", "chart-reporting", "chart-changes"]
LIGHTS = ("met", "on_track", "lagging", "critical", "no_data", "unmet")


def shown(value) -> str:
    return "—" if value is None else str(value)


def number(text: str):
    return None if text == "—" else float(text)


def table(page, testid: str) -> list[list[str]]:
    return page.locator(f"[data-testid={testid}] tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.textContent.trim()))"
    )


def drawn_data(page) -> dict:
    """Wait for the charts, check each drew on a canvas, and fetch the JSON they drew."""
    page.wait_for_selector("[data-testid=charts][data-loaded=true]")
    for box in CHARTS:
        assert page.locator(f"#{box}[data-loaded=true] canvas").count() >= 1, box
    url = page.get_attribute("[data-testid=charts]", "data-url")
    return page.evaluate(
        "url => fetch(url, {headers: {Accept: 'application/json'}}).then(r => r.json())", url
    )


def assert_tables_match(page, data: dict) -> None:
    assert table(page, "table-plans") == [
        [row["title"], *(str(row["counts"][k]) for k in LIGHTS)] for row in data["plans"]
    ]
    regions = table(page, "table-regions")
    assert [r[0] for r in regions] == [row["region_name"] for row in data["regions"]]
    assert [[number(c) for c in r[1:4]] + [int(r[4])] for r in regions] == [
        [row["completion"], row["pace"], row["gap"], row["binding_lagging"]]
        for row in data["regions"]
    ]
    assert [r[:3] for r in table(page, "table-binding")] == [
        [series["name"], str(point["year"]), shown(point["completion"])]
        for series in data["binding_series"]
        for point in series["points"]
    ]
    reporting = table(page, "table-reporting")
    assert [[r[0], int(r[1]), int(r[2]), int(r[3]), number(r[4])] for r in reporting] == [
        [row["region_name"], row["owed"], row["on_time"], row["late"], row["on_time_rate"]]
        for row in data["reporting"]
    ]
    assert table(page, "table-changes") == [
        [str(data["changes"][k]) for k in ("approved", "returned", "adjusted")]
    ]


def test_overview_and_region_charts_draw_from_the_api_and_their_tables_hold_the_same_numbers(
    open_session, staff_nanyang, liaison_nanzhao, open_2024
):
    make_binding_lag(staff_nanyang, liaison_nanzhao)
    staff = open_session("staff_nanyang")
    page = staff.page

    page.goto("/")
    data = drawn_data(page)
    assert data["binding_series"] and data["lagging"] and data["reporting"]
    assert data["changes"]["approved"] == 1
    assert_tables_match(page, data)
    # the existing overview stays under the charts
    assert page.get_by_test_id("plan-cards").is_visible()
    assert staff.axe_violations() == []
    staff.shot("overview-charts")

    city = Region.objects.get(name="南阳市")
    page.goto(reverse("reports:region_detail", args=[city.pk]))
    data = drawn_data(page)
    assert "南召县" in [row["region_name"] for row in data["regions"]]
    assert_tables_match(page, data)
    assert staff.axe_violations() == []
    staff.shot("region-charts")


def test_briefing_prints_on_a4_with_the_charts_and_the_lagging_binding_targets(
    open_session, staff_nanyang, liaison_nanzhao, open_2024
):
    make_binding_lag(staff_nanyang, liaison_nanzhao)
    plan = Plan.objects.get(code="nanyang-2021-2025")
    staff = open_session("staff_nanyang")
    page = staff.page
    page.goto(reverse("reports:plan_detail", args=[plan.pk]))
    page.get_by_test_id("briefing-link").click()
    page.wait_for_load_state()
    data = drawn_data(page)
    lagging = table(page, "briefing-lagging")
    assert [row[0] for row in lagging] == [row["name"] for row in data["lagging"]]
    assert "新建消防站" in lagging[0][0]
    assert_tables_match(page, data)
    assert staff.axe_violations() == []

    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").is_visible()
    assert not page.get_by_role("button", name="打印").is_visible()
    assert page.locator("#chart-plans canvas").first.is_visible()
    assert page.get_by_test_id("table-plans").is_visible()  # tables open on paper
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "briefing.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1  # one A4 sheet
    staff.shot("briefing-print")
