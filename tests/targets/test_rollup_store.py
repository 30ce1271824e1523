"""The roll-ups equal the raw figures, however the figures change, and the status engine gives
the same answers reading them as reading every raw report (issue 9).

Three independent computations are compared: the roll-up rows kept by the triggers, a
set-based rebuild from the raw reports (``rollups_match_raw``) and a plain-Python sum over the
raw reports; and the engine's raw path (``source="raw"``, the original rule) against its
roll-up path on every seed target and on generated trees.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import Region
from planning.models import Plan
from targets import rollup_store, services
from targets.demo import generate_demo_progress
from targets.models import Allocation, ProgressReport, ReportRollup, Target
from targets.status import (
    compute_allocations,
    compute_status,
    effective_figure,
    load_status_inputs,
)
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_postgres")]

D = datetime.date.fromisoformat
DATES = [D(d) for d in ["2020-06-30", "2021-12-31", "2022-06-30", "2023-12-31", "2026-01-01"]]


def python_rollups(target_ids=None) -> dict[tuple[int, int, str], dict]:
    """The roll-ups computed in Python from the raw approved reports and the region tree: a
    region's effective figure is its own, else the sum of its children's effective figures;
    ``below_value`` that sum; the counts count every approved figure below (and in) it."""
    parent = dict(Region.objects.values_list("pk", "parent_id"))
    reports = ProgressReport.objects.filter(status="approved", value__isnull=False)
    if target_ids is not None:
        reports = reports.filter(target_id__in=target_ids)
    rows: dict[tuple[int, int, str], dict] = defaultdict(
        lambda: {"own_value": None, "below_value": None, "below_count": 0, "demo_count": 0}
    )
    for target_id, region_id, period, value, is_demo in reports.values_list(
        "target_id", "region_id", "period", "value", "is_demo"
    ):
        row = rows[(target_id, region_id, period)]
        row["own_value"] = value
        row["demo_count"] += is_demo
        above = parent[region_id]
        while above is not None:
            row = rows[(target_id, above, period)]
            row["below_count"] += 1
            row["demo_count"] += is_demo
            above = parent[above]

    def effective(key):
        row = rows[key]
        if row["own_value"] is not None:
            return row["own_value"]
        return row["below_value"]

    def depth(region_id):
        return len(ancestors(region_id))

    def ancestors(region_id):
        chain, above = [], parent[region_id]
        while above is not None:
            chain.append(above)
            above = parent[above]
        return chain

    for key in sorted(rows, key=lambda k: -depth(k[1])):  # deepest first: children are done
        value = effective(key)
        above = parent[key[1]]
        if value is not None and above is not None:
            row = rows[(key[0], above, key[2])]
            row["below_value"] = (row["below_value"] or 0) + value
    for row in rows.values():
        row["report_count"] = row["below_count"] + (row["own_value"] is not None)
        own = row["own_value"]
        row["effective_value"] = own if own is not None else row["below_value"]
    return dict(rows)


def kept_rollups(target_ids=None) -> dict[tuple[int, int, str], dict]:
    rows = ReportRollup.objects.exclude(report_count=0, own_value__isnull=True)
    if target_ids is not None:
        rows = rows.filter(target_id__in=target_ids)
    return {
        (r["target_id"], r["region_id"], r["period"]): {c: r[c] for c in rollup_store.COLUMNS}
        for r in rows.values("target_id", "region_id", "period", *rollup_store.COLUMNS)
    }


def assert_rollups_exact(target_ids=None) -> None:
    assert rollup_store.rollups_match_raw(target_ids) == []
    assert kept_rollups(target_ids) == python_rollups(target_ids)


def judged(target: Target, inputs, on, region_id=None) -> dict:
    result = compute_status(target, inputs, on=on, region_id=region_id)
    return result.as_dict()


def assert_engine_agrees(targets: list[Target], regions: list[int] = ()) -> None:
    """Raw path and roll-up path give the same result for every target, date, allocation
    (and every region given)."""
    raw = load_status_inputs(targets, source="raw")
    rolled = load_status_inputs(targets, source="rollups", regions=regions)
    assert rolled.figures == {} and raw.rollups is None  # really two different paths
    for target in targets:
        for on in DATES:
            assert judged(target, rolled, on) == judged(target, raw, on), (target.code, on)
            pairs = zip(
                compute_allocations(target, rolled, on=on),
                compute_allocations(target, raw, on=on),
                strict=True,
            )
            for (_, by_rollup), (_, by_raw) in pairs:
                assert by_rollup.as_dict() == by_raw.as_dict(), (target.code, on)
            for region_id in regions:
                assert judged(target, rolled, on, region_id) == judged(target, raw, on, region_id)


# ------------------------------------------------------------------------------ seed plans


@pytest.fixture
def seed_with_figures(seeded) -> list[Target]:
    """The seed plans with seed_demo's figures, plus approved county figures on every
    allocation (so sums below a region are exercised) and a few real, non-demo ones."""
    plans = list(Plan.objects.all())
    generate_demo_progress(plans, until_year=2024)
    allocations = Allocation.objects.select_related("target").order_by("pk")
    extra = [
        ProgressReport(
            target_id=a.target_id,
            region_id=a.region_id,
            period=period,
            value=Decimal(index % 7 + 1),
            status="approved",
            is_demo=index % 3 == 0,
        )
        for index, a in enumerate(allocations)
        for period in ("2022", "2023")
    ]
    ProgressReport.objects.bulk_create(extra)
    return list(Target.objects.select_related("plan").order_by("plan_id", "order"))


def test_on_the_seed_plans_the_rollups_equal_the_raw_figures(seed_with_figures):
    assert ProgressReport.objects.filter(status="approved").count() > 600
    assert_rollups_exact()


def test_on_the_seed_plans_every_target_is_judged_the_same_from_rollups_and_raw(
    seed_with_figures,
):
    judged_by_sum = 0
    for target in seed_with_figures:
        assert_engine_agrees([target])
        judged_by_sum += target.allocations.exists()
    assert judged_by_sum > 5  # allocated targets: their figure is the counties' sum
    # and all at once, as the dashboards load them
    assert_engine_agrees(seed_with_figures)


def test_approving_and_reopening_through_the_services_updates_the_rollups_at_once(
    open_2024, staff_nanyang, liaison_nanzhao
):
    target = Target.objects.get(plan__code="nanyang-2021-2025", code="tg-new-stations")
    county = Region.objects.get(name="南召县")
    report = services.save_report(
        actor=liaison_nanzhao, target=target, region=county, period="2024", value=3, submit=True
    )
    city = (target.id, target.region_id, "2024")
    assert city not in kept_rollups()  # submitted is not approved

    services.approve_report(report, actor=staff_nanyang)
    assert kept_rollups()[city] == {
        "own_value": None,
        "below_value": Decimal(3),
        "below_count": 1,
        "effective_value": Decimal(3),
        "report_count": 1,
        "demo_count": 0,
    }
    on = D("2024-12-31")
    assert compute_status(target, load_status_inputs([target]), on=on).actual == 3

    services.reopen_report(report, actor=staff_nanyang, reason="数据有误")
    assert city not in kept_rollups()
    assert compute_status(target, load_status_inputs([target]), on=on).actual is None
    assert_rollups_exact()


# ------------------------------------------------------------------------------ generated


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def tree(db):
    """Province → 2 cities → 3 counties each, and three targets of the province: an
    increment, a level and a ratio (never summed)."""
    province = factories.region("合成省", level="province")
    cities = [factories.region(f"合成市{i}", parent=province) for i in range(2)]
    counties = [
        factories.region(f"合成县{i}{j}", level="county", parent=city)
        for i, city in enumerate(cities)
        for j in range(3)
    ]
    plan = factories.plan("rollup-generated", region=province)
    targets = [
        factories.target(plan, "inc", measure="increment"),
        factories.target(plan, "lvl", measure="level", baseline_value=5, target_value=40),
        factories.target(plan, "pct", measure="ratio", measure_unit="%", target_value=90),
    ]
    return {"regions": [province, *cities, *counties], "targets": targets}


PERIODS = ["2021", "2022", "2023", "2022H1", "2023Q4"]
operation = st.tuples(
    st.sampled_from(["approve", "submit", "reopen", "revalue", "delete", "bulk", "demo"]),
    st.integers(0, 2),  # target
    st.integers(0, 8),  # region
    st.sampled_from(PERIODS),
    st.decimals(min_value=0, max_value=500, places=2, allow_nan=False, allow_infinity=False),
)


def apply(op, targets, regions) -> None:
    kind, t, r, period, value = op
    target, region = targets[t], regions[r]
    found = ProgressReport.objects.filter(target=target, region=region, period=period)
    if kind in ("approve", "submit", "demo"):
        status = "submitted" if kind == "submit" else "approved"
        ProgressReport.objects.update_or_create(
            target=target,
            region=region,
            period=period,
            defaults={"value": value, "status": status, "is_demo": kind == "demo"},
        )
    elif kind == "reopen":
        found.update(status="returned")
    elif kind == "revalue":
        found.update(value=value)
    elif kind == "delete":
        found.delete()
    else:  # several approved figures in one statement: the region and its siblings
        siblings = [x for x in regions if x.parent_id == region.parent_id]
        ProgressReport.objects.filter(target=target, region__in=siblings, period=period).delete()
        ProgressReport.objects.bulk_create(
            ProgressReport(
                target=target, region=x, period=period, value=value + i, status="approved"
            )
            for i, x in enumerate(siblings)
        )


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=st.lists(operation, min_size=1, max_size=20))
def test_after_random_approvals_reopenings_and_deletions_rollups_equal_raw(tree, operations):
    targets, regions = tree["targets"], tree["regions"]
    ids = [t.pk for t in targets]
    with rolled_back():
        for op in operations:
            apply(op, targets, regions)
        assert_rollups_exact(ids)
        assert_engine_agrees(targets, [r.pk for r in regions])


def test_a_rebuild_after_a_deferred_bulk_load_gives_the_same_rollups(tree):
    targets, regions = tree["targets"], tree["regions"]
    with rollup_store.deferred_rollups(target_ids=[t.pk for t in targets]):
        ProgressReport.objects.bulk_create(
            ProgressReport(target=t, region=r, period=p, value=5, status="approved")
            for t in targets
            for r in regions[3:]
            for p in PERIODS
        )
        assert not ReportRollup.objects.filter(target__in=targets).exists()  # triggers off
    assert ReportRollup.objects.filter(target__in=targets, region=regions[0]).count() == 15
    assert_rollups_exact([t.pk for t in targets])


def test_the_check_command_finds_a_damaged_rollup_and_the_rebuild_repairs_it(tree):
    target, county = tree["targets"][0], tree["regions"][3]
    ProgressReport.objects.create(
        target=target, region=county, period="2022", value=4, status="approved"
    )
    call_command("rebuild_rollups", "--check")
    ReportRollup.objects.filter(target=target, region=county).update(own_value=9)
    with pytest.raises(CommandError, match="不一致：1 行"):
        call_command("rebuild_rollups", "--check")
    call_command("rebuild_rollups", "--target", str(target.pk))
    call_command("rebuild_rollups", "--check")
    assert_rollups_exact()


def rollup_writes() -> int:
    """Rows this transaction inserted or updated in the roll-up table so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = %s",
            [rollup_store.TABLE],
        )
        return cursor.fetchone()[0]


