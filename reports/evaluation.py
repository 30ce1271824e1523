"""The evaluation report (中期评估 / 终期评估) of a plan at a date, as a Word document.

``evaluation_report(plan, on=…, kind=…)`` returns the .docx a committee office circulates:
title and 文号 block, an overview paragraph with the counts, the evaluation table (基期值,
目标值 with adjustments — 原目标值/调整后目标值 and the adjusting 文号 —, 实际值, 完成率,
判断), one chart per binding (约束性) target, a bar chart by region, the unfinished targets
with the reasons staff wrote (``TargetEvaluationNote``), and the tasks by lead unit with
their status. Every number comes from the status engine through ``StatusBoard`` (the same
numbers as the pages); the charts are drawn server-side by matplotlib (Agg) with a CJK font
found through ``matplotlib.font_manager`` (Debian's fonts-noto-cjk).
"""

from __future__ import annotations

import datetime
import io
from collections import defaultdict
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")  # no display on a server; before pyplot is imported

import matplotlib.pyplot as plt
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from matplotlib import font_manager

from core.models import Region
from core.services import ServiceError
from planning.choices import AssignmentRole
from planning.models import Plan
from targets.choices import EvaluationKind, ProgressStatus
from targets.models import Allocation, TargetEvaluationNote
from targets.rollups import StatusBoard
from targets.series import target_series
from targets.status import TargetProgress, plain_number, plan_finished

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei")
BODY_FONT = "Noto Sans CJK SC"
UNFINISHED = {ProgressStatus.UNMET, ProgressStatus.CRITICAL, ProgressStatus.LAGGING}


def evaluation_date(plan: Plan, today: datetime.date) -> datetime.date:
    """The date a report is judged at by default: today."""
    return today


def parse_kind(raw: str | None, plan: Plan, on: datetime.date) -> str:
    if not raw:
        return default_kind(plan, on)
    if raw not in EvaluationKind.values:
        raise ServiceError(
            "invalid", _("kind 应为 mid（中期评估）或 final（终期评估）"), field="kind"
        )
    return raw


def report_filename(plan: Plan, kind: str, on: datetime.date) -> str:
    return f"{plan.code}-{kind}-evaluation-{on:%Y%m%d}.docx"


def docx_response(plan: Plan, *, on: datetime.date, kind: str) -> HttpResponse:
    response = HttpResponse(evaluation_report(plan, on=on, kind=kind), content_type=DOCX_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        True, report_filename(plan, kind, on)
    )
    return response


def default_kind(plan: Plan, on: datetime.date) -> str:
    return EvaluationKind.FINAL if plan_finished(plan, on) else EvaluationKind.MID


