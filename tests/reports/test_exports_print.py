"""Every Excel export opened in LibreOffice and printed to PDF (issue 20): what people see when
they open an export in LibreOffice, WPS or Excel and print it.

The exports are generated once from the seed plans (南阳: a 2024 figure of 南召县 approved,
like tests/reports/test_excel_exports.py), converted with one ``soffice --headless
--convert-to pdf`` run (a fresh profile in a temporary folder, so parallel runs do not clash)
and read back with poppler's ``pdftotext``/``pdfinfo``. Each PDF must have a sane page count,
the table header on every page (print titles repeated), known cell text extractable, and no
two words drawn over each other — the symptom of a wrapped cell taller than its row (the text
runs into the next row) or of a cell running into its neighbour. Words are compared by their
boxes from ``pdftotext -bbox``; a box overlapping another by more than a third of its height
and more than a point across means two texts share the same ink.

Without ``soffice`` (or poppler) the tests skip with a notice — except in CI (CI=true), where
they fail. Install: ``apt-get install -y --no-install-recommends libreoffice-calc
libreoffice-writer poppler-utils fonts-noto-cjk``.
"""

from __future__ import annotations

import datetime
import html
import io
import itertools
import os
import re
import shutil
import subprocess
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from reports.excel import layout
from reports.excel.templates import HELP_SHEET

SOFFICE = "soffice"
POPPLER = ("pdftotext", "pdfinfo")
CONVERT_TIMEOUT = 120  # seconds, for all the exports in one soffice run
# Under pytest-xdist the file runs in one worker: its exports are generated and printed once.
# django_db: pytest-django creates the test database only for a session whose tests ask for
# it; run alone, nothing else in this file would (tests/conftest.py refuses to go on then).
pytestmark = [pytest.mark.xdist_group("exports_print"), pytest.mark.django_db]
NANYANG = "nanyang-2021-2025"
WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)


