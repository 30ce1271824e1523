"""The figures import's commit (issue 19, "Figures import, set-based commit"): it checks the
cells the preview read (``ImportBatch.cells``) against the database as it is then, without
parsing the workbook again; it writes the history rows the form's path writes; the derived
tables after an import are what a rebuild gives; the owed targets read as rows are the owed
targets; the row key's checksum is Django's ``salted_hmac``.

The rows are 南阳's extra report-fed targets set for 南召县 (``test_import_scale``'s helpers).
"""

import datetime
from decimal import Decimal

import pytest
from django.utils.crypto import salted_hmac

from core.models import Region
from reports.excel import importers, templates
from reports.excel.importers import BaseCell, Preview, PreviewRow, SheetRow
from targets import rollup_store, services, tally_store
from targets.models import Allocation, ProgressReport, Target
from tests.reports.test_import_scale import (
    N,
    add_targets,
    filled,
    nanzhao,
    plan,
    scale_reports,
    snapshot,
    typed,
    upload,
)

pytestmark = pytest.mark.django_db


def no_workbook(monkeypatch) -> None:
    """Any parse of the workbook fails the test."""

    def refuse(data):
        raise AssertionError("the commit parsed the workbook again")

    monkeypatch.setattr(importers, "_load", refuse)


# ------------------------------------------------------------------------------ kept cells


def test_the_commit_checks_the_previewed_cells_without_parsing_the_workbook(
    open_2024, liaison_nanzhao, monkeypatch
):
    add_targets(N)
    batch = upload(liaison_nanzhao, filled(liaison_nanzhao, ["１２", "2.5万", "1,200", "  7 "]))
    assert batch.cells
    no_workbook(monkeypatch)
    result = importers.commit_batch(batch.pk, actor=liaison_nanzhao, confirm_note="核实")
    assert len(result.written) == N
    assert sorted(scale_reports().values_list("value", flat=True)) == [
        Decimal(7), Decimal(12), Decimal(1200), Decimal(25000),
    ]  # fmt: skip
    batch.refresh_from_db()
    assert batch.cells == ""  # dropped once committed


def test_a_row_gone_bad_since_the_preview_is_refused_from_the_kept_cells(
    open_2024, liaison_nanzhao, monkeypatch
):
    """The kept cells are checked against the database as it is at the commit: a target
    whose unit became % refuses 150, with the preview's message, and nothing is written."""
    targets = add_targets(N)
    batch = upload(liaison_nanzhao, filled(liaison_nanzhao, [1, 2, 150, 3]))
    Target.objects.filter(pk=targets[2].pk).update(measure_unit="%")
    no_workbook(monkeypatch)
    before = snapshot()
    with pytest.raises(importers.ImportRefused) as refused:
        importers.commit_batch(batch.pk, actor=liaison_nanzhao)
    assert refused.value.code == "row_errors"
    assert "百分比应在 0 到 100 之间" in refused.value.message
    assert snapshot() == before


def test_a_batch_without_kept_cells_reads_the_file_at_the_commit(open_2024, liaison_nanzhao):
    """A batch previewed before the cells were kept (or whose cells could not be kept)."""
    add_targets(N)
    batch = upload(liaison_nanzhao, filled(liaison_nanzhao, [5] * N))
    batch.cells = ""
    batch.save(update_fields=["cells"])
    importers.commit_batch(batch.pk, actor=liaison_nanzhao)
    assert set(scale_reports().values_list("value", flat=True)) == {Decimal(5)}


def kept_preview(values: list, bases: list) -> Preview:
    rows = [
        PreviewRow(
            row=7 + n, owed=None,
            cell=SheetRow(
                row=7 + n, key=None if n == 0 else f"{n}-abc", value=value,
                number_format="0.00%" if n == 1 else None, problems=(),
                note="说明，含逗号\n和换行" if n == 2 else "", confirm_note='引号"' if n else "",
            ),
        )
        for n, value in enumerate(values)
    ]  # fmt: skip
    cells = [
        BaseCell(row=5 + n, key=f"k{n}|x", value=value, number_format=None, problems=[])
        for n, value in enumerate(bases)
    ]
    return Preview(None, None, "2024", importers.SUBMIT, rows, base_cells=cells)


def test_kept_cells_come_back_as_the_reader_gave_them():
    values = [None, 0.95, "1,200", 45, 0.1 + 0.2, 10**15, "", "=A1", "  7 "]
    bases = [12.5, None, "3万"]
    preview = kept_preview(values, bases)
    text = importers.cells_text(preview)
    assert list(importers._kept_rows(text)) == [row.cell for row in preview.rows]
    assert list(importers._kept_base_cells(text)) == preview.base_cells
    read = [cell.value for cell in importers._kept_rows(text)]
    assert [type(v) for v in read] == [type(v) for v in values]


