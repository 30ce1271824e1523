"""Properties of the status engine on an increment target, over many generated report sets.

pytest-django's ``db`` fixture is one transaction for the whole test, and hypothesis runs every
example inside it, so each example builds its rows in a savepoint that it rolls back.
"""

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from planning.models import Plan
from targets.models import ProgressReport, Target
from targets.status import compute_status, load_status_inputs
from tests import factories

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    database=None,  # keep no example database in the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Years, halves and quarters of the 2021–2025 plan (and one after it); overlapping periods
# are distinct rows, and increments sum them all.
PERIODS = [
    "2021",
    "2022",
    "2023",
    "2024",
    "2025",
    "2026",
    "2022H1",
    "2023H2",
    "2024Q1",
    "2024Q4",
]
values = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False)
figure_sets = st.dictionaries(st.sampled_from(PERIODS), values, max_size=6)
dates = st.dates(min_value=datetime.date(2020, 6, 1), max_value=datetime.date(2027, 6, 30))
goals = st.decimals(min_value=0, max_value=3000, places=0, allow_nan=False, allow_infinity=False)


@contextmanager
def rolled_back() -> Iterator[None]:
    """Build an example's rows in a savepoint and undo them, whatever the outcome."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def increment_target(owner: Plan | None = None, code: str = "g1", **fields) -> Target:
    """An increment target of a fresh 2021–2025 plan (or of ``owner``)."""
    owner = owner or factories.plan("property-plan")
    return factories.target(owner, code, measure="increment", **fields)


def approve(target: Target, figures: list[tuple[str, Decimal]]) -> None:
    """One row at a time, so creation order (ids, timestamps) follows the list."""
    for period, value in figures:
        ProgressReport.objects.create(
            target=target, region=target.region, period=period, value=value, status="approved"
        )


def judge(target: Target, on: datetime.date):
    return compute_status(target, load_status_inputs([target]), on=on)


@EXAMPLES
@given(figures=figure_sets, extra_period=st.sampled_from(PERIODS), extra=values, on=dates)
def test_adding_an_approved_increment_never_lowers_actual(figures, extra_period, extra, on):
    assume(extra_period not in figures)
    with rolled_back():
        goal = increment_target(target_value=100)
        approve(goal, list(figures.items()))
        before = judge(goal, on).actual
        approve(goal, [(extra_period, extra)])
        after = judge(goal, on).actual
    if before is not None:
        assert after is not None
        assert after >= before
    if after is not None and before is not None:
        assert after - before in (0, extra)  # the new figure counts whole, or not yet


@EXAMPLES
@given(
    figures=st.dictionaries(st.sampled_from(PERIODS), values, min_size=1, max_size=6),
    on=st.dates(min_value=datetime.date(2021, 6, 1), max_value=datetime.date(2027, 6, 30)),
    target_value=st.integers(min_value=0, max_value=1500).map(Decimal),
    comparator=st.sampled_from(["gte", "eq"]),
    baseline=st.none() | goals,
    target_year=st.integers(min_value=2021, max_value=2025),
)
def test_met_implies_completion_of_at_least_one(
    figures, on, target_value, comparator, baseline, target_year
):
    with rolled_back():
        goal = increment_target(
            target_value=target_value,
            comparator=comparator,
            baseline_value=baseline,
            target_year=target_year,
        )
        approve(goal, list(figures.items()))
        result = judge(goal, on)
    if result.status == "met":
        assert result.completion is not None
        assert result.completion >= 1
        assert result.completion_display == 1


@EXAMPLES
@given(
    figures=st.lists(st.tuples(st.sampled_from(PERIODS), values), unique_by=lambda f: f[0]).flatmap(
        lambda rows: st.tuples(st.just(rows), st.permutations(rows))
    ),
    on=dates,
    target_value=goals,
)
def test_the_verdict_does_not_depend_on_the_order_reports_were_created(figures, on, target_value):
    in_order, shuffled = figures
    with rolled_back():
        first = increment_target(target_value=target_value)
        second = increment_target(first.plan, "g2", target_value=target_value)
        approve(first, in_order)
        approve(second, shuffled)
        inputs = load_status_inputs([first, second])
        a = compute_status(first, inputs, on=on)
        b = compute_status(second, inputs, on=on)
    assert (a.actual, a.status, a.completion) == (b.actual, b.status, b.completion)
    assert (a.expected, a.series, a.projection) == (b.expected, b.series, b.projection)