def _skip_or_fail(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(f"注意 NOTICE: print tests skipped — {reason}")


@dataclass
class Export:
    """What one export must show when printed."""

    url: str
    query: dict
    user: str
    headers: tuple[tuple[str, ...], ...]  # words of a sheet's header: on each of its pages
    cells: tuple[str, ...]  # cell texts that must be extractable
    max_pages: int
    untitled_pages: tuple[str, ...] = ()  # text of pages without a table (a help sheet)


@dataclass
class Word:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


@dataclass
class Printed:
    name: str
    pages: list[str] = field(default_factory=list)  # text of each page
    words: list[list[Word]] = field(default_factory=list)  # words of each page
    sizes: list[tuple[float, float]] = field(default_factory=list)  # page width, height (pt)


EXPORTS: dict[str, Export] = {}


def _exports(plan_id: int, county_id: int, city_id: int) -> dict[str, Export]:
    assessment_headers = (
        ("序号", "考核内容", "责任单位", "计量单位", "完成情况", "得分"),  # a unit's sheet
        ("序号", "被考核单位", "考核项数", "最终得分", "等级"),  # the summary
    )
    return {
        "assessment": Export(
            "reports:excel_assessment",
            {"plan": plan_id, "year": 2024, "export": "xlsx"},
            "supervisor",
            assessment_headers,
            ("新建消防站", "南召县", "最终得分", "考核等级"),
            max_pages=60,
        ),
        "evaluation": Export(
            "reports:excel_evaluation",
            {"plan": plan_id, "on": "2024-12-31", "export": "xlsx"},
            "supervisor",
            (("序号", "指标", "基期值", "目标值", "评估结论"),),
            ("新建消防站", "南召县", "难以完成"),
            max_pages=20,
        ),
        "task ledger": Export(
            "reports:excel_task_ledger",
            {"plan": plan_id},
            "supervisor",
            (("序号", "规划", "重点任务", "牵头单位", "完成时限"),),
            ("南阳市",),
            max_pages=30,
        ),
        "station register": Export(
            "reports:excel_station_register",
            {},
            "supervisor",
            (("序号", "名称", "地址", "站级", "来源规划"),),
            ("消防站台账",),
            max_pages=30,
        ),
        "report ledger": Export(
            "reports:excel_report_ledger",
            {"plan": plan_id},
            "staff",
            (("序号", "规划", "指标", "填报值", "退回理由"),),
            ("新建消防站", "南召县", "已审核"),
            max_pages=3,
        ),
        "figures template": Export(
            "reports:excel_template",
            {"plan": plan_id, "region": city_id, "period": "2024"},
            "staff",
            (("序号", "重点任务", "指标名称", "本期填报值", "当前状态"),),
            ("年度数据填报表", "填报区划"),
            max_pages=20,
            untitled_pages=("填表说明",),
        ),
    }


def _generate(folder: Path) -> dict[str, Path]:
    """Every export as the views answer it, in a transaction that is rolled back."""
    from core.models import Region
    from planning.models import Plan
    from targets import services
    from targets.models import Target
    from tests.conftest import make_user, open_period

    files: dict[str, Path] = {}

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            if not Plan.objects.filter(code=NANYANG).exists():
                call_command("load_seed_plans", verbosity=0)
            plan = Plan.objects.get(code=NANYANG)
            open_period(NANYANG, "2024")
            users = {
                "supervisor": make_user("print_supervisor", "supervisor", "南阳市"),
                "staff": make_user("print_staff", "staff", "南阳市"),
            }
            liaison = make_user("print_liaison", "liaison", "南召县")
            county = Region.objects.get(name="南召县")
            report = services.save_report(
                actor=liaison,
                target=Target.objects.get(plan=plan, code="tg-new-stations"),
                region=county,
                period="2024",
                value="1",
                submit=True,
            )
            services.approve_report(report, actor=users["staff"])
            EXPORTS.update(_exports(plan.pk, county.pk, plan.region_id))
            client = Client()
            for name, export in EXPORTS.items():
                client.force_login(users[export.user])
                response = client.get(reverse(export.url), export.query)
                assert response.status_code == 200, (name, response.content[:500])
                path = folder / f"{name.replace(' ', '-')}.xlsx"
                path.write_bytes(b"".join(response.streaming_content))
                files[name] = path
            raise Rollback
    except Rollback:
        pass
    return files


def _convert(files: dict[str, Path], folder: Path) -> dict[str, Path]:
    profile = folder / "lo"
    command = [
        SOFFICE,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(folder),
        *[str(p) for p in files.values()],
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=CONVERT_TIMEOUT)
    pdfs = {name: path.with_suffix(".pdf") for name, path in files.items()}
    missing = [str(p) for p in pdfs.values() if not p.exists()]
    assert not missing, f"soffice wrote no PDF for {missing}"
    return pdfs


def _read(name: str, pdf: Path) -> Printed:
    printed = Printed(name)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    printed.pages = text.split("\f")[:-1]  # each page ends with a form feed
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    for width, height, body in PAGE.findall(boxes):
        printed.sizes.append((float(width), float(height)))
        printed.words.append(
            [
                Word(float(a), float(b), float(c), float(d), html.unescape(t))
                for a, b, c, d, t in WORD.findall(body)
            ]
        )
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
    assert pages == len(printed.pages) == len(printed.words), (name, pages, len(printed.pages))
    return printed


@pytest.fixture(scope="module")
def exported(django_db_setup, django_db_blocker, tmp_path_factory) -> dict[str, Path]:
    """The xlsx files of every export (generated once for the module)."""
    folder = tmp_path_factory.mktemp("print")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=fast):
        return _generate(folder)


@pytest.fixture(scope="module")
def printed(exported) -> dict[str, Printed]:
    """The exports printed to PDF by LibreOffice, read back page by page."""
    if shutil.which(SOFFICE) is None:
        _skip_or_fail(
            "soffice not found; apt-get install -y --no-install-recommends "
            "libreoffice-calc libreoffice-writer poppler-utils fonts-noto-cjk"
        )
    for tool in POPPLER:
        if shutil.which(tool) is None:
            _skip_or_fail(f"{tool} not found; apt-get install -y poppler-utils")
    folder = next(iter(exported.values())).parent
    started = time.perf_counter()
    pdfs = _convert(exported, folder)
    seconds = time.perf_counter() - started
    print(f"\nsoffice: {len(pdfs)} exports to PDF in {seconds:.1f} s ({folder})")
    return {name: _read(name, pdf) for name, pdf in pdfs.items()}


NAMES = [
    "assessment",
    "evaluation",
    "task ledger",
    "station register",
    "report ledger",
    "figures template",
]


@pytest.mark.parametrize("name", NAMES)
def test_pages_are_a4_landscape_and_few(printed, name):
    pdf, export = printed[name], EXPORTS[name]
    assert 1 <= len(pdf.pages) <= export.max_pages, len(pdf.pages)
    for number, (width, height) in enumerate(pdf.sizes, start=1):
        # A4 landscape: 842 × 595 pt.
        assert (round(width), round(height)) == (842, 595), (number, width, height)


