"""Excel exports: the assessment sheet (考核表), the evaluation table (中期评估) and the
ledgers (任务台账, 消防站台账, 填报记录).

Builders take data (an ``Assessment``, rows, querysets already filtered and scoped), never
requests, and write with openpyxl's write-only mode: rows go to a temporary file as they are
appended, so memory stays flat however many rows there are. ``save_workbook`` writes the
finished workbook to a temporary file the view streams back.

Every text cell goes through ``escape_text`` (``StyleCache.cell``, ``add_plain_row``): text
from the database that begins with = + - @, a tab or a carriage return would be a live
formula (openpyxl writes a string starting with “=” as one) or become one when a user edits
the cell or saves the sheet as CSV (formula injection), so it gets a leading apostrophe —
visible, and the same in Excel, WPS and LibreOffice. Text that already begins with an
apostrophe gets one more, so the importer's ``unescape_text`` (drop one leading apostrophe)
gives back exactly what was exported.
"""

from __future__ import annotations

import datetime
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from planning.choices import AssignmentRole, TaskStatus
from planning.models import TaskAssignment, TaskUpdate
from reports.excel.layout import (
    CELL_PADDING,
    CJK_UNITS,
    Rows,
    height_for,
    line_count,
    page_setup,
    wrap_unstyled_cells,
    wrapped_height,
)
from reports.excel.progress import Progress, Reporter
from reports.excel.scoring import Assessment, EvaluationRow, Group, Item

FONT = "宋体"
TITLE_FONT = Font(name=FONT, size=16, bold=True)
SUBTITLE_FONT = Font(name=FONT, size=10, color="555555")
HEADER_FONT = Font(name="黑体", size=10, bold=True)
BODY_FONT = Font(name=FONT, size=10)
BOLD_FONT = Font(name=FONT, size=10, bold=True)
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")
RIGHT_WRAP = Alignment(horizontal="right", vertical="center", wrap_text=True)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
LIGHT_FILLS = {
    "green": PatternFill("solid", fgColor="C6EFCE"),
    "yellow": PatternFill("solid", fgColor="FFEB9C"),
    "red": PatternFill("solid", fgColor="FFC7CE"),
    "grey": PatternFill("solid", fgColor="E7E6E6"),
}
GRADE_FILLS = {True: LIGHT_FILLS["green"], False: LIGHT_FILLS["red"], None: LIGHT_FILLS["grey"]}
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00##"
PERCENT_FORMAT = "0.0%"
SCORE_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
COORDINATE_FORMAT = "0.000000"
TITLE_SIZE, BODY_SIZE = TITLE_FONT.size, BODY_FONT.size
PLAIN_SIZE = 11  # unstyled cells: the workbook's default font (Calibri 11)
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INVALID_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")


def escape_text(value):
    """A value as a cell may hold it: text that a spreadsheet could take for a formula gets
    a leading apostrophe; control characters XML cannot carry are dropped (openpyxl would
    refuse the whole export). Other values are returned as they are."""
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
    """A valid, unique sheet name (31 characters, none of []:*?/\\)."""
    base = (label.translate(INVALID_SHEET_CHARS).strip("'") or "工作表")[:31]
    title, n = base, 2
    while title in taken:
        suffix = f"({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title)
    return title