def cjk_font() -> str | None:
    """The file of a CJK font matplotlib knows (None: the charts fall back to its default)."""
    names = {font.name: font.fname for font in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return names[family]
    return None


def _number(value: Decimal | None) -> str:
    return "—" if value is None else plain_number(value)


def _percent(progress: TargetProgress) -> str:
    if progress.completion is None:
        return "—"
    return plain_number(progress.completion * 100, 1) + "%"


# ------------------------------------------------------------------------------ charts


def _figure_png(figure) -> io.BytesIO:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    plt.close(figure)
    buffer.seek(0)
    return buffer


def _font_properties():
    path = cjk_font()
    return font_manager.FontProperties(fname=path) if path else None


def target_chart(target, series: dict) -> io.BytesIO:
    """Planned (line) and actual (bars) by year, with the target value."""
    font = _font_properties()
    years = [p["period"] for p in series["points"]]
    actual = [p["actual"] if p["actual"] is not None else 0 for p in series["points"]]
    planned = [p["planned"] for p in series["points"]]
    figure, axes = plt.subplots(figsize=(6.0, 3.0))
    axes.bar(years, actual, color="#4c78a8", label=_("实际值"))
    if any(v is not None for v in planned):
        axes.plot(
            years,
            [v if v is not None else float("nan") for v in planned],
            color="#f58518",
            marker="o",
            label=_("序时进度"),
        )
    if series["target_value"] is not None:
        axes.axhline(series["target_value"], color="#e45756", linestyle="--", label=_("目标值"))
    unit = target.measure_unit or ""
    axes.set_title(f"{target.name}（{unit}）" if unit else target.name, fontproperties=font)
    axes.legend(prop=font, fontsize=8)
    return _figure_png(figure)


def region_chart(rows: list[tuple[str, int, int, int]]) -> io.BytesIO:
    """Stacked bars by region: targets and allocations met, unmet, without figures."""
    font = _font_properties()
    names = [name for name, *_counts in rows]
    met = [row[1] for row in rows]
    unmet = [row[2] for row in rows]
    other = [row[3] for row in rows]
    figure, axes = plt.subplots(figsize=(6.0, max(2.0, 0.45 * len(rows) + 1)))
    positions = range(len(names))
    axes.barh(positions, met, color="#54a24b", label=_("已完成"))
    axes.barh(positions, unmet, left=met, color="#e45756", label=_("未完成"))
    axes.barh(
        positions,
        other,
        left=[a + b for a, b in zip(met, unmet, strict=True)],
        color="#bab0ac",
        label=_("未填报/未到期"),
    )
    axes.set_yticks(list(positions))
    axes.set_yticklabels(names, fontproperties=font)
    axes.invert_yaxis()  # the plan's own region first, at the top
    axes.set_title(_("各地区指标完成情况（项）"), fontproperties=font)
    axes.legend(prop=font, fontsize=8)
    return _figure_png(figure)


# ------------------------------------------------------------------------------ data


def region_rows(board: StatusBoard, plan: Plan) -> list[tuple[str, int, int, int]]:
    """(region, met, unfinished, other) for the plan's region and each region a target is set
    for or allocated to — ``StatusBoard.region_summary``, as the region pages count."""
    region_ids = {plan.region_id} | {t.region_id for t in board.targets}
    region_ids |= set(
        Allocation.objects.filter(target__plan=plan).values_list("region_id", flat=True)
    )
    names = dict(Region.objects.filter(pk__in=region_ids).values_list("pk", "name"))
    rows = []
    for region_id in sorted(region_ids, key=lambda pk: (pk != plan.region_id, names[pk])):
        summary = board.region_summary(region_id)
        counts = summary["targets"].counts + summary["allocations"].counts
        met = counts[ProgressStatus.MET]
        unfinished = sum(counts[s] for s in UNFINISHED)
        other = sum(counts.values()) - met - unfinished
        rows.append((names[region_id], met, unfinished, other))
    return rows


def _value_cell(progress: TargetProgress) -> str:
    if progress.adjustment is None:
        return _number(progress.target_value)
    return _("原 %(original)s，调整为 %(value)s（%(doc)s）") % {
        "original": _number(progress.original_value),
        "value": _number(progress.target_value),
        "doc": progress.adjustment.doc_number or _("无文号"),
    }


def _judgement(progress: TargetProgress) -> str:
    if progress.finished:
        return progress.verdict
    return str(progress.status_label)


# ------------------------------------------------------------------------------ document


def _set_fonts(document) -> None:
    style = document.styles["Normal"]
    style.font.name = BODY_FONT
    style.font.size = Pt(10.5)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), BODY_FONT)
    for name in ("Title", "Heading 1", "Heading 2"):
        heading = document.styles[name]
        heading.font.name = BODY_FONT
        heading.element.rPr.rFonts.set(qn("w:eastAsia"), BODY_FONT)


def _table(document, header: list[str], rows: list[list[str]], widths_cm: list[float]):
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    for row in table.rows:  # Word reads the cells' widths, LibreOffice the columns'
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
    return table