@pytest.mark.parametrize("name", NAMES)
def test_the_header_is_on_every_page(printed, name):
    pdf, export = printed[name], EXPORTS[name]
    for number, page in enumerate(pdf.pages, start=1):
        flat = re.sub(r"\s+", "", page)
        if any(mark in flat for mark in export.untitled_pages):
            continue
        missing = [[word for word in header if word not in flat] for header in export.headers]
        assert [] in missing, f"page {number} of {len(pdf.pages)} lacks {min(missing, key=len)}"


@pytest.mark.parametrize("name", NAMES)
def test_known_cells_are_extractable(printed, name):
    pdf, export = printed[name], EXPORTS[name]
    flat = re.sub(r"\s+", "", "".join(pdf.pages))
    assert [cell for cell in export.cells if cell not in flat] == []


def overlaps(words: list[Word]) -> list[tuple[Word, Word]]:
    """Pairs of words whose boxes share more than a third of the lower one's height and more
    than a point across (a sweep over the words sorted by their top)."""
    found = []
    words = sorted(words, key=lambda w: w.y0)
    for index, word in enumerate(words):
        for other in words[index + 1 :]:
            if other.y0 >= word.y1:
                break
            shared_y = min(word.y1, other.y1) - other.y0
            shared_x = min(word.x1, other.x1) - max(word.x0, other.x0)
            if shared_x > 1 and shared_y > (other.y1 - other.y0) / 3:
                found.append((word, other))
    return found


@pytest.mark.parametrize("name", NAMES)
def test_no_text_is_drawn_over_other_text(printed, name):
    pdf = printed[name]
    problems = []
    for number, words in enumerate(pdf.words, start=1):
        for a, b in overlaps(words):
            problems.append(
                f"page {number}: {a.text!r} ({a.y0:.0f}–{a.y1:.0f}) × "
                f"{b.text!r} ({b.y0:.0f}–{b.y1:.0f})"
            )
    assert not problems, f"{len(problems)} overlaps, first: " + "; ".join(problems[:8])


def test_assessment_rows_follow_each_other_down_the_pages(printed):
    """The 序号 column of the 考核表 counts 1, 2, 3 … down the pages of each sheet (the
    summary's and each unit's), every number below the previous one's: no row is hidden
    under another or lost at a page break."""
    pdf = printed["assessment"]
    runs, current = [], []
    for words in pdf.words:
        header = next(w for w in words if w.text == "序号")
        column = sorted(
            (
                w
                for w in words
                if w.text.isdigit()
                and header.x0 - 5 <= (w.x0 + w.x1) / 2 <= header.x1 + 5
                and w.y0 > header.y1
            ),
            key=lambda w: w.y0,
        )
        for above, below in itertools.pairwise(column):
            assert below.y0 >= above.y1 - 0.5, (above, below)
        for word in column:
            if word.text == "1" and current:
                runs.append(current)
                current = []
            current.append(int(word.text))
    runs.append(current)
    assert all(run == list(range(1, len(run) + 1)) for run in runs), runs
    sheets = len(EXPORTS["assessment"].headers)  # at least the summary and one unit
    assert len(runs) >= sheets and sum(map(len, runs)) > 50


# ------------------------------------------------------------------------------ the workbooks
# What the files say, read back with openpyxl (no LibreOffice needed).


DEFAULT_WIDTH = 8.43  # a column without a width


def visible_sheets(path: Path):
    workbook = openpyxl.load_workbook(path)
    return [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]


def column_widths(ws) -> dict[int, float]:
    widths = {}
    for dimension in ws.column_dimensions.values():
        for index in range(dimension.min or 1, (dimension.max or dimension.min or 1) + 1):
            widths[index] = 0 if dimension.hidden else dimension.width
    return widths


@pytest.mark.parametrize("name", NAMES)
def test_every_sheet_prints_on_a4_landscape_fitted_to_the_width(exported, name):
    for ws in visible_sheets(exported[name]):
        setup = ws.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9), ws.title
        # fitToWidth absent means 1, the OOXML default (XlsxWriter writes only other values).
        assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True, ws.title
        if ws.title != HELP_SHEET:
            # The header repeated on each page, the panes frozen under it.
            first, last = (int(n) for n in re.findall(r"\d+", ws.print_title_rows))
            assert ws.freeze_panes.endswith(str(last + 1)), (ws.title, ws.freeze_panes)
            assert ws.cell(first, 1).value == "序号", ws.title


