"""Importing a filled figures template: check the file, parse and validate every row, show a
preview, then commit all rows in one transaction or none (STYLE §9).

Refused as a whole, with a stable code, a message and nothing written (``ImportRefused``),
before the sheet reader reads a byte (``upload_guard``): a file that is not an xlsx workbook (an old
.xls or an encrypted one, HTML, CSV, an .xlsm renamed), is too large, truncated, a zip bomb
(uncompressed size, entry count and compression ratio bounded), an XML bomb or external
entity (no DTD or entity declarations), holds macros, has more rows than allowed. Then, read:
not our template or altered (signed identity), a template for another plan, region or
period, a region outside the uploader's scope, a period not open or locked, merged cells.

Refused row by row (``RowError``: row, column, what is wrong, what is expected): formulas
instead of values, text that is not a number (NaN, inf, a decimal comma “1,5”), negative or
out-of-range values (more than 14 integer digits or 4 decimals: the database's numeric(18, 4)
would silently round them; a number cell holding NaN, INF or text), a tampered or duplicated
hidden id, a target outside the uploader's scope, a figure already submitted or approved. Any
row error blocks the commit. What the sheet reader cannot parse at all refuses the file.

Numbers are read as people type them by the one parser every door uses
(``core.numbers.parse_number``, through ``targets.services.parse_value``): full-width digits
and punctuation, thousands separators in groups of three, 万 and 亿, percentages, the unit of
measure after the number; blank or “—” means no figure (the row is left alone); a decimal comma
(1,5) is refused with the question “是否为 1.5？”, never guessed. Text cells our exports escaped
with a leading apostrophe (``exporters.escape_text``) are read back without it.

The commit writes every row at once through ``targets.services.save_reports`` — the checks
of ``save_report`` (the browser form's), plausibility warnings (answered with the row's
异常值说明 or the note given on the preview page), optimistic locking and history — inside one
outer transaction, and keeps the file as evidence (``core.evidence.store_evidence``)
linked to the reports it wrote. Rows whose figure is already what the file says are not
written, so the same file uploaded twice changes nothing; a report changed by someone else
since the preview makes the commit refuse (a row that already holds the file's value is merged
silently).

The 基础数据 sheet (``templates.bases_sheet``: the bases the plan's formulas read for the
region and year) is read the same way: each row keyed by its hidden, checksummed 变量 cell,
numbers as typed, shown in the preview (``Preview.bases``) and written in the commit's
transaction through ``targets.bases.save_base_figures`` (versions seen at the preview, the
file's name as the history reason). A blank cell leaves the entered value alone.

Scale (issue 19, "stream, don't hold"): the workbook is read one row at a time from its XML
(``sheet_reader``: values as python-calamine gave them; formulas, error values and percentage
formats from one more streaming pass), and each row is checked against the database as it
comes, into compact rows (the targets owed and their figures as NamedTuples, never a model
instance per row). The preview costs a fixed number of queries whatever the number of rows.
The batch keeps the file, the versions the preview saw and the cells it read (one CSV
line a row, ``ImportBatch.cells``: a few bytes a row, not Python objects): the commit checks
those cells against the database as it is then — the workbook is parsed again only when the
stored file's digest is no longer the one previewed (the cells are a function of the bytes)
or a batch has no cells — and writes ``CHUNK_ROWS`` rows at a time through ``save_reports``
in its one transaction (a fixed number of queries per chunk) — only one chunk's rows and
model instances held at a time; ``progress(done, total)`` follows. A row with errors stops
the writes and refuses the file (the first five errors named; what earlier chunks wrote is
rolled back).
"""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePath
from typing import NamedTuple

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import Evidence, Region
from core.scope import REPORT, require, scope_of
from core.services import NotAllowed, ServiceError
from planning.models import Plan
from reports.excel import sheet_reader, upload_guard
from reports.excel.exporters import unescape_text
from reports.excel.progress import Progress, Reporter
from reports.excel.templates import (
    BASE_KEY_COLUMN,
    BASE_VALUE_COLUMN,
    BASES_SHEET,
    CONFIRM_COLUMN,
    DATA_SHEET,
    FIRST_ROW,
    ID_COLUMN,
    KIND,
    LAST_COLUMN,
    META_SHEET,
    NOTE_COLUMN,
    VALUE_COLUMN,
    base_column_name,
    check_base_row_key,
    check_row_key,
    column_name,
    read_token,
)
from reports.models import ImportBatch, ImportState
from targets import bases, services
from targets.choices import ReportStatus
from targets.models import ProgressReport, ReportingPeriod, Target

MiB = upload_guard.MiB
ImportRefused = upload_guard.ImportRefused  # the whole file is refused; nothing was written
MAX_BYTES = getattr(settings, "EXCEL_IMPORT_MAX_BYTES", 5 * MiB)
MAX_UNCOMPRESSED_BYTES = getattr(settings, "EXCEL_IMPORT_MAX_UNCOMPRESSED_BYTES", 100 * MiB)
MAX_ENTRIES = 500
MAX_RATIO = 200  # a real workbook part compresses 5–20 times; a bomb thousands of times
MAX_ROWS = getattr(settings, "EXCEL_IMPORT_MAX_ROWS", 20000)
MAX_CELLS = MAX_ROWS * LAST_COLUMN
DRAFT, SUBMIT = "draft", "submit"
NEW, CHANGED, UNCHANGED, BLANK, ERROR = "new", "changed", "unchanged", "blank", "error"
STATE_LABELS = {
    NEW: "新增",
    CHANGED: "修改",
    UNCHANGED: "未变",
    BLANK: "未填写（不导入）",
    ERROR: "错误",
}


