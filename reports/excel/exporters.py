"""Excel exports: the assessment sheet (考核表), the evaluation table (中期评估) and the
ledgers (任务台账, 消防站台账, 填报记录).

Builders take data (an ``Assessment``, rows, querysets already filtered and scoped), never
requests, and write with XlsxWriter in constant-memory mode (issue 19: the fastest writer):
each row goes to the sheet's temporary file when the next one starts, so memory stays flat
however many rows there are, and rows are written strictly in order. A builder returns a
``Book``; ``save_workbook`` closes it into a temporary file the view streams back (it also
saves an openpyxl workbook: the figures template, ``reports.excel.templates``, stays on
openpyxl for its validation, protection and hidden sheet).

Formats are made once per workbook (``Book.format``, one per combination of font,
alignment, fill, number format and border), never per cell. Texts are written with
``write_string`` only (and the workbook refuses to turn strings into formulas, numbers or
links), and every text cell goes through ``escape_text``: text from the database that
begins with = + - @, a tab or a carriage return would become a live formula when a user edits
the cell or saves the sheet as CSV (formula injection), so it gets a leading apostrophe —
visible, and the same in Excel, WPS and LibreOffice. Text that already begins with an
apostrophe gets one more, so the importer's ``unescape_text`` (drop one leading apostrophe)
gives back exactly what was exported.
"""

from __future__ import annotations

import datetime
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import xlsxwriter
from django.db.models import QuerySet
from django.utils import timezone

from planning.choices import AssignmentRole, TaskStatus
from planning.models import TaskAssignment, TaskUpdate
from reports.excel.layout import (
    CELL_PADDING,
    CJK_UNITS,
    XlsxRows,
    height_for,
    line_count,
    wrapped_height,
    xlsx_page_setup,
)
from reports.excel.progress import Progress, Reporter
from reports.excel.scoring import Assessment, EvaluationRow, Group, Item

FONT = "宋体"
# XlsxWriter format properties, combined by ``Book.format``.
TITLE_FONT = {"font_name": FONT, "font_size": 16, "bold": True}
SUBTITLE_FONT = {"font_name": FONT, "font_size": 10, "font_color": "#555555"}
HEADER_FONT = {"font_name": "黑体", "font_size": 10, "bold": True}
BODY_FONT = {"font_name": FONT, "font_size": 10}
BOLD_FONT = {"font_name": FONT, "font_size": 10, "bold": True}
BORDER = {"border": 1, "border_color": "#000000"}
CENTER = {"align": "center", "valign": "vcenter", "text_wrap": True}
LEFT = {"align": "left", "valign": "vcenter", "text_wrap": True}
RIGHT = {"align": "right", "valign": "vcenter"}
RIGHT_WRAP = {"align": "right", "valign": "vcenter", "text_wrap": True}


def _solid(color: str) -> dict:
    return {"pattern": 1, "bg_color": color}


HEADER_FILL = _solid("#D9E1F2")
LIGHT_FILLS = {
    "green": _solid("#C6EFCE"),
    "yellow": _solid("#FFEB9C"),
    "red": _solid("#FFC7CE"),
    "grey": _solid("#E7E6E6"),
}
GRADE_FILLS = {True: LIGHT_FILLS["green"], False: LIGHT_FILLS["red"], None: LIGHT_FILLS["grey"]}
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00##"
PERCENT_FORMAT = "0.0%"
SCORE_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
COORDINATE_FORMAT = "0.000000"
TITLE_SIZE, BODY_SIZE = TITLE_FONT["font_size"], BODY_FONT["font_size"]
PLAIN_SIZE = 11  # unstyled cells: the workbook's default font (Calibri 11)
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INVALID_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})
RESERVED_SHEET_NAMES = {"history"}  # Excel keeps it for change tracking
# Characters XML 1.0 cannot carry (openpyxl's ILLEGAL_CHARACTERS_RE).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "in_memory": False,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")


def escape_text(value):
    """A value as a cell may hold it: text that a spreadsheet could take for a formula gets
    a leading apostrophe; control characters XML cannot carry are dropped. Other values are
    returned as they are."""
    if not isinstance(value, str):
        return value
    if not value.isprintable():  # the characters dropped are all unprintable: a fast test
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unescape_text(text: str) -> str:
    """The importer's side of ``escape_text``: one leading apostrophe dropped."""
    return text.removeprefix("'")


def number_format(value) -> str:
    if isinstance(value, Decimal | int | float) and value == int(value):
        return INTEGER_FORMAT
    return DECIMAL_FORMAT