@pytest.mark.parametrize("name", NAMES)
def test_text_too_long_for_its_cell_wraps_in_a_row_tall_enough(exported, name):
    """Every text wider than its cell (its merged range) wraps, and its row has a height
    for the lines the text needs; rows whose texts all fit keep the default height."""
    checked = 0
    for ws in visible_sheets(exported[name]):
        widths = column_widths(ws)
        spans, covered = {}, set()
        for merged in ws.merged_cells.ranges:
            cells = [(r, c) for r, c in merged.cells]
            spans[cells[0]] = sum(
                widths.get(c, 8.43) for c in range(merged.min_col, merged.max_col + 1)
            )
            covered.update(cells[1:])
        for row in ws.iter_rows():
            needed = 1
            for cell in row:
                text = cell.value
                if not isinstance(text, str) or not text or (cell.row, cell.column) in covered:
                    continue
                width = spans.get((cell.row, cell.column), widths.get(cell.column, DEFAULT_WIDTH))
                if not width:
                    continue  # a hidden column
                lines = layout.line_count(text, width, cell.font.size or 11)
                if lines > 1:
                    assert cell.alignment.wrap_text, f"{ws.title}!{cell.coordinate}: {text!r}"
                    needed = max(needed, lines)
            height = ws.row_dimensions[row[0].row].height
            if needed > 1:
                checked += 1
                size = max((c.font.size or 11) for c in row if isinstance(c.value, str))
                assert height and height >= layout.height_for(needed, size) - 0.1, (
                    f"{ws.title} row {row[0].row}: {needed} lines need "
                    f"{layout.height_for(needed, size)} pt, the row has {height}"
                )
    if name not in ("report ledger", "station register"):
        assert checked, "no wrapped row at all: the seed data should have some"


FORMATS = {
    # export: (sheet, header, formats a number there may have, Python types)
    "assessment": [
        ("南召县", "完成率", {"0.0%"}, (int, float)),
        ("南召县", "得分", {"0.00"}, (int, float)),
        ("南召县", "原目标值", {"#,##0", "#,##0.00##"}, (int, float)),
    ],
    "evaluation": [
        ("中期评估", "进度比", {"0.0%"}, (int, float)),
        ("中期评估", "当前值", {"#,##0", "#,##0.00##"}, (int, float)),
    ],
    "task ledger": [("任务台账", "完成时限", {"yyyy-mm-dd"}, (datetime.datetime,))],
    "station register": [
        ("消防站台账", "投入执勤日期", {"yyyy-mm-dd"}, (datetime.datetime,)),
    ],
    "report ledger": [
        ("填报记录", "填报值", {"#,##0", "#,##0.00##"}, (int, float)),
        ("填报记录", "提交时间", {"yyyy-mm-dd hh:mm"}, (datetime.datetime,)),
    ],
    "figures template": [("填报表", "目标值", {"#,##0", "#,##0.00##"}, (int, float))],
}


@pytest.mark.parametrize("name", NAMES)
def test_numbers_are_numbers_with_their_formats(exported, name):
    workbook = openpyxl.load_workbook(exported[name])
    for title, header, formats, types in FORMATS[name]:
        ws = workbook[title]
        row, column = next(
            (c.row, c.column) for r in ws.iter_rows(max_row=4) for c in r if c.value == header
        )
        values = [ws.cell(r, column) for r in range(row + 1, ws.max_row + 1)]
        numbers = [c for c in values if c.value is not None and not isinstance(c.value, str)]
        assert numbers, (title, header)
        for cell in numbers:
            assert isinstance(cell.value, types), (title, cell.coordinate, cell.value)
            assert cell.number_format in formats, (title, cell.coordinate, cell.number_format)


def test_rows_keep_no_state_after_they_are_written():
    """A write-only sheet's row heights are handed over row by row, not kept."""
    workbook = openpyxl.Workbook(write_only=True)
    ws = workbook.create_sheet("x")
    rows = layout.Rows(ws)
    for number in range(1000):
        rows.append([number, "很长的文字" * 20], height=layout.height_for(1 + number % 3))
    assert len(ws.row_dimensions) == 0 and rows.count == 1000
    out = io.BytesIO()
    workbook.save(out)
    sheet = openpyxl.load_workbook(out)["x"]
    assert [sheet.row_dimensions[r].height for r in (1, 2, 3, 4)] == [
        layout.height_for(1),
        layout.height_for(2),
        layout.height_for(3),
        layout.height_for(1),
    ]


