"""Yearly figures through Excel: download the template, fill it as a liaison would (Chinese
number formats included), upload, preview, commit — and every refusal, each leaving the
database as it was. 南召县 owes three of 南阳's targets in 2024 (附件1 allocations: 3 new
stations, 3 key-town stations, 1 old station to upgrade)."""

import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Evidence, Region
from core.numbers import NumberError, parse_number
from core.services import ServiceError
from planning.models import Plan
from reports.excel import importers
from reports.excel.templates import ID_COLUMN
from reports.models import ImportBatch, ImportState
from targets import services
from targets.models import ProgressReport, ReportingPeriod, Target
from tests.conftest import make_user, open_period

pytestmark = pytest.mark.django_db

NANYANG = "nanyang-2021-2025"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Template rows for 南召县, in the plan's order.
NEW_STATIONS, KEY_TOWNS, OLD_STATIONS = 4, 5, 6


def plan() -> Plan:
    return Plan.objects.get(code=NANYANG)


def region(name: str) -> Region:
    return Region.objects.get(name=name)


def target(code: str) -> Target:
    return Target.objects.get(plan__code=NANYANG, code=code)


def download(client, user, county="南召县", period="2024") -> bytes:
    client.force_login(user)
    response = client.get(
        reverse("reports:excel_template"),
        {"plan": plan().pk, "region": region(county).pk, "period": period},
    )
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == XLSX
    return b"".join(response.streaming_content)