def excel_number(value: Decimal | None):
    """Decimals as int or float (what a spreadsheet holds), None as an empty cell."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def sheet_title(label: str, taken: set[str]) -> str:
    """A valid, unique sheet name (31 characters, none of []:*?/\\, unique ignoring case as
    Excel compares them; ``taken`` holds the names used, lower-cased)."""
    base = (label.translate(INVALID_SHEET_CHARS).strip("'") or "工作表")[:31]
    title, n = base, 2
    while title.lower() in taken or title.lower() in RESERVED_SHEET_NAMES:
        suffix = f"({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


class Book:
    """An XlsxWriter workbook in constant-memory mode writing into a temporary file, and its
    formats: each combination of font, alignment, fill, number format and border is made once
    (``format``) and reused by every cell that has it.

    ``wrap_default``: the workbook's default format (cellXfs 0, which Excel and WPS show a
    cell without a format in, and which XlsxWriter also writes as the Normal style that
    LibreOffice uses) wraps its text — a ledger's plain cells then wrap at no cost per cell."""

    def __init__(self, *, wrap_default: bool = False):
        self.handle = tempfile.TemporaryFile(suffix=".xlsx")
        self.workbook = xlsxwriter.Workbook(self.handle, WORKBOOK_OPTIONS)
        self.default_format = self.workbook.formats[0]
        if wrap_default:
            self.default_format.set_text_wrap()
        self._formats: dict[tuple, object] = {}

    def format(self, font=None, alignment=None, fill=None, fmt=None, border=False):
        key = (id(font), id(alignment), id(fill), fmt, border)
        found = self._formats.get(key)
        if found is None:
            properties = {}
            for part in (font, alignment, fill):
                if part:
                    properties.update(part)
            if fmt:
                properties["num_format"] = fmt
            if border:
                properties.update(BORDER)
            found = self._formats[key] = self.workbook.add_format(properties)
        return found

    def add_sheet(self, title: str):
        return self.workbook.add_worksheet(title)

    def close(self):
        """The finished file, rewound (the caller streams and closes it)."""
        self.workbook.close()
        self.handle.seek(0)
        return self.handle


def save_workbook(workbook):
    """The finished workbook in a temporary file, rewound (the caller streams and closes):
    a ``Book`` is closed into its file; an openpyxl workbook (the figures template) saved."""
    if isinstance(workbook, Book):
        return workbook.close()
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(handle)
    handle.seek(0)
    return handle


def write_value(ws, row: int, col: int, value, cell_format=None) -> None:
    """One cell by its type: text by ``write_string`` (escaped: never a formula), numbers,
    dates and times (naive local), an empty cell only when it has a format (borders, fills)."""
    kind = value.__class__
    if kind is str:
        if value:
            ws.write_string(row, col, escape_text(value), cell_format)
        elif cell_format is not None:
            ws.write_blank(row, col, None, cell_format)
    elif value is None:
        if cell_format is not None:
            ws.write_blank(row, col, None, cell_format)
    elif kind is bool:
        ws.write_boolean(row, col, value, cell_format)
    elif kind is int or kind is float:
        ws.write_number(row, col, value, cell_format)
    elif kind is Decimal:
        ws.write_number(row, col, excel_number(value), cell_format)
    elif kind is datetime.datetime:
        if value.tzinfo is not None:
            value = timezone.localtime(value).replace(tzinfo=None)
        ws.write_datetime(row, col, value, cell_format)
    elif kind is datetime.date:
        ws.write_datetime(row, col, value, cell_format)
    else:
        ws.write_string(row, col, escape_text(str(value)), cell_format)


