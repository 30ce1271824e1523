"""Hostile and broken uploads of the figures template: each refused before openpyxl reads a
byte where the file itself gives it away (size, magic bytes, zip directory, XML prolog, row
numbers), with a stable code and a Chinese message, and nothing written — no report, no
history, no batch, no evidence, no file on disk. Cells that cannot be a figure (formulas,
NaN, 30-digit numbers, decimal commas, negatives) are row errors with row and column.

There is no upload endpoint in the API (imports are a page: upload → preview → commit), so
each file goes through the page and through the importer's service function, whose
``ImportRefused.code`` is what an API would answer.
"""

import io
import time
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from core.numbers import NumberError, parse_number
from reports.excel import importers, upload_guard
from tests.reports import hostile_files as hostile
from tests.reports.test_excel_import import (
    KEY_TOWNS,
    NEW_STATIONS,
    OLD_STATIONS,
    download,
    fill,
    plan,
    region,
    snapshot,
    upload,
)

pytestmark = pytest.mark.django_db

VALUE = "本期填报值"
NOTE = "填报说明"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return settings.MEDIA_ROOT


@pytest.fixture
def template(client, open_2024, liaison_nanzhao) -> bytes:
    return download(client, liaison_nanzhao)


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def preview(data: bytes, user, name: str = "模板.xlsx"):
    return importers.preview_upload(
        data, name, actor=user, plan=plan(), region=region("南召县"), period="2024"
    )