def test_a_change_that_leaves_the_approved_figure_as_it_was_writes_no_rollup(tree):
    target, county = tree["targets"][0], tree["regions"][3]
    before = rollup_writes()
    report = ProgressReport.objects.create(
        target=target, region=county, period="2022", value=4, status="approved"
    )
    written = rollup_writes()
    assert written == before + 3  # the county, its city and the province

    ProgressReport.objects.filter(pk=report.pk).update(note="补充说明", value=Decimal("4.00"))
    ProgressReport.objects.filter(pk=report.pk).update(status="submitted", value=8)  # not approved
    assert rollup_writes() == written + 3  # only the first: it took the approved figure away
    ProgressReport.objects.filter(pk=report.pk).update(note="再次补充")
    assert rollup_writes() == written + 3


# ------------------------------------------------------------------------------ queries


@pytest.mark.parametrize("source", ["rollups", "raw"])
def test_loading_takes_three_queries_for_one_target_or_all(seed_with_figures, source):
    # milestones, allocations, and one status query: the figures (rollup rows or raw
    # reports) with, for formula and register targets, fire statistics, base figures,
    # stations and the regions. The targets come with their plans (select_related).
    for targets in (seed_with_figures[:1], seed_with_figures):
        with CaptureQueriesContext(connection) as queries:
            load_status_inputs(targets, source=source)
        assert len(queries) == 3, [q["sql"][:80] for q in queries]