# Rows a commit writes (and reads targets for) at a time. Not fewer: within the commit's
# transaction PostgreSQL plans each chunk's reads with the statistics from before the earlier
# chunks' inserts, and at province scale a 1 000-row chunk's read of the reports took 10–20 s
# (bench, 2026-12-06); with 10 000 the largest file (20 000 rows) is two chunks.
CHUNK_ROWS = 10_000


class OwedTarget(NamedTuple):
    """What the preview needs of a target owed (a model instance per row would cost a 20 000
    row import some 40 MB): ``targets.services.parse_value`` and ``unusual`` read these."""

    pk: int
    name: str
    measure_unit: str
    region_id: int
    target_value: Decimal | None


class OwedReport(NamedTuple):
    """The current figure of a row's target, as the preview and the commit compare it."""

    target_id: int
    pk: int
    value: Decimal | None
    status: str
    note: str
    version: int


@dataclass(slots=True)
class Owed:
    """A target the uploader owes in the file's region and period, with its figures."""

    target: OwedTarget
    last_approved: Decimal | None
    report: OwedReport | None


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("第 %(row)s 行“%(column)s”：%(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass(slots=True)
class SheetRow:
    """A filled row of the data sheet as the file holds it — what the checks against the
    database start from, one at a time as the sheet is read (the preview and the commit
    each read the file; neither holds its rows)."""

    row: int
    key: str | None  # the hidden row key (指标编号) as text; None when the cell is empty
    value: object  # the figure cell's value as the sheet reader gave it
    number_format: str | None
    problems: Sequence[tuple[int, str]]  # (column, message): formulas and error values
    note: str
    confirm_note: str


@dataclass(slots=True)
class PreviewRow:
    row: int
    owed: Owed | None
    cell: SheetRow | None = None  # as read: kept with the batch (``cells_text``)
    value: Decimal | None = None
    note: str = ""
    confirm_note: str = ""
    state: str = BLANK
    previous: Decimal | None = None
    previous_status: str = ""
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    label: str = ""

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def writes(self) -> bool:
        return self.state in (NEW, CHANGED)


@dataclass(slots=True)
class BaseCell:
    """A filled row of the 基础数据 sheet as the file holds it (no database)."""

    row: int
    key: str | None  # the hidden 变量 cell as text
    value: object
    number_format: str | None
    problems: Sequence[tuple[int, str]]


@dataclass(slots=True)
class BaseRow:
    """A row of the 基础数据 sheet checked against the database: what the preview shows and
    the commit writes through ``targets.bases.save_base_figures``."""

    row: int
    item: bases.BaseItem | None
    value: Decimal | None = None
    previous: Decimal | None = None
    state: str = BLANK
    errors: list[RowError] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.item.title if self.item else ""

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def writes(self) -> bool:
        return self.state in (NEW, CHANGED)


@dataclass
class Preview:
    plan: Plan
    region: Region
    period: str
    mode: str
    rows: list[PreviewRow]
    sha256: str = ""
    # the 基础数据 sheet: its rows as read, checked, and the versions seen of what they change
    base_cells: list[BaseCell] = field(default_factory=list)
    bases: list[BaseRow] = field(default_factory=list)
    base_versions: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[RowError]:
        return [error for row in [*self.rows, *self.bases] for error in row.errors]

    @property
    def bases_to_write(self) -> list[BaseRow]:
        return [row for row in self.bases if row.writes]

    @property
    def write_count(self) -> int:
        return len(self.to_write) + len(self.bases_to_write)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATE_LABELS, 0)
        for row in self.rows:
            counts[row.state] += 1
        return counts

    @property
    def to_write(self) -> list[PreviewRow]:
        return [row for row in self.rows if row.writes]

    @property
    def needs_confirmation(self) -> list[PreviewRow]:
        return [row for row in self.to_write if row.warnings and not row.confirm_note]


# ------------------------------------------------------------------------------ cells


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        value = int(value)
    return unescape_text(str(value)).strip()[:2000]


# ------------------------------------------------------------------------------ the file


def check_file(name: str, data: bytes) -> None:
    """Refuse what is not a small, ordinary xlsx workbook before any XML is parsed
    (``upload_guard``; the limits are read here, at call time, so settings and tests that
    change them take effect)."""
    upload_guard.check_workbook_upload(
        name,
        data,
        upload_guard.Limits(
            max_bytes=MAX_BYTES,
            max_uncompressed_bytes=MAX_UNCOMPRESSED_BYTES,
            max_entries=MAX_ENTRIES,
            max_ratio=MAX_RATIO,
            # The data sheet's rows start at FIRST_ROW; no sheet may reach further.
            max_rows=MAX_ROWS + FIRST_ROW - 1,
        ),
    )


def _load(data: bytes) -> sheet_reader.Workbook:
    try:
        return sheet_reader.Workbook(data)
    except sheet_reader.Unreadable:
        raise ImportRefused(
            "unreadable", _("文件无法读取，可能已损坏；请重新下载模板填写")
        ) from None