# Each hostile file: how it is built (from the real template where it can be), the code the
# service answers and words the page shows.
CASES = {
    "zip bomb (1 GiB of zeros)": (lambda t: hostile.zip_bomb(), "zip_bomb", "压缩炸弹"),
    "billion laughs": (hostile.billion_laughs, "xml_entities", "XML 炸弹"),
    "billion laughs after 64 KB of comments": (
        hostile.billion_laughs_after_padding,
        "xml_entities",
        "XML 炸弹",
    ),
    "billion laughs in a part not named .xml": (
        hostile.bomb_in_a_part_named_otherwise,
        "xml_entities",
        "XML 炸弹",
    ),
    "billion laughs in UTF-16BE without a byte-order mark": (
        lambda t: hostile.bomb_in_a_part_named_otherwise(t, utf16=True),
        "xml_encoding",
        "UTF-8",
    ),
    "external entity (XXE)": (hostile.external_entity, "xml_entities", "外部实体"),
    "XML part in UTF-16": (hostile.utf16_part, "xml_encoding", "UTF-8"),
    "20 000 zip entries": (lambda t: hostile.many_entries(20_000), "too_many_parts", "部件"),
    "truncated (first half)": (hostile.truncated, "corrupt", "损坏或不完整"),
    "encrypted workbook": (
        lambda t: hostile.encrypted_workbook(),
        "encrypted",
        "文件已加密或为旧版 .xls 格式，请另存为 .xlsx",
    ),
    "old .xls renamed": (
        lambda t: hostile.legacy_xls(),
        "legacy_xls",
        "文件已加密或为旧版 .xls 格式，请另存为 .xlsx",
    ),
    "CSV renamed": (lambda t: hostile.csv_renamed(), "text_file", "CSV"),
    "GBK CSV renamed": (lambda t: hostile.csv_gbk_renamed(), "text_file", "CSV"),
    "HTML renamed": (lambda t: hostile.html_renamed(), "html_file", "HTML"),
    "PDF renamed": (lambda t: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "not_xlsx", "PDF"),
    ".xlsm renamed": (lambda t: hostile.xlsm_renamed(), "macros", "宏"),
    ".xlsm content type without VBA": (
        lambda t: hostile.xlsm_renamed(with_vba=False),
        "macros",
        "宏",
    ),
    "Word document renamed": (lambda t: hostile.word_document_renamed(), "not_workbook", "工作簿"),
    "empty file": (lambda t: b"", "empty_file", "空的"),
    "1 000 001 rows": (lambda t: hostile.million_rows(), "too_many_rows", "超过上限"),
    "1 000 001 rows, dimension claiming A1": (
        lambda t: hostile.million_rows(lying_dimension=True),
        "too_many_rows",
        "超过上限",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_upload_is_refused_with_nothing_written(
    case, client, template, liaison_nanzhao, media
):
    build, code, words = CASES[case]
    data = build(template)
    before = snapshot()

    with pytest.raises(importers.ImportRefused) as refused:
        preview(data, liaison_nanzhao)
    assert refused.value.code == code

    response = upload(client, liaison_nanzhao, data)
    assert response.status_code == 400
    assert words in response.content.decode()
    if data:  # (an empty file is refused by Django's FileField first, in its own words)
        assert response.context["upload_form"].errors["file"] == [refused.value.message]
    assert snapshot() == before
    assert stored_files(media) == []


def test_the_unaltered_template_and_a_plain_workbook_pass_the_guard(template):
    """The control for the cases above: the same bases, not altered, are accepted."""
    limits = upload_guard.Limits()
    upload_guard.check_workbook_upload("模板.xlsx", template, limits)
    upload_guard.check_workbook_upload("a.xlsx", hostile.minimal_workbook(), limits)


def test_names_other_than_xlsx_are_refused_with_what_to_do(client, open_2024, liaison_nanzhao):
    before = snapshot()
    for name, words in [("a.xls", "旧版 .xls"), ("a.xlsm", "宏"), ("a.csv", "CSV")]:
        response = upload(client, liaison_nanzhao, hostile.minimal_workbook(), name=name)
        assert response.status_code == 400
        assert "不是 .xlsx 文件" in response.content.decode()
        assert words in response.content.decode()
    assert snapshot() == before


# ------------------------------------------------------------------------------ the guard


def test_a_hundred_thousand_entries_are_refused_from_the_directory():
    """(Over the size limit too; raised here so the entry count is what refuses it.)"""
    data = hostile.many_entries(100_000)
    with pytest.raises(importers.ImportRefused) as refused:
        upload_guard.check_workbook_upload("a.xlsx", data, upload_guard.Limits(max_bytes=len(data)))
    assert refused.value.code == "too_many_parts"
    assert "100009" in refused.value.message


def test_a_zip_bomb_is_refused_without_inflating_anything(monkeypatch):
    # Built before the spy goes in: the bomb is made through ZipFile.open (each part of the
    # base workbook read, then written) on first use in a process, and under xdist this test
    # may be the first in its worker to need it — what CI on 8f5adc2 saw.
    bomb = hostile.zip_bomb()
    opened = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    with pytest.raises(importers.ImportRefused) as refused:
        upload_guard.check_workbook_upload("a.xlsx", bomb, upload_guard.Limits())
    assert refused.value.code == "zip_bomb"
    assert opened == []
    # The per-entry ratio refuses it even under a generous total.
    generous = upload_guard.Limits(max_uncompressed_bytes=2 * 1024**3)
    with pytest.raises(importers.ImportRefused, match="压缩比"):
        upload_guard.check_workbook_upload("a.xlsx", hostile.zip_bomb(), generous)


def test_a_million_row_sheet_is_refused_while_streaming_in_flat_memory():
    """The sheet claims A1:A1 and holds 1 000 001 rows (45 MB of XML): the rows are counted
    as they inflate and the scan stops at the first row over the limit."""
    data = hostile.million_rows(lying_dimension=True)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(importers.ImportRefused) as refused:
            upload_guard.check_workbook_upload("a.xlsx", data, upload_guard.Limits())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.code == "too_many_rows"
    assert "20001" in refused.value.message  # stopped at the first row over the limit
    assert peak < 8 * 1024 * 1024  # a few 1 MiB chunks, never the sheet
    assert time.perf_counter() - started < 10


def test_the_row_limit_counts_rows_without_numbers_and_respects_the_setting():
    sheet = (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet><sheetData>'
        + b"<row><c><v>1</v></c></row>" * 30
        + b"</sheetData></worksheet>"
    )
    data = hostile.rewrite(hostile.minimal_workbook(), {hostile.SHEET: sheet})
    upload_guard.check_workbook_upload("a.xlsx", data, upload_guard.Limits(max_rows=30))
    with pytest.raises(importers.ImportRefused, match="至少有 30 行"):
        upload_guard.check_workbook_upload("a.xlsx", data, upload_guard.Limits(max_rows=29))


def test_the_import_row_limit_reaches_the_guard(template, liaison_nanzhao, monkeypatch):
    """MAX_ROWS counts data rows from row 4; the guard applies it to every sheet (the help
    sheet has some 25 rows) before calamine reads any."""
    monkeypatch.setattr(importers, "MAX_ROWS", 10)
    loads = []
    monkeypatch.setattr(importers.sheet_reader, "Workbook", lambda *a, **k: loads.append(a))
    with pytest.raises(importers.ImportRefused) as refused:
        preview(template, liaison_nanzhao)
    assert refused.value.code == "too_many_rows"
    assert "上限 13 行" in refused.value.message
    assert loads == []


def test_openpyxl_is_a_second_line_against_entities_the_guard_would_catch():
    """Bypassing the guard, the XXE sheet still does not read /etc/passwd into a cell."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(hostile.external_entity()), read_only=True)
        values = [c.value for row in workbook.active.iter_rows() for c in row]
    except Exception as error:  # defusedxml refuses the entity (openpyxl may wrap it)
        causes = []
        while error is not None:
            causes.append(type(error).__name__)
            error = error.__cause__ or error.__context__
        assert "EntitiesForbidden" in causes
    else:
        assert not any("root:" in str(v) for v in values)


# ------------------------------------------------------------------------------ cells


def test_formulas_in_any_input_column_are_row_errors_naming_row_and_column(
    template, liaison_nanzhao
):
    data = hostile.set_cells(
        template,
        {
            f"H{NEW_STATIONS}": b'<c r="H4" t="str"><f>1+2</f><v>3</v></c>',
            f"I{KEY_TOWNS}": b'<c r="I5" t="inlineStr"><is><t>=HYPERLINK("http://x")</t></is></c>',
            f"H{KEY_TOWNS}": b'<c r="H5"><v>1</v></c>',
        },
    )
    before = snapshot()
    errors = {(e.row, e.column): e.message for e in preview(data, liaison_nanzhao).errors}
    assert "公式" in errors[(NEW_STATIONS, VALUE)]
    assert "公式" in errors[(KEY_TOWNS, NOTE)]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        (b"<v>1E+400</v>", "无穷大"),
        (b"<v>123456789012345678901234567890</v>", "数值过大"),
        (b"<v>1.5E+29</v>", "数值过大"),
        (b"<is><t>123456789012345678901234567890</t></is>", "数值过大"),
        (b"<is><t>nan</t></is>", "不是有效数字"),
        (b"<v>-3</v>", "不能为负数"),
    ],
)
def test_cells_that_cannot_be_a_figure_are_row_errors(cell, words, template, liaison_nanzhao):
    """Written into the sheet's XML as a hand-edited or generated file holds them."""
    kind = b' t="inlineStr"' if cell.startswith(b"<is>") else b""
    xml = b'<c r="H%d"%s>%s</c>' % (NEW_STATIONS, kind, cell)
    data = hostile.set_cells(template, {f"H{NEW_STATIONS}": xml})
    before = snapshot()
    result = preview(data, liaison_nanzhao)
    [error] = result.errors
    assert (error.row, error.column) == (NEW_STATIONS, VALUE)
    assert words in error.message
    with pytest.raises(importers.ImportRefused):
        importers.create_batch(result, data, "模板.xlsx", actor=liaison_nanzhao)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("cell", "words"),
    [(b"<v>NaN</v>", "NaN"), (b"<v>INF</v>", "无穷大"), (b"<v>12abc</v>", "12abc")],
)
def test_a_number_cell_holding_no_number_is_a_row_error(cell, words, template, liaison_nanzhao):
    """openpyxl refused the whole file on these (int("NaN")); calamine reads them (NaN,
    infinity, the text), so the row is refused naming its row and column, nothing written."""
    data = hostile.set_cells(template, {f"H{KEY_TOWNS}": b'<c r="H5">%s</c>' % cell})
    before = snapshot()
    result = preview(data, liaison_nanzhao)
    [error] = result.errors
    assert (error.row, error.column) == (KEY_TOWNS, VALUE)
    assert words in error.message
    with pytest.raises(importers.ImportRefused):
        importers.create_batch(result, data, "模板.xlsx", actor=liaison_nanzhao)
    assert snapshot() == before


def test_a_decimal_comma_is_refused_with_the_point_suggested_and_thousands_are_read(
    client, template, liaison_nanzhao
):
    before = snapshot()
    response = upload(
        client,
        liaison_nanzhao,
        fill(template, {NEW_STATIONS: "1,5", KEY_TOWNS: "1,000", OLD_STATIONS: "２，５"}),
    )
    assert response.status_code == 400
    rows = {row.row: row for row in response.context["preview"].rows}
    assert "是否为 1.5？" in rows[NEW_STATIONS].errors[0].message
    assert "是否为 2.5？" in rows[OLD_STATIONS].errors[0].message
    assert rows[KEY_TOWNS].errors == [] and rows[KEY_TOWNS].value == Decimal(1000)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,500", Decimal(1500)),
        ("12,345,678.5", Decimal("12345678.5")),
        ("'12", Decimal(12)),
        (Decimal("1.50000"), Decimal("1.50000")),
        ("99999999999999.9999", Decimal("99999999999999.9999")),
        (0.1234, Decimal("0.1234")),
    ],
)
def test_numbers_within_the_database_precision_are_read_exactly(raw, expected):
    assert parse_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("1,5", "是否为 1.5？"),
        ("12,75", "是否为 12.75？"),
        ("1,5000", "是否为 1.5000？"),
        ("1,50,0", "千分位写法有误"),
        ("NaN", "不是有效数字"),
        ("-Infinity", "不是有效数字"),
        (float("nan"), "NaN"),
        (float("inf"), "无穷大"),
        ("100000000000000", "数值过大"),
        (10**29, "数值过大"),
        ("1.23456", "最多保留 4 位小数"),
        (0.00001, "最多保留 4 位小数"),
        ("1e5", "科学计数法"),
    ],
)
def test_malformed_numbers_say_what_is_expected(raw, words):
    with pytest.raises(NumberError, match=words):
        parse_number(raw)