# ------------------------------------------------------------------------------ issue 17


def test_a_city_and_its_county_both_reporting_count_once(tree):
    """Province ← city ← county: the city's own figure stands for its counties; the province
    adds its cities' figures, not the city's figure and its county's again."""
    province, city, _, county, sibling = tree["regions"][:5]
    target = tree["targets"][0]
    for region, value in ((city, 10), (county, 4), (sibling, 3)):
        ProgressReport.objects.create(
            target=target, region=region, period="2022", value=value, status="approved"
        )
    assert_rollups_exact([target.pk])
    rows = kept_rollups([target.pk])
    assert rows[(target.pk, city.pk, "2022")]["effective_value"] == 10  # own, not 10 + 4 + 3
    assert rows[(target.pk, province.pk, "2022")]["effective_value"] == 10  # not 17
    assert rows[(target.pk, province.pk, "2022")]["report_count"] == 3
    on = D("2022-12-31")
    for source in ("raw", "rollups"):
        inputs = load_status_inputs([target], source=source)
        assert compute_status(target, inputs, on=on).actual == 10, source
    # The city's figure withdrawn: the province counts the counties again.
    ProgressReport.objects.filter(target=target, region=city).update(status="returned")
    assert kept_rollups([target.pk])[(target.pk, province.pk, "2022")]["effective_value"] == 7
    assert_rollups_exact([target.pk])