def test_xlsx_rows_keep_no_state_after_they_are_written():
    """XlsxWriter's constant-memory sheet: each row's height is dropped once the row is on
    disk, and read back exactly (heights are on its pixel grid)."""
    from reports.excel.exporters import Book, save_workbook

    book = Book()
    ws = book.add_sheet("x")
    rows = layout.XlsxRows(ws)
    for number in range(1000):
        row = rows.next()
        ws.write_number(row, 0, number)
        ws.write_string(row, 1, "很长的文字" * 20)
        rows.height(row, layout.height_for(1 + number % 3))
    assert len(ws.row_info) <= 2 and len(ws.row_sizes) <= 2 and rows.count == 1000
    sheet = openpyxl.load_workbook(save_workbook(book))["x"]
    assert [sheet.row_dimensions[r].height for r in (1, 2, 3, 4, 1000)] == [
        layout.height_for(1),
        layout.height_for(2),
        layout.height_for(3),
        layout.height_for(1),
        layout.height_for(1),
    ]


def test_line_count_counts_cjk_as_two_units_and_paragraphs_apart():
    assert layout.text_units("消防") == 4 and layout.text_units("ab") == pytest.approx(2.4)
    assert layout.line_count("消防站" * 3, 20) == 1  # 18 units in 19
    assert layout.line_count("消防站" * 10, 20) == 4  # 60 units, 17.1 a line
    assert layout.line_count("一\n二\n\n三", 20) == 4
    assert layout.line_count("消防站" * 3, 20, size=16) == 2
    assert layout.wrapped_height([("短", 10), (3.5, 2)]) is None
    assert layout.wrapped_height([("消防站" * 10, 20)]) == layout.height_for(4)


def test_ledger_rows_format_numbers_and_wrap_long_text_without_styling_it():
    """A ledger's plain row: numbers with their column's format, times formatted, text
    unstyled — it wraps through the default format, which Excel (cellXfs 0), LibreOffice
    (the Normal style, which XlsxWriter writes from it) and openpyxl read back — and a height
    only for the row whose text needs two lines."""
    from decimal import Decimal

    from reports.excel.exporters import STATION_COLUMNS, Book, SheetWriter, save_workbook

    workbook = Book(wrap_default=True)
    sheet = SheetWriter(workbook, "台账", STATION_COLUMNS, heading="消防站台账", plain=True)
    values = [1, "站", "区", "地址", "一级站", "", "规划", "新建", 2025, None,
              datetime.date(2024, 5, 1), Decimal("1234.5"), Decimal(800), Decimal("12.25"),
              Decimal("32.991234"), Decimal("112.528"), "规划"]  # fmt: skip
    sheet.add_plain_row(values)
    sheet.add_plain_row([2, "南阳市卧龙区建设路特勤消防站（含训练基地）", *values[2:]])
    sheet.mark_body_end()
    sheet.finish()
    data = save_workbook(workbook).read()
    ws = openpyxl.load_workbook(io.BytesIO(data))["台账"]
    formats = {ws.cell(3, c).value: ws.cell(4, c).number_format for c in range(1, 18)}
    assert formats["计划年度"] == "General" and ws.cell(4, 9).value == 2025
    assert formats["投入执勤日期"] == "yyyy-mm-dd"
    assert [formats[h] for h in ("建筑面积（㎡）", "占地面积（㎡）", "纬度")] == [
        "#,##0.00##", "#,##0", "0.000000"
    ]  # fmt: skip
    assert ws.cell(4, 12).value == 1234.5
    name = ws.cell(5, 2)
    assert name.alignment.wrap_text and name.style_id == 0  # the default format
    assert ws.row_dimensions[4].height is None
    assert ws.row_dimensions[5].height == layout.height_for(2, 11)
    with zipfile.ZipFile(io.BytesIO(data)) as xlsx:
        rows = xlsx.read("xl/worksheets/sheet1.xml").decode()
        styles = xlsx.read("xl/styles.xml").decode()
    # The default format (s="0": the column's, which is the default), never one of its own.
    assert re.search(r'<c r="B5" (s="0" )?t="inlineStr">', rows)
    assert re.search(r"<cellStyleXfs[^>]*><xf [^>]*><alignment wrapText=\"1\"", styles)
    assert re.search(r"<cellXfs[^>]*><xf [^>]*><alignment wrapText=\"1\"", styles)
