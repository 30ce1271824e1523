"""The reporting tallies (``targets/tally_store.py``) give the dashboards exactly what
counting every owed figure from the reports gives, however reports, allocations, targets,
periods and plans change (issue 9).

Three computations are compared: the tallies kept by the triggers, a set-based recomputation
(``tally_matches_reports``) and the dashboards' original cell-by-cell count
(``reports.dashboards.reporting_from_reports``) against ``reporting_from_tally``.
"""

import datetime
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import Region
from core.regions import RegionTree
from planning.models import Plan
from reports.dashboards import plans_in_scope, reporting_from_reports, reporting_from_tally
from targets import tally_store
from targets.choices import Feed
from targets.demo import generate_demo_progress
from targets.models import Allocation, ProgressReport, ReportingPeriod, ReportingTally, Target
from targets.owed import owed_periods, owing_regions
from targets.rollups import StatusBoard
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_postgres")]

D = datetime.date.fromisoformat
ZONE = timezone.get_default_timezone()


def deadline(due_on: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(
        due_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=ZONE
    )


def summary(result) -> tuple:
    return (
        asdict(result.cell),
        [
            (o.region_id, o.region_name, o.plan.pk, o.period, o.due_on, o.missing, o.owed)
            for o in result.owed_now
        ],
        result.owed_now_total,
    )


def assert_same_reporting(user, on: datetime.date, regions: list[int | None]) -> None:
    """Tallies and reports agree for the user's overview and each region's subtree."""
    plans = plans_in_scope(user)
    board = StatusBoard(plans, on=on)
    tree = RegionTree.load()
    for region_id in regions:
        subtree = None if region_id is None else tree.subtree(region_id)
        expected = reporting_from_reports(user, board, board.targets, regions=subtree, on=on)
        found = reporting_from_tally(user, plans, regions=subtree, on=on)
        assert summary(found) == summary(expected), (user.username, on, region_id)


def assert_tally_exact() -> None:
    assert tally_store.tally_matches_reports() == []


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root_tally", password=None)


# ------------------------------------------------------------------------------ seed plans


@pytest.fixture
def seed_reporting(seeded):
    """Yearly reporting periods for every seed plan (the last one open), seed_demo's figures,
    and reports in every state on the allocations, submitted before and after the deadline."""
    today = timezone.localdate()
    plans = list(Plan.objects.all())
    for plan in plans:
        for year in range(plan.start_year, plan.end_year + 1):
            due_on = D(f"{year + 1}-01-31")
            ReportingPeriod.objects.get_or_create(
                plan=plan,
                period=str(year),
                defaults={"due_on": due_on, "locks_on": D(f"{year + 1}-03-31")},
            )
        ReportingPeriod.objects.filter(plan=plan, period=str(plan.end_year)).update(
            due_on=today + datetime.timedelta(days=10), locks_on=today + datetime.timedelta(days=30)
        )
    generate_demo_progress(plans, until_year=2023)
    statuses = ["draft", "submitted", "approved", "returned", None]
    periods = {(p.plan_id, p.period): p for p in ReportingPeriod.objects.all()}
    rows = []
    for index, a in enumerate(Allocation.objects.select_related("target").order_by("pk")):
        for year in (2022, 2023, 2024):
            period = periods.get((a.target.plan_id, str(year)))
            status = statuses[(index + year) % len(statuses)]
            if period is None or status is None:
                continue
            on_time = (index + year) % 3 != 0
            submitted_at = deadline(period.due_on) - datetime.timedelta(
                seconds=1 if on_time else -1
            )
            rows.append(
                ProgressReport(
                    target_id=a.target_id,
                    region_id=a.region_id,
                    period=str(year),
                    value=Decimal(index % 5),
                    status=status,
                    submitted_at=submitted_at if status in ("submitted", "approved") else None,
                )
            )
    ProgressReport.objects.bulk_create(rows, ignore_conflicts=True)
    return plans


def test_on_the_seed_plans_the_tallies_equal_a_recomputation(seed_reporting):
    assert ReportingTally.objects.exists()
    assert_tally_exact()


def test_on_the_seed_plans_tallies_and_reports_give_the_same_dashboards(
    seed_reporting, superuser, staff_nanyang, liaison_nanzhao, liaison_lianzhou
):
    regions = [None, *Region.objects.filter(parent__isnull=False).values_list("pk", flat=True)]
    # One fixture, three dates (a past year, between two deadlines, today with a period open).
    for on in (D("2022-06-30"), D("2024-02-15"), timezone.localdate()):
        assert_same_reporting(superuser, on, regions)
        for user in (staff_nanyang, liaison_nanzhao, liaison_lianzhou):
            assert_same_reporting(user, on, [None, user.profile.region_id])


def test_the_overview_lists_the_regions_most_behind_and_counts_the_rest(seed_reporting, superuser):
    on = timezone.localdate()
    plans = plans_in_scope(superuser)
    everything = reporting_from_tally(superuser, plans, on=on)
    first = reporting_from_tally(superuser, plans, on=on, with_cell=False, owed_limit=3)
    assert everything.owed_now_total > 3
    assert first.owed_now_total == everything.owed_now_total
    assert summary(first)[1] == summary(everything)[1][:3]


def test_reading_the_tallies_takes_three_queries_whatever_the_data(seed_reporting, superuser):
    plans = plans_in_scope(superuser)
    on = timezone.localdate()
    with CaptureQueriesContext(connection) as before:
        reporting_from_tally(superuser, plans, on=on, owed_limit=5)
    copy = factories.plan("tally-more", region=plans[0].region, end_year=on.year)
    ReportingPeriod.objects.create(
        plan=copy, period=str(on.year), due_on=on, locks_on=on + datetime.timedelta(days=5)
    )
    for n in range(30):
        factories.target(copy, f"m{n}", target_year=on.year)
    plans = plans_in_scope(superuser)
    with CaptureQueriesContext(connection) as after:
        reporting_from_tally(superuser, plans, on=on, owed_limit=5)
    assert len(before) == len(after) == 4  # periods, sums, owing rows, their number


# ------------------------------------------------------------------------- generated data


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def tree(db):
    """Province → 2 cities → 2 counties each; a plan of the province with three periods and
    three report-fed targets (one allocated to every county) and a formula-fed one."""
    province = factories.region("合成省", level="province")
    cities = [factories.region(f"合成市{i}", parent=province) for i in range(2)]
    counties = [
        factories.region(f"合成县{i}{j}", level="county", parent=city)
        for i, city in enumerate(cities)
        for j in range(2)
    ]
    plan = factories.plan("tally-generated", region=province, start_year=2021, end_year=2023)
    for year in (2021, 2022, 2023):
        ReportingPeriod.objects.create(
            plan=plan,
            period=str(year),
            due_on=D(f"{year + 1}-01-31"),
            locks_on=D(f"{year + 1}-03-31"),
        )
    targets = [
        factories.target(plan, "a"),
        factories.target(plan, "b", target_year=2022, region=cities[0]),
        factories.target(plan, "c", measure="level", baseline_value=1, target_value=9),
        factories.target(plan, "f", feed="formula", formula="fires"),
    ]
    Allocation.objects.bulk_create(
        Allocation(target=targets[0], region=c, value=1) for c in counties
    )
    return {"plan": plan, "regions": [province, *cities, *counties], "targets": targets}


STATUSES = ["draft", "submitted", "approved", "returned"]
operation = st.tuples(
    st.sampled_from(
        [
            "report",
            "report",
            "report",
            "delete_report",
            "bulk",
            "allocate",
            "unallocate",
            "move_target",
            "feed",
            "target_year",
            "due_on",
            "drop_period",
            "end_year",
            "retire_target",
            "retire_allocation",
        ]
    ),
    st.integers(0, 3),  # target
    st.integers(0, 6),  # region
    st.sampled_from(["2021", "2022", "2023"]),
    st.integers(0, 3),  # status, or a choice
    st.booleans(),  # on time
)


def random_changes(test):
    """Run ``test(tree, operations)`` on lists of up to 15 generated operations."""
    examples = settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    return examples(given(operations=st.lists(operation, min_size=1, max_size=15))(test))


def apply(op, plan, targets, regions) -> None:
    kind, t, r, period, choice, on_time = op
    target, region = targets[t], regions[r]
    found = ProgressReport.objects.filter(target=target, region=region, period=period)
    if kind == "report":
        status = STATUSES[choice]
        row = ReportingPeriod.objects.filter(plan=plan, period=period).first()
        due_on = row.due_on if row else D(f"{int(period) + 1}-01-31")
        submitted_at = deadline(due_on) - datetime.timedelta(hours=1 if on_time else -1)
        ProgressReport.objects.update_or_create(
            target=target,
            region=region,
            period=period,
            defaults={
                "value": Decimal(choice),
                "status": status,
                "submitted_at": submitted_at if status in ("submitted", "approved") else None,
            },
        )
    elif kind == "delete_report":
        found.delete()
    elif kind == "bulk":  # one statement changing the status of every report of the target
        ProgressReport.objects.filter(target=target).update(status=STATUSES[choice])
    elif kind == "allocate":
        Allocation.objects.get_or_create(target=target, region=region, defaults={"value": 1})
    elif kind == "unallocate":
        Allocation.objects.filter(target=target, region=region).delete()
    elif kind == "move_target":
        Target.objects.filter(pk=target.pk).update(region=region)
    elif kind == "feed":
        Target.objects.filter(pk=target.pk).update(feed=["reports", "formula"][choice % 2])
    elif kind == "target_year":
        Target.objects.filter(pk=target.pk).update(target_year=[None, 2021, 2022, 2023][choice])
    elif kind == "due_on":
        ReportingPeriod.objects.filter(plan=plan, period=period).update(
            due_on=D(f"{int(period) + 1}-01-{10 + choice * 5}")
        )
    elif kind == "drop_period":
        ReportingPeriod.objects.filter(plan=plan, period=period).delete()
    elif kind == "retire_target":  # 停用 (even choice) or 恢复 (odd)
        retired_on = None if choice % 2 else D("2024-01-01")
        Target.objects.filter(pk=target.pk).update(retired_on=retired_on)
    elif kind == "retire_allocation":
        retired_on = None if choice % 2 else D("2024-01-01")
        Allocation.objects.filter(target=target, region=region).update(retired_on=retired_on)
    else:
        Plan.objects.filter(pk=plan.pk).update(end_year=2021 + choice % 3)


@random_changes
def test_after_random_changes_tallies_equal_the_reports(tree, operations):
    plan, targets, regions = tree["plan"], tree["targets"], tree["regions"]
    superuser = get_user_model().objects.get_or_create(
        username="root_tally_gen", defaults={"is_superuser": True, "is_staff": True}
    )[0]
    with rolled_back():
        for op in operations:
            apply(op, plan, targets, regions)
        assert_tally_exact()
        plan.refresh_from_db()
        for on in (D("2022-02-15"), D("2024-06-30")):
            assert_same_reporting(superuser, on, [None, *(r.pk for r in regions)])


@random_changes
def test_the_tallies_owe_what_the_python_rule_owes(tree, operations):
    """Who owes a figure is one rule (``targets.owed``) kept twice: in Python, and in the
    tallies' SQL. After random changes, the tallies' ``owed`` counts are what the Python rule
    gives for every report-fed target, period and region."""
    plan, targets, regions = tree["plan"], tree["targets"], tree["regions"]
    with rolled_back():
        for op in operations:
            apply(op, plan, targets, regions)
        plan.refresh_from_db()
        periods = list(ReportingPeriod.objects.filter(plan=plan))
        owed: Counter[tuple[str, int]] = Counter()
        for target in Target.objects.filter(plan=plan, feed=Feed.REPORTS).prefetch_related(
            "allocations"
        ):
            for period in owed_periods(target, periods, plan):
                for region_id in owing_regions(target):
                    owed[(period.period, region_id)] += 1
        tallied = ReportingTally.objects.filter(plan=plan)
        rows = tallied.values_list("period", "region_id", "owed")
        assert {(period, region_id): n for period, region_id, n in rows} == dict(owed)


def test_a_name_change_recomputes_nothing(tree):
    target = tree["targets"][0]
    written = (
        "SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables WHERE relname = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(written, [tally_store.TABLE])
        before = cursor.fetchone()[0]
        Target.objects.filter(pk=target.pk).update(name="改名", order=5)
        cursor.execute(written, [tally_store.TABLE])
        assert cursor.fetchone()[0] == before


def test_the_check_command_finds_a_damaged_tally_and_the_rebuild_repairs_it(tree):
    target, county = tree["targets"][0], tree["regions"][-1]
    ProgressReport.objects.create(target=target, region=county, period="2022", status="draft")
    ReportingTally.objects.filter(region=county, period="2022").update(draft=7)
    with pytest.raises(CommandError, match="不一致"):
        call_command("rebuild_rollups", "--check")
    call_command("rebuild_rollups")
    call_command("rebuild_rollups", "--check")
    assert ReportingTally.objects.get(region=county, period="2022").draft == 1


def test_a_deferred_bulk_load_rebuilds_the_tallies(tree):
    from targets.rollup_store import deferred_rollups

    target, county = tree["targets"][0], tree["regions"][-1]
    with deferred_rollups(target_ids=[target.pk]):
        ProgressReport.objects.create(
            target=target, region=county, period="2021", status="approved", value=1
        )
        Allocation.objects.filter(target=target, region=tree["regions"][-2]).delete()
    assert_tally_exact()


def test_the_overview_page_says_how_many_rows_it_does_not_list(
    client, seed_reporting, superuser, monkeypatch
):
    from django.urls import reverse

    from reports import dashboards

    monkeypatch.setattr(dashboards, "OWED_NOW_LIMIT", 2)
    total = reporting_from_tally(
        superuser, plans_in_scope(superuser), on=timezone.localdate()
    ).owed_now_total
    client.force_login(superuser)
    html = client.get(reverse("reports:home")).content.decode()
    assert 'data-testid="not-reported-more"' in html
    assert f"按截止日期和未报数排在前 2 条，共 {total} 条" in html