def _unreadable(row: int | None = None) -> ImportRefused:
    """What the sheet reader cannot parse (broken XML inside a sheet, a part missing) refuses the
    file instead of failing the request."""
    if row is None:
        return ImportRefused("unreadable", _("文件无法读取，可能已损坏；请重新下载模板填写"))
    return ImportRefused(
        "unreadable",
        _(
            "工作表第 %(row)s 行附近有无法读取的单元格（文件可能被其他软件改动或已损坏）；"
            "请在 Excel 或 WPS 中检查该行并重新保存后上传"
        )
        % {"row": row},
    )


def _identity(workbook: sheet_reader.Workbook) -> dict:
    if META_SHEET not in workbook.sheet_names or DATA_SHEET not in workbook.sheet_names:
        raise ImportRefused(
            "not_template",
            _("这不是本系统生成的填报模板（缺少模板标识），请在“Excel 导入导出”页面下载模板后填写"),
        )
    try:
        rows = workbook.rows(META_SHEET, first_row=1, first_column=1, last_column=2)
        kind, token = next(rows, (1, (None, None)))[1]
    except sheet_reader.Unreadable:
        raise _unreadable() from None
    identity = read_token(str(token)) if kind == KIND and token else None
    if identity is None:
        raise ImportRefused(
            "tampered_template", _("模板标识已被改动或不是本系统生成的模板，请重新下载模板填写")
        )
    return identity


def _refuse_identity(identity: dict, plan: Plan, region: Region, period: str) -> None:
    if (identity["plan"], identity["region"], identity["period"]) == (plan.pk, region.pk, period):
        return
    names = dict(Plan.objects.filter(pk=identity["plan"]).values_list("pk", "title"))
    regions = dict(Region.objects.filter(pk=identity["region"]).values_list("pk", "name"))
    described = "、".join(
        [
            names.get(identity["plan"], _("其他规划")),
            regions.get(identity["region"], _("其他区划")),
            str(identity["period"]),
        ]
    )
    raise ImportRefused(
        "wrong_template",
        _(
            "该文件是“%(described)s”的模板，与所选的“%(plan)s、%(region)s、%(period)s”不符；"
            "请下载所选规划、区划和期间的模板后填写"
        )
        % {"described": described, "plan": plan.title, "region": region.name, "period": period},
    )


def check_period(plan: Plan, region: Region, period: str) -> ReportingPeriod:
    """``targets.services.check_period_open``, refusing the whole file: the same check,
    message and code as the form and the API."""
    try:
        return services.check_period_open(plan, region, period)
    except ServiceError as error:
        raise ImportRefused(error.code, error.message) from None


# ------------------------------------------------------------------------------ preview


def preview_upload(
    data: bytes,
    name: str,
    *,
    actor,
    plan: Plan,
    region: Region,
    period: str,
    mode: str = SUBMIT,
    check_plausibility: bool = True,
) -> Preview:
    """Parse and validate the file against the database now. Writes nothing.

    A fixed number of queries whatever the number of rows: the targets owed, their
    allocations, the current reports and, with ``check_plausibility``, the previous approved
    figures each in one query (the commit leaves plausibility to ``save_reports``)."""
    with _fewer_collections():
        return _preview(data, name, actor, plan, region, period, mode, check_plausibility)