def random_tree_case():
    """A region tree of 2–12 nodes (each node's parent an earlier one) and approved figures
    on some of them, for one or two periods."""
    return st.integers(2, 12).flatmap(
        lambda n: st.tuples(
            st.tuples(*[st.integers(0, i - 1) for i in range(1, n)]),
            st.lists(
                st.tuples(
                    st.integers(0, n - 1),
                    st.sampled_from(["2022", "2023"]),
                    st.integers(0, 90),
                ),
                max_size=14,
                unique_by=lambda x: (x[0], x[1]),
            ),
            st.booleans(),  # one statement for all figures, or one per figure
            st.lists(st.integers(0, n - 1), max_size=3),  # figures withdrawn afterwards
        )
    )


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=random_tree_case())
def test_on_random_region_trees_sql_and_python_give_the_same_figures(db, case):
    parents, figures, one_statement, withdrawn = case
    with rolled_back():
        root = factories.region("随机根", level="province")
        regions = [root]
        for index, parent in enumerate(parents, start=1):
            regions.append(factories.region(f"随机{index}", parent=regions[parent]))
        plan = factories.plan("random-tree", region=root)
        target = factories.target(plan, "inc", measure="increment")
        reports = [
            ProgressReport(
                target=target, region=regions[r], period=p, value=Decimal(v), status="approved"
            )
            for r, p, v in figures
        ]
        if one_statement:
            ProgressReport.objects.bulk_create(reports)
        else:
            for report in reports:
                report.save()
        ProgressReport.objects.filter(
            target=target, region__in=[regions[i] for i in withdrawn]
        ).delete()
        assert_rollups_exact([target.pk])
        assert_engine_agrees([target], [r.pk for r in regions])
        rows = kept_rollups([target.pk])
        children = defaultdict(list)
        for region in regions[1:]:
            children[region.parent_id].append(region.pk)
        reported = defaultdict(dict)
        for report in ProgressReport.objects.filter(target=target):
            reported[report.period][report.region_id] = report
        for (_, region_id, period), row in rows.items():
            expected = effective_figure(region_id, reported[period], children)
            assert row["effective_value"] == expected