def evaluation_report(plan: Plan, *, on: datetime.date, kind: str | None = None) -> bytes:
    """The .docx of the plan's evaluation at ``on`` (see the module docstring)."""
    kind = kind or default_kind(plan, on)
    kind_label = str(EvaluationKind(kind).label)
    board = StatusBoard([plan], on=on)
    targets = board.targets
    progress = board.target_progress
    notes = {
        note.target_id: note.reason
        for note in TargetEvaluationNote.objects.filter(target__plan=plan, kind=kind)
    }
    document = Document()
    _set_fonts(document)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4
    section.left_margin = section.right_margin = Cm(2.2)

    title = document.add_heading(
        _("%(title)s%(kind)s报告") % {"title": plan.title, "kind": kind_label}, level=0
    )
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    block = document.add_paragraph()
    block.alignment = WD_ALIGN_PARAGRAPH.CENTER
    block.add_run(
        _("印发机关：%(issuer)s　文号：%(doc)s　规划期：%(start)s—%(end)s年　评估日期：%(on)s")
        % {
            "issuer": plan.issuer or "—",
            "doc": plan.doc_number or _("无"),
            "start": plan.start_year,
            "end": plan.end_year,
            "on": on.isoformat(),
        }
    )

    summary = board.plan_summary(plan)
    counts = summary["targets"].counts
    met = counts[ProgressStatus.MET]
    unfinished = sum(counts[s] for s in UNFINISHED)
    document.add_heading(_("一、总体情况"), level=1)
    if plan_finished(plan, on):
        overview = _(
            "规划期已于%(end)s年底结束。规划共设指标 %(total)s 项，指标完成 %(met)s 项，"
            "未完成 %(unmet)s 项，未填报 %(no_data)s 项；重点任务 %(tasks)s 项，"
            "已完成 %(tasks_met)s 项，未完成 %(tasks_unmet)s 项。"
        )
    else:
        overview = _(
            "截至%(on)s，规划共设指标 %(total)s 项，指标完成 %(met)s 项，"
            "未完成 %(unmet)s 项（其中滞后或严重滞后按序时进度判断），未填报 %(no_data)s 项；"
            "重点任务 %(tasks)s 项，已完成 %(tasks_met)s 项，未完成 %(tasks_unmet)s 项。"
        )
    task_counts = summary["tasks"].counts
    document.add_paragraph(
        overview
        % {
            "end": plan.end_year,
            "on": on.isoformat(),
            "total": summary["targets"].total,
            "met": met,
            "unmet": unfinished,
            "no_data": counts[ProgressStatus.NO_DATA],
            "tasks": summary["tasks"].total,
            "tasks_met": task_counts[ProgressStatus.MET],
            "tasks_unmet": sum(task_counts[s] for s in UNFINISHED),
        }
    )

    document.add_heading(_("二、指标完成情况评估表"), level=1)
    rows = []
    for number, target in enumerate(targets, start=1):
        p = progress[target.pk]
        rows.append(
            [
                str(number),
                target.name,
                target.get_attribute_display() or "—",
                target.measure_unit or "—",
                _number(target.baseline_value)
                + (f"（{target.baseline_year}）" if target.baseline_year else ""),
                _value_cell(p),
                _number(p.actual),
                _percent(p),
                _judgement(p),
            ]
        )
    _table(
        document,
        [
            _("序号"),
            _("指标"),
            _("属性"),
            _("单位"),
            _("基期值"),
            _("目标值"),
            _("实际值"),
            _("完成率"),
            _("判断"),
        ],
        rows,
        [0.9, 3.6, 1.3, 1.5, 1.7, 2.4, 1.5, 1.5, 2.2],
    )

    document.add_heading(_("三、约束性指标完成情况"), level=1)
    binding = [t for t in targets if t.attribute == "binding"]
    if not binding:
        document.add_paragraph(_("本规划未设约束性指标。"))
    for target in binding:
        series = target_series(target, on=on)
        document.add_paragraph(
            _("%(name)s：%(verdict)s")
            % {"name": target.name, "verdict": _judgement(progress[target.pk])}
        )
        document.add_picture(target_chart(target, series), width=Cm(15))

    document.add_heading(_("四、各地区完成情况"), level=1)
    document.add_picture(region_chart(region_rows(board, plan)), width=Cm(15))

    document.add_heading(_("五、未完成指标及原因"), level=1)
    missing = [t for t in targets if progress[t.pk].status in UNFINISHED]
    if not missing:
        document.add_paragraph(_("无未完成指标。"))
    else:
        _table(
            document,
            [_("指标"), _("判断"), _("未完成原因")],
            [
                [t.name, _judgement(progress[t.pk]), notes.get(t.pk) or _("（未填写）")]
                for t in missing
            ],
            [4.0, 4.0, 8.6],
        )

    document.add_heading(_("六、重点任务完成情况（按牵头单位）"), level=1)
    by_unit: dict[str, list] = defaultdict(list)
    for assignment in board.assignments:
        if assignment.role == AssignmentRole.LEAD:
            by_unit[assignment.unit.name].append(assignment.task_id)
    tasks = {t.pk: t for t in board.tasks}
    led = {task_id for ids in by_unit.values() for task_id in ids}
    unled = [t.pk for t in board.tasks if t.pk not in led]
    if unled:
        by_unit[_("（未明确牵头单位）")] = unled
    task_rows = []
    for unit_name in sorted(by_unit):
        for task_id in by_unit[unit_name]:
            task = tasks[task_id]
            status = board.task_progress[task_id].status
            label = ProgressStatus(status).label if status else task.get_status_display()
            task_rows.append([unit_name, f"{task.number} {task.title}".strip(), str(label)])
    _table(document, [_("牵头单位"), _("任务"), _("完成情况")], task_rows, [5.0, 8.6, 3.0])

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