def _preview(data, name, actor, plan, region, period, mode, check_plausibility) -> Preview:
    _check_scope(actor, region)
    check_file(name, data)
    workbook = _load(data)
    try:
        identity = _identity(workbook)
        _refuse_identity(identity, plan, region, period)
        check_period(plan, region, period)
        # The data sheet's rows are checked as they are read: none is held but its result.
        rows = _check_rows(
            _read_sheet(workbook), actor, plan, region, period, mode,
            check_plausibility=check_plausibility,
        )  # fmt: skip
        base_cells = _read_bases_sheet(workbook)
    finally:
        workbook.close()
    base_rows, versions = _check_base_rows(base_cells, actor, plan, region, period)
    return Preview(
        plan, region, period, mode, rows, Evidence.digest(data), base_cells, base_rows,
        versions,
    )  # fmt: skip


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """The objects alive before an import (the process's modules, Django's, the ORM's
    caches) left out of the garbage collector's full passes while it runs (``gc.freeze``):
    a 10 000-row import allocates enough to trigger several, each walking all of them —
    a fifth of the commit's CPU time (bench, 2026-12-06). What the import drops is still
    collected; the objects are handed back to the collector at the end."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _check_scope(actor, region: Region) -> None:
    require(actor, REPORT)
    if not scope_of(actor).covers(region):
        raise NotAllowed(
            "out_of_scope", _("%(region)s不在您的填报范围内") % {"region": region.name}
        )


def _cell_problems(facts: sheet_reader.CellFacts, where: tuple[int, int], value) -> str | None:
    """Why a cell cannot hold a typed figure or note: a formula, or an error value."""
    formula = facts.formulas.get(where)
    if formula is None and isinstance(value, str) and value.startswith("="):
        formula = value
    if formula is not None:
        return _("不能使用公式（%(formula)s），请直接填写数值") % {"formula": formula[:40]}
    error = facts.errors.get(where)
    if error is not None:
        return _("单元格是错误值 %(value)s，请填写数值") % {"value": error}
    return None


def _cell(value):
    """A cell value as the rows keep it: whole floats as int (the reader gives 45 as 45.0)."""
    if value.__class__ is float and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _sheet_rows(
    workbook: sheet_reader.Workbook, name: str, label: str, first: int, last: int, skip=()
):
    """The rows of a sheet's table part, refusing merged cells and a sheet too long, with
    the facts (formulas, error values, percentage formats) of the columns read (``skip``:
    columns in between not read)."""
    merged = workbook.merged_rows(name, FIRST_ROW)
    if merged:
        raise ImportRefused(
            "merged_cells",
            _("%(sheet)s第 %(rows)s 行有合并单元格；请取消合并，每个单元格只填一个值")
            % {"sheet": label, "rows": "、".join(str(r) for r in merged[:10])},
        )
    try:
        columns = [column for column in range(first, last + 1) if column not in skip]
        facts = workbook.facts(name, columns, formats_of=first)
    except sheet_reader.Unreadable:
        raise _unreadable() from None
    rows = workbook.rows(name, first_row=FIRST_ROW, first_column=first, last_column=last, skip=skip)
    excel_row = FIRST_ROW
    while True:
        try:
            found = next(rows, None)
        except sheet_reader.Unreadable:
            raise _unreadable(excel_row) from None
        if found is None:
            return
        excel_row, values = found
        if excel_row - FIRST_ROW >= MAX_ROWS:
            raise ImportRefused(
                "too_many_rows",
                _("%(sheet)s超过 %(max)s 行，不是本系统生成的模板，已拒绝")
                % {"sheet": label, "max": MAX_ROWS},
            )
        yield excel_row, values, facts


def _read_sheet(workbook: sheet_reader.Workbook) -> Iterator[SheetRow]:
    """The data sheet's filled rows as the file holds them (no database): the input columns
    and the hidden key, one row at a time as the sheet is read."""
    inputs = (VALUE_COLUMN, NOTE_COLUMN, CONFIRM_COLUMN)
    key_index = ID_COLUMN - VALUE_COLUMN
    unread = set(range(CONFIRM_COLUMN + 1, ID_COLUMN))  # shown, not read back
    for excel_row, values, facts in _sheet_rows(
        workbook, DATA_SHEET, _("填报表"), VALUE_COLUMN, ID_COLUMN, unread
    ):
        key = values[key_index]
        value, note, confirm = values[:3]
        if key is None and value is None and note is None and confirm is None:
            continue  # an empty row below the table
        problems = []
        for number, raw in zip(inputs, (value, note, confirm), strict=True):
            problem = _cell_problems(facts, (excel_row, number), raw)
            if problem:
                problems.append((number, problem))
        yield SheetRow(
            row=excel_row,
            key=None if key is None else str(_cell(key)),
            value=_cell(value),
            number_format=facts.formats.get((excel_row, VALUE_COLUMN)),
            problems=problems or (),  # an empty tuple is shared, a list is not
            note=_text(note),
            confirm_note=_text(confirm),
        )


def _read_bases_sheet(workbook: sheet_reader.Workbook) -> list[BaseCell]:
    """The 基础数据 sheet's filled rows (none when the template has no such sheet)."""
    if BASES_SHEET not in workbook.sheet_names:
        return []
    found: list[BaseCell] = []
    key_index = BASE_KEY_COLUMN - BASE_VALUE_COLUMN
    unread = set(range(BASE_VALUE_COLUMN + 1, BASE_KEY_COLUMN))
    for excel_row, values, facts in _sheet_rows(
        workbook, BASES_SHEET, _("基础数据表"), BASE_VALUE_COLUMN, BASE_KEY_COLUMN, unread
    ):
        value, key = values[0], values[key_index]
        if key is None and value is None:
            continue
        problem = _cell_problems(facts, (excel_row, BASE_VALUE_COLUMN), value)
        found.append(
            BaseCell(
                row=excel_row,
                key=None if key is None else str(_cell(key)),
                value=_cell(value),
                number_format=facts.formats.get((excel_row, BASE_VALUE_COLUMN)),
                problems=[(BASE_VALUE_COLUMN, problem)] if problem else [],
            )
        )
    return found


def _check_base_rows(
    cells: list[BaseCell], actor, plan: Plan, region: Region, period: str
) -> tuple[list[BaseRow], dict[str, int]]:
    """The 基础数据 rows against the database now: the bases the uploader owes for the region
    and year (``targets.bases.owed_items``), each value parsed as typed. Also the versions of
    the rows they would change (checked again by the commit)."""
    if not cells:
        return [], {}
    sheet = bases.owed_items(actor, region, int(period[:4]), plan=plan)
    owed = {item.key: item for item in sheet.items} if sheet else {}
    rows: list[BaseRow] = []
    seen: dict[str, int] = {}
    column = base_column_name(BASE_VALUE_COLUMN)
    key_column = base_column_name(BASE_KEY_COLUMN)
    for cell in cells:
        row = BaseRow(row=cell.row, item=None)
        rows.append(row)
        key = None if cell.key is None else check_base_row_key(cell.key, plan.pk, region.pk, period)
        problem = ""
        if key is None:
            problem = "隐藏的变量列缺失或被改动，无法确认是哪一项基数；请重新下载模板填写"
        elif key in seen:
            problem = f"与第 {seen[key]} 行是同一项基数，请勿复制行"
        elif key not in owed:
            problem = f"该基数不在您本期的填报范围内（{region.name} {period[:4]}年），不能导入"
        if problem:
            row.state = ERROR
            row.errors.append(RowError(cell.row, key_column, problem))
            continue
        seen[key] = cell.row
        row.item = item = owed[key]
        row.previous = sheet.current(item)
        if cell.problems:
            row.errors.extend(RowError(cell.row, base_column_name(n), t) for n, t in cell.problems)
            row.state = ERROR
            continue
        try:
            row.value = bases.parse_number(cell.value, item, number_format=cell.number_format)
        except bases.NotANumber as error:
            row.errors.append(RowError(cell.row, column, str(error)))
        if row.errors:
            row.state = ERROR
        elif row.value is None:
            row.state = BLANK  # blank leaves the entered value alone
        elif row.previous is None:
            row.state = NEW
        else:
            row.state = UNCHANGED if row.previous == row.value else CHANGED
    versions = sheet.versions if sheet else {}
    return rows, versions