def merge(ws, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
    """Record a merged range whose cells the caller writes (the first with the value, the
    others blank in the same format). XlsxWriter's ``merge_range`` writes the range's cells
    itself, which in constant-memory mode would flush a row of a range taller than one row
    before the rest of that row is written."""
    ws.merge.append([first_row, first_col, last_row, last_col])


@dataclass
class Column:
    header: str
    width: float
    kind: str = "text"  # text, center, number, integer, percent, score, date, datetime, coordinate
    group: str = ""  # a two-level header: the group over this column


class SheetWriter:
    """A sheet laid out as a government form: a title row and a subtitle merged across the
    table, header rows (one, or two with groups), bordered body rows, a frozen header, filters
    over the header, printed on A4 landscape fitted to the page width with the header
    repeated on every page, and each row as tall as its wrapped text
    (``reports.excel.layout``). Rows are written in order (constant-memory mode)."""

    def __init__(
        self,
        book: Book,
        title: str,
        columns: Sequence[Column],
        *,
        heading: str,
        subheading: str = "",
        freeze_columns: int = 0,
        plain: bool = False,
    ):
        """``plain``: a ledger — body rows by ``add_plain_row``, without borders; its book
        should wrap its default format (``Book(wrap_default=True)``)."""
        self.book = book
        self.ws = ws = book.add_sheet(title)
        self.columns = list(columns)
        self.border = not plain
        self.rows = XlsxRows(ws)
        grouped = any(c.group for c in self.columns)
        self.header_first = 3
        self.header_last = 4 if grouped else 3
        xlsx_page_setup(
            ws,
            widths=[c.width for c in self.columns],
            title_rows=(self.header_first, self.header_last),
            freeze=(self.header_last, freeze_columns),
        )
        last = len(self.columns) - 1
        across = sum(c.width for c in self.columns)
        self._plain = [_PlainColumn(book, c) for c in self.columns]
        self._merged_line(heading, TITLE_FONT, TITLE_SIZE, across, 30)
        self._merged_line(subheading, SUBTITLE_FONT, BODY_SIZE, across, 18)
        if grouped:
            self._two_level_header()
        else:
            row = self.rows.next()
            header = self._format(HEADER_FONT, CENTER, HEADER_FILL, border=True)
            for index, column in enumerate(self.columns):
                write_value(ws, row, index, column.header, header)
            headers = [(c.header, c.width) for c in self.columns]
            self.rows.height(row, wrapped_height(headers, BODY_SIZE, minimum=28))
        assert self.row == self.header_last and last >= 0
        self.body_first = self.row + 1
        self.body_last = self.header_last

    @property
    def row(self) -> int:
        """The number of the last row written (from 1, as Excel shows it)."""
        return self.rows.count

    def _format(self, font=BODY_FONT, alignment=None, fill=None, fmt=None, border=False):
        return self.book.format(font, alignment, fill, fmt, border)

    def _merged_line(self, text: str, font, size: float, across: float, minimum: float):
        """A title line merged across the table."""
        row = self.rows.next()
        cell_format = self._format(font, CENTER if font is TITLE_FONT else LEFT)
        write_value(self.ws, row, 0, text, cell_format)
        last = len(self.columns) - 1
        for col in range(1, last + 1):
            self.ws.write_blank(row, col, None, cell_format)
        if last:
            merge(self.ws, row, 0, row, last)
        self.rows.height(row, wrapped_height([(escape_text(text), across)], size, minimum))

    def _two_level_header(self) -> None:
        ws, header = self.ws, self._format(HEADER_FONT, CENTER, HEADER_FILL, border=True)
        top = self.rows.next()
        groups, names, spanning = [], [], []  # (text, width) of each kind of header cell
        lower: list[tuple[int, str | None]] = []  # the second row's cells
        index = 0
        while index < len(self.columns):
            column = self.columns[index]
            if not column.group:
                write_value(ws, top, index, column.header, header)
                lower.append((index, None))
                merge(ws, top, index, top + 1, index)
                spanning.append((column.header, column.width))
                index += 1
                continue
            span = 1
            while (
                index + span < len(self.columns)
                and self.columns[index + span].group == column.group
            ):
                span += 1
            members = self.columns[index : index + span]
            groups.append((column.group, sum(c.width for c in members)))
            for offset, member in enumerate(members):
                write_value(ws, top, index + offset, column.group if offset == 0 else None, header)
                lower.append((index + offset, member.header))
                names.append((member.header, member.width))
            if span > 1:
                merge(ws, top, index, top, index + span - 1)
            index += span
        upper = wrapped_height(groups, BODY_SIZE, minimum=20)
        below = wrapped_height(names, BODY_SIZE, minimum=28)
        # A header without a group spans both rows: the lower one grows if it needs more.
        both = wrapped_height(spanning, BODY_SIZE, minimum=upper + below)
        self.rows.height(top, upper)
        second = self.rows.next()
        for col, text in lower:
            write_value(ws, second, col, text, header)
        self.rows.height(second, both - upper)

    def _body_format(self, column: Column, value, fill=None, font=BODY_FONT):
        """The value as the cell holds it and the cell's format."""
        kind = column.kind
        fmt = None
        alignment = LEFT
        if kind in ("number", "coordinate"):
            value = excel_number(value) if isinstance(value, Decimal) else value
            if value is not None:
                fmt = COORDINATE_FORMAT if kind == "coordinate" else number_format(value)
            alignment = RIGHT
        elif kind == "integer":
            fmt, alignment = INTEGER_FORMAT, RIGHT
        elif kind == "percent":
            value = float(value) if isinstance(value, Decimal) else value
            fmt, alignment = PERCENT_FORMAT, RIGHT
        elif kind == "score":
            value = float(value) if isinstance(value, Decimal) else value
            fmt, alignment = SCORE_FORMAT, RIGHT
        elif kind == "date":
            fmt, alignment = DATE_FORMAT, CENTER
        elif kind == "datetime":
            fmt, alignment = DATETIME_FORMAT, CENTER
        elif kind == "center":
            alignment = CENTER
        return value, self._format(font, alignment, fill, fmt, border=self.border)

    def add_row(self, values: Sequence, fills: dict[int, dict] | None = None, font=None):
        fills = fills or {}
        ws, row = self.ws, self.rows.next()
        texts = []
        for index, (column, value) in enumerate(zip(self.columns, values, strict=True)):
            value, cell_format = self._body_format(
                column, value, fills.get(index), font or BODY_FONT
            )
            write_value(ws, row, index, value, cell_format)
            if value.__class__ is str:
                texts.append((escape_text(value), column.width))
        self.rows.height(row, wrapped_height(texts, BODY_SIZE))

    def add_plain_row(self, values: Sequence) -> None:
        """A fast row for large ledgers (``plain`` sheets): texts without a format, which
        wrap there (the book's default format), numbers and times with their column's format;
        only a text too long for its column is measured, and its row gets a height.

        The 1.3× budget of issue 19 is spent per cell here: texts and whole numbers go
        straight to XlsxWriter's ``_write_string`` / ``_write_number`` (what ``write_string``
        / ``write_number`` call after turning an "A1" argument into numbers, which these
        never are), and ``escape_text`` is inlined for the common text that needs nothing."""
        ws, row = self.ws, self.rows.next()
        write_string, write_number = ws._write_string, ws._write_number
        lines = 1
        col = 0
        for value, column in zip(values, self._plain, strict=True):
            kind = value.__class__
            if kind is str:
                if value:
                    if not value.isprintable() or value.startswith(FORMULA_TRIGGERS):
                        value = escape_text(value)
                    if len(value) > column.fits or "\n" in value:  # may not fit on one line
                        count = column.lines(value)
                        if count > lines:
                            lines = count
                    write_string(row, col, value)
            elif kind is int:
                write_number(row, col, value)
            elif value is not None:
                column.write(ws, row, col, value)
            col += 1
        if lines > 1:
            self.rows.height(row, _plain_height(lines))

    def add_note_row(self, label: str, value, *, span_to: int, fill=None) -> None:
        """A footer row: a label merged over the first ``span_to`` columns, then a value."""
        ws, row = self.ws, self.rows.next()
        label_format = self._format(BOLD_FONT, RIGHT_WRAP, border=True)
        blank = self._format(border=True)
        write_value(ws, row, 0, label, label_format)
        for col in range(1, span_to):
            ws.write_blank(row, col, None, label_format)
        value, value_format = self._body_format(Column("", 0, "score"), value, fill, BOLD_FONT)
        write_value(ws, row, span_to, value, value_format)
        rest = len(self.columns) - span_to - 1
        for col in range(span_to + 1, len(self.columns)):
            ws.write_blank(row, col, None, blank)
        if span_to > 1:
            merge(ws, row, 0, row, span_to - 1)
        if rest > 1:
            merge(ws, row, span_to + 1, row, len(self.columns) - 1)
        across = sum(c.width for c in self.columns[:span_to])
        self.rows.height(row, wrapped_height([(escape_text(label), across)], BODY_SIZE))

    def finish(self, *, filters: bool = True) -> None:
        last_col = len(self.columns) - 1
        last_row = max(self.row, self.header_last)
        if filters:
            self.ws.autofilter(self.header_last - 1, 0, self.body_last - 1, last_col)
        self.ws.print_area(0, 0, last_row - 1, last_col)

    def mark_body_end(self) -> None:
        self.body_last = max(self.row, self.header_last)


REMEMBERED_TEXTS = 1000  # texts whose line count a ledger column keeps


def _plain_height(lines: int) -> float:
    return height_for(lines, PLAIN_SIZE)


class _PlainColumn:
    """How ``SheetWriter.add_plain_row`` writes a column's values: the longest text sure to
    fit on one line (no measuring below it), and the formats of its numbers and times."""

    def __init__(self, book: Book, column: Column):
        self.width = column.width
        self.kind = column.kind
        self.fits = int(max(column.width - CELL_PADDING, 1) / (CJK_UNITS * PLAIN_SIZE / 10))
        self.measured: dict[str, int] = {}  # a ledger repeats its plans', units' names
        self.formats = {
            fmt: book.format(fmt=fmt)
            for fmt in (
                INTEGER_FORMAT, DECIMAL_FORMAT, COORDINATE_FORMAT, DATE_FORMAT, DATETIME_FORMAT
            )
        }  # fmt: skip

    def lines(self, text: str) -> int:
        count = self.measured.get(text)
        if count is None:
            count = line_count(text, self.width, PLAIN_SIZE)
            if len(self.measured) < REMEMBERED_TEXTS:
                self.measured[text] = count
        return count

    def write(self, ws, row: int, col: int, value) -> None:
        """Numbers and times as the column shows them: dates yyyy-mm-dd, times yyyy-mm-dd
        hh:mm (local); decimals in a number or coordinate column with its format; whole
        numbers of an integer or text column (序号, years, percentages) in General."""
        kind = value.__class__
        if kind is datetime.datetime:
            if value.tzinfo is not None:
                value = timezone.localtime(value).replace(tzinfo=None)
            ws.write_datetime(row, col, value, self.formats[DATETIME_FORMAT])
            return
        if kind is datetime.date:
            ws.write_datetime(row, col, value, self.formats[DATE_FORMAT])
            return
        if kind is Decimal:
            value = excel_number(value)
        elif kind is not float:
            write_value(ws, row, col, value)
            return
        if self.kind == "coordinate":
            ws.write_number(row, col, value, self.formats[COORDINATE_FORMAT])
        elif self.kind == "number":
            ws.write_number(row, col, value, self.formats[number_format(value)])
        else:
            ws.write_number(row, col, value)


# ------------------------------------------------------------------------------ 考核表

ASSESSMENT_COLUMNS = [
    Column("序号", 6, "center"),
    Column("任务", 28, group="考核内容"),
    Column("指标", 26, group="考核内容"),
    Column("责任单位", 20),
    Column("计量单位", 9, "center"),
    Column("原目标值", 10, "number", group="目标"),
    Column("调整后目标值", 10, "number", group="目标"),
    Column("调整文号", 16, group="目标"),
    Column("年度计划", 10, "number", group="目标"),
    Column("实际完成", 10, "number", group="完成情况"),
    Column("完成率", 9, "percent", group="完成情况"),
    Column("序时进度", 10, "number", group="完成情况"),
    Column("状态", 9, "center", group="完成情况"),
    Column("分值", 7, "score", group="评分"),
    Column("得分", 7, "score", group="评分"),
    Column("备注", 22),
]
SUMMARY_COLUMNS = [
    Column("序号", 6, "center"),
    Column("被考核单位", 24),
    Column("考核项数", 9, "integer"),
    Column("计分项数", 9, "integer"),
    Column("应得分", 9, "score"),
    Column("实得分", 9, "score"),
    Column("折算得分", 10, "score"),
    Column("扣分", 8, "score"),
    Column("一票否决", 18),
    Column("最终得分", 10, "score"),
    Column("等级", 10, "center"),
    Column("备注", 30),
]
SUMMARY_SHEET = "汇总"


def column_index(columns: Sequence[Column], header: str) -> int:
    return next(i for i, column in enumerate(columns) if column.header == header)


ASSESSMENT_STATUS = column_index(ASSESSMENT_COLUMNS, "状态")
ASSESSMENT_SCORE = column_index(ASSESSMENT_COLUMNS, "得分")


def _subheading(assessment: Assessment, label: str = "") -> str:
    rules = assessment.rules
    parts = [
        f"被考核单位：{label}" if label else "",
        f"考核年度：{assessment.year}年",
        f"统计截至：{assessment.on:%Y-%m-%d}",
        f"满分：{excel_number(rules.full_marks)}分",
        f"计分依据：{rules.basis_label}",
        f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}",
    ]
    return "　".join(p for p in parts if p)