def save_workbook(workbook: Workbook):
    """The finished workbook in a temporary file, rewound (the caller streams and closes)."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(handle)
    handle.seek(0)
    return handle


class StyleCache:
    """Styled write-only cells without restyling each one.

    Setting a font, fill or border on a cell looks the style up in the workbook's style
    lists (hashing it) every time; a sheet uses a handful of combinations, so each is
    resolved once and its style ids are copied onto the next cells (openpyxl's StyleArray)."""

    def __init__(self, ws):
        self.ws = ws
        self.cache: dict[tuple, StyleArray] = {}

    def cell(self, value, *, font=None, alignment=None, fill=None, fmt=None, border=False,
             protection=None):  # fmt: skip
        key = (id(font), id(alignment), id(fill), fmt, border, id(protection))
        cell = WriteOnlyCell(self.ws, value=escape_text(value))
        style = self.cache.get(key)
        if style is None:
            if font is not None:
                cell.font = font
            if alignment is not None:
                cell.alignment = alignment
            if fill is not None:
                cell.fill = fill
            if fmt is not None:
                cell.number_format = fmt
            if border:
                cell.border = BORDER
            if protection is not None:
                cell.protection = protection
            self.cache[key] = StyleArray(cell._style)
        else:
            cell._style = StyleArray(style)
        return cell


@dataclass
class Column:
    header: str
    width: float
    kind: str = "text"  # text, center, number, integer, percent, score, date, datetime, coordinate
    group: str = ""  # a two-level header: the group over this column


class SheetWriter:
    """A write-only sheet laid out as a government form: a title row and a subtitle merged
    across the table, header rows (one, or two with groups), bordered body rows, a frozen
    header, filters over the header, printed on A4 landscape fitted to the page width with
    the header repeated on every page, and each row as tall as its wrapped text
    (``reports.excel.layout``)."""

    def __init__(
        self,
        workbook: Workbook,
        title: str,
        columns: Sequence[Column],
        *,
        heading: str,
        subheading: str = "",
        freeze_columns: int = 0,
        plain: bool = False,
    ):
        """``plain``: a ledger — body rows by ``add_plain_row``, without borders."""
        self.ws = workbook.create_sheet(title)
        self.styles = StyleCache(self.ws)
        self.columns = list(columns)
        self.border = not plain
        self.rows = Rows(self.ws)
        ws, last = self.ws, get_column_letter(len(self.columns))
        grouped = any(c.group for c in self.columns)
        self.header_first = 3
        self.header_last = 4 if grouped else 3
        # Write-only sheets write their views with the first row: set up before appending.
        page_setup(
            ws,
            widths=[c.width for c in self.columns],
            title_rows=(self.header_first, self.header_last),
            freeze=f"{get_column_letter(freeze_columns + 1)}{self.header_last + 1}",
        )
        if plain:
            wrap_unstyled_cells(ws, len(self.columns))
        across = sum(c.width for c in self.columns)
        styles = _plain_styles(self.ws)
        self._plain = [_PlainColumn(self.ws, c, styles) for c in self.columns]
        self._append(
            [self._cell(heading, TITLE_FONT, CENTER)],
            height=wrapped_height([(heading, across)], TITLE_SIZE, minimum=30),
        )
        ws.merged_cells.add(CellRange(f"A1:{last}1"))
        self._append(
            [self._cell(subheading, SUBTITLE_FONT, LEFT)],
            height=wrapped_height([(subheading, across)], BODY_SIZE, minimum=18),
        )
        ws.merged_cells.add(CellRange(f"A2:{last}2"))
        if grouped:
            self._two_level_header()
        else:
            headers = [(c.header, c.width) for c in self.columns]
            self._append(
                [self._header(c.header) for c in self.columns],
                height=wrapped_height(headers, BODY_SIZE, minimum=28),
            )
        assert self.row == self.header_last
        self.body_first = self.row + 1
        self.body_last = self.header_last

    @property
    def row(self) -> int:
        """The number of the last row written."""
        return self.rows.count

    def _cell(self, value, font=BODY_FONT, alignment=None, fill=None, fmt=None, border=False):
        return self.styles.cell(
            value, font=font, alignment=alignment, fill=fill, fmt=fmt, border=border
        )

    def _header(self, text):
        return self._cell(text, HEADER_FONT, CENTER, HEADER_FILL, border=True)

    def _two_level_header(self) -> None:
        first, second = [], []
        top = self.row + 1
        groups, names, spanning = [], [], []  # (text, width) of each kind of header cell
        index = 0
        while index < len(self.columns):
            column = self.columns[index]
            letter = get_column_letter(index + 1)
            if not column.group:
                first.append(self._header(column.header))
                second.append(self._header(None))
                self.ws.merged_cells.add(CellRange(f"{letter}{top}:{letter}{top + 1}"))
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
                first.append(self._header(column.group if offset == 0 else None))
                second.append(self._header(member.header))
                names.append((member.header, member.width))
            end = get_column_letter(index + span)
            self.ws.merged_cells.add(CellRange(f"{letter}{top}:{end}{top}"))
            index += span
        upper = wrapped_height(groups, BODY_SIZE, minimum=20)
        lower = wrapped_height(names, BODY_SIZE, minimum=28)
        # A header without a group spans both rows: the lower one grows if it needs more.
        both = wrapped_height(spanning, BODY_SIZE, minimum=upper + lower)
        self._append(first, height=upper)
        self._append(second, height=both - upper)

    def _append(self, cells, height: float | None = None) -> None:
        self.rows.append(cells, height)

    def body_cell(self, column: Column, value, fill=None, font=BODY_FONT):
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
            if isinstance(value, datetime.datetime):
                value = timezone.localtime(value).replace(tzinfo=None)
            fmt, alignment = DATETIME_FORMAT, CENTER
        elif kind == "center":
            alignment = CENTER
        return self._cell(value, font, alignment, fill, fmt, border=self.border)

    def add_row(self, values: Sequence, fills: dict[int, PatternFill] | None = None, font=None):
        fills = fills or {}
        cells = [
            self.body_cell(column, value, fills.get(index), font or BODY_FONT)
            for index, (column, value) in enumerate(zip(self.columns, values, strict=True))
        ]
        widths = [column.width for column in self.columns]
        texts = [(cell.value, width) for cell, width in zip(cells, widths, strict=True)]
        self._append(cells, height=wrapped_height(texts, BODY_SIZE))

    def add_plain_row(self, values: Sequence) -> None:
        """A fast row for large ledgers (``plain`` sheets): values without a style, which
        wrap there (``layout.wrap_unstyled_cells``), number formats by column; only a text
        too long for its column is measured, and its row gets a height."""
        row = []
        lines = 1
        for value, column in zip(values, self._plain, strict=True):
            kind = value.__class__
            if kind is str:
                value = escape_text(value)
                if len(value) > column.fits or "\n" in value:  # may not fit on one line
                    count = column.lines(value)
                    if count > lines:
                        lines = count
            elif kind is not int and kind is not datetime.date and value is not None:
                value = column.formatted(value)
            row.append(value)
        self.rows.append(row, None if lines == 1 else _plain_height(lines))

    def add_note_row(self, label: str, value, *, span_to: int, fill=None) -> None:
        """A footer row: a label merged over the first ``span_to`` columns, then a value."""
        cells = [self._cell(label, BOLD_FONT, RIGHT_WRAP, border=True)]
        cells += [self._cell(None, border=True) for _ in range(span_to - 1)]
        cells.append(self.body_cell(Column("", 0, "score"), value, fill, BOLD_FONT))
        rest = len(self.columns) - span_to - 1
        cells += [self._cell(None, border=True) for _ in range(rest)]
        across = sum(c.width for c in self.columns[:span_to])
        self._append(cells, height=wrapped_height([(cells[0].value, across)], BODY_SIZE))
        self.ws.merged_cells.add(CellRange(f"A{self.row}:{get_column_letter(span_to)}{self.row}"))
        if rest > 1:
            first = get_column_letter(span_to + 2)
            last = get_column_letter(len(self.columns))
            self.ws.merged_cells.add(CellRange(f"{first}{self.row}:{last}{self.row}"))

    def finish(self, *, filters: bool = True) -> None:
        last_col = get_column_letter(len(self.columns))
        last_row = max(self.row, self.header_last)
        if filters:
            self.ws.auto_filter.ref = f"A{self.header_last}:{last_col}{self.body_last}"
        self.ws.print_area = f"A1:{last_col}{last_row}"

    def mark_body_end(self) -> None:
        self.body_last = max(self.row, self.header_last)


REMEMBERED_TEXTS = 1000  # texts whose line count a ledger column keeps


def _plain_height(lines: int) -> float:
    return height_for(lines, PLAIN_SIZE)


def _plain_styles(ws) -> dict[str, StyleArray]:
    """The styles of a ledger's formatted cells, by number format."""
    styles = {}
    for fmt in (INTEGER_FORMAT, DECIMAL_FORMAT, COORDINATE_FORMAT, DATETIME_FORMAT):
        cell = WriteOnlyCell(ws)
        cell.number_format = fmt
        styles[fmt] = StyleArray(cell._style)
    return styles


class _PlainColumn:
    """How ``SheetWriter.add_plain_row`` writes a column's values: the longest text sure to
    fit on one line (no measuring below it), and the styles of its numbers and times —
    each resolved once, then copied onto the cells (StyleArray)."""

    def __init__(self, ws, column: Column, styles: dict[str, StyleArray]):
        self.ws = ws
        self.width = column.width
        self.kind = column.kind
        self.fits = int(max(column.width - CELL_PADDING, 1) / (CJK_UNITS * PLAIN_SIZE / 10))
        self.styles = styles
        self.measured: dict[str, int] = {}  # a ledger repeats its plans', units' names

    def lines(self, text: str) -> int:
        count = self.measured.get(text)
        if count is None:
            count = line_count(text, self.width, PLAIN_SIZE)
            if len(self.measured) < REMEMBERED_TEXTS:
                self.measured[text] = count
        return count

    def _cell(self, value, style: StyleArray) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws)
        cell._style = StyleArray(style)
        cell.value = value
        return cell

    def formatted(self, value):
        """Numbers and times as the column shows them. Dates are left to openpyxl, whose
        format for them is ours (yyyy-mm-dd); whole numbers of an integer or text column
        (序号, years, percentages) stay in the General format."""
        kind = value.__class__
        if kind is datetime.datetime:
            value = timezone.localtime(value).replace(tzinfo=None)
            return self._cell(value, self.styles[DATETIME_FORMAT])
        if kind is Decimal:
            value = excel_number(value)
        elif kind is not float:
            return value
        if self.kind == "coordinate":
            return self._cell(value, self.styles[COORDINATE_FORMAT])
        if self.kind == "number":
            return self._cell(value, self.styles[number_format(value)])
        return value


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