def _check_rows(
    cells: Iterable[SheetRow],
    actor,
    plan: Plan,
    region: Region,
    period: str,
    mode: str,
    *,
    check_plausibility: bool,
) -> list[PreviewRow]:
    """The file's rows against the database as it is now: the targets the uploader owes,
    their current reports and (``check_plausibility``) the warnings ``save_report`` gives."""
    owed, last, shares = _owed_now(actor, plan, region, period)
    rows = list(_parse_rows(cells, owed, plan, region, period, mode))
    for row in rows if check_plausibility else ():
        if row.writes and row.value is not None:
            target = row.owed.target
            row.warnings = services.unusual(
                target, region.pk, row.value, last.get(target.pk), shares.get(target.pk, {})
            )
    return rows


def _owed_now(actor, plan: Plan, region: Region, period: str):
    """The targets the uploader owes in the region and period, by pk, each with its current
    report and last approved figure (four queries); the figures and the allocations."""
    shares = services.allocated_shares([plan.pk], region.pk)
    reports = {
        report.target_id: report
        for report in map(
            OwedReport._make,
            ProgressReport.objects.filter(target__plan=plan, region=region, period=period)
            .values_list(*OwedReport._fields)
            .iterator(chunk_size=CHUNK_ROWS),
        )
    }
    last = services.previous_figures(region, period, [plan.pk])
    shared: dict = {}  # one object for equal units and goals (most targets share them)
    owed = {
        target.pk: Owed(
            target=OwedTarget(
                target.pk, target.name,
                shared.setdefault(target.measure_unit, target.measure_unit),
                target.region_id,
                shared.setdefault(("goal", target.target_value), target.target_value),
            ),
            last_approved=last.get(target.pk),
            report=reports.get(target.pk),
        )
        for target in services.iter_owed_rows(actor, plan, region, period, shares)
    }  # fmt: skip
    return owed, last, shares


def _parse_rows(
    cells: Iterable[SheetRow], owed: dict[int, Owed], plan, region, period, mode
) -> Iterator[PreviewRow]:
    """Each row checked against the targets owed, as the rows come."""
    seen: dict[int, int] = {}
    for cell in cells:
        yield _parse_row(cell, owed, seen, plan, region, period, mode)


def _parse_row(cell: SheetRow, owed: dict[int, Owed], seen: dict[int, int], plan, region,
               period, mode) -> PreviewRow:  # fmt: skip
    excel_row = cell.row
    row = PreviewRow(row=excel_row, owed=None, cell=cell)
    if cell.key is None:
        row.state = ERROR
        row.errors.append(
            RowError(
                excel_row,
                column_name(ID_COLUMN),
                _("不是模板中的行（缺少隐藏的指标编号），请勿插入行"),
            )
        )
        return row
    target_id = check_row_key(cell.key, plan.pk, region.pk, period)
    if target_id is None:
        row.state = ERROR
        row.errors.append(
            RowError(
                excel_row,
                column_name(ID_COLUMN),
                _("隐藏的指标编号被改动，无法确认是哪一项指标；请重新下载模板填写"),
            )
        )
        return row
    if target_id in seen:
        row.state = ERROR
        row.errors.append(
            RowError(
                excel_row,
                column_name(ID_COLUMN),
                _("与第 %(row)s 行是同一项指标，请勿复制行") % {"row": seen[target_id]},
            )
        )
        return row
    seen[target_id] = excel_row
    found = owed.get(target_id)
    if found is None:
        row.state = ERROR
        row.errors.append(
            RowError(
                excel_row,
                column_name(ID_COLUMN),
                _("该指标不在您本期的填报范围内（%(region)s %(period)s），不能导入")
                % {"region": region.name, "period": period},
            )
        )
        return row
    row.owed = found
    row.label = found.target.name
    _read_row(row, cell, mode)
    return row