@pytest.mark.parametrize("value", [True, datetime.date(2024, 1, 1), datetime.time(8, 0)])
def test_a_cell_the_lines_cannot_carry_leaves_the_commit_to_the_file(value):
    assert importers.cells_text(kept_preview([1, value], [])) == ""
    assert importers.cells_text(kept_preview([1], [value])) == ""


# ------------------------------------------------------------------------------ history


HISTORY_SKIPPED = {"id", "history_id", "history_date", "target", "created_at", "updated_at",
                   "submitted_at"}  # fmt: skip


def history_rows(report: ProgressReport) -> list[dict]:
    rows = ProgressReport.history.filter(id=report.pk).order_by("history_id").values()
    return [
        {k: v for k, v in row.items() if not {k, k.removesuffix("_id")} & HISTORY_SKIPPED}
        for row in rows
    ]


def test_an_import_writes_the_history_rows_the_form_writes(open_2024, liaison_nanzhao):
    """The import's set-wise INSERT/UPDATE … RETURNING writes each history row as
    django-simple-history writes the form's (``save_report``): same fields, type, reason,
    user — for a new figure, and for a draft changed and submitted."""
    imported, entered = add_targets(2)
    region = nanzhao()
    # the form's path for one target: a draft, then changed and submitted …
    draft = services.save_report(
        actor=liaison_nanzhao, target=entered, region=region, period="2024", value="5"
    )
    services.save_report(
        actor=liaison_nanzhao, target=entered, region=region, period="2024", value="8",
        note="核实", version=draft.version, submit=True,
    )  # fmt: skip
    # … the import's for the other: a draft, then a file submitting it changed
    batch = upload(liaison_nanzhao, filled(liaison_nanzhao, [5]), mode=importers.DRAFT)
    importers.commit_batch(batch.pk, actor=liaison_nanzhao)
    data = typed(filled(liaison_nanzhao, [8]), {0: "核实"}, column=importers.NOTE_COLUMN)
    batch = upload(liaison_nanzhao, data)
    importers.commit_batch(batch.pk, actor=liaison_nanzhao)

    by_import = ProgressReport.objects.get(target=imported, region=region, period="2024")
    by_form = ProgressReport.objects.get(target=entered, region=region, period="2024")
    assert [row["history_type"] for row in history_rows(by_import)] == ["+", "~"]
    assert history_rows(by_import) == history_rows(by_form)


# ------------------------------------------------------------------------------ derived


def test_the_derived_tables_after_an_import_are_what_a_rebuild_gives(
    open_2024, liaison_nanzhao, staff_nanyang, settings
):
    settings.FOUR_EYES = False
    targets = add_targets(2 * N)
    batch = upload(liaison_nanzhao, filled(liaison_nanzhao, [n + 1 for n in range(2 * N)]))
    importers.commit_batch(batch.pk, actor=liaison_nanzhao)
    # some approved (the roll-ups count those), some still submitted (the tallies count both)
    for report in scale_reports().filter(target__in=targets[:N]):
        services.approve_report(report, actor=staff_nanyang, version=report.version)
    ids = [t.pk for t in targets]
    assert rollup_store.rollups_match_raw(ids) == []
    assert tally_store.tally_matches_reports() == []


# ------------------------------------------------------------------------------ the rules


def test_owed_rows_are_the_owed_targets(open_2024, liaison_nanzhao, staff_nanyang):
    targets = add_targets(3)
    Target.objects.filter(pk=targets[0].pk).update(retired_on=datetime.date(2024, 1, 1))
    Target.objects.filter(pk=targets[1].pk).update(target_year=2023)
    region = nanzhao()
    retired = Allocation.objects.filter(region=region).first()
    if retired is not None:
        Allocation.objects.filter(pk=retired.pk).update(retired_on=datetime.date(2024, 1, 1))
    for actor, where, period in [
        (liaison_nanzhao, region, "2024"),
        (liaison_nanzhao, region, "2023"),
        (staff_nanyang, Region.objects.get(name="南阳市"), "2024"),
        (staff_nanyang, region, "2024"),
        (liaison_nanzhao, Region.objects.get(name="西峡县"), "2024"),
    ]:
        shares = services.allocated_shares([plan().pk], where.pk)
        rows = list(services.iter_owed_rows(actor, plan(), where, period, shares))
        owed = list(services.iter_owed_targets(actor, plan(), where, period, shares))
        assert [row.pk for row in rows] == [t.pk for t in owed]
        assert [(r.name, r.measure_unit, r.region_id, r.target_value) for r in rows] == [
            (t.name, t.measure_unit, t.region_id, t.target_value) for t in owed
        ]


def test_the_row_checksum_is_djangos_salted_hmac():
    for key in [(1, 2, "2024", 3), (10**9, 7, "2024Q3", 123456789)]:
        message = ":".join(str(part) for part in key)
        expected = salted_hmac(templates.SALT, message, algorithm="sha256").hexdigest()[:16]
        assert templates.row_checksum(*key) == expected