def assessment_workbook(assessment: Assessment, *, progress: Progress | None = None) -> Book:
    """The 考核表: a summary sheet, the plan's own sheet, one sheet per district or unit.
    ``progress(done, total)`` is called every ``PROGRESS_EVERY`` rows (``progress.Reporter``)."""
    workbook = Book()
    taken: set[str] = {SUMMARY_SHEET}
    groups = [assessment.overall, *assessment.groups]
    reporter = Reporter(progress, len(groups) + sum(len(g.items) for g in groups))
    summary = SheetWriter(
        workbook,
        SUMMARY_SHEET,
        SUMMARY_COLUMNS,
        heading=f"{assessment.title}（汇总）",
        subheading=_subheading(assessment),
    )
    for number, group in enumerate(groups, start=1):
        scored = [i for i in group.items if i.scored]
        veto = "；".join(v.title for v in group.vetoes)
        reasons = "；".join(f"{d.reason}（−{excel_number(d.points)}）" for d in group.deductions)
        label = _label(group)
        summary.add_row(
            [
                number,
                label,
                len(group.items),
                len(scored),
                group.points_total,
                group.raw_score,
                group.base_score,
                group.deducted,
                veto or "无",
                group.final_score,
                group.grade,
                reasons,
            ],
            fills={10: GRADE_FILLS[group.passing], 8: LIGHT_FILLS["red"] if veto else None},
        )
        reporter.step()
    summary.mark_body_end()
    summary.finish()
    for group in groups:
        label = _label(group)
        _group_sheet(workbook, assessment, group, sheet_title(label, taken), label, reporter)
    reporter.finish()
    return workbook