def _read_row(row: PreviewRow, cell: SheetRow, mode: str) -> None:
    target, report = row.owed.target, row.owed.report
    column = column_name(VALUE_COLUMN)
    if cell.problems:
        row.errors.extend(RowError(row.row, column_name(n), text) for n, text in cell.problems)
        row.state = ERROR
        return
    try:
        # The one number parser of every door (core.numbers), with the target's checks.
        row.value = services.parse_value(cell.value, target, number_format=cell.number_format)
    except ServiceError as error:
        row.errors.append(RowError(row.row, column, error.message))
    row.note = cell.note
    row.confirm_note = cell.confirm_note
    if report is not None:
        row.previous, row.previous_status = report.value, report.status
    if row.errors:
        row.state = ERROR
        return
    row.state = _classify(row, report, mode)
    if row.state == ERROR:
        label = ReportStatus(report.status).label
        row.errors.append(
            RowError(
                row.row,
                column,
                _(
                    "该项本期填报%(status)s（%(value)s），不能再修改；"
                    "如需更正，请联系审核人员退回或重新打开"
                )
                % {"status": label, "value": _plain(report.value)},
            )
        )


def _plain(value: Decimal | None) -> str:
    return _("无数值") if value is None else f"{value.normalize():f}"


def _classify(row: PreviewRow, report: OwedReport | None, mode: str) -> str:
    if row.value is None:
        return BLANK
    if report is None:
        return NEW
    same_value = report.value is not None and report.value == row.value
    same_note = not row.note or row.note == report.note
    if same_value and same_note:
        if report.status in (ReportStatus.SUBMITTED, ReportStatus.APPROVED):
            return UNCHANGED
        if mode == DRAFT:
            return UNCHANGED
        return CHANGED  # a draft or returned figure, submitted now
    if report.status not in services.EDITABLE:
        return ERROR
    return CHANGED


# ------------------------------------------------------------------------------ writes

# Keys of ``ImportBatch.summary`` where batches previewed before the commit read the file
# again (issue 19, "stream, don't hold") kept the rows as JSON; a commit drops them.
CELLS, BASE_CELLS = "cells", "base_cells"
BASE_VERSION = "base:"  # ``seen_versions`` keys of the base rows (``base:population`` …)


@transaction.atomic
def create_batch(preview: Preview, data: bytes, name: str, *, actor) -> ImportBatch:
    """Keep a previewed file until it is committed (only a file without row errors), with
    the versions of the reports and bases the preview saw — the commit reads the file again
    and refuses what changed since."""
    if preview.errors:
        raise ImportRefused("row_errors", _("文件有错误，请改正后重新上传"))
    batch = ImportBatch(
        original_name=PurePath(name).name[:255],
        sha256=preview.sha256,
        size_bytes=len(data),
        plan=preview.plan,
        region=preview.region,
        period=preview.period,
        uploaded_by=actor,
        seen_versions={
            str(row.owed.target.pk): (row.owed.report.version if row.owed.report else 0)
            for row in preview.rows
            if row.owed is not None
        }
        | {f"{BASE_VERSION}{token}": version for token, version in preview.base_versions.items()},
        summary={"mode": preview.mode, "counts": preview.counts},
        cells=cells_text(preview),
    )
    batch.file.save(f"{preview.sha256[:16]}.xlsx", ContentFile(data), save=False)
    batch.save()
    return batch


@dataclass
class CommitResult:
    batch: ImportBatch
    written: list[int]  # the ids of the reports written
    unchanged: int
    bases_written: list[str] = field(default_factory=list)  # the base keys written


def commit_batch(
    batch_id: int, *, actor, confirm_note: str = "", progress: Progress | None = None
) -> CommitResult:
    """Write every row of a previewed file, or none. The file's rows are checked again
    against the database as it is now, inside the transaction, then written
    ``CHUNK_ROWS`` at a time; ``progress(done, total)`` is called every ``PROGRESS_EVERY`` rows
    handed to the service (of the rows to write) and once all are written."""
    try:
        with _fewer_collections():
            return _commit(
                batch_id, actor=actor, confirm_note=confirm_note.strip()[:2000], progress=progress
            )
    except IntegrityError:
        # Another upload created one of the same reports between our check and our insert.
        raise ImportRefused(
            "concurrent_import",
            _("另一份上传同时写入了相同的报送，本次没有导入任何数据；请重新上传以查看最新预览"),
        ) from None


