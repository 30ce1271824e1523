"""Issue 16, end to end in a real browser: staff create a plan with a section, a task with two
units, a target with three milestones and its split to two counties, and open a reporting
period — all through the pages. A county liaison reports a figure, other staff approve it (four
eyes), the overview and the target page show it. Then staff adjust the target by a document
(文号): the status turns from 严重滞后 to 已完成, and the 考核表 (Excel, downloaded from its page)
shows 原目标值, 调整后目标值 and the 文号. The figures are the test's own.

The years follow today's date: the plan starts last year, so that last year is a completed
year with a figure and a milestone due (8 new stations planned, 6 built: 75 % of the pace is
严重滞后; the adjustment to 6 meets it)."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from planning.models import Plan, Task
from targets.models import Allocation, Target
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)

PLAN_CODE = "nanyang-e2e"
PLAN_TITLE = "南阳市消防救援事业发展规划（端到端测试）"
TARGET = "新建城市消防站（端到端）"
DOC = "宛消委〔2026〕9号"


def save(page, name: str = "保存") -> None:
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def status_text(page) -> str:
    return page.get_by_test_id("target-status").locator("[data-status]").first.inner_text()


def test_a_plan_from_creation_to_the_adjusted_assessment(seeded, open_session):
    today = timezone.localdate()
    start = today.year - 1  # a completed year to report
    make_user("staff_e2e", "staff", "南阳市")
    make_user("reviewer_e2e", "staff", "南阳市")
    make_user("liaison_e2e", "liaison", "南召县")

    # 1. Staff create the plan, a section and a task with a lead and a supporting unit.
    staff = open_session("staff_e2e")
    page = staff.page
    page.goto("/plans/")
    page.get_by_test_id("plan-create").click()
    page.wait_for_load_state()
    page.get_by_label("编码").fill(PLAN_CODE)
    page.get_by_label("标题").fill(PLAN_TITLE)
    page.get_by_label("类型").select_option("five_year")
    page.get_by_label("区划").select_option(label="南阳市")
    page.get_by_label("起始年度").fill(str(start))
    page.get_by_label("终止年度").fill(str(start + 4))
    page.get_by_label("修改原因").fill("按市政府部署编制")
    save(page)
    plan = Plan.objects.get(code=PLAN_CODE)
    assert page.url.endswith(f"/plans/{plan.pk}/")

    page.get_by_test_id("section-create").click()
    page.wait_for_load_state()
    page.get_by_label("标题").fill("消防站建设")
    save(page)
    page.locator("section", has_text="消防站建设").get_by_role("link", name="新增任务").click()
    page.wait_for_load_state()
    page.get_by_label("任务名称").fill("新建城市消防站")
    page.get_by_label("牵头单位").select_option(label="各级政府（南阳市）")
    page.get_by_label("配合单位").select_option(label="各行业部门（南阳市）")
    save(page)
    task = Task.objects.get(plan=plan, title="新建城市消防站")
    assert page.url.endswith(f"/plans/tasks/{task.pk}/")
    assert page.get_by_test_id("lead-units").inner_text() == "各级政府"
    assert page.get_by_test_id("support-units").inner_text() == "各行业部门"

    # 2. A target on the task, three milestones, and its split to two counties.
    page.get_by_test_id("target-create").click()
    page.wait_for_load_state()
    page.get_by_label("指标名称").fill(TARGET)
    page.get_by_label("计量方式").select_option("increment")
    page.get_by_label("计量单位").fill("座")
    page.get_by_label("目标值", exact=True).fill("10")
    page.get_by_label("目标年度").fill(str(start + 2))
    page.get_by_label("修改原因").fill("规划附件1")
    save(page)
    target = Target.objects.get(plan=plan, name=TARGET)
    assert page.url.endswith(f"/targets/{target.pk}/")
    assert target.task_id == task.pk and target.target_value == 10

    # 8 due at the end of last year; none due this year, whatever today's date.
    for due_on, value in (
        (f"{start}-12-31", "8"),
        (f"{start + 2}-06-30", "1"),
        (f"{start + 2}-12-31", "1"),
    ):
        page.get_by_test_id("milestone-create").click()
        page.wait_for_load_state()
        page.get_by_label("完成时限").fill(due_on)
        page.get_by_label("计划值").fill(value)
        save(page)
        assert page.url.endswith(f"/targets/{target.pk}/#milestones")
    assert sorted(target.milestones.values_list("planned_value", flat=True)) == [1, 1, 8]

    page.get_by_test_id("split-link").click()
    page.wait_for_load_state()
    page.get_by_label("南召县", exact=True).fill("6")
    page.get_by_label("西峡县", exact=True).fill("4")
    assert "与上级相符" in page.get_by_test_id("split-state").inner_text()
    page.fill("#id_reason", "按附件分解")
    save(page, "保存分解")
    assert page.url.endswith(f"/targets/{target.pk}/#cascade")
    shares = dict(Allocation.objects.filter(target=target).values_list("region__name", "value"))
    assert shares == {"南召县": 6, "西峡县": 4}

    # 3. The reporting period for last year, opened from the periods page (in the menu).
    page.get_by_role("link", name="填报期间", exact=True).click()
    page.wait_for_load_state()
    page.get_by_test_id(f"plan-{plan.pk}").get_by_role("link", name="开放期间").click()
    page.wait_for_load_state()
    page.get_by_label("填报期间").fill(str(start))
    page.get_by_label("报送截止日期").fill(f"{today + datetime.timedelta(days=30):%Y-%m-%d}")
    page.get_by_label("锁定日期").fill(f"{today + datetime.timedelta(days=60):%Y-%m-%d}")
    assert staff.axe_violations() == []
    save(page)
    assert str(start) in page.get_by_test_id(f"plan-{plan.pk}").inner_text()
    staff.shot("lifecycle-periods")

    # 4. The 南召县 liaison reports 6 stations built last year and submits them.
    liaison = open_session("liaison_e2e")
    page = liaison.page
    page.get_by_role("link", name="我的填报").click()
    page.wait_for_load_state()
    row = page.locator("[data-testid=owed] tr", has_text=TARGET).filter(has_text=str(start))
    assert liaison.axe_violations() == []
    row.get_by_role("link", name="填报").click()
    page.wait_for_load_state()
    page.get_by_label("数值", exact=True).fill("6")
    page.get_by_label("说明", exact=True).fill("南召县新建 6 座城市消防站已投用")
    save(page, "提交审核")
    assert page.get_by_test_id("report-status").inner_text() == "已提交"
    assert liaison.axe_violations() == []

    # 5. Another staff member approves it from the review inbox (bulk form: id:version).
    reviewer = open_session("reviewer_e2e")
    page = reviewer.page
    page.get_by_role("link", name="审核", exact=True).click()
    page.wait_for_load_state()
    assert reviewer.axe_violations() == []
    page.get_by_label(f"选择 {TARGET} 南召县").check()
    save(page, "批量审核通过所选")
    report = target.reports.get()
    assert (report.status, report.value) == ("approved", 6)
    assert (report.submitted_by.username, report.reviewed_by.username) == (
        "liaison_e2e",
        "reviewer_e2e",
    )

    # 6. The overview and the target page show it: 6 of the 8 due, 严重滞后.
    page.goto("/")
    card = page.locator("[data-testid=plan-card]", has_text=PLAN_TITLE)
    lights = card.get_by_test_id("target-lights")
    assert lights.locator("[data-status=critical]").get_attribute("data-count") == "1"
    page.goto(reverse("targets:target_detail", args=[target.pk]))
    page.wait_for_selector("#target-chart[data-loaded=true]")
    assert page.locator("#target-chart").get_attribute("data-last-actual") == "6"
    assert status_text(page) == "严重滞后"
    assert "实际 6 · 序时进度 8" in page.get_by_test_id("target-status").inner_text()
    reviewer.shot("lifecycle-target-before")
    page.goto(reverse("reports:plan_detail", args=[plan.pk]))
    assert "严重滞后 1" in page.get_by_test_id("plan-summary").inner_text()

    # 7. Staff adjust the target to 6 by a document: 已完成.
    page = staff.page
    page.goto(reverse("targets:target_detail", args=[target.pk]))
    assert status_text(page) == "严重滞后"
    page.locator("summary", has_text="指标调整").click()
    form = page.get_by_test_id("adjust-form")
    form.get_by_label("调整后目标值").fill("6")
    form.get_by_label("文号").fill(DOC)
    form.get_by_label("印发日期").fill(f"{today:%Y-%m-%d}")
    form.get_by_label("调整理由").fill("中期评估后按市政府批复调整")
    save(page, "登记调整")
    assert f"/targets/{target.pk}/" in page.url
    assert DOC in page.get_by_test_id("adjustments").inner_text()
    adjustment = target.adjustments.get()
    assert (adjustment.old_value, adjustment.new_value, adjustment.doc_number) == (10, 6, DOC)
    assert (adjustment.adopted_on, adjustment.actor.username) == (today, "staff_e2e")
    target.refresh_from_db()
    assert target.target_value == 10  # the plan as issued stays; the adjustment is in force
    assert status_text(page) == "已完成"
    assert staff.axe_violations() == []
    staff.shot("lifecycle-target-adjusted")
    page.goto("/")
    card = page.locator("[data-testid=plan-card]", has_text=PLAN_TITLE)
    lights = card.get_by_test_id("target-lights")
    assert lights.locator("[data-status=met]").get_attribute("data-count") == "1"
    assert lights.locator("[data-status=critical]").get_attribute("data-count") == "0"
    page.goto(reverse("reports:plan_detail", args=[plan.pk]))
    summary = page.get_by_test_id("plan-summary").inner_text()
    assert "已完成 1" in summary and "严重滞后" not in summary

    # 8. The 考核表 of the year, from the Excel page, downloaded: 原目标值 10, 调整后目标值 6, 文号.
    page.get_by_role("link", name="Excel 导入导出", exact=True).click()
    page.wait_for_load_state()
    form = page.get_by_test_id("assessment-form")
    plan_label = f"{PLAN_TITLE}（{start}—{start + 4}）"
    form.get_by_label("规划").select_option(label=plan_label)  # label 「规划 *」
    form.get_by_label("考核年度").fill(str(today.year))
    form.get_by_role("button", name="查看").click()
    page.wait_for_load_state()
    assert page.url.split("?")[0].endswith(reverse("reports:excel_assessment"))
    adjusted = page.get_by_test_id("items").get_by_test_id("adjusted").first.inner_text()
    assert adjusted == f"调整后（{DOC}）；原目标值 10"
    assert staff.axe_violations() == []
    with page.expect_download() as download:
        page.get_by_test_id("export").click()
    path = download.value.path()
    with open(path, "rb") as handle:
        book = openpyxl.load_workbook(io.BytesIO(handle.read()), data_only=True)
    rows = _rows_with(book, TARGET)
    by_sheet = {sheet: dict(zip(header, row, strict=True)) for sheet, header, row in rows}
    assert set(by_sheet) == {"南阳市本级", "南召县", "西峡县"}
    city = by_sheet["南阳市本级"]
    assert (city["原目标值"], city["调整后目标值"], city["调整文号"]) == (10, 6, DOC)
    assert (city["实际完成"], city["状态"]) == (6, "已完成")
    # The counties are judged against their shares, which the adjustment does not change.
    nanzhao = by_sheet["南召县"]
    assert (nanzhao["原目标值"], nanzhao["实际完成"], nanzhao["状态"]) == (6, 6, "已完成")
    assert by_sheet["西峡县"]["状态"] == "未填报"


def _rows_with(book, name: str) -> list[tuple[str, list, list]]:
    """(sheet, header, row) for each row naming ``name``; the header is the nearest row above
    with 「原目标值」 in it (the sheets have a title and grouped headings above the columns)."""
    found = []
    for sheet in book.worksheets:
        header: list = []
        for values in sheet.iter_rows(values_only=True):
            values = list(values)
            if "原目标值" in values:
                header = values
            elif header and name in values:
                found.append((sheet.title, header, values))
    return found