def _label(group: Group) -> str:
    return group.label + ("本级" if group.kind == "plan" else "")


def _group_sheet(
    workbook, assessment: Assessment, group: Group, title: str, label: str, reporter: Reporter
) -> None:
    sheet = SheetWriter(
        workbook,
        title,
        ASSESSMENT_COLUMNS,
        heading=f"{assessment.title}（{label}）",
        subheading=_subheading(assessment, label),
        freeze_columns=3,
    )
    for number, item in enumerate(group.items, start=1):
        sheet.add_row(
            _item_values(number, item), fills={ASSESSMENT_STATUS: LIGHT_FILLS[item.light]}
        )
        reporter.step()
    sheet.mark_body_end()
    span = ASSESSMENT_SCORE - 1  # the footer's labels cover 序号 … 分值; the value: under 得分
    sheet.add_note_row("合计（计分项分值 / 得分）", group.raw_score, span_to=span + 1)
    sheet.add_note_row(
        f"折算得分（实得分 ÷ 应得分 {excel_number(group.points_total)} × 满分）",
        group.base_score,
        span_to=span + 1,
    )
    for deduction in group.deductions:
        sheet.add_note_row(f"扣分：{deduction.reason}", -deduction.points, span_to=span + 1)
    for veto in group.vetoes:
        when = f"（{veto.occurred_on:%Y-%m-%d}）" if veto.occurred_on else ""
        sheet.add_note_row(
            f"一票否决：{veto.title}{when}", None, span_to=span + 1, fill=LIGHT_FILLS["red"]
        )
    sheet.add_note_row("最终得分", group.final_score, span_to=span + 1)
    sheet.add_note_row(
        f"考核等级：{group.grade}", None, span_to=span + 1, fill=GRADE_FILLS[group.passing]
    )
    sheet.finish()


