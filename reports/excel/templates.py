"""The yearly figures template (年度数据填报模板) a liaison downloads, fills and uploads.

One row per target the user owes for a plan, a region and a period, with pre-filled labels
(task, target, unit of measure, target value, this year's planned value, last approved value)
and the current figure when there is one. Label cells are locked (sheet protection); the three
input cells (本期填报值, 填报说明, 异常值说明) are unlocked, shaded and validated. A hidden
column holds each row's target id with a keyed checksum, and a very hidden sheet holds the
template's signed identity (plan, region, period), so the importer can refuse a template for
another plan, region or period and a tampered id.

When the plan's formula targets read base figures in the region (连州: fire deaths, population,
full-time firefighters), a 基础数据 sheet (``bases_sheet``) lists them for the period's year
with what is entered; the importer reads it back through ``targets.bases``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.datavalidation import DataValidation

from core.models import Region
from planning.models import Plan
from reports.excel.exporters import FONT, escape_text, excel_number, number_format
from reports.excel.layout import Rows, page_setup, wrapped_height
from targets import bases
from targets.choices import ReportStatus
from targets.models import ProgressReport, ReportingPeriod, Target
from targets.services import COUNT_UNITS, owed_targets
from targets.status import load_status_inputs, value_in_force, year_end, year_plan

# The template's openpyxl styles: the same look as the exports (reports.excel.exporters).
TITLE_FONT = Font(name=FONT, size=16, bold=True)
HEADER_FONT = Font(name="黑体", size=10, bold=True)
BODY_FONT = Font(name=FONT, size=10)
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")


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


KIND = "fireplan-figures-template"
VERSION = 1
SALT = "reports.excel.figures-template"
DATA_SHEET = "填报表"
HELP_SHEET = "填表说明"
META_SHEET = "_meta"
FIRST_ROW = 4
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
UNLOCKED = Protection(locked=False)

# (header, width); the column numbers below index this list from 1.
COLUMNS = [
    ("序号", 6),
    ("重点任务", 30),
    ("指标名称", 30),
    ("计量单位", 9),
    ("目标值", 10),
    ("本年度计划值", 12),
    ("上期审核值", 11),
    ("本期填报值", 12),
    ("填报说明", 28),
    ("异常值说明", 24),
    ("当前状态", 9),
    ("指标编号", 14),
]
VALUE_COLUMN, NOTE_COLUMN, CONFIRM_COLUMN, ID_COLUMN = 8, 9, 10, 12
LAST_COLUMN = len(COLUMNS)
STATUS_LABELS = {value: str(label) for value, label in ReportStatus.choices}


def column_name(index: int) -> str:
    return COLUMNS[index - 1][0]


@dataclass
class OwedRow:
    """A target the user owes a figure for, in one region and period, with what is known."""

    target: Target
    target_value: Decimal | None
    year_plan: Decimal | None
    last_approved: Decimal | None
    report: ProgressReport | None


def owed_rows(
    user, plan: Plan, region: Region, period: str, *, with_year_plan: bool = True
) -> list[OwedRow]:
    """The targets of ``plan`` that ``user`` reports for ``region`` in ``period``
    (``targets.services.owed_targets``, the importer's list) with what the template shows (a
    fixed number of queries: the targets, their shares, the engine's inputs, two report
    look-ups). The importer does not need this year's planned value and skips the engine."""
    targets, shares = owed_targets(user, plan, region, period, related=["task"])
    if not targets:
        return []
    year = int(period[:4])
    inputs = load_status_inputs(targets) if with_year_plan else None
    reports = {
        r.target_id: r
        for r in ProgressReport.objects.filter(target__plan=plan, region=region, period=period)
    }
    last: dict[int, Decimal] = {}
    approved = (
        ProgressReport.objects.filter(
            target__plan=plan, region=region, status=ReportStatus.APPROVED, period__lt=period
        )
        .order_by("target_id", "period")
        .values_list("target_id", "value")
    )
    for target_id, value in approved:
        last[target_id] = value
    rows = []
    for target in targets:
        own = shares.get(target.pk, {})
        share = own.get(region.pk) if region.pk != target.region_id else None
        rows.append(
            OwedRow(
                target=target,
                target_value=share if share is not None else _goal(target, inputs, year),
                year_plan=(
                    year_plan(
                        target,
                        inputs,
                        year,
                        region_id=region.pk if share is not None else None,
                        target_value=share,
                    )
                    if inputs
                    else None
                ),
                last_approved=last.get(target.pk),
                report=reports.get(target.pk),
            )
        )
    return rows


