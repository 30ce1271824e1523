"""The figures import at scale (issue 9): preview and commit cost the same queries for N and
5N rows, and the set-wise path (``targets.services.save_reports``) keeps every rule of
``save_report`` — one bad row in a big file writes nothing, unusual figures need a note,
locked periods refuse, history and versions are kept.

The rows: 南阳's plan gets extra report-fed targets set for 南召县 (one row each in 南召县's
template, after the three seed rows 附件1 allocates to it), reported by liaison_nanzhao.
"""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import Evidence, Region
from planning.models import Plan
from reports.excel import importers
from reports.excel.templates import FIRST_ROW, VALUE_COLUMN, figures_template, owed_rows
from reports.models import ImportBatch, ImportState
from targets import services
from targets.models import LockException, ProgressReport, ReportingPeriod, Target

pytestmark = pytest.mark.django_db

NANYANG = "nanyang-2021-2025"
SEED_ROWS = 3  # 南召县's three allocated seed targets come first in its template
N = 4


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


def plan() -> Plan:
    return Plan.objects.get(code=NANYANG)


def nanzhao() -> Region:
    return Region.objects.get(name="南召县")


def add_targets(count: int) -> list[Target]:
    """``count`` report-fed targets of 南阳's plan set for 南召县 (goal 100 个 each)."""
    return Target.objects.bulk_create(
        Target(
            plan=plan(), code=f"scale-{n}", name=f"规模测试指标 {n + 1}", measure="level",
            measure_unit="个", target_value=Decimal(100), target_year=2025, region=nanzhao(),
            order=10_000 + n,
        )
        for n in range(count)
    )  # fmt: skip


def template(user) -> bytes:
    workbook = figures_template(
        owed_rows(user, plan(), nanzhao(), "2024"),
        plan=plan(), region=nanzhao(), period="2024", user=user,
    )  # fmt: skip
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def filled(user, values: list, *, column: int = VALUE_COLUMN) -> bytes:
    """The template with ``values`` typed into the added targets' rows (after the seed rows)."""
    workbook = openpyxl.load_workbook(io.BytesIO(template(user)))
    sheet = workbook["填报表"]
    for n, value in enumerate(values):
        sheet.cell(FIRST_ROW + SEED_ROWS + n, column).value = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def typed(data: bytes, values: dict[int, object], column: int) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for n, value in values.items():
        workbook["填报表"].cell(FIRST_ROW + SEED_ROWS + n, column).value = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def preview(user, data: bytes, mode: str = importers.SUBMIT) -> importers.Preview:
    return importers.preview_upload(
        data, "模板.xlsx", actor=user, plan=plan(), region=nanzhao(), period="2024", mode=mode
    )


def upload(user, data: bytes, mode: str = importers.SUBMIT) -> ImportBatch:
    result = preview(user, data, mode)
    assert result.errors == []
    return importers.create_batch(result, data, "模板.xlsx", actor=user)


def snapshot() -> tuple:
    reports = tuple(ProgressReport.objects.order_by("pk").values_list("pk", "value", "version"))
    return reports, ProgressReport.history.count(), Evidence.objects.count()


def scale_reports():
    return ProgressReport.objects.filter(target__code__startswith="scale-", period="2024")


# ------------------------------------------------------------------------------ queries


def import_queries(user, count: int) -> tuple[int, int]:
    """Queries of the preview (upload) and of create_batch + commit for ``count`` rows."""
    ProgressReport.objects.filter(region=nanzhao(), period="2024").delete()
    Target.objects.filter(code__startswith="scale-").delete()
    add_targets(count)
    data = filled(user, [n + 1 for n in range(count)])
    with CaptureQueriesContext(connection) as previewed:
        result = preview(user, data)
    assert result.counts["new"] == count
    with CaptureQueriesContext(connection) as committed:
        batch = importers.create_batch(result, data, "模板.xlsx", actor=user)
        written = importers.commit_batch(batch.pk, actor=user)
    assert len(written.written) == count
    return len(previewed), len(committed)