def _item_values(number: int, item: Item) -> list:
    return [
        number,
        item.task_title,
        item.name or "（任务整体推进）",
        item.units,
        item.measure_unit,
        item.original_value if item.kind == "target" else item.target_value,  # a task: 100 %
        item.adjusted_value,
        item.doc_number or None,
        item.year_plan,
        item.actual,
        item.completion,
        item.expected,
        item.status_label,
        item.points,
        item.score,
        item.note,
    ]


# ------------------------------------------------------------------------------ 中期评估

EVALUATION_COLUMNS = [
    Column("序号", 6, "center"),
    Column("编码", 14),
    Column("指标", 30),
    Column("区划", 10, "center"),
    Column("属性", 8, "center"),
    Column("计量单位", 9, "center"),
    Column("基期值", 10, "number", group="基期"),
    Column("基期年度", 8, "center", group="基期"),
    Column("原目标值", 10, "number", group="目标"),
    Column("调整后目标值", 10, "number", group="目标"),
    Column("调整文号", 16, group="目标"),
    Column("目标年度", 8, "center", group="目标"),
    Column("当前值", 10, "number", group="进展"),
    Column("序时进度", 10, "number", group="进展"),
    Column("进度比", 9, "percent", group="进展"),
    Column("预计期末值", 11, "number", group="进展"),
    Column("状态", 9, "center", group="评估"),
    Column("评估结论", 10, "center", group="评估"),
    Column("说明", 30),
]
EVALUATION_STATUS = column_index(EVALUATION_COLUMNS, "状态")
EVALUATION_VERDICT = column_index(EVALUATION_COLUMNS, "评估结论")