def _goal(target: Target, inputs, year: int) -> Decimal | None:
    """The target's value in force at the end of the period's year (指标调整); the importer,
    which loads no engine inputs and writes no goal, gets the plan's own value."""
    if inputs is None:
        return target.target_value
    return value_in_force(target, year_end(year), inputs=inputs).value


def row_checksum(plan_id: int, region_id: int, period: str, target_id: int) -> str:
    """``salted_hmac(SALT, "plan:region:period:target", algorithm="sha256")``, its first 16
    hex digits — computed with ``hmac.digest`` (the import checks one per row: Django's
    wrapper costs more than the hash)."""
    key = hashlib.sha256(f"{SALT}{settings.SECRET_KEY}".encode()).digest()
    message = f"{plan_id}:{region_id}:{period}:{target_id}".encode()
    return hmac.digest(key, message, "sha256").hex()[:16]


def row_key(plan_id: int, region_id: int, period: str, target_id: int) -> str:
    return f"{target_id}-{row_checksum(plan_id, region_id, period, target_id)}"


def check_row_key(key, plan_id: int, region_id: int, period: str) -> int | None:
    """The target id of a hidden row key, or None when it was altered."""
    text = str(key).strip() if key is not None else ""
    number, _, checksum = text.partition("-")
    if not number.isdigit() or len(number) > 12:
        return None
    target_id = int(number)
    expected = row_checksum(plan_id, region_id, period, target_id)
    return target_id if constant_time_compare(checksum, expected) else None


def template_token(plan: Plan, region: Region, period: str, user) -> str:
    return signing.dumps(
        {
            "kind": KIND,
            "version": VERSION,
            "plan": plan.pk,
            "region": region.pk,
            "period": period,
            "user": user.pk,
            "at": timezone.now().isoformat(timespec="seconds"),
        },
        salt=SALT,
    )


def read_token(token: str) -> dict | None:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        return None
    return data


def template_filename(plan: Plan, region: Region, period: str) -> str:
    return f"{plan.title}_{region.name}_{period}_年度数据填报模板.xlsx"


def _cell(styles, value, *, font=BODY_FONT, alignment=LEFT, fill=None, fmt=None, locked=True):
    return styles.cell(
        value,
        font=font,
        alignment=alignment,
        fill=fill,
        fmt=fmt,
        border=True,
        protection=None if locked else UNLOCKED,
    )


def _number_cell(styles, value):
    number = excel_number(value)
    return _cell(
        styles, number, alignment=RIGHT, fmt=number_format(number) if number is not None else None
    )


def input_number(value: Decimal | None):
    """The current figure in the input cell, so that uploading the template unchanged gives
    it back exactly: a number when a spreadsheet holds it exactly (15 significant digits, a
    double's guarantee), otherwise its digits as text (12345678901234.5678 fits the database
    but not a double; the importer reads text figures too)."""
    if value is None:
        return None
    normal = value.normalize()
    if len(normal.as_tuple().digits) > 15:
        return f"{normal:f}"
    return excel_number(value)


def _validation_kind(target: Target) -> str:
    if target.measure_unit == "%":
        return "percent"
    if target.measure_unit == "‰":
        return "permille"
    if target.measure_unit in COUNT_UNITS:
        return "whole"
    return "decimal"


VALIDATIONS = {
    "percent": ("decimal", "between", "0", "100", "应填写 0 到 100 之间的百分数（可不带 %）"),
    "permille": ("decimal", "between", "0", "1000", "应填写 0 到 1000 之间的千分数"),
    "whole": ("whole", "greaterThanOrEqual", "0", None, "应填写不小于 0 的整数"),
    "decimal": ("decimal", "greaterThanOrEqual", "0", None, "应填写不小于 0 的数字"),
}