def test_preview_and_commit_cost_the_same_queries_for_n_and_5n_rows(open_2024, liaison_nanzhao):
    # Preview: period, targets owed (scope subquery), allocations, reports of the template,
    # previous approved figures — each once. Commit: the batch (locked), the same reads, then
    # in save_reports: targets in scope, allocations, period, reports to lock, previous
    # figures, one INSERT … RETURNING with its history rows, the evidence row and its links,
    # the batch. None of them grows with the rows.
    small = import_queries(liaison_nanzhao, N)
    large = import_queries(liaison_nanzhao, 5 * N)
    assert small == large
    assert scale_reports().count() == 5 * N


def test_resubmitting_many_drafts_costs_the_same_queries_for_n_and_5n_rows(
    open_2024, liaison_nanzhao
):
    """The update path: drafts saved by one upload, submitted by the next (UPDATE … FROM)."""
    counts = []
    for count in (N, 5 * N):
        ProgressReport.objects.filter(target__code__startswith="scale-").delete()
        Target.objects.filter(code__startswith="scale-").delete()
        add_targets(count)
        data = filled(liaison_nanzhao, [n + 1 for n in range(count)])
        importers.commit_batch(
            upload(liaison_nanzhao, data, importers.DRAFT).pk, actor=liaison_nanzhao
        )
        batch = upload(liaison_nanzhao, data)
        with CaptureQueriesContext(connection) as committed:
            result = importers.commit_batch(batch.pk, actor=liaison_nanzhao)
        assert len(result.written) == count
        counts.append(len(committed))
    assert counts[0] == counts[1]


# ------------------------------------------------------------------------------ results


def test_a_big_import_writes_every_row_with_history_version_and_evidence(
    open_2024, liaison_nanzhao
):
    add_targets(5 * N)
    data = filled(liaison_nanzhao, [n + 1 for n in range(5 * N)])
    batch = upload(liaison_nanzhao, data)
    result = importers.commit_batch(batch.pk, actor=liaison_nanzhao)

    reports = scale_reports().order_by("target__order")
    assert [r.value for r in reports] == [Decimal(n + 1) for n in range(5 * N)]
    assert {(r.status, r.version, r.submitted_by_id) for r in reports} == {
        ("submitted", 1, liaison_nanzhao.pk)
    }
    assert sorted(result.written) == sorted(r.pk for r in reports)
    records = ProgressReport.history.filter(id__in=[r.pk for r in reports])
    assert records.count() == 5 * N
    assert {
        (r.history_type, r.history_user_id, r.history_change_reason, r.version, r.status)
        for r in records
    } == {("+", liaison_nanzhao.pk, "提交", 1, "submitted")}
    batch.refresh_from_db()
    assert batch.state == ImportState.COMMITTED
    assert "cells" not in batch.summary and batch.summary["written"] == 5 * N
    assert set(batch.evidence.reports.values_list("pk", flat=True)) == {r.pk for r in reports}


def test_drafts_submitted_by_a_second_upload_get_version_two_and_an_update_record(
    open_2024, liaison_nanzhao
):
    add_targets(5 * N)
    data = filled(liaison_nanzhao, [n + 1 for n in range(5 * N)])
    importers.commit_batch(upload(liaison_nanzhao, data, importers.DRAFT).pk, actor=liaison_nanzhao)
    assert set(scale_reports().values_list("status", "version")) == {("draft", 1)}
    importers.commit_batch(upload(liaison_nanzhao, data).pk, actor=liaison_nanzhao)
    reports = list(scale_reports())
    assert {(r.status, r.version) for r in reports} == {("submitted", 2)}
    assert all(r.submitted_at is not None for r in reports)
    steps = ProgressReport.history.filter(id__in=[r.pk for r in reports]).values_list(
        "history_type", "history_change_reason", "version"
    )
    assert sorted(set(steps)) == [("+", "保存草稿", 1), ("~", "提交", 2)]
    assert len(steps) == 2 * 5 * N
    # The same file was linked to both uploads' reports once (the evidence is reused).
    assert Evidence.objects.filter(reports__in=reports).distinct().count() == 1