def evaluation_workbook(
    plan,
    rows: Iterable[EvaluationRow],
    *,
    on: datetime.date,
    title: str = "",
    progress: Progress | None = None,
) -> Book:
    rows = list(rows)  # built in memory by scoring.build_evaluation: its length is known
    reporter = Reporter(progress, len(rows))
    workbook = Book()
    sheet = SheetWriter(
        workbook,
        "中期评估",
        EVALUATION_COLUMNS,
        heading=title or f"{plan.title}实施情况评估表",
        subheading=(
            f"评估日期：{on:%Y-%m-%d}　规划期：{plan.start_year}—{plan.end_year}年　"
            "进度比 = 已完成进度 ÷ 序时应完成进度；预计期末值按当前趋势线性外推"
        ),
        freeze_columns=3,
    )
    for number, row in enumerate(rows, start=1):
        target, progress = row.target, row.progress
        allocated = row.region_label and target.region_id != progress.region_id
        notes = list(progress.missing)
        if progress.is_demo:
            notes.append("含演示数据")
        if progress.source:
            notes.append(progress.source)
        sheet.add_row(
            [
                number,
                target.code,
                ("其中：" if allocated else "") + target.name,
                row.region_label,
                target.get_attribute_display() if target.attribute else "",
                target.measure_unit,
                None if allocated else target.baseline_value,
                None if allocated else target.baseline_year,
                progress.original_value,
                row.adjusted_value,
                row.doc_number or None,
                progress.target_year or target.target_year or plan.end_year,
                progress.actual,
                progress.expected,
                row.ratio,
                progress.projection,
                str(progress.status_label),
                row.verdict_label,
                "；".join(notes),
            ],
            fills={
                EVALUATION_STATUS: LIGHT_FILLS[progress.light],
                EVALUATION_VERDICT: LIGHT_FILLS[row.light],
            },
        )
        reporter.step()
    reporter.finish()
    sheet.mark_body_end()
    sheet.finish()
    return workbook


# ------------------------------------------------------------------------------ ledgers

TASK_LEDGER_COLUMNS = [
    Column("序号", 7, "integer"),
    Column("规划", 28),
    Column("章节", 22),
    Column("任务编号", 10),
    Column("重点任务", 40),
    Column("牵头单位", 22),
    Column("配合单位", 26),
    Column("完成时限", 11, "date"),
    Column("状态", 9),
    Column("最新进展", 40),
    Column("进展时间", 16, "datetime"),
    Column("完成百分比", 10, "integer"),
]
CHUNK = 2000


def _ledger_sheet(workbook, title, columns, heading, subheading) -> SheetWriter:
    return SheetWriter(workbook, title, columns, heading=heading, subheading=subheading, plain=True)


def _exported_at(count_label: str = "") -> str:
    return f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}" + (
        f"　{count_label}" if count_label else ""
    )


def task_ledger_workbook(
    tasks: QuerySet, *, heading: str = "重点任务台账", progress: Progress | None = None
) -> Book:
    """任务台账: one row per task with its units, due date, status and latest update.

    Rows are read as plain values through a server-side cursor; the units and the latest
    update of each chunk of tasks in one more query each (the latest update by PostgreSQL's
    DISTINCT ON, not three correlated subqueries per task), so time and memory stay flat per
    row (no model instances)."""
    rows = tasks.order_by("plan_id", "order", "pk").values_list(
        "pk",
        "plan__title",
        "section__number",
        "section__title",
        "number",
        "code",
        "title",
        "due_on",
        "status",
    )
    statuses = {value: str(label) for value, label in TaskStatus.choices}
    lead_role, support_role = str(AssignmentRole.LEAD), str(AssignmentRole.SUPPORT)
    no_update = ("", None, None)
    reporter = Reporter.counting(progress, tasks)
    workbook = Book(wrap_default=True)
    sheet = _ledger_sheet(workbook, "任务台账", TASK_LEDGER_COLUMNS, heading, _exported_at())
    add_row, step = sheet.add_plain_row, reporter.step
    number = 0
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK), CHUNK):
        ids = [row[0] for row in chunk]
        units: dict[tuple[int, str], list[str]] = defaultdict(list)
        assignments = (
            TaskAssignment.objects.filter(task_id__in=ids)
            .order_by("task_id", "order", "pk")
            .values_list("task_id", "role", "unit__name")
        )
        for task_id, role, name in assignments:
            units[task_id, role].append(name)
        latest = {
            task_id: (text, at, percent)
            for task_id, text, at, percent in TaskUpdate.objects.filter(task_id__in=ids)
            .order_by("task_id", "-created_at", "-pk")
            .distinct("task_id")
            .values_list("task_id", "text", "created_at", "percent")
        }
        for pk, plan, section_number, section_title, task_number, code, title, due_on, \
                status in chunk:  # fmt: skip
            number += 1
            text, at, percent = latest.get(pk, no_update)
            lead, support = units.get((pk, lead_role)), units.get((pk, support_role))
            add_row(
                [
                    number,
                    plan,
                    f"{section_number or ''} {section_title or ''}".strip(),
                    task_number or code,
                    title,
                    "、".join(lead) if lead else "",
                    "、".join(support) if support else "",
                    due_on,
                    statuses.get(status, status),
                    text or "",
                    at,
                    percent,
                ]
            )
            step()
    reporter.finish()
    sheet.mark_body_end()
    sheet.finish()
    return workbook


