"""Excel benchmark pieces shared by ``bench_excel`` and ``bench``: synthetic ledger and import
data, the product's export and import paths, and their raw baselines (one SQL query and a bare
loop into the fastest writer, XlsxWriter's constant-memory mode; the fastest reader,
python-calamine, and one COPY)."""

from __future__ import annotations

import datetime
import io
import random
from decimal import Decimal, InvalidOperation

import xlsxwriter
from django.db import connection
from django.utils import timezone
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from bench.synthetic import MARK
from core.models import Region, Unit
from planning.models import Plan, Task, TaskAssignment, TaskUpdate
from reports.excel import exporters, importers
from reports.excel.templates import FIRST_ROW, ID_COLUMN, VALUE_COLUMN, figures_template, owed_rows
from targets.models import ProgressReport, ReportingPeriod, Target

IMPORT_PERIOD = "2024"


def make_ledger(plan: Plan, units: list[Unit], count: int, rng: random.Random) -> None:
    """``count`` tasks of ``plan``, each with a lead unit, one in ten with an update."""
    tasks = Task.objects.bulk_create(
        [
            Task(
                plan=plan,
                code=f"L{n}",
                number=str(n + 1),
                title=f"{MARK}重点任务 {n + 1}",
                due_on=datetime.date(2021 + n % 5, 12, 31),
                order=n,
            )
            for n in range(count)
        ],
        batch_size=5000,
    )
    TaskAssignment.objects.bulk_create(
        [
            TaskAssignment(task=t, unit=units[n % len(units)], role="lead")
            for n, t in enumerate(tasks)
        ],
        batch_size=5000,
    )
    TaskUpdate.objects.bulk_create(
        [
            TaskUpdate(task=t, text=f"{MARK}进展说明", percent=rng.randint(0, 100))
            for t in tasks[::10]
        ],
        batch_size=5000,
    )


def export_ledger(plan: Plan) -> int:
    """The product's task ledger export (exporters.task_ledger_workbook), saved and closed."""
    workbook = exporters.task_ledger_workbook(Task.objects.filter(plan=plan))
    handle = exporters.save_workbook(workbook)
    size = handle.seek(0, io.SEEK_END)
    handle.close()
    return size


RAW_LEDGER_SQL = """
SELECT t.id, p.title, s.number, s.title, t.number, t.code, t.title,
       (SELECT string_agg(u.name, '、' ORDER BY a."order", a.id)
          FROM planning_taskassignment a JOIN planning_unit u ON u.id = a.unit_id
         WHERE a.task_id = t.id AND a.role = 'lead'),
       (SELECT string_agg(u.name, '、' ORDER BY a."order", a.id)
          FROM planning_taskassignment a JOIN planning_unit u ON u.id = a.unit_id
         WHERE a.task_id = t.id AND a.role = 'support'),
       t.due_on, t.status, last.text, last.created_at, last.percent
  FROM planning_task t
  JOIN planning_plan p ON p.id = t.plan_id
  LEFT JOIN planning_section s ON s.id = t.section_id
  LEFT JOIN LATERAL (
        SELECT text, created_at, percent FROM planning_taskupdate
         WHERE task_id = t.id ORDER BY created_at DESC, id DESC LIMIT 1) last ON true
 WHERE t.plan_id = %s
 ORDER BY t."order", t.id
"""


