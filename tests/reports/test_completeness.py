"""The completeness matrix (填报完整性) on the 南阳 plan: what is owed (the city's report-fed
targets for 南阳市, and 附件1's allocations for each county), what came in and when, the rates,
the colours, the unit variant, who may open the page, and a query count that does not grow
with the reports. Reports are written through targets.services by the cast."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import Region, Unit
from planning.models import Plan, TaskAssignment
from reports.completeness import BY_UNIT, NO_UNIT_LABEL, completeness
from targets import services
from targets.models import ProgressReport, ReportingPeriod, Target
from tests.conftest import open_period

pytestmark = pytest.mark.django_db

NANYANG = "nanyang-2021-2025"
# Seed facts (南阳 plan): 57 report-fed targets set for 南阳市; allocations per county —
# 南召县 3 (new stations, key towns, old stations), 西峡县 4 (the same and indoor halls),
# 36 over the 13 counties.
CITY_TARGETS, NANZHAO_OWES, XIXIA_OWES, COUNTIES_OWE = 57, 3, 4, 36


def plan() -> Plan:
    return Plan.objects.get(code=NANYANG)


def region(name: str) -> Region:
    return Region.objects.get(name=name)


def target(code: str) -> Target:
    return Target.objects.get(plan__code=NANYANG, code=code)


def save(actor, code: str, county: str, period: str, *, submit: bool = True):
    return services.save_report(
        actor=actor,
        target=target(code),
        region=region(county),
        period=period,
        value="1",
        submit=submit,
    )


@pytest.fixture
def filled(open_2024, staff_nanyang, liaison_nanzhao, liaison_xixia):
    """2024 (due in 10 days) and 2023 (due 5 days ago, not yet locked) on the 南阳 plan.

    南召县 2024: new stations submitted, key towns a draft, old stations missing.
    西峡县 2024: new stations approved, old stations returned, two missing.
    南召县 2023: new stations submitted after the deadline; the rest overdue.
    """
    open_period(NANYANG, "2023", due_in_days=-5, locks_in_days=20)
    save(liaison_nanzhao, "tg-new-stations", "南召县", "2024")
    save(liaison_nanzhao, "tg-b3-key-town", "南召县", "2024", submit=False)
    approved = save(liaison_xixia, "tg-new-stations", "西峡县", "2024")
    services.approve_report(approved, actor=staff_nanyang)
    returned = save(liaison_xixia, "tg-b3-old-stations", "西峡县", "2024")
    services.return_report(returned, actor=staff_nanyang, reason="缺佐证")
    save(liaison_nanzhao, "tg-new-stations", "南召县", "2023")


def counts(cell) -> dict:
    names = ["owed", "approved", "submitted", "returned", "draft", "missing"]
    names += ["on_time", "late", "overdue"]
    return {name: getattr(cell, name) for name in names}


def test_counts_per_county_and_period_are_exact(filled, staff_nanyang):
    matrix = completeness(staff_nanyang, plan())
    nanzhao, xixia = matrix.row(region("南召县").pk), matrix.row(region("西峡县").pk)

    assert [p.period for p in matrix.periods] == ["2023", "2024"]
    assert counts(nanzhao.cells[1]) == {
        "owed": 3, "approved": 0, "submitted": 1, "returned": 0, "draft": 1, "missing": 1,
        "on_time": 1, "late": 0, "overdue": 0,
    }  # fmt: skip
    assert counts(xixia.cells[1]) == {
        "owed": 4, "approved": 1, "submitted": 0, "returned": 1, "draft": 0, "missing": 2,
        "on_time": 1, "late": 0, "overdue": 0,
    }  # fmt: skip
    assert counts(nanzhao.cells[0]) == {
        "owed": 3, "approved": 0, "submitted": 1, "returned": 0, "draft": 0, "missing": 2,
        "on_time": 0, "late": 1, "overdue": 2,
    }  # fmt: skip


def test_rows_are_the_city_then_the_counties_that_owe(filled, staff_nanyang):
    matrix = completeness(staff_nanyang, plan())

    assert matrix.rows[0].label == "南阳市"
    assert len(matrix.rows) == 14
    assert matrix.row(region("南阳市").pk).cells[1].owed == CITY_TARGETS
    assert matrix.row(region("西峡县").pk).total.owed == 2 * XIXIA_OWES


def test_rates_per_cell_row_and_column(filled, staff_nanyang):
    matrix = completeness(staff_nanyang, plan())
    nanzhao = matrix.row(region("南召县").pk)
    owed = CITY_TARGETS + COUNTIES_OWE

    assert nanzhao.cells[1].rate == Decimal(1) / Decimal(3)
    assert (nanzhao.total.owed, nanzhao.total.reported) == (2 * NANZHAO_OWES, 2)
    assert nanzhao.total.rate_percent == 33
    assert (matrix.columns[1].owed, matrix.columns[1].reported) == (owed, 2)
    assert (matrix.columns[0].owed, matrix.columns[0].reported) == (owed, 1)
    assert matrix.columns[0].overdue == owed - 1
    assert (matrix.total.owed, matrix.total.reported) == (2 * owed, 3)
    assert (matrix.total.on_time, matrix.total.late) == (2, 1)


def test_colours_say_done_not_yet_due_and_late(filled, staff_nanyang, liaison_nanzhao):
    for code in ["tg-b3-key-town", "tg-b3-old-stations"]:
        save(liaison_nanzhao, code, "南召县", "2024")
    matrix = completeness(staff_nanyang, plan())
    nanzhao, xixia = matrix.row(region("南召县").pk), matrix.row(region("西峡县").pk)

    assert nanzhao.cells[1].css == "table-success"  # all three in
    assert xixia.cells[1].css == "table-light"  # missing, but the deadline is ahead
    assert nanzhao.cells[0].css == "table-danger"  # 1 of 3, past the deadline


def test_on_time_means_by_the_end_of_the_due_date(filled, staff_nanyang):
    report = ProgressReport.objects.get(region__name="南召县", period="2023")
    period = ReportingPeriod.objects.get(plan=plan(), period="2023")
    tz = timezone.get_current_timezone()
    last_minute = datetime.datetime.combine(period.due_on, datetime.time(23, 59), tzinfo=tz)
    ProgressReport.objects.filter(pk=report.pk).update(submitted_at=last_minute)

    cell = completeness(staff_nanyang, plan()).row(region("南召县").pk).cells[0]
    assert (cell.on_time, cell.late) == (1, 0)


def test_a_county_liaisons_scope_sees_only_its_row(filled, seeded):
    from tests.conftest import make_user

    county_staff = make_user("staff_nanzhao", "staff", "南召县")
    matrix = completeness(county_staff, plan())

    assert [row.label for row in matrix.rows] == ["南召县"]
    assert matrix.total.owed == 2 * NANZHAO_OWES


def test_the_unit_variant_counts_by_the_lead_unit_of_the_targets_task(filled, staff_nanyang):
    new_stations = target("tg-new-stations")
    unit = Unit.objects.get(name="住建", region__name="南阳市")
    TaskAssignment.objects.create(task=new_stations.task, unit=unit, role="lead")

    matrix = completeness(staff_nanyang, plan(), by=BY_UNIT)
    row = matrix.row(unit.pk)

    assert row.label == "住建"
    # The task (t4.2.2) also has three city-only targets: 14 + 3 figures owed per period.
    assert counts(row.cells[1]) == {
        "owed": 17, "approved": 1, "submitted": 1, "returned": 0, "draft": 0, "missing": 15,
        "on_time": 2, "late": 0, "overdue": 0,
    }  # fmt: skip
    assert matrix.rows[-1].label == NO_UNIT_LABEL
    assert matrix.total.owed == 2 * (CITY_TARGETS + COUNTIES_OWE)  # each figure counted once


# ------------------------------------------------------------------------------ the page


def test_the_page_shows_the_matrix_with_links_to_the_review_inbox(client, filled, staff_nanyang):
    client.force_login(staff_nanyang)
    response = client.get(reverse("reports:completeness"), {"plan": plan().pk})
    page = response.content.decode()
    nanzhao = region("南召县").pk

    assert response.status_code == 200
    cell = page.split(f'data-testid="cell-{nanzhao}-2024"')[1].split("</td>")[0]
    assert "1/3" in cell and "（33%）" in cell and "草稿 1" in cell and "未报 1" in cell
    inbox = (
        f"{reverse('targets:review_inbox')}?plan={plan().pk}&amp;period=2024&amp;region={nanzhao}"
    )
    assert f"{inbox}&amp;status=submitted" in cell
    assert 'class="table-danger" data-testid="cell-' in page


def test_the_page_filters_one_period_and_groups_by_unit(client, filled, staff_nanyang):
    client.force_login(staff_nanyang)
    page = client.get(
        reverse("reports:completeness"), {"plan": plan().pk, "period": "2023", "by": "unit"}
    ).content.decode()

    assert "牵头单位" in page and NO_UNIT_LABEL in page
    assert 'data-testid="column-2023"' in page
    assert 'data-testid="column-2024"' not in page


def test_supervisors_may_open_it_without_review_links(client, filled, supervisor_nanyang):
    client.force_login(supervisor_nanyang)
    response = client.get(reverse("reports:completeness"))

    assert response.status_code == 200
    assert "南召县" in response.content.decode()
    assert reverse("targets:review_inbox") + "?" not in response.content.decode()


@pytest.mark.parametrize("name", ["liaison_nanzhao", "viewer_nanyang"])
def test_liaisons_and_viewers_may_not(client, request, name):
    client.force_login(request.getfixturevalue(name))
    assert client.get(reverse("reports:completeness")).status_code == 403


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "2030"}, "该规划没有 2030 期间，可选：2023、2024"),
        ({"plan": "abc"}, "所选规划不存在或不在您的范围内"),
        ({"by": "town"}, "分组方式应为“区划”或“牵头单位”"),
    ],
)
def test_bad_filters_say_what_is_expected(client, filled, staff_nanyang, query, message):
    client.force_login(staff_nanyang)
    response = client.get(reverse("reports:completeness"), {"plan": plan().pk} | query)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_plan_outside_the_scope_is_not_offered(client, filled, outsider):
    client.force_login(outsider)
    response = client.get(reverse("reports:completeness"), {"plan": plan().pk})

    assert response.status_code == 400
    assert "所选规划不存在或不在您的范围内" in response.content.decode()
    assert "南召县" not in response.content.decode()


@pytest.mark.parametrize("rows", [1, 30])
def test_the_page_runs_the_same_queries_for_1_and_30_reports(
    client, open_2024, staff_nanyang, rows
):
    city = region("南阳市")
    targets = Target.objects.filter(plan__code=NANYANG).order_by("pk")[:rows]
    ProgressReport.objects.bulk_create(
        ProgressReport(target=t, region=city, period="2024", value=1, status="submitted")
        for t in targets
    )
    client.force_login(staff_nanyang)
    client.get(reverse("reports:completeness"))  # warm the session
    query = {"plan": plan().pk}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("reports:completeness"), query)

    cell = response.content.decode().split(f'data-testid="cell-{city.pk}-2024"')[1]
    assert f"{rows}/{CITY_TARGETS}" in cell.split("</td>")[0]
    # session, user with profile, region tree (scope), header notices; the plan chosen; its
    # periods; the region tree; the targets; their allocations; the reports; the plan
    # choices of the filter, twice (Django's Select reads the first choice to decide on the
    # ``required`` attribute, then renders them all).
    assert len(queries) == 12, "\n".join(q["sql"][:150] for q in queries)


def test_a_plan_without_periods_says_so(client, staff_lianzhou):
    client.force_login(staff_lianzhou)
    response = client.get(reverse("reports:completeness"))

    assert response.status_code == 200
    assert "该规划尚未开放填报期间" in response.content.decode()
    assert reverse("reports:period_list") in response.content.decode()