def _ranges(rows: list[int], column: str) -> str:
    """Consecutive rows as ranges: H4:H9 H12 …"""
    parts, start, previous = [], None, None
    for row in rows:
        if start is None:
            start = previous = row
        elif row == previous + 1:
            previous = row
        else:
            parts.append(f"{column}{start}" + (f":{column}{previous}" if previous > start else ""))
            start = previous = row
    if start is not None:
        parts.append(f"{column}{start}" + (f":{column}{previous}" if previous > start else ""))
    return " ".join(parts)


def _row_height(cells, widths: list[float]) -> float | None:
    """The height of a row of the table: the hidden row key is not printed and may run over."""
    printed = zip(cells[: ID_COLUMN - 1], widths[: ID_COLUMN - 1], strict=True)
    return wrapped_height(((cell.value, width) for cell, width in printed), BODY_FONT.size)


def figures_template(
    rows: list[OwedRow],
    *,
    plan: Plan,
    region: Region,
    period: str,
    user,
    reporting_period: ReportingPeriod | None = None,
) -> Workbook:
    """The template workbook (write-only: a 10 000-row template stays small in memory)."""
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(DATA_SHEET)
    styles = StyleCache(ws)
    widths = [width for _, width in COLUMNS]
    page_setup(ws, widths=widths, title_rows=(FIRST_ROW - 1, FIRST_ROW - 1), freeze=f"D{FIRST_ROW}")
    ws.column_dimensions["L"].hidden = True
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.formatCells = False
    lines = Rows(ws)
    across = sum(widths[: ID_COLUMN - 1])  # the printed columns (the row key is hidden)
    last = chr(64 + ID_COLUMN - 1)

    heading = escape_text(f"{plan.title} {period} 年度数据填报表")
    title = WriteOnlyCell(ws, value=heading)
    title.font = TITLE_FONT
    title.alignment = Alignment(vertical="center", wrap_text=True)
    lines.append([title], height=wrapped_height([(heading, across)], TITLE_FONT.size, minimum=28))
    ws.merged_cells.add(CellRange(f"A1:{last}1"))
    deadline = ""
    if reporting_period is not None:
        deadline = f"　报送截止：{reporting_period.due_on:%Y-%m-%d}"
    info = WriteOnlyCell(
        ws,
        value=escape_text(
            f"填报区划：{region.name}　填报期间：{period}{deadline}　"
            f"模板生成：{timezone.localtime():%Y-%m-%d %H:%M}（{user.get_username()}）　"
            "黄色单元格为填写区，其余单元格已锁定；请勿插入、删除或调换行，勿修改隐藏列。"
        ),
    )
    info.font = BODY_FONT
    info.alignment = Alignment(vertical="center", wrap_text=True)
    lines.append([info], height=wrapped_height([(info.value, across)], BODY_FONT.size))
    ws.merged_cells.add(CellRange(f"A2:{last}2"))
    lines.append(
        [
            _cell(styles, name, font=HEADER_FONT, alignment=CENTER, fill=HEADER_FILL)
            for name, _ in COLUMNS
        ],
        height=wrapped_height(COLUMNS, HEADER_FONT.size, minimum=28),
    )

    by_kind: dict[str, list[int]] = defaultdict(list)
    for number, owed in enumerate(rows, start=1):
        excel_row = FIRST_ROW + number - 1
        target, report = owed.target, owed.report
        by_kind[_validation_kind(target)].append(excel_row)
        value = report.value if report is not None else None
        lines.append(
            cells := [
                _cell(styles, number, alignment=CENTER),
                _cell(styles, str(target.task) if target.task else ""),
                _cell(styles, target.name),
                _cell(styles, target.measure_unit, alignment=CENTER),
                _number_cell(styles, owed.target_value),
                _number_cell(styles, owed.year_plan),
                _number_cell(styles, owed.last_approved),
                _cell(
                    styles,
                    input_number(value),
                    alignment=RIGHT,
                    fill=INPUT_FILL,
                    locked=False,
                ),
                _cell(styles, report.note if report else None, fill=INPUT_FILL, locked=False),
                _cell(
                    styles, report.confirm_note if report else None, fill=INPUT_FILL, locked=False
                ),
                _cell(
                    styles,
                    STATUS_LABELS.get(report.status, "") if report else "未填报",
                    alignment=CENTER,
                ),
                _cell(styles, row_key(plan.pk, region.pk, period, target.pk)),
            ],
            height=_row_height(cells, widths),
        )
    for kind, excel_rows in by_kind.items():
        type_, operator, low, high, message = VALIDATIONS[kind]
        validation = DataValidation(
            type=type_,
            operator=operator,
            formula1=low,
            formula2=high,
            allow_blank=True,
            showErrorMessage=True,
            showInputMessage=True,
            errorStyle="warning",
            errorTitle="请核对数值",
            error=f"{message}。写成“1,200”“3万”“95%”“—”等也可以，导入时会自动识别。",
            promptTitle="本期填报值",
            prompt="填写数字；暂无数据可留空或填“—”",
        )
        for cells in _ranges(excel_rows, "H").split():  # add() takes one range at a time
            validation.add(cells)
        ws.data_validations.append(validation)

    bases_sheet(workbook, plan=plan, region=region, period=period, user=user)
    _help_sheet(workbook, plan, region, period)
    meta = workbook.create_sheet(META_SHEET)
    meta.sheet_state = "veryHidden"
    # Not escaped: the signed token (URL-safe base64 and ':') never starts with = + - @ '.
    meta.append([KIND, template_token(plan, region, period, user)])
    return workbook


