"""The daily work, in a real browser: a liaison reports a figure with evidence, staff approve
it, the target page's chart and the overview's lights show it; a supervisor reads but cannot
change; another city's object is 404. Screenshots of the main pages go to artifacts/."""

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Region
from planning.choices import TaskStatus
from planning.models import Plan, Task
from stations.models import Station
from targets.models import Target
from targets.status import plan_finished

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def nanyang_new_stations() -> Target:
    return Target.objects.get(
        plan__code="nanyang-2021-2025", name="新建消防站", allocations__region__name="南召县"
    )


def light_count(page, status: str) -> int:
    card = page.locator("[data-testid=plan-card]", has_text="南阳市“十四五”")
    return int(
        card.locator(f"[data-testid=target-lights] [data-status={status}]").get_attribute(
            "data-count"
        )
    )


def test_liaison_reports_staff_approves_and_the_chart_and_overview_show_it(
    open_session, liaison_nanzhao, staff_nanyang, open_2024
):
    target = nanyang_new_stations()
    nanzhao = Region.objects.get(name="南召县")

    staff = open_session("staff_nanyang")
    # 2 of 24 new stations after the target year: 严重滞后 while the plan runs, 未完成 once its
    # period is over (终期判断; the seed plan ends in 2025).
    plan = Plan.objects.get(code="nanyang-2021-2025")
    unmet = "unmet" if plan_finished(plan, timezone.localdate()) else "critical"
    staff.page.goto("/")
    unmet_before = light_count(staff.page, unmet)
    no_data_before = light_count(staff.page, "no_data")
    assert staff.axe_violations() == []
    staff.shot("overview")

    liaison = open_session("liaison_nanzhao")
    page = liaison.page
    page.get_by_role("link", name="我的填报").click()
    row = page.locator("[data-testid=owed] tr", has_text="新建消防站").filter(has_text="2024")
    row.get_by_role("link", name="填报").click()
    page.get_by_label("数值", exact=True).fill("2")
    page.get_by_label("说明", exact=True).fill("南召县城区消防站已建成投用")
    page.get_by_label("佐证材料").set_input_files(
        {"name": "验收报告.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    liaison.shot("report-form")
    page.get_by_role("button", name="提交审核").click()
    page.goto(reverse("targets:report_edit", args=[target.pk, nanzhao.pk, "2024"]))
    assert page.get_by_test_id("report-status").inner_text() == "已提交"

    page = staff.page
    page.get_by_role("link", name="审核", exact=True).click()
    page.locator("[data-testid=inbox] tr", has_text="南召县").get_by_role(
        "link", name="查看"
    ).click()
    page.get_by_role("button", name="审核通过").click()
    page.wait_for_load_state()

    page.goto(reverse("targets:target_detail", args=[target.pk]))
    page.wait_for_selector("#target-chart[data-loaded=true]")
    assert page.locator("#target-chart").get_attribute("data-last-actual") == "2"
    assert page.locator("#target-chart svg").count() == 1
    row_2024 = page.locator("[data-testid=series-table] tr", has_text="2024")
    assert row_2024.get_by_test_id("series-actual").inner_text() == "2"
    assert "验收报告.pdf" in page.get_by_test_id("reports").inner_text()
    assert staff.axe_violations() == []
    staff.shot("target")

    page.goto("/")
    # The target turns from 未填报 to 严重滞后 (未完成 when the plan is over).
    assert light_count(page, unmet) == unmet_before + 1
    assert light_count(page, "no_data") == no_data_before - 1


def test_supervisor_sees_the_plan_and_target_but_cannot_edit(open_session, supervisor_nanyang):
    plan = Plan.objects.get(code="nanyang-2021-2025")
    target = nanyang_new_stations()
    supervisor = open_session("supervisor_nanyang")
    page = supervisor.page

    page.goto(reverse("reports:plan_detail", args=[plan.pk]))
    assert page.get_by_role("heading", name=plan.title).is_visible()
    assert page.get_by_role("link", name="编辑规划").count() == 0
    assert page.get_by_role("link", name="编辑章节").count() == 0
    assert supervisor.axe_violations() == []
    supervisor.shot("plan")
    supervisor.shot("plan-top", full_page=False)

    page.goto(reverse("targets:target_detail", args=[target.pk]))
    page.wait_for_selector("#target-chart[data-loaded=true]")
    assert page.get_by_role("link", name="编辑指标").count() == 0

    response = page.goto(reverse("planning:plan_edit", args=[plan.pk]))
    assert response.status == 403

    page.goto(reverse("stations:station_list"))
    assert supervisor.axe_violations() == []
    supervisor.shot("stations")

    page.goto(reverse("reports:region_detail", args=[Region.objects.get(name="南召县").pk]))
    assert page.get_by_test_id("completeness").is_visible()
    assert supervisor.axe_violations() == []
    supervisor.shot("district")


def test_an_object_of_another_city_is_not_found(open_session, outsider):
    target = nanyang_new_stations()
    plan = Plan.objects.get(code="nanyang-2021-2025")
    page = open_session("outsider_fuxin").page
    assert page.goto(reverse("targets:target_detail", args=[target.pk])).status == 404
    assert page.goto(reverse("reports:plan_detail", args=[plan.pk])).status == 404
    page.goto("/")
    assert "南阳市“十四五”" not in page.locator("main").inner_text()


def test_the_station_register_maps_located_stations_without_leaving_the_host(
    open_session, staff_nanyang, settings
):
    # The seeds hold no coordinates: three 南阳 stations get some here (about 南召/西峡).
    located = {
        "南阳市南召县育才路消防站": (112.4295, 33.4902),
        "南阳市西峡县世纪大道消防站": (111.4734, 33.3075),
        "南阳市西峡县创业路消防站": (111.5120, 33.2890),
    }
    for name, (lon, lat) in located.items():
        Station.objects.filter(name=name).update(lon=lon, lat=lat)
    statuses = set(Station.objects.filter(name__in=located).values_list("status", flat=True))
    staff = open_session("staff_nanyang")
    page = staff.page

    page.goto(reverse("stations:station_list"))
    page.wait_for_selector("#station-map[data-loaded=true]")
    assert page.locator("#station-map").get_attribute("data-count") == "3"
    assert page.locator("#station-map canvas").count() >= 1
    assert "3 座消防站有坐标" in page.get_by_test_id("map-coverage").inner_text()
    assert page.get_by_test_id("map-row").count() == 3
    assert len(statuses) >= 2  # different shapes on the map, named in the legend line
    assert "圆形为执勤中" in page.locator("#station-map-note").inner_text()
    assert staff.axe_violations() == []
    staff.shot("stations-map")

    # Filtered to 西峡县: the map asks the API with the same filters.
    xixia = Region.objects.get(name="西峡县")
    page.goto(f"{reverse('stations:station_list')}?region={xixia.pk}")
    page.wait_for_selector("#station-map[data-loaded=true]")
    assert page.locator("#station-map").get_attribute("data-count") == "2"

    # A tile server of the deployment's own: tiles are asked of it, nothing of other hosts.
    settings.STATION_MAP_TILE_URL = "/tiles/{z}/{x}/{y}.png"
    tiles: list[str] = []
    page.on("request", lambda r: tiles.append(r.url) if "/tiles/" in r.url else None)
    page.goto(reverse("stations:station_list"))
    page.wait_for_selector("#station-map[data-loaded=true]")
    page.wait_for_timeout(300)
    assert tiles and all(url.startswith(staff.base_url + "/tiles/") for url in tiles)


def test_the_plan_page_filter_narrows_the_tree_in_the_browser(open_session, supervisor_nanyang):
    plan = Plan.objects.get(code="nanyang-2021-2025")
    # 严重滞后 while the plan runs; 未完成 once its period is over (the seed plan ends in 2025),
    # when one task marked done (the test's own) keeps the filter from matching every task.
    finished = plan_finished(plan, timezone.localdate())
    unmet = "unmet" if finished else "critical"
    if finished:
        Task.objects.filter(pk=plan.tasks.order_by("pk").first().pk).update(
            status=TaskStatus.COMPLETED
        )
    supervisor = open_session("supervisor_nanyang")
    page = supervisor.page
    page.goto(reverse("reports:plan_detail", args=[plan.pk]))
    all_rows = page.get_by_test_id("task-row").count()
    assert all_rows == plan.tasks.count()

    page.get_by_label("进度", exact=True).select_option(unmet)
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    assert f"progress={unmet}" in page.url
    result = page.get_by_test_id("filter-result").inner_text()
    critical = page.get_by_test_id("task-row").count()
    assert 0 < critical < all_rows
    assert result == f"共 {critical} 项任务符合筛选条件。"
    assert page.get_by_label("进度", exact=True).input_value() == unmet
    assert supervisor.axe_violations() == []
    supervisor.shot("plan-filtered")

    page.get_by_role("link", name="清除筛选").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("task-row").count() == all_rows