def raw_export_ledger(plan: Plan) -> int:
    """Baseline: one SQL query through a server-side cursor, a bare loop into the fastest
    writer's constant-memory mode (XlsxWriter: each row is flushed to a temporary file as the
    next one starts)."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False})
    sheet = workbook.add_worksheet("任务台账")
    with connection.chunked_cursor() as cursor:
        cursor.execute(RAW_LEDGER_SQL, [plan.pk])
        for number, row in enumerate(cursor):
            created_at = row[12].replace(tzinfo=None) if row[12] else None
            sheet.write_row(number, 0, [number + 1, *row[1:12], created_at, row[13]])
    workbook.close()
    return out.tell()


def make_import_targets(plan: Plan, region: Region, count: int) -> ReportingPeriod:
    """``count`` report-fed targets of ``plan`` for ``region`` and an open period."""
    Target.objects.bulk_create(
        [
            Target(
                plan=plan, code=f"I{n}", name=f"{MARK}填报指标 {n + 1}",
                measure="level", measure_unit="个", target_value=Decimal(100),
                target_year=2025, region=region, order=n,
            )
            for n in range(count)
        ],
        batch_size=5000,
    )  # fmt: skip
    today = timezone.localdate()
    return ReportingPeriod.objects.create(
        plan=plan,
        period=IMPORT_PERIOD,
        due_on=today + datetime.timedelta(days=10),
        locks_on=today + datetime.timedelta(days=30),
    )


def template_bytes(actor, plan: Plan, region: Region, period: ReportingPeriod) -> bytes:
    """The figures template (填报模板) the liaison downloads."""
    rows = owed_rows(actor, plan, region, period.period)
    workbook = figures_template(
        rows, plan=plan, region=region, period=period.period, user=actor, reporting_period=period
    )
    handle = exporters.save_workbook(workbook)
    data = handle.read()
    handle.close()
    return data


def fill_template(data: bytes, count: int) -> bytes:
    """Type the figures the way a liaison would (openpyxl; not part of any timing)."""
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook["填报表"]
    samples = ["１２", "1,200", "3万", "45", "  7 ", "8个"]
    for n in range(count):
        sheet.cell(FIRST_ROW + n, VALUE_COLUMN).value = (
            samples[n % len(samples)] if n % 2 else n % 90
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def import_preview(filled: bytes, actor, plan: Plan, region: Region) -> importers.Preview:
    preview = importers.preview_upload(
        filled, "bench.xlsx", actor=actor, plan=plan, region=region, period=IMPORT_PERIOD
    )
    if preview.errors:
        raise ValueError(f"合成文件有错误：{preview.errors[:3]}")
    return preview


def import_figures(filled: bytes, actor, plan: Plan, region: Region, count: int) -> int:
    """The product's import: preview, then commit (every row through the report service).
    The preview is dropped before the commit, as the two are separate requests."""
    preview = import_preview(filled, actor, plan, region)
    batch = importers.create_batch(preview, filled, "bench.xlsx", actor=actor)
    del preview
    result = importers.commit_batch(batch.pk, actor=actor, confirm_note=MARK)
    if len(result.written) != count:
        raise ValueError(f"应写入 {count} 行，实际 {len(result.written)} 行")
    return len(result.written)


def _bare_number(value) -> Decimal | None:
    if isinstance(value, float) and value.is_integer():
        return Decimal(int(value))
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = str(value or "").strip().replace(",", "").rstrip("个")
    text = text.translate({ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９"})
    if text.endswith("万"):
        return _bare_number(text[:-1]) * 10000 if text[:-1] else None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def raw_import(filled: bytes, actor, region: Region) -> int:
    """Baseline: the fastest reader (python-calamine) over the same rows, then one COPY of
    the figures."""
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(filled))
    rows = workbook.get_sheet_by_name("填报表").iter_rows()
    now = timezone.now().isoformat()
    buffer = io.StringIO()
    count = 0
    for number, row in enumerate(rows, start=1):
        if number < FIRST_ROW:
            continue
        key, value = row[ID_COLUMN - 1], _bare_number(row[VALUE_COLUMN - 1])
        if not key or value is None:
            continue
        target_id = int(str(key).split("-", 1)[0])
        buffer.write(
            f"{target_id}\t{region.pk}\t{IMPORT_PERIOD}\t{value}\t\tsubmitted\t{actor.pk}\t"
            f"{now}\t\t\t{now}\t{now}\tf\t1\n"
        )
        count += 1
    workbook.close()
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            f"COPY {ProgressReport._meta.db_table} (target_id, region_id, period, value, note, "
            "status, submitted_by_id, submitted_at, return_reason, confirm_note, created_at, "
            "updated_at, is_demo, version) FROM STDIN",
            buffer,
        )
    return count