def fill(data: bytes, values: dict, *, column: str = "H") -> bytes:
    """Type into the template as a liaison would: openpyxl, cell by cell."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook["填报表"]
    for row, value in values.items():
        sheet[f"{column}{row}"] = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, user, data: bytes, *, county="南召县", period="2024", name="模板.xlsx", **extra):
    client.force_login(user)
    file = io.BytesIO(data)
    file.name = name
    fields = {
        "plan": plan().pk,
        "region": region(county).pk,
        "period": period,
        "mode": "submit",
        "file": file,
    } | extra
    return client.post(reverse("reports:excel_upload"), fields)


def commit(client, batch: ImportBatch, confirm_note: str = ""):
    return client.post(
        reverse("reports:excel_commit", args=[batch.pk]), {"confirm_note": confirm_note}
    )


def snapshot() -> tuple:
    """What an import may write: reports (with values and versions), evidence, batches."""
    reports = tuple(ProgressReport.objects.order_by("pk").values_list("pk", "value", "version"))
    history = ProgressReport.history.count()
    return reports, history, Evidence.objects.count(), ImportBatch.objects.count()


@pytest.fixture
def template(client, open_2024, liaison_nanzhao) -> bytes:
    return download(client, liaison_nanzhao)


# ------------------------------------------------------------------------------ template


def test_template_has_one_locked_labelled_row_per_target_owed(template, liaison_nanzhao):
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    assert workbook.sheetnames == ["填报表", "填表说明", "_meta"]
    assert workbook["_meta"].sheet_state == "veryHidden"
    sheet = workbook["填报表"]
    header = [c.value for c in sheet[3]]
    assert header == [
        "序号", "重点任务", "指标名称", "计量单位", "目标值", "本年度计划值", "上期审核值",
        "本期填报值", "填报说明", "异常值说明", "当前状态", "指标编号",
    ]  # fmt: skip
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert [r[2] for r in rows] == [
        "新建消防站",
        "新建改建全国重点镇消防站",
        "升级改造老旧消防站（投勤超过十五年）",
    ]
    # 南召县's own shares, and a fifth of each a year (no milestones: linear over 2021–2025).
    assert [r[4] for r in rows] == [3, 3, 1]
    assert [r[5] for r in rows] == [0.6, 0.6, 0.2]
    assert [r[10] for r in rows] == ["未填报"] * 3
    assert sheet.protection.sheet is True
    assert sheet["C4"].protection.locked is True
    assert sheet["H4"].protection.locked is False
    assert sheet.column_dimensions["L"].hidden is True
    validation = sheet.data_validations.dataValidation[0]
    assert validation.type == "whole" and "H4:H6" in str(validation.sqref)
    assert "填表说明" in workbook["填表说明"]["A1"].value


def test_template_for_a_region_outside_the_scope_is_refused(client, open_2024, liaison_xixia):
    client.force_login(liaison_xixia)
    response = client.get(
        reverse("reports:excel_template"),
        {"plan": plan().pk, "region": region("南召县").pk, "period": "2024"},
    )
    assert response.status_code == 400
    assert "不在您的填报范围内" in response.content.decode()


# ------------------------------------------------------------------------------ round trip


def test_round_trip_from_template_to_assessment_sheet(
    client, template, liaison_nanzhao, staff_nanyang, supervisor_nanyang
):
    filled = fill(template, {NEW_STATIONS: "１", KEY_TOWNS: "2个", OLD_STATIONS: "—"})
    response = upload(client, liaison_nanzhao, filled)
    assert response.status_code == 200, response.content.decode()[:2000]
    preview = response.context["preview"]
    assert [(r.row, r.state, r.value) for r in preview.rows] == [
        (NEW_STATIONS, "new", Decimal(1)),
        (KEY_TOWNS, "new", Decimal(2)),
        (OLD_STATIONS, "blank", None),
    ]
    batch = response.context["batch"]
    assert batch.state == ImportState.PREVIEWED
    assert not ProgressReport.objects.filter(region__name="南召县").exists()

    response = commit(client, batch)
    assert response.status_code == 302
    reports = ProgressReport.objects.filter(region__name="南召县", period="2024")
    assert {(r.target.code, r.value, r.status) for r in reports} == {
        ("tg-new-stations", Decimal(1), "submitted"),
        ("tg-b3-key-town", Decimal(2), "submitted"),
    }
    # The same history as the browser form: who, and the reason.
    record = reports.get(target__code="tg-new-stations").history.first()
    assert (record.history_user, record.history_change_reason) == (liaison_nanzhao, "提交")
    # The file is kept as evidence with its sha256, linked to the reports it wrote.
    batch.refresh_from_db()
    assert batch.state == ImportState.COMMITTED
    assert batch.evidence.sha256 == Evidence.digest(filled)
    assert {r.pk for r in batch.evidence.reports.all()} == {r.pk for r in reports}

    for report in reports:
        services.approve_report(report, actor=staff_nanyang)
    client.force_login(supervisor_nanyang)
    response = client.get(
        reverse("reports:excel_assessment"), {"plan": plan().pk, "year": 2024, "export": "xlsx"}
    )
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook["南召县"]
    rows = {r[2]: r for r in sheet.iter_rows(min_row=5, max_row=7, values_only=True)}
    new_stations = rows["新建消防站"]
    # 原目标值 3 (not adjusted: no 调整后目标值, no 文号), 年度计划 0.6, 实际完成 1, 完成率 1/3,
    # 序时进度 3 × 4/5 = 2.4, 滞后 (1/2.4 < 80 %).
    assert new_stations[5:13] == (3, None, None, 0.6, 1, pytest.approx(1 / 3), 2.4, "严重滞后")
    # Expected target: 5 points × pace 1/2.4.
    assert new_stations[13:15] == (5, pytest.approx(2.08))
    summary = {r[1]: r for r in workbook["汇总"].iter_rows(min_row=4, values_only=True)}
    assert summary["南召县"][2:4] == (3, 3)


def test_uploading_the_same_file_twice_changes_nothing(client, template, liaison_nanzhao):
    filled = fill(template, {NEW_STATIONS: 1, KEY_TOWNS: 2})
    commit(client, upload(client, liaison_nanzhao, filled).context["batch"])
    before = snapshot()

    response = upload(client, liaison_nanzhao, filled)
    preview = response.context["preview"]
    assert preview.counts["unchanged"] == 2 and not preview.to_write
    assert "没有需要导入的内容" in response.content.decode()
    commit(client, response.context["batch"])
    after = snapshot()
    assert after[:3] == before[:3]  # reports, history, evidence unchanged (one more batch)


def test_a_redownloaded_template_is_prefilled_and_uploads_as_unchanged(
    client, template, liaison_nanzhao
):
    commit(
        client, upload(client, liaison_nanzhao, fill(template, {NEW_STATIONS: 1})).context["batch"]
    )
    again = download(client, liaison_nanzhao)
    sheet = openpyxl.load_workbook(io.BytesIO(again))["填报表"]
    assert (sheet[f"H{NEW_STATIONS}"].value, sheet[f"K{NEW_STATIONS}"].value) == (1, "已提交")
    preview = upload(client, liaison_nanzhao, again).context["preview"]
    assert [r.state for r in preview.rows] == ["unchanged", "blank", "blank"]


def test_a_submitted_figure_cannot_be_changed_by_upload(client, template, liaison_nanzhao):
    commit(
        client, upload(client, liaison_nanzhao, fill(template, {NEW_STATIONS: 1})).context["batch"]
    )
    before = snapshot()
    response = upload(client, liaison_nanzhao, fill(template, {NEW_STATIONS: 2}))
    assert response.status_code == 400
    error = response.context["preview"].errors[0]
    assert (error.row, error.column) == (NEW_STATIONS, "本期填报值")
    assert "已提交" in error.message and "退回" in error.message
    assert "已已" not in error.message  # the status label already says 已 (issue 20)
    assert snapshot() == before


def test_drafts_are_saved_and_a_later_upload_submits_them(client, template, liaison_nanzhao):
    filled = fill(template, {NEW_STATIONS: 1})
    commit(client, upload(client, liaison_nanzhao, filled, mode="draft").context["batch"])
    report = ProgressReport.objects.get(region__name="南召县", target__code="tg-new-stations")
    assert report.status == "draft"
    response = upload(client, liaison_nanzhao, filled, mode="submit")
    assert response.context["preview"].rows[0].state == "changed"
    commit(client, response.context["batch"])
    report.refresh_from_db()
    assert (report.status, report.version) == ("submitted", 2)


def test_unusual_values_need_an_explanation_before_commit(client, template, liaison_nanzhao):
    # 10 new stations against 南召县's share of 3: more than three times the goal.
    response = upload(client, liaison_nanzhao, fill(template, {NEW_STATIONS: 10}))
    preview = response.context["preview"]
    assert "3 倍" in preview.rows[0].warnings[0]
    before = snapshot()
    response = commit(client, response.context["batch"])
    assert snapshot() == before
    assert response.status_code == 302

    commit(client, ImportBatch.objects.get(), confirm_note="县里新增 7 个乡镇站，已核实")
    report = ProgressReport.objects.get(region__name="南召县", target__code="tg-new-stations")
    assert (report.value, report.confirm_note) == (Decimal(10), "县里新增 7 个乡镇站，已核实")


def test_an_explanation_in_the_file_answers_the_warning(client, template, liaison_nanzhao):
    filled = fill(fill(template, {NEW_STATIONS: 10}), {NEW_STATIONS: "已核实"}, column="J")
    commit(client, upload(client, liaison_nanzhao, filled).context["batch"])
    report = ProgressReport.objects.get(region__name="南召县", target__code="tg-new-stations")
    assert report.confirm_note == "已核实"


# ------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("raw", "number_format", "unit", "expected"),
    [
        ("１２", None, "个", Decimal(12)),
        ("1,200", None, "个", Decimal(1200)),
        ("１，２００", None, "个", Decimal(1200)),
        ("3万", None, "人", Decimal(30000)),
        ("1.5万", None, "人", Decimal(15000)),
        ("95%", None, "%", Decimal(95)),
        ("９５％", None, "%", Decimal(95)),
        ("95", None, "%", Decimal(95)),
        (0.95, "0%", "%", Decimal("95.00")),
        ("12 个", None, "个", Decimal(12)),
        ("0.45‰", None, "‰", Decimal("0.45")),
        (3, "General", "个", Decimal(3)),
        (2.5, "General", "米", Decimal("2.5")),
        ("—", None, "个", None),
        ("", None, "个", None),
        ("　", None, "个", None),
        (None, None, "个", None),
    ],
)
def test_numbers_are_read_as_people_type_them(raw, number_format, unit, expected):
    assert parse_number(raw, number_format=number_format, measure_unit=unit) == expected


@pytest.mark.parametrize(
    ("raw", "unit", "message"),
    [
        ("1,20", "个", "千分位"),
        ("三个", "个", "不是数字"),
        ("95%", "个", "不应填写百分数"),
        (datetime.date(2024, 1, 1), "个", "日期"),
        (True, "个", "是/否"),
    ],
)
def test_what_is_not_a_number_says_what_is_expected(raw, unit, message):
    with pytest.raises(NumberError, match=message):
        parse_number(raw, measure_unit=unit)


def test_text_negative_and_fractional_counts_are_row_errors(client, template, liaison_nanzhao):
    before = snapshot()
    filled = fill(template, {NEW_STATIONS: "很多", KEY_TOWNS: -1, OLD_STATIONS: 1.5})
    response = upload(client, liaison_nanzhao, filled)
    assert response.status_code == 400
    errors = {(e.row, e.column): e.message for e in response.context["preview"].errors}
    assert "不是数字" in errors[(NEW_STATIONS, "本期填报值")]
    assert "不能为负数" in errors[(KEY_TOWNS, "本期填报值")]
    assert "整数" in errors[(OLD_STATIONS, "本期填报值")]
    assert response.context["batch"] is None
    assert snapshot() == before


# ------------------------------------------------------------------------------ refusals


def refused(response, text: str) -> None:
    assert response.status_code in (400, 403), response.status_code
    assert text in response.content.decode()


def test_a_file_that_is_not_xlsx_is_refused(client, open_2024, liaison_nanzhao):
    before = snapshot()
    refused(upload(client, liaison_nanzhao, b"a,b\n1,2\n", name="figures.csv"), "不是 .xlsx 文件")
    refused(upload(client, liaison_nanzhao, b"a,b\n1,2\n"), "不是 xlsx 格式")
    refused(upload(client, liaison_nanzhao, b"\xd0\xcf\x11\xe0old xls"), "另存为 .xlsx")
    assert snapshot() == before


def test_a_file_over_the_size_limit_is_refused(client, template, liaison_nanzhao, monkeypatch):
    monkeypatch.setattr(importers, "MAX_BYTES", 1000)
    before = snapshot()
    refused(upload(client, liaison_nanzhao, template), "超过上限")
    assert snapshot() == before


def test_a_zip_bomb_is_refused(client, open_2024, liaison_nanzhao):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))
    before = snapshot()
    refused(upload(client, liaison_nanzhao, out.getvalue()), "压缩炸弹")
    assert snapshot() == before


def rewrite_part(data: bytes, name: str, change) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target_zip:
        for item in source.infolist():
            content = source.read(item.filename)
            target_zip.writestr(item, change(content) if item.filename == name else content)
    return out.getvalue()


def test_an_xml_bomb_is_refused(client, template, liaison_nanzhao):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    bomb = rewrite_part(
        template,
        "xl/workbook.xml",
        lambda content: laughs + content.split(b"?>")[-1].replace(b"<sheets>", b"<sheets>&lol2;"),
    )
    before = snapshot()
    refused(upload(client, liaison_nanzhao, bomb), "XML 炸弹")
    assert snapshot() == before
    assert openpyxl.DEFUSEDXML is True  # and openpyxl itself parses with defusedxml


def test_a_template_for_another_region_or_period_is_refused(client, open_2024, staff_nanyang):
    open_period(NANYANG, "2023")
    nanzhao_2024 = download(client, staff_nanyang)
    before = snapshot()
    refused(upload(client, staff_nanyang, nanzhao_2024, county="西峡县"), "与所选的")
    refused(upload(client, staff_nanyang, nanzhao_2024, period="2023"), "南召县、2024")
    assert snapshot() == before


def test_a_workbook_that_is_not_our_template_is_refused(client, open_2024, liaison_nanzhao):
    workbook = openpyxl.Workbook()
    workbook.active.title = "填报表"
    workbook.active["H4"] = 1
    out = io.BytesIO()
    workbook.save(out)
    refused(upload(client, liaison_nanzhao, out.getvalue()), "不是本系统生成的填报模板")


def test_a_tampered_identity_is_refused(client, template, liaison_nanzhao):
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    token = workbook["_meta"]["B1"].value
    workbook["_meta"]["B1"] = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    out = io.BytesIO()
    workbook.save(out)
    refused(upload(client, liaison_nanzhao, out.getvalue()), "模板标识已被改动")


def test_a_tampered_row_id_is_a_row_error(client, template, liaison_nanzhao):
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    sheet = workbook["填报表"]
    key = sheet.cell(NEW_STATIONS, ID_COLUMN).value
    other = Target.objects.filter(plan__code="lianzhou-2021-2025").first().pk
    sheet.cell(NEW_STATIONS, ID_COLUMN).value = f"{other}-{key.split('-')[1]}"
    sheet[f"H{NEW_STATIONS}"] = 1
    sheet[f"H{KEY_TOWNS}"] = 1
    out = io.BytesIO()
    workbook.save(out)
    before = snapshot()
    response = upload(client, liaison_nanzhao, out.getvalue())
    assert response.status_code == 400
    error = response.context["preview"].errors[0]
    assert (error.row, error.column) == (NEW_STATIONS, "指标编号")
    assert "被改动" in error.message
    assert snapshot() == before


def test_formulas_instead_of_values_are_row_errors(client, template, liaison_nanzhao):
    before = snapshot()
    response = upload(client, liaison_nanzhao, fill(template, {NEW_STATIONS: "=1+1"}))
    assert response.status_code == 400
    error = response.context["preview"].errors[0]
    assert (error.row, error.column) == (NEW_STATIONS, "本期填报值")
    assert "公式" in error.message
    assert snapshot() == before


def test_merged_cells_in_the_table_are_refused(client, template, liaison_nanzhao):
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    workbook["填报表"].merge_cells(f"H{NEW_STATIONS}:H{KEY_TOWNS}")
    out = io.BytesIO()
    workbook.save(out)
    refused(upload(client, liaison_nanzhao, out.getvalue()), "合并单元格")


def test_targets_outside_the_uploaders_scope_are_refused(client, open_2024, staff_nanyang):
    """A liaison of a unit reports only for its own tasks: the staff template for 南召县 has
    targets of tasks the unit is not assigned to."""
    unit_liaison = make_user("liaison_nanzhao_unit", "liaison", "南召县")
    task = target("tg-b3-key-town").task
    unit = task.plan.region.units.first()
    task.assignments.create(unit=unit, role="lead")
    unit_liaison.profile.unit = unit
    unit_liaison.profile.save()
    filled = fill(download(client, staff_nanyang), {NEW_STATIONS: 1, KEY_TOWNS: 1})
    before = snapshot()
    response = upload(client, unit_liaison, filled)
    assert response.status_code == 400
    rows = {e.row: e.message for e in response.context["preview"].errors}
    assert "不在您本期的填报范围内" in rows[NEW_STATIONS]
    assert KEY_TOWNS not in rows
    assert snapshot() == before


def test_a_region_outside_the_scope_is_refused_by_the_service(template, liaison_xixia):
    with pytest.raises(importers.NotAllowed):
        importers.preview_upload(
            template, "a.xlsx", actor=liaison_xixia, plan=plan(), region=region("南召县"),
            period="2024",
        )  # fmt: skip


def test_a_locked_period_is_refused(client, template, liaison_nanzhao, open_2024):
    ReportingPeriod.objects.filter(pk=open_2024[NANYANG].pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=20),
        locks_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    before = snapshot()
    refused(upload(client, liaison_nanzhao, fill(template, {NEW_STATIONS: 1})), "锁定")
    assert snapshot() == before


def test_a_period_locked_between_preview_and_commit_writes_nothing(
    client, template, liaison_nanzhao, open_2024
):
    batch = upload(client, liaison_nanzhao, fill(template, {NEW_STATIONS: 1})).context["batch"]
    ReportingPeriod.objects.filter(pk=open_2024[NANYANG].pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=20),
        locks_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    before = snapshot()
    commit(client, batch)
    assert snapshot() == before
    batch.refresh_from_db()
    assert batch.state == ImportState.PREVIEWED


def test_a_period_is_refused_with_the_code_and_message_of_every_door(liaison_nanzhao):
    """One check for the form, the API and the file: targets.services.check_period_open."""
    nanzhao = region("南召县")
    for period, code in (("2023", "period_not_open"), ("2031", "period_outside_plan")):
        with pytest.raises(importers.ImportRefused) as by_file:
            importers.check_period(plan(), nanzhao, period)
        with pytest.raises(ServiceError) as by_service:
            services.check_period_open(plan(), nanzhao, period)
        assert by_file.value.code == by_service.value.code == code
        assert by_file.value.message == by_service.value.message
    with pytest.raises(ServiceError) as by_form:  # the form's and the API's save
        services.save_report(
            actor=liaison_nanzhao,
            target=target("tg-b3-key-town"),
            region=nanzhao,
            period="2023",
            value="1",
        )
    assert (by_form.value.code, by_form.value.message) == (
        "period_not_open",
        "期间 2023 尚未开放填报",
    )


# ------------------------------------------------------------------------------ concurrency


def test_a_second_upload_of_the_same_template_merges_cleanly(client, template, liaison_nanzhao):
    filled = fill(template, {NEW_STATIONS: 1, KEY_TOWNS: 2})
    first = upload(client, liaison_nanzhao, filled).context["batch"]
    second = upload(client, liaison_nanzhao, filled).context["batch"]
    commit(client, first)
    before = snapshot()
    response = commit(client, second)
    assert response.status_code == 302
    assert snapshot()[:3] == before[:3]  # the figures were already there: nothing written
    second.refresh_from_db()
    assert second.state == ImportState.COMMITTED


def test_a_conflicting_concurrent_upload_is_refused_whole(client, template, liaison_nanzhao):
    mine = upload(client, liaison_nanzhao, fill(template, {NEW_STATIONS: 1, KEY_TOWNS: 1}))
    theirs = upload(client, liaison_nanzhao, fill(template, {NEW_STATIONS: 2}), mode="draft")
    commit(client, theirs.context["batch"])
    before = snapshot()
    response = commit(client, mine.context["batch"])
    assert snapshot() == before  # neither row of the stale upload was written
    message = [str(m) for m in response.wsgi_request._messages][-1]
    assert "该指标本期已有填报" in message and "没有导入任何数据" in message


def test_a_batch_cannot_be_committed_twice_or_by_someone_else(
    client, template, liaison_nanzhao, staff_nanyang
):
    batch = upload(client, liaison_nanzhao, fill(template, {NEW_STATIONS: 1})).context["batch"]
    client.force_login(staff_nanyang)
    assert commit(client, batch).status_code == 404
    client.force_login(liaison_nanzhao)
    commit(client, batch)
    with pytest.raises(importers.ImportRefused, match="已经导入"):
        importers.commit_batch(batch.pk, actor=liaison_nanzhao)


def test_roles_without_reporting_cannot_upload(client, template, supervisor_nanyang):
    response = upload(client, supervisor_nanyang, template)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("plan_code", "region_name", "period"),
    [
        ("nanjing-2021-2023", "南京市", "2022"),
        ("haimen-2021-2025", "海门区", "2024"),
        ("nanyang-2021-2025", "南阳市", "2024"),
        ("fuxin-2021-2025", "阜新市", "2024"),
        ("lianzhou-2021-2025", "连州市", "2024"),
    ],
)
def test_every_seed_plan_gives_its_own_region_a_template(
    client, seeded, django_user_model, plan_code, region_name, period
):
    """Regression: a region whose figure rows are not contiguous needs several validation
    ranges; the template was a 500 for 南阳市, 阜新市, 连州市 and 海门区."""
    open_period(plan_code, period)
    client.force_login(django_user_model.objects.create_superuser("root_office", password=None))
    response = client.get(
        reverse("reports:excel_template"),
        {
            "plan": Plan.objects.get(code=plan_code).pk,
            "region": Region.objects.get(name=region_name).pk,
            "period": period,
        },
    )
    assert response.status_code == 200, response.content[:300]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook["填报表"]
    assert sheet.data_validations.dataValidation  # the figure column is validated
    assert sheet.max_row > 3