def test_a_bad_row_at_the_end_of_a_big_file_changes_nothing(open_2024, liaison_nanzhao):
    add_targets(5 * N)
    values = [n + 1 for n in range(5 * N)]
    values[-1] = "很多"
    before = snapshot()
    result = preview(liaison_nanzhao, filled(liaison_nanzhao, values))
    [error] = result.errors
    assert error.row == FIRST_ROW + SEED_ROWS + 5 * N - 1 and "不是数字" in error.message
    with pytest.raises(importers.ImportRefused):
        importers.create_batch(result, b"", "模板.xlsx", actor=liaison_nanzhao)
    assert snapshot() == before


def test_a_row_changed_by_someone_else_after_the_preview_refuses_the_whole_commit(
    open_2024, liaison_nanzhao
):
    targets = add_targets(5 * N)
    batch = upload(liaison_nanzhao, filled(liaison_nanzhao, [n + 1 for n in range(5 * N)]))
    services.save_report(
        actor=liaison_nanzhao, target=targets[-1], region=nanzhao(), period="2024", value=5 * N
    )  # a draft with the file's figure, saved in the browser meanwhile
    before = snapshot()
    with pytest.raises(importers.ImportRefused) as refused:
        importers.commit_batch(batch.pk, actor=liaison_nanzhao)
    assert refused.value.code == "report_exists"  # created meanwhile: no create overwrites it
    row = FIRST_ROW + SEED_ROWS + 5 * N - 1
    assert refused.value.message.startswith(f"第 {row} 行（规模测试指标 {5 * N}）：")
    assert "该指标本期已有填报" in refused.value.message  # who entered it, which version
    assert "没有导入任何数据" in refused.value.message
    assert snapshot() == before
    batch.refresh_from_db()
    assert batch.state == ImportState.PREVIEWED


def test_a_file_changed_on_disk_is_read_again_at_the_commit(open_2024, liaison_nanzhao):
    """The batch keeps the rows the preview read; they are used only for the file previewed."""
    add_targets(N)
    batch = upload(liaison_nanzhao, filled(liaison_nanzhao, [1] * N))
    other = filled(liaison_nanzhao, [2] * N)
    batch.file.save(batch.file.name.rsplit("/", 1)[-1], io.BytesIO(other), save=True)
    importers.commit_batch(batch.pk, actor=liaison_nanzhao)
    assert set(scale_reports().values_list("value", flat=True)) == {Decimal(2)}


# ------------------------------------------------------------------------------ rules


def test_unusual_figures_in_a_big_file_need_a_note_then_take_it(open_2024, liaison_nanzhao):
    add_targets(5 * N)
    values = [n + 1 for n in range(5 * N)]
    values[2] = values[7] = 301  # more than three times the goal of 100
    data = typed(filled(liaison_nanzhao, values), {7: "新建站点集中竣工"}, column=10)
    result = preview(liaison_nanzhao, data)
    warned = [row.row - FIRST_ROW - SEED_ROWS for row in result.rows if row.warnings]
    assert warned == [2, 7]
    assert "3 倍" in result.rows[SEED_ROWS + 2].warnings[0]
    assert [r.row for r in result.needs_confirmation] == [FIRST_ROW + SEED_ROWS + 2]

    batch = importers.create_batch(result, data, "模板.xlsx", actor=liaison_nanzhao)
    before = snapshot()
    with pytest.raises(importers.ImportRefused) as refused:
        importers.commit_batch(batch.pk, actor=liaison_nanzhao)
    assert refused.value.code == "confirmation_required"
    assert refused.value.message.startswith(f"第 {FIRST_ROW + SEED_ROWS + 2} 行（规模测试指标 3）")
    assert snapshot() == before

    importers.commit_batch(batch.pk, actor=liaison_nanzhao, confirm_note="已核实")
    notes = dict(scale_reports().values_list("target__code", "confirm_note"))
    assert notes.pop("scale-2") == "已核实"
    assert notes.pop("scale-7") == "新建站点集中竣工"
    assert set(notes.values()) == {""}


