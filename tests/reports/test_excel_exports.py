"""Exports opened with openpyxl on the seed plans: the 考核表 (headers, merged ranges, frozen
header, filters, print setup, number formats, status colours, values), the evaluation table
and the ledgers — scoped and filtered like their pages, with query counts that do not grow
with the rows."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import Region
from planning.models import Plan, Task, TaskUpdate
from reports.excel import exporters
from stations.models import Station
from targets import services
from targets.models import ProgressReport, Target
from tests import factories

pytestmark = pytest.mark.django_db

NANYANG = "nanyang-2021-2025"
LIANZHOU = "lianzhou-2021-2025"


def nanyang() -> Plan:
    return Plan.objects.get(code=NANYANG)


def workbook_of(response) -> openpyxl.Workbook:
    assert response.status_code == 200, response.content[:1000]
    assert response["Content-Type"] == exporters.XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def merged(sheet) -> set[str]:
    return {str(r) for r in sheet.merged_cells.ranges}


@pytest.fixture
def approved_2024(open_2024, liaison_nanzhao, staff_nanyang):
    """南召县 reports one new station for 2024, approved."""
    report = services.save_report(
        actor=liaison_nanzhao,
        target=Target.objects.get(plan__code=NANYANG, code="tg-new-stations"),
        region=Region.objects.get(name="南召县"),
        period="2024",
        value="1",
        submit=True,
    )
    return services.approve_report(report, actor=staff_nanyang)


# ------------------------------------------------------------------------------ 考核表


def test_assessment_sheet_is_laid_out_as_a_government_form(
    client, approved_2024, supervisor_nanyang
):
    client.force_login(supervisor_nanyang)
    response = client.get(
        reverse("reports:excel_assessment"), {"plan": nanyang().pk, "year": 2024, "export": "xlsx"}
    )
    workbook = workbook_of(response)
    counties = sorted({a.region.name for t in nanyang().targets.all() for a in t.allocations.all()})
    assert workbook.sheetnames == ["汇总", "南阳市本级", *counties]

    sheet = workbook["南召县"]
    assert sheet["A1"].value == "南阳市“十四五”消防救援事业发展规划2024年度考核表（南召县）"
    assert {"A1:P1", "A2:P2", "A3:A4", "B3:C3", "F3:I3", "J3:M3", "N3:O3", "P3:P4"} <= merged(sheet)
    assert [c.value for c in sheet[3]][:10] == [
        "序号", "考核内容", None, "责任单位", "计量单位", "目标", None, None, None, "完成情况",
    ]  # fmt: skip
    assert [c.value for c in sheet[4]][1:15] == [
        "任务", "指标", None, None, "原目标值", "调整后目标值", "调整文号", "年度计划",
        "实际完成", "完成率", "序时进度", "状态", "分值", "得分",
    ]  # fmt: skip
    assert sheet.freeze_panes == "D5"
    assert sheet.auto_filter.ref == "A4:P7"
    assert sheet.print_title_rows == "$3:$4"
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    # fitToWidth absent means 1 (the OOXML default; XlsxWriter writes only other values).
    assert (sheet.page_setup.fitToWidth or 1) == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True

    row = {sheet.cell(r, 3).value: r for r in range(5, 8)}["新建消防站"]
    assert sheet.cell(row, 6).value == 3  # 原目标值 (南召县's share); not adjusted:
    assert (sheet.cell(row, 7).value, sheet.cell(row, 8).value) == (None, None)
    assert sheet.cell(row, 10).value == 1  # 实际完成
    assert sheet.cell(row, 11).number_format == "0.0%"  # 完成率
    assert sheet.cell(row, 13).value == "严重滞后"
    assert sheet.cell(row, 13).fill.fgColor.rgb.endswith("FFC7CE")  # red
    assert sheet.cell(row, 15).number_format == "0.00"
    # Footer: total, scaled score, final score, grade (merged label cells).
    labels = [sheet.cell(r, 1).value for r in range(8, sheet.max_row + 1)]
    assert labels[0].startswith("合计") and labels[-1].startswith("考核等级：")
    assert "A8:N8" in merged(sheet)

    summary = workbook["汇总"]
    assert [c.value for c in summary[3]] == [
        "序号", "被考核单位", "考核项数", "计分项数", "应得分", "实得分", "折算得分", "扣分",
        "一票否决", "最终得分", "等级", "备注",
    ]  # fmt: skip
    rows = {r[1]: r for r in summary.iter_rows(min_row=4, values_only=True)}
    assert set(rows) == {"南阳市本级", *counties}
    nanzhao = rows["南召县"]
    # Three expected targets of 5 points; only new stations has a figure: 5 × 1/2.4 = 2.08.
    assert nanzhao[2:7] == (3, 3, 15, pytest.approx(2.08), pytest.approx(13.89))
    assert nanzhao[9:11] == (pytest.approx(13.89), "不合格")


def test_assessment_sheet_by_unit_has_one_sheet_per_lead_unit(client, seeded, supervisor_nanyang):
    client.force_login(supervisor_nanyang)
    response = client.get(
        reverse("reports:excel_assessment"),
        {"plan": nanyang().pk, "year": 2023, "by": "unit", "export": "xlsx"},
    )
    workbook = workbook_of(response)
    leads = {
        a.unit.name[:31]
        for task in Task.objects.filter(plan__code=NANYANG)
        for a in task.assignments.all()
        if a.role == "lead"
    }
    assert set(workbook.sheetnames[2:]) <= leads
    assert len(workbook.sheetnames) > 3


def test_assessment_page_shows_scores_and_offers_the_export(client, approved_2024, staff_nanyang):
    client.force_login(staff_nanyang)
    response = client.get(reverse("reports:excel_assessment"), {"plan": nanyang().pk, "year": 2024})
    assert response.status_code == 200
    page = response.content.decode()
    assert "export=xlsx" in page and "评分规则" in page
    groups = {g.label: g for g in response.context["groups"]}
    assert groups["南召县"].final_score == Decimal("13.89")


def test_assessment_of_a_year_outside_the_plan_says_so(client, seeded, supervisor_nanyang):
    client.force_login(supervisor_nanyang)
    response = client.get(reverse("reports:excel_assessment"), {"plan": nanyang().pk, "year": 2030})
    assert response.status_code == 400
    assert "不在该规划的规划期 2021—2025 内" in response.content.decode()


def test_liaisons_cannot_export_and_outsiders_cannot_pick_the_plan(
    client, seeded, liaison_nanzhao, outsider
):
    client.force_login(liaison_nanzhao)
    query = {"plan": nanyang().pk, "year": 2024, "export": "xlsx"}
    assert client.get(reverse("reports:excel_assessment"), query).status_code == 403
    client.force_login(outsider)
    response = client.get(reverse("reports:excel_assessment"), query)
    assert response.status_code == 400
    assert "不在您的范围内" in response.content.decode()


def test_a_county_supervisor_gets_only_the_county_sheet(client, seeded):
    from tests.conftest import make_user

    county = make_user("supervisor_nanzhao", "supervisor", "南召县")
    client.force_login(county)
    response = client.get(
        reverse("reports:excel_assessment"), {"plan": nanyang().pk, "year": 2024, "export": "xlsx"}
    )
    assert workbook_of(response).sheetnames == ["汇总", "南阳市本级", "南召县"]


# ------------------------------------------------------------------------------ 中期评估


def test_evaluation_table_has_baseline_target_current_pace_and_verdict(
    client, approved_2024, supervisor_nanyang
):
    client.force_login(supervisor_nanyang)
    response = client.get(
        reverse("reports:excel_evaluation"),
        {"plan": nanyang().pk, "on": "2024-12-31", "export": "xlsx"},
    )
    sheet = workbook_of(response)["中期评估"]
    assert sheet["A1"].value == "南阳市“十四五”消防救援事业发展规划实施情况评估表"
    headers = [c.value for c in sheet[4]]
    assert headers[6:18] == [
        "基期值", "基期年度", "原目标值", "调整后目标值", "调整文号", "目标年度", "当前值",
        "序时进度", "进度比", "预计期末值", "状态", "评估结论",
    ]  # fmt: skip
    assert {"G3:H3", "I3:L3", "M3:P3", "Q3:R3"} <= merged(sheet)
    rows = [r for r in sheet.iter_rows(min_row=5, values_only=True)]
    nanzhao = next(r for r in rows if r[2] == "其中：新建消防站" and r[3] == "南召县")
    # 1 of 3 by 2024-12-31 against 2.4 expected: pace 42 %; the trend (1 in 4 years) gives
    # 1.25 by 2025, short of 3: 难以完成.
    assert nanzhao[8:18] == (
        3, None, None, 2025, 1, 2.4, pytest.approx(1 / 2.4), 1.25, "严重滞后", "难以完成",
    )  # fmt: skip
    assert sheet.cell(5, 15).number_format == "0.0%"
    assert {r[17] for r in rows} <= {"超前", "正常", "滞后", "难以完成", "无法评估"}


def test_evaluation_page_lists_the_targets(client, seeded, supervisor_nanyang):
    client.force_login(supervisor_nanyang)
    response = client.get(reverse("reports:excel_evaluation"), {"plan": nanyang().pk})
    assert response.status_code == 200
    assert len(response.context["rows"]) == 57 + 36  # targets and their county allocations


# ------------------------------------------------------------------------------ ledgers


def test_task_ledger_lists_units_due_dates_status_and_latest_update(
    client, seeded, supervisor_nanyang
):
    task = Task.objects.filter(plan__code=NANYANG, assignments__isnull=False).first()
    TaskUpdate.objects.create(task=task, text="已完成选址", percent=30)
    client.force_login(supervisor_nanyang)
    response = client.get(reverse("reports:excel_task_ledger"), {"plan": nanyang().pk})
    sheet = workbook_of(response)["任务台账"]
    assert [c.value for c in sheet[3]] == [
        "序号", "规划", "章节", "任务编号", "重点任务", "牵头单位", "配合单位", "完成时限",
        "状态", "最新进展", "进展时间", "完成百分比",
    ]  # fmt: skip
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert len(rows) == Task.objects.filter(plan__code=NANYANG).count()
    row = next(r for r in rows if r[4] == task.title)
    assert (row[9], row[11]) == ("已完成选址", 30)
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref == f"A3:L{len(rows) + 3}"


def test_station_register_is_scoped_and_filtered_like_the_page(client, seeded, supervisor_nanyang):
    client.force_login(supervisor_nanyang)
    sheet = workbook_of(client.get(reverse("reports:excel_station_register")))["消防站台账"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    visible = Station.objects.for_user(supervisor_nanyang)
    assert len(rows) == visible.count() > 0
    assert {r[2] for r in rows} == set(visible.values_list("region__name", flat=True))
    assert (
        not Station.objects.filter(region__name="阜新市")
        .filter(name__in=[r[1] for r in rows])
        .exists()
    )
    status = Station.objects.filter(pk__in=visible).values_list("status", flat=True).first()
    filtered = workbook_of(
        client.get(reverse("reports:excel_station_register"), {"status": status})
    )
    expected = visible.filter(status=status).count()
    assert len(list(filtered["消防站台账"].iter_rows(min_row=4))) == expected


def test_a_bad_filter_is_refused_rather_than_ignored(client, seeded, supervisor_nanyang):
    client.force_login(supervisor_nanyang)
    response = client.get(reverse("reports:excel_station_register"), {"status": "demolished"})
    assert response.status_code == 400
    assert "状态" in response.content.decode()


def test_report_ledger_lists_reports_with_their_status(client, approved_2024, staff_nanyang):
    client.force_login(staff_nanyang)
    sheet = workbook_of(client.get(reverse("reports:excel_report_ledger"), {"plan": nanyang().pk}))[
        "填报记录"
    ]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [(r[2], r[4], r[5], r[6], r[7]) for r in rows] == [
        ("新建消防站", "南召县", "2024", 1, "已审核")
    ]


def test_viewers_cannot_export_ledgers(client, seeded, viewer_nanyang):
    client.force_login(viewer_nanyang)
    assert client.get(reverse("reports:excel_task_ledger")).status_code == 403
    assert client.get(reverse("reports:excel_station_register")).status_code == 403


@pytest.mark.parametrize("rows", [1, 30])
def test_ledger_queries_do_not_grow_with_rows(client, seeded, supervisor_nanyang, rows):
    owner = factories.plan("ledger-plan", region=Region.objects.get(name="南阳市"))
    unit = owner.region.units.first()
    for number in range(rows):
        task = factories.task(owner, code=f"t{number}")
        task.assignments.create(unit=unit, role="lead")
        TaskUpdate.objects.create(task=task, text="进展", percent=10)
    client.force_login(supervisor_nanyang)
    url = reverse("reports:excel_task_ledger")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"plan": owner.pk})
        workbook_of(response)
    # session, user with profile, region tree (scope), the chosen plan (the filter's scoped
    # choice), the count (background job above JOB_EXPORT_THRESHOLD rows?), the tasks with
    # their section and plan (one server-side cursor), then per chunk of 2 000 tasks their
    # units and their latest updates (DISTINCT ON) — the same for 1 and 30.
    assert len(queries) == 8, [q["sql"][:80] for q in queries]


# ------------------------------------------------------------------------------ pages


def test_excel_home_offers_templates_owed_and_the_exports(client, open_2024, liaison_nanzhao):
    client.force_login(liaison_nanzhao)
    response = client.get(reverse("reports:excel_home"))
    assert response.status_code == 200
    owed = response.context["owed"]
    assert [(e["region_name"], e["period"].period, e["owed"]) for e in owed] == [
        ("南召县", "2024", 3)
    ]
    assert "下载填报模板" in response.content.decode()
    assert not response.context["can_export"]


def test_excel_home_is_closed_to_viewers(client, seeded, viewer_nanyang):
    client.force_login(viewer_nanyang)
    assert client.get(reverse("reports:excel_home")).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client, seeded):
    response = client.get(reverse("reports:excel_assessment"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_lianzhou_assessment_weighs_binding_targets_more(client, seeded, staff_lianzhou):
    client.force_login(staff_lianzhou)
    plan = Plan.objects.get(code=LIANZHOU)
    response = client.get(reverse("reports:excel_assessment"), {"plan": plan.pk, "year": 2023})
    items = response.context["assessment"].overall.items
    points = {i.name: i.points for i in items if i.kind == "target"}
    assert points["年均10万人口火灾死亡率"] == Decimal(10)  # binding
    assert points["十万人拥有消防救援站"] == Decimal(5)  # expected


# ------------------------------------------------------------------------------ API


def test_api_exports_answer_tokens_and_check_the_role(seeded, supervisor_nanyang, liaison_nanzhao):
    from rest_framework.test import APIRequestFactory

    from accounts.services import issue_api_token
    from reports.excel import api

    assert {p.name for p in api.urlpatterns} >= {"api_export_assessment", "api_export_tasks"}
    token = issue_api_token(supervisor_nanyang)
    view = api.AssessmentExport.as_view()
    factory = APIRequestFactory()
    query = {"plan": nanyang().pk, "year": 2024}
    request = factory.get("/", query, HTTP_AUTHORIZATION=f"Token {token.key}")
    response = view(request)
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames[0] == "汇总"

    bad = view(factory.get("/", {"plan": nanyang().pk, "year": 2031},
                           HTTP_AUTHORIZATION=f"Token {token.key}"))  # fmt: skip
    assert bad.status_code == 400
    liaison = issue_api_token(liaison_nanzhao)
    denied = view(factory.get("/", query, HTTP_AUTHORIZATION=f"Token {liaison.key}"))
    assert denied.status_code == 403


@pytest.mark.parametrize("rows", [1, 30])
def test_assessment_page_queries_do_not_grow_with_items(client, seeded, staff_nanyang, rows):
    owner = factories.plan("count-plan", region=Region.objects.get(name="南阳市"))
    county = Region.objects.get(name="南召县")
    for number in range(rows):
        target = factories.target(owner, code=f"g{number}", measure_unit="个")
        target.allocations.create(region=county, value=1)
        ProgressReport.objects.create(
            target=target, region=county, period="2022", value=1, status="approved"
        )
    client.force_login(staff_nanyang)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("reports:excel_assessment"), {"plan": owner.pk, "year": 2023})
    assert response.status_code == 200
    assert len(response.context["assessment"].groups[0].items) == rows
    # session, user with profile, region tree, the chosen plan; the scheme (none); the status
    # board: targets (with their plans), tasks, the engine's inputs (milestones, allocations,
    # the status query of the roll-ups), the region tree when the allocations' names are
    # read — the plan has no tasks, so no task milestones, updates or assignments are asked
    # for; the rules link's CHANGE check; the header's notices. The same for 1 and for 30
    # targets. The first read of the year's judgements judges them and stores them
    # (targets.judgement: the store's read, the engine's inputs, the upsert); the next read
    # finds them stored and skips the engine.
    assert len(queries) == 20, [q["sql"][:60] for q in queries]
    with CaptureQueriesContext(connection) as again:
        client.get(reverse("reports:excel_assessment"), {"plan": owner.pk, "year": 2023})
    assert len(again) == 15, [q["sql"][:60] for q in again]