HELP_WIDTH = 110
HELP_LINES = [
    "年度数据填报模板 · 填表说明",
    "",
    "一、填写范围",
    "1. 本表每一行是您所在区划在本期需要填报的一项指标，灰色单元格为系统预填内容，已锁定。",
    "2. 只需填写黄色单元格：“本期填报值”（必填数字）、“填报说明”（可选）、“异常值说明”（可选）。",
    "3. 请勿插入、删除、合并或调换行，勿修改隐藏的“指标编号”列，否则上传时会被拒绝。",
    "",
    "二、数值写法",
    "1. 填写阿拉伯数字即可，全角数字（１２３）、千分位（1,200）、“3万”“1.5万”均可识别。",
    "2. 百分比指标填 95 或 95% 均表示 95%；千分比指标填 0.45 或 0.45‰。",
    "3. 数量类指标（个、座、人、辆等）应为整数；所有数值不能为负数。",
    "4. 本期暂无数据的，可留空或填“—”，该行不会导入。",
    "5. 请直接填写数值，不要使用公式。",
    "",
    "三、数值说明",
    "1. 与上期审核值相差较大或远超目标值的数值，需在“异常值说明”中写明原因。",
    "2. 增量类指标（新增、新建）填写本期新增数；总量、比率类指标填写期末实际值。",
    "",
    "四、上传",
    "1. 在系统“Excel 导入导出”页面选择同一规划、区划和期间后上传本文件，",
    "   系统先逐行校验并显示预览（新增 / 修改 / 未变 / 错误），确认无误后才写入。",
    "2. 全部行一次写入，任何一行有错误时不会写入任何数据；同一文件重复上传不会重复写入。",
    "3. 上传的文件将作为佐证材料保存。",
]


def _help_sheet(workbook: Workbook, plan: Plan, region: Region, period: str) -> None:
    ws = workbook.create_sheet(HELP_SHEET)
    page_setup(ws, widths=[HELP_WIDTH])
    lines = Rows(ws)
    for number, line in enumerate(HELP_LINES):
        cell = WriteOnlyCell(ws, value=escape_text(line))
        if number == 0:
            cell.font = TITLE_FONT
        elif line.startswith(("一、", "二、", "三、", "四、")):
            cell.font = HEADER_FONT
        else:
            cell.font = BODY_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        minimum = 28 if number == 0 else None
        lines.append([cell], height=wrapped_height([(line, HELP_WIDTH)], cell.font.size, minimum))
    lines.append([])
    note = WriteOnlyCell(
        ws,
        value=escape_text(
            f"本模板适用于：{plan.title} · {region.name} · {period}（不可用于其他规划、区划或期间）"
        ),
    )
    note.font = Font(name="宋体", size=10, bold=True, color="C00000")
    note.alignment = Alignment(wrap_text=True, vertical="center")
    lines.append([note], height=wrapped_height([(note.value, HELP_WIDTH)], note.font.size))


# ------------------------------------------------------------------------------ 基础数据