@transaction.atomic
def _commit(batch_id: int, *, actor, confirm_note: str, progress: Progress | None) -> CommitResult:
    batch = (
        ImportBatch.objects.select_for_update()
        .select_related("plan", "region")
        .filter(pk=batch_id, uploaded_by=actor)
        .first()
    )
    if batch is None:
        raise NotAllowed("not_found", _("没有找到该上传记录"))
    if batch.state == ImportState.COMMITTED:
        raise ImportRefused("already_committed", _("该文件已经导入，无需重复导入"))
    with batch.file.open("rb") as handle:
        data = handle.read()
    mode = batch.summary.get("mode", SUBMIT)
    plan, region, period = batch.plan, batch.region, batch.period
    _check_scope(actor, region)
    previewed = Evidence.digest(data) == batch.sha256
    if not previewed:
        check_file(batch.original_name, data)  # not the file previewed: the guard again
    upload = SimpleUploadedFile(
        batch.original_name, data, content_type="application/vnd.openxmlformats-"
        "officedocument.spreadsheetml.sheet",
    )  # fmt: skip
    planned = batch.summary.get("counts") or {}
    reporter = Reporter(progress, planned.get(NEW, 0) + planned.get(CHANGED, 0))
    if previewed and batch.cells:
        # The cells the preview read from these very bytes (the reader is a function of
        # them): the same rows, checked against the database as it is now.
        check_period(plan, region, period)
        owed = _owed_now(actor, plan, region, period)[0]
        rows = _parse_rows(_kept_rows(batch.cells), owed, plan, region, period, mode)
        written, stored, counts, errors = _save_rows(
            batch, rows, mode, confirm_note, upload, actor, reporter
        )
        del owed, rows
        base_cells = list(_kept_base_cells(batch.cells))
    else:
        written, stored, counts, errors, base_cells = _commit_file(
            batch, data, mode, confirm_note, upload, actor, reporter
        )
    bases_checked, _versions = _check_base_rows(base_cells, actor, plan, region, period)
    errors += [error for row in bases_checked for error in row.errors]
    if errors:
        listed = "；".join(str(e) for e in errors[:5])
        raise ImportRefused(
            "row_errors", _("数据已变化，文件现有错误，未导入：%(errors)s") % {"errors": listed}
        )
    bases_written = _save_bases(batch, [row for row in bases_checked if row.writes], actor)
    reporter.finish()
    evidence = next(iter(stored), None)
    batch.state = ImportState.COMMITTED
    batch.committed_at = timezone.now()
    batch.evidence = evidence
    kept = {key: value for key, value in batch.summary.items() if key not in (CELLS, BASE_CELLS)}
    batch.summary = {
        **kept,
        "written": len(written),
        "counts": counts,
        "bases_written": bases_written,
    }
    batch.cells = ""
    batch.save(update_fields=["state", "committed_at", "evidence", "summary", "cells"])
    return CommitResult(batch, written, counts[UNCHANGED], bases_written)


def _commit_file(batch, data, mode, confirm_note, upload, actor, reporter):
    """The commit's rows read from the file again: a batch without the preview's cells, or
    whose file is no longer the one previewed."""
    plan, region, period = batch.plan, batch.region, batch.period
    workbook = _load(data)
    try:
        _refuse_identity(_identity(workbook), plan, region, period)
        check_period(plan, region, period)
        owed = _owed_now(actor, plan, region, period)[0]
        rows = _parse_rows(_read_sheet(workbook), owed, plan, region, period, mode)
        written, stored, counts, errors = _save_rows(
            batch, rows, mode, confirm_note, upload, actor, reporter
        )
        del owed, rows
        base_cells = _read_bases_sheet(workbook)
    finally:
        workbook.close()
    return written, stored, counts, errors, base_cells


# ------------------------------------------------------------------------------ kept cells

# ``ImportBatch.cells``: the cells the preview read, one CSV line a row — the data sheet's
# (DATA_LINE: row, key, value, number format, note, confirm note) then the 基础数据 sheet's
# (BASE_LINE: row, key, value, number format). A value is written with its type (None, text,
# whole or decimal number), so the commit gets back exactly what the reader gave.
DATA_LINE, BASE_LINE = "d", "b"
_NONE, _TEXT, _INT, _FLOAT = "", "s", "i", "f"


class _Unkept(Exception):
    """A cell the lines cannot carry (a date, a flag …): the commit reads the file."""


def _kept_value(value) -> tuple[str, str]:
    if value is None:
        return _NONE, ""
    if value.__class__ is str:
        return _TEXT, value
    if value.__class__ is int:
        return _INT, str(value)
    if value.__class__ is float:
        return _FLOAT, repr(value)
    raise _Unkept


def _read_value(kind: str, text: str):
    if kind == _NONE:
        return None
    if kind == _TEXT:
        return text
    return int(text) if kind == _INT else float(text)


def cells_text(preview: Preview) -> str:
    """The preview's cells as ``ImportBatch.cells`` keeps them; "" when one cannot be kept
    (the commit then reads the file again)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    try:
        for row in preview.rows:
            cell = row.cell
            if cell is None or cell.problems:
                return ""
            kind, value = _kept_value(cell.value)
            writer.writerow(
                (DATA_LINE, cell.row, "" if cell.key is None else cell.key, kind, value,
                 cell.number_format or "", cell.note, cell.confirm_note)
            )  # fmt: skip
        for base in preview.base_cells:
            if base.problems:
                return ""
            kind, value = _kept_value(base.value)
            writer.writerow(
                (BASE_LINE, base.row, "" if base.key is None else base.key, kind, value,
                 base.number_format or "")
            )  # fmt: skip
    except _Unkept:
        return ""
    return out.getvalue()


def _kept_lines(text: str, line: str) -> Iterator[list[str]]:
    for fields in csv.reader(io.StringIO(text)):
        if fields[0] == line:
            yield fields


def _kept_rows(text: str) -> Iterator[SheetRow]:
    """The data sheet's rows as the preview read them, one at a time."""
    for _line, row, key, kind, value, number_format, note, confirm in _kept_lines(text, DATA_LINE):
        yield SheetRow(
            row=int(row),
            key=key or None,
            value=_read_value(kind, value),
            number_format=number_format or None,
            problems=(),
            note=note,
            confirm_note=confirm,
        )


def _kept_base_cells(text: str) -> Iterator[BaseCell]:
    for _line, row, key, kind, value, number_format in _kept_lines(text, BASE_LINE):
        yield BaseCell(
            row=int(row),
            key=key or None,
            value=_read_value(kind, value),
            number_format=number_format or None,
            problems=[],
        )