def _chunks(iterable, size: int):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


STATION_COLUMNS = [
    Column("序号", 7, "integer"),
    Column("名称", 28),
    Column("区划", 12),
    Column("地址", 30),
    Column("站级", 14),
    Column("队伍性质", 18),
    Column("状态", 9),
    Column("建设方式", 10),
    Column("计划年度", 9, "integer"),
    Column("建成年度", 9, "integer"),
    Column("投入执勤日期", 12, "date"),
    Column("建筑面积（㎡）", 12, "number"),
    Column("占地面积（㎡）", 12, "number"),
    Column("投资（万元）", 12, "number"),
    Column("纬度", 11, "coordinate"),
    Column("经度", 11, "coordinate"),
    Column("来源规划", 28),
]


def station_register_workbook(stations: QuerySet, *, progress: Progress | None = None) -> Book:
    reporter = Reporter.counting(progress, stations)
    workbook = Book(wrap_default=True)
    sheet = _ledger_sheet(workbook, "消防站台账", STATION_COLUMNS, "消防站台账", _exported_at())
    stations = stations.select_related("region", "plan").order_by("region__name", "name", "pk")
    for number, station in enumerate(stations.iterator(chunk_size=CHUNK), start=1):
        sheet.add_plain_row(
            [
                number,
                station.name,
                station.region.name,
                station.address,
                station.get_station_class_display(),
                station.get_force_type_display(),
                station.get_status_display(),
                station.get_build_type_display(),
                station.planned_year,
                station.completed_year,
                station.in_service_on,
                station.floor_area_m2,
                station.land_area_m2,
                station.investment_10k_yuan,
                station.lat,
                station.lon,
                station.plan.title if station.plan else "",
            ]
        )
        reporter.step()
    reporter.finish()
    sheet.mark_body_end()
    sheet.finish()
    return workbook


REPORT_COLUMNS = [
    Column("序号", 7, "integer"),
    Column("规划", 26),
    Column("指标", 30),
    Column("计量单位", 9),
    Column("区划", 10),
    Column("期间", 8),
    Column("填报值", 10, "number"),
    Column("状态", 8),
    Column("填报人", 12),
    Column("提交时间", 16, "datetime"),
    Column("审核人", 12),
    Column("审核时间", 16, "datetime"),
    Column("说明", 30),
    Column("退回理由", 24),
    Column("异常值说明", 24),
]


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def report_ledger_workbook(reports: QuerySet, *, progress: Progress | None = None) -> Book:
    reporter = Reporter.counting(progress, reports)
    workbook = Book(wrap_default=True)
    sheet = _ledger_sheet(workbook, "填报记录", REPORT_COLUMNS, "进度填报记录", _exported_at())
    reports = reports.select_related(
        "target__plan", "region", "submitted_by", "reviewed_by"
    ).order_by("target__plan_id", "target__order", "region__name", "period", "pk")
    for number, report in enumerate(reports.iterator(chunk_size=CHUNK), start=1):
        sheet.add_plain_row(
            [
                number,
                report.target.plan.title,
                report.target.name,
                report.target.measure_unit,
                report.region.name,
                report.period,
                report.value,
                report.get_status_display(),
                _person(report.submitted_by),
                report.submitted_at,
                _person(report.reviewed_by),
                report.reviewed_at,
                report.note,
                report.return_reason,
                report.confirm_note,
            ]
        )
        reporter.step()
    reporter.finish()
    sheet.mark_body_end()
    sheet.finish()
    return workbook