BASES_SHEET = "基础数据"
BASES_COLUMNS = [
    ("序号", 6),
    ("项目", 30),
    ("计量单位", 10),
    ("年度", 8),
    ("已录入值", 12),
    ("本期填报值", 14),
    ("用于计算", 40),
    ("变量", 24),
]
BASE_VALUE_COLUMN, BASE_KEY_COLUMN = 6, 8


def base_column_name(index: int) -> str:
    return BASES_COLUMNS[index - 1][0]


def base_row_checksum(plan_id: int, region_id: int, period: str, key: str) -> str:
    message = f"base:{plan_id}:{region_id}:{period}:{key}"
    return salted_hmac(SALT, message, algorithm="sha256").hexdigest()[:16]


def base_row_key(plan_id: int, region_id: int, period: str, key: str) -> str:
    return f"{key}|{base_row_checksum(plan_id, region_id, period, key)}"


def check_base_row_key(text, plan_id: int, region_id: int, period: str) -> str | None:
    """The base key of a hidden 变量 cell, or None when it was altered."""
    key, _, checksum = (str(text).strip() if text is not None else "").rpartition("|")
    if not key or len(key) > 64:
        return None
    expected = base_row_checksum(plan_id, region_id, period, key)
    return key if constant_time_compare(checksum, expected) else None


def bases_sheet(workbook: Workbook, *, plan: Plan, region: Region, period: str, user):
    """The 基础数据 sheet: the bases the plan's formulas read for the region in the period's
    year (``targets.bases.owed_items``: population, fire deaths …), each with its entered
    value; the input column is unlocked, the hidden 变量 column keys each row with a checksum.
    No sheet when nothing is owed. Returns the ``BaseSheet`` (or None)."""
    year = int(period[:4])
    sheet = bases.owed_items(user, region, year, plan=plan)
    if sheet is None:
        return None
    ws = workbook.create_sheet(BASES_SHEET)
    styles = StyleCache(ws)
    for index, (_, width) in enumerate(BASES_COLUMNS, start=1):
        ws.column_dimensions[chr(64 + index)].width = width
    ws.column_dimensions[chr(64 + BASE_KEY_COLUMN)].hidden = True
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.formatCells = False
    title = WriteOnlyCell(ws, value=escape_text(f"{region.name} {year}年 基础数据"))
    title.font = TITLE_FONT
    ws.append([title])
    info = WriteOnlyCell(
        ws,
        value=escape_text(
            f"以下基数用于计算“{plan.title}”的公式指标。黄色单元格为填写区，"
            "留空表示本次不填写（不会清空已录入的数值）；请勿修改隐藏列。"
        ),
    )
    info.font = BODY_FONT
    ws.append([info])
    ws.append(
        [
            _cell(styles, name, font=HEADER_FONT, alignment=CENTER, fill=HEADER_FILL)
            for name, _ in BASES_COLUMNS
        ]
    )
    whole_rows, decimal_rows = [], []
    for number, item in enumerate(sheet.items, start=1):
        excel_row = FIRST_ROW + number - 1
        (whole_rows if item.whole else decimal_rows).append(excel_row)
        current = sheet.current(item)
        ws.append(
            [
                _cell(styles, number, alignment=CENTER),
                _cell(styles, item.label),
                _cell(styles, item.measure_unit, alignment=CENTER),
                _cell(styles, year, alignment=CENTER),
                _number_cell(styles, current),
                _cell(
                    styles, input_number(current), alignment=RIGHT, fill=INPUT_FILL, locked=False
                ),
                _cell(styles, "、".join(t.name for t in item.used_by)),
                _cell(styles, base_row_key(plan.pk, region.pk, period, item.key)),
            ]
        )
    column = chr(64 + BASE_VALUE_COLUMN)
    for kind, excel_rows in (("whole", whole_rows), ("decimal", decimal_rows)):
        if not excel_rows:
            continue
        type_, operator, low, high, message = VALIDATIONS[kind]
        validation = DataValidation(
            type=type_,
            operator=operator,
            formula1=low,
            formula2=high,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle="请核对数值",
            error=f"{message}。写成“1,200”“3万”等也可以，导入时会自动识别。",
        )
        for cells in _ranges(excel_rows, column).split():
            validation.add(cells)
        ws.data_validations.append(validation)
    return sheet