def _save_rows(
    batch: ImportBatch,
    rows: Iterable[PreviewRow],
    mode: str,
    confirm_note: str,
    upload,
    actor,
    reporter: Reporter,
) -> tuple[list[int], list[Evidence], dict[str, int], list[RowError]]:
    """The file's rows, checked against the database as they are read, through the
    reporting service (``save_reports``: the checks of ``save_report``, optimistic locking
    against the versions seen at the preview, history), ``CHUNK_ROWS`` rows to write at a
    time inside the commit's transaction — only one chunk's rows and targets in memory — the
    file stored as evidence with the first chunk and linked to the reports of every chunk.
    A row with errors stops the writes (the caller refuses the file, and its transaction
    writes nothing); the first five errors are collected. A refusal of the service names its
    row. An unusual figure without its own 异常值说明 takes the note given on the preview page.
    Returns the ids of the reports written, the evidence stored, the rows' states counted
    and the errors."""
    written: list[int] = []
    evidence: list = [upload]
    counts = dict.fromkeys(STATE_LABELS, 0)
    errors: list[RowError] = []
    pending: list[PreviewRow] = []
    for row in rows:
        counts[row.state] += 1
        if row.errors:
            errors += row.errors
            if len(errors) >= 5:
                break
        elif row.writes and not errors:
            pending.append(row)
            if len(pending) == CHUNK_ROWS:
                evidence = _write_chunk(
                    batch, pending, mode, confirm_note, evidence, actor, reporter, written
                )
                pending = []
    if pending and not errors:
        evidence = _write_chunk(
            batch, pending, mode, confirm_note, evidence, actor, reporter, written
        )
    return written, evidence if written else [], counts, errors


def _write_chunk(batch, chunk, mode, confirm_note, evidence, actor, reporter, written):
    """One chunk of rows to write through ``save_reports``; the ids written are added to
    ``written``; returns the evidence (stored once: later chunks link the record)."""
    targets = Target.objects.only(*services.REPORTING_FIELDS).in_bulk(
        [row.owed.target.pk for row in chunk]
    )
    entries = []
    for row in chunk:
        target = targets.get(row.owed.target.pk)
        if target is None:  # deleted since the check: save_reports cannot name it
            raise ImportRefused(
                "stale_edit",
                _("第 %(row)s 行（%(label)s）：该指标已被删除；本次没有导入任何数据")
                % {"row": row.row, "label": row.label},
            )
        target.plan = batch.plan
        report = row.owed.report
        entries.append(
            services.ReportEntry(
                target=target,
                value=row.value,
                note=row.note or (report.note if report else ""),
                confirm_note=row.confirm_note,
                version=batch.seen_versions.get(str(target.pk), 0),
            )
        )
        reporter.step()  # rows handed to the service; (total, total) once all are written
    saved = _save_chunk(batch, chunk, entries, mode, confirm_note, evidence, actor)
    written += saved.report_ids
    return saved.evidence


def _save_chunk(batch, rows, entries, mode, confirm_note, evidence, actor):
    try:
        return services.save_reports(
            actor=actor,
            region=batch.region,
            period=batch.period,
            entries=entries,
            submit=mode == SUBMIT,
            confirm_unusual=confirm_note,
            evidence=evidence,
        )
    except ServiceError as error:
        index = getattr(error, "entry", None)
        if index is None:
            raise
        row = rows[index]
        if isinstance(error, services.NeedsConfirmation):
            raise ImportRefused(
                "confirmation_required",
                _(
                    "第 %(row)s 行（%(label)s）：%(message)s；"
                    "请在“异常值说明”列或本页填写说明后再导入，本次没有导入任何数据"
                )
                % {"row": row.row, "label": row.label, "message": error.message},
            ) from None
        raise ImportRefused(
            error.code,
            _("第 %(row)s 行（%(label)s）：%(message)s；本次没有导入任何数据")
            % {"row": row.row, "label": row.label, "message": error.message},
        ) from None


def _save_bases(batch: ImportBatch, rows: list[BaseRow], actor) -> list[str]:
    """The 基础数据 rows through ``targets.bases.save_base_figures`` (the page's path), in
    the commit's transaction, against the versions seen at the preview; the history rows say
    which file they came from. A refusal names its row, and nothing is written."""
    if not rows:
        return []
    values = {row.item.key: row.value for row in rows}
    versions = {
        row.item.version_token: batch.seen_versions.get(
            f"{BASE_VERSION}{row.item.version_token}", 0
        )
        for row in rows
    }
    reason = f"Excel 导入（{batch.original_name}）"[: bases.REASON_LIMIT]
    try:
        saved = bases.save_base_figures(
            batch.region,
            int(batch.period[:4]),
            actor=actor,
            values=values,
            reason=reason,
            versions=versions,
        )
    except ServiceError as error:
        found = getattr(error, "errors", None) or {}
        by_key = {row.item.key: row for row in rows}
        row = next((by_key[key] for key in found if key in by_key), None)
        where = (
            _("基础数据表第 %(row)s 行（%(label)s）：") % {"row": row.row, "label": row.label}
            if row
            else _("基础数据表：")
        )
        raise ImportRefused(
            error.code,
            _("%(where)s%(message)s；本次没有导入任何数据")
            % {"where": where, "message": error.message},
        ) from None
    return saved.changed