def test_a_jump_from_the_previous_approved_figure_is_unusual_in_the_bulk_path(
    open_2024, liaison_nanzhao, staff_nanyang
):
    [target] = add_targets(1)
    ReportingPeriod.objects.create(
        plan=plan(), period="2023", due_on=timezone.localdate(), locks_on=timezone.localdate()
    )
    approved = ProgressReport.objects.create(
        target=target, region=nanzhao(), period="2023", value=10, status="approved"
    )
    entry = services.ReportEntry(target=target, value=20)
    with pytest.raises(services.NeedsConfirmation) as needs:
        services.save_reports(actor=liaison_nanzhao, region=nanzhao(), period="2024",
                              entries=[entry])  # fmt: skip
    single = services.plausibility(target, nanzhao(), "2024", Decimal(20))
    assert needs.value.warnings == single.warnings
    assert "与上期审核值 10 相差 100%" in needs.value.warnings[0]
    assert needs.value.entry == 0
    assert approved.value == 10


def test_a_locked_period_refuses_the_bulk_path_unless_the_region_has_an_exception(
    open_2024, liaison_nanzhao, staff_nanyang
):
    targets = add_targets(N)
    entries = [services.ReportEntry(target=t, value=1) for t in targets]
    reporting = open_2024[NANYANG]
    ReportingPeriod.objects.filter(pk=reporting.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=20),
        locks_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    before = snapshot()
    with pytest.raises(services.ServiceError) as refused:
        services.save_reports(actor=liaison_nanzhao, region=nanzhao(), period="2024",
                              entries=entries)  # fmt: skip
    assert (refused.value.code, refused.value.entry) == ("period_locked", 0)
    assert "锁定" in refused.value.message
    assert snapshot() == before

    LockException.objects.create(
        reporting_period=reporting, region=nanzhao(), reason="补报",
        until=timezone.localdate() + datetime.timedelta(days=3), granted_by=staff_nanyang,
    )  # fmt: skip
    saved = services.save_reports(actor=liaison_nanzhao, region=nanzhao(), period="2024",
                                  entries=entries)  # fmt: skip
    assert len(saved.report_ids) == N


def test_the_bulk_path_refuses_what_save_report_refuses_naming_the_entry(
    open_2024, liaison_nanzhao, liaison_xixia
):
    targets = add_targets(3)
    region = nanzhao()

    def refusal(actor, entries, **kw):
        with pytest.raises(services.ServiceError) as refused:
            services.save_reports(actor=actor, region=region, period="2024", entries=entries,
                                  **kw)  # fmt: skip
        return refused.value.code, refused.value.entry

    ok = [services.ReportEntry(target=t, value=1) for t in targets[:2]]
    assert refusal(liaison_xixia, ok) == ("out_of_scope", 0)
    assert refusal(liaison_nanzhao, [*ok, services.ReportEntry(targets[2], "x")]) == (
        "not_a_number", 2
    )  # fmt: skip
    assert refusal(liaison_nanzhao, [*ok, services.ReportEntry(targets[0], 2)]) == (
        "duplicate", 2
    )  # fmt: skip
    assert refusal(liaison_nanzhao, [services.ReportEntry(targets[0], None)], submit=True) == (
        "value_required", 0
    )  # fmt: skip
    assert refusal(liaison_nanzhao, [services.ReportEntry(targets[0], 1, version=3)]) == (
        "stale_edit", 0
    )  # fmt: skip
    submitted = services.save_report(
        actor=liaison_nanzhao, target=targets[1], region=region, period="2024", value=1,
        submit=True,
    )  # fmt: skip
    assert refusal(liaison_nanzhao, ok) == ("not_editable", 1)
    submitted.refresh_from_db()
    assert submitted.version == 1
