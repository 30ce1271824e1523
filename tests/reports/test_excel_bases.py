"""The figures template's 基础数据 sheet: the bases 连州's formulas read for the region and
year (fire deaths, population, full-time firefighters), filled in the workbook, shown in the
preview and written by the commit through targets.bases — and back out in the next template."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from core.models import Region
from planning.models import Plan
from reports.excel import importers
from reports.excel.templates import BASES_SHEET, DATA_SHEET, figures_template, owed_rows
from reports.models import ImportBatch
from targets.models import BaseFigure, FireStatistic

pytestmark = pytest.mark.django_db

LIANZHOU = "lianzhou-2021-2025"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIRST = 4  # the sheet's first data row: deaths, population, fulltime_firefighters


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


def lianzhou() -> tuple[Plan, Region]:
    plan = Plan.objects.get(code=LIANZHOU)
    return plan, plan.region


def template(user) -> bytes:
    plan, region = lianzhou()
    workbook = figures_template(
        owed_rows(user, plan, region, "2024"), plan=plan, region=region, period="2024", user=user
    )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def fill(data: bytes, values: dict[int, object], *, column: str = "F", sheet=BASES_SHEET) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for row, value in values.items():
        workbook[sheet][f"{column}{row}"] = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def preview(user, data: bytes) -> importers.Preview:
    plan, region = lianzhou()
    return importers.preview_upload(
        data, "连州2024.xlsx", actor=user, plan=plan, region=region, period="2024"
    )


def rows_of(data: bytes) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return list(workbook[BASES_SHEET].iter_rows(min_row=FIRST, values_only=True))


def test_the_template_has_a_bases_sheet_with_what_the_formulas_need(open_2024, liaison_lianzhou):
    data = template(liaison_lianzhou)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames[:2] == [DATA_SHEET, BASES_SHEET]
    sheet = workbook[BASES_SHEET]
    assert sheet.protection.sheet and sheet.column_dimensions["H"].hidden
    rows = rows_of(data)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("死亡人数", "人", 2024),
        ("常住人口", "人", 2024),
        ("专职消防救援人员", "人", 2024),
    ]
    assert "年均10万人口火灾死亡率" in rows[1][6]
    assert sheet["F4"].protection.locked is False and sheet["E4"].protection.locked is True


def test_the_bases_sheet_round_trips_through_preview_and_commit(open_2024, liaison_lianzhou):
    _, region = lianzhou()
    data = fill(template(liaison_lianzhou), {FIRST: 2, FIRST + 1: "38万", FIRST + 2: "1,50"})
    refused = preview(liaison_lianzhou, data)
    assert [r.state for r in refused.bases] == ["new", "new", "error"]
    assert "千分位" in refused.errors[0].message and refused.errors[0].row == FIRST + 2

    data = fill(data, {FIRST + 2: "150"})
    shown = preview(liaison_lianzhou, data)
    assert not shown.errors
    assert [(r.item.key, r.value, r.state) for r in shown.bases] == [
        ("deaths", Decimal(2), "new"),
        ("population", Decimal(380000), "new"),
        ("fulltime_firefighters", Decimal(150), "new"),
    ]
    assert not FireStatistic.objects.filter(region=region, year=2024).exists()  # preview only
    batch = importers.create_batch(shown, data, "连州2024.xlsx", actor=liaison_lianzhou)
    result = importers.commit_batch(batch.pk, actor=liaison_lianzhou)

    assert result.bases_written == ["deaths", "population", "fulltime_firefighters"]
    assert FireStatistic.objects.get(region=region, year=2024).deaths == 2
    population = BaseFigure.objects.get(region=region, year=2024, key="population")
    assert population.value == 380000
    assert population.history.first().history_change_reason == "Excel 导入（连州2024.xlsx）"

    again = template(liaison_lianzhou)
    assert [(r[4], r[5]) for r in rows_of(again)] == [(2, 2), (380000, 380000), (150, 150)]
    unchanged = preview(liaison_lianzhou, again)
    assert [r.state for r in unchanged.bases] == ["unchanged"] * 3
    assert unchanged.write_count == 0

    corrected = preview(liaison_lianzhou, fill(again, {FIRST + 1: 381000, FIRST: None}))
    assert [r.state for r in corrected.bases] == ["blank", "changed", "unchanged"]
    batch = importers.create_batch(corrected, fill(again, {FIRST + 1: 381000, FIRST: None}),
                                   "更正.xlsx", actor=liaison_lianzhou)  # fmt: skip
    importers.commit_batch(batch.pk, actor=liaison_lianzhou)
    population.refresh_from_db()
    assert (population.value, population.version) == (381000, 2)
    assert FireStatistic.objects.get(region=region, year=2024).deaths == 2  # blank kept it


def test_the_upload_page_shows_the_bases_rows_and_commits_them(client, open_2024, liaison_lianzhou):
    plan, region = lianzhou()
    client.force_login(liaison_lianzhou)
    response = client.get(
        reverse("reports:excel_template"), {"plan": plan.pk, "region": region.pk, "period": "2024"}
    )
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    data = fill(b"".join(response.streaming_content), {FIRST + 1: 390000})
    file = io.BytesIO(data)
    file.name = "连州.xlsx"
    shown = client.post(
        reverse("reports:excel_upload"),
        {"plan": plan.pk, "region": region.pk, "period": "2024", "mode": "draft", "file": file},
    )
    assert shown.status_code == 200, shown.content.decode()[:3000]
    html = shown.content.decode()
    assert 'data-testid="preview-bases"' in html and "常住人口" in html
    assert 'data-state="new"' in html and "确认导入（1 条）" in html
    batch = ImportBatch.objects.get(uploaded_by=liaison_lianzhou)
    committed = client.post(reverse("reports:excel_commit", args=[batch.pk]), {})
    assert committed.status_code == 302
    assert BaseFigure.objects.get(region=region, year=2024, key="population").value == 390000


def test_a_tampered_or_copied_bases_row_is_a_row_error_and_nothing_is_written(
    open_2024, liaison_lianzhou
):
    _, region = lianzhou()
    data = fill(template(liaison_lianzhou), {FIRST + 1: 400000})
    data = fill(data, {FIRST: "population|0000000000000000"}, column="H")
    shown = preview(liaison_lianzhou, data)
    assert shown.bases[0].state == "error" and "被改动" in shown.bases[0].errors[0].message
    with pytest.raises(importers.ImportRefused):
        importers.create_batch(shown, data, "x.xlsx", actor=liaison_lianzhou)
    assert not BaseFigure.objects.filter(region=region, year=2024, key="population").exists()


def test_a_base_changed_between_preview_and_commit_refuses_the_commit(
    open_2024, liaison_lianzhou, staff_lianzhou
):
    from targets import bases

    _, region = lianzhou()
    data = fill(template(liaison_lianzhou), {FIRST + 1: 400000})
    batch = importers.create_batch(
        preview(liaison_lianzhou, data), data, "x.xlsx", actor=liaison_lianzhou
    )
    bases.save_base_figures(region, 2024, actor=staff_lianzhou, values={"population": 399000})

    with pytest.raises(importers.ImportRefused, match="已被他人修改"):
        importers.commit_batch(batch.pk, actor=liaison_lianzhou)
    assert BaseFigure.objects.get(region=region, year=2024, key="population").value == 399000
