"""Long exports and imports report their progress (issue 19: a background job shows it), and
an import is committed in chunks of rows — one transaction, the file stored once — so that
its memory does not grow with the rows. Rows: 南阳's plan gets report-fed targets set for
南召县 (tests/reports/test_import_scale.py)."""

import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Evidence
from planning.models import Task
from reports.excel import exporters, importers, progress
from reports.models import ImportState
from targets.models import ProgressReport, Target
from tests.reports.test_import_scale import (
    SEED_ROWS,
    add_targets,
    filled,
    nanzhao,
    preview,
    scale_reports,
    snapshot,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


@pytest.fixture
def small_steps(monkeypatch):
    """Progress every 2 rows and commits in chunks of 3, so a few rows cross both."""
    monkeypatch.setattr(progress, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(importers, "CHUNK_ROWS", 3)


def test_a_commit_in_chunks_writes_every_row_once_with_one_evidence_and_reports_progress(
    open_2024, liaison_nanzhao, small_steps
):
    add_targets(7)
    batch = upload(liaison_nanzhao, filled(liaison_nanzhao, [n + 1 for n in range(7)]))
    calls = []
    result = importers.commit_batch(
        batch.pk, actor=liaison_nanzhao, progress=lambda done, total: calls.append((done, total))
    )
    assert len(result.written) == 7 == scale_reports().count()
    assert sorted(scale_reports().values_list("value", flat=True)) == list(range(1, 8))
    # Every 2 rows handed to the service (chunks of 3, 3, 1), then once all are written.
    assert calls == [(2, 7), (4, 7), (6, 7), (7, 7)]
    evidence = Evidence.objects.get(pk=result.batch.evidence_id)
    assert set(evidence.reports.values_list("pk", flat=True)) == set(result.written)
    assert Evidence.objects.filter(sha256=evidence.sha256).count() == 1
    result.batch.refresh_from_db()
    assert result.batch.state == ImportState.COMMITTED


def test_a_row_refused_in_a_later_chunk_writes_nothing_of_the_earlier_chunks(
    open_2024, liaison_nanzhao, small_steps
):
    targets = add_targets(7)
    batch = upload(liaison_nanzhao, filled(liaison_nanzhao, [n + 1 for n in range(7)]))
    last = targets[-1]
    # Someone else saves the last row's figure after the preview: the commit refuses it.
    ProgressReport.objects.create(target=last, region=nanzhao(), period="2024", value=1)
    before = snapshot()
    with pytest.raises(importers.ImportRefused) as refused:
        importers.commit_batch(batch.pk, actor=liaison_nanzhao)
    assert f"第 {4 + SEED_ROWS + 6} 行" in refused.value.message
    assert snapshot() == before
    assert scale_reports().count() == 1  # only the other user's figure


def test_a_commit_costs_a_fixed_number_of_queries_per_chunk(
    open_2024, liaison_nanzhao, small_steps
):
    """Per chunk of rows: its targets, then save_reports' reads and writes — the same for
    every chunk, whatever its rows; the rest of the commit costs the same for any file."""

    def commit_queries(count: int) -> int:
        ProgressReport.objects.filter(region=nanzhao(), period="2024").delete()
        Target.objects.filter(code__startswith="scale-").delete()
        add_targets(count)
        batch = upload(liaison_nanzhao, filled(liaison_nanzhao, [n + 1 for n in range(count)]))
        with CaptureQueriesContext(connection) as committed:
            importers.commit_batch(batch.pk, actor=liaison_nanzhao)
        assert scale_reports().count() == count
        return len(committed)

    one, two, three = commit_queries(3), commit_queries(6), commit_queries(9)
    assert three - two == two - one > 0


def test_a_percentage_formatted_cell_is_read_as_a_percentage(open_2024, liaison_nanzhao):
    """calamine does not say a cell's format: the sheet's XML does (0.95 shown as 95 %)."""
    [target] = add_targets(1)
    target.measure_unit = "%"
    target.save(update_fields=["measure_unit"])
    workbook = openpyxl.load_workbook(io.BytesIO(filled(liaison_nanzhao, [0.95])))
    cell = workbook["填报表"].cell(4 + SEED_ROWS, 8)
    cell.number_format = "0%"
    out = io.BytesIO()
    workbook.save(out)
    [row] = [r for r in preview(liaison_nanzhao, out.getvalue()).rows if r.label == target.name]
    assert row.errors == [] and row.value == 95


def test_every_export_reports_progress_up_to_its_total(seeded, monkeypatch):
    monkeypatch.setattr(progress, "PROGRESS_EVERY", 5)
    tasks = Task.objects.all()
    count = tasks.count()
    calls = []
    exporters.save_workbook(
        exporters.task_ledger_workbook(tasks, progress=lambda d, t: calls.append((d, t)))
    ).close()
    assert calls[-1] == (count, count)
    assert [done for done, _ in calls[:-1]] == list(range(5, count + 1, 5))
    assert all(total == count for _, total in calls)
    silent = []
    exporters.save_workbook(exporters.task_ledger_workbook(tasks)).close()
    assert silent == []