def assessment_workbook(assessment: Assessment, *, progress: Progress | None = None) -> Workbook:
    """The 考核表: a summary sheet, the plan's own sheet, one sheet per district or unit.
    ``progress(done, total)`` is called every ``PROGRESS_EVERY`` rows (``progress.Reporter``)."""
    workbook = Workbook(write_only=True)
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
) -> Workbook:
    rows = list(rows)  # built in memory by scoring.build_evaluation: its length is known
    reporter = Reporter(progress, len(rows))
    workbook = Workbook(write_only=True)
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
) -> Workbook:
    """任务台账: one row per task with its units, due date, status and latest update.

    Rows are read as plain values through a server-side cursor, and the units of each chunk
    of tasks in one more query, so time and memory stay flat per row (no model instances)."""
    latest = TaskUpdate.objects.filter(task_id=OuterRef("pk")).order_by("-created_at", "-pk")
    rows = (
        tasks.annotate(
            latest_text=Subquery(latest.values("text")[:1]),
            latest_at=Subquery(latest.values("created_at")[:1]),
            latest_percent=Subquery(latest.values("percent")[:1]),
        )
        .order_by("plan_id", "order", "pk")
        .values_list(
            "pk",
            "plan__title",
            "section__number",
            "section__title",
            "number",
            "code",
            "title",
            "due_on",
            "status",
            "latest_text",
            "latest_at",
            "latest_percent",
        )
    )
    statuses = {value: str(label) for value, label in TaskStatus.choices}
    reporter = Reporter.counting(progress, tasks)
    workbook = Workbook(write_only=True)
    sheet = _ledger_sheet(workbook, "任务台账", TASK_LEDGER_COLUMNS, heading, _exported_at())
    number = 0
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK), CHUNK):
        units: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        assignments = (
            TaskAssignment.objects.filter(task_id__in=[row[0] for row in chunk])
            .order_by("task_id", "order", "pk")
            .values_list("task_id", "role", "unit__name")
        )
        for task_id, role, name in assignments:
            units[task_id][role].append(name)
        for pk, plan, section_number, section_title, task_number, code, title, due_on, status, \
                text, at, percent in chunk:  # fmt: skip
            number += 1
            sheet.add_plain_row(
                [
                    number,
                    plan,
                    f"{section_number or ''} {section_title or ''}".strip(),
                    task_number or code,
                    title,
                    "、".join(units[pk][AssignmentRole.LEAD]),
                    "、".join(units[pk][AssignmentRole.SUPPORT]),
                    due_on,
                    statuses.get(status, status),
                    text or "",
                    at,
                    percent,
                ]
            )
            reporter.step()
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


def station_register_workbook(stations: QuerySet, *, progress: Progress | None = None) -> Workbook:
    reporter = Reporter.counting(progress, stations)
    workbook = Workbook(write_only=True)
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


def report_ledger_workbook(reports: QuerySet, *, progress: Progress | None = None) -> Workbook:
    reporter = Reporter.counting(progress, reports)
    workbook = Workbook(write_only=True)
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
