"""The stored judgement (targets.judgement, issue 19): what is read from the store is what the
engine would judge now, after any history of approvals, reopenings, adjustments, milestone
edits and retirements, read between the changes; the day boundary and the tolerances count."""

import datetime
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targets import judgement, judgement_store
from targets.judgement import Ask, progress_from_json, progress_to_json
from targets.models import (
    Allocation,
    Milestone,
    ProgressReport,
    Target,
    TargetAdjustment,
    TargetJudgement,
)
from targets.rollups import StatusBoard
from targets.status import StatusRules, compute_status, load_status_inputs
from tests import factories

pytestmark = pytest.mark.usefixtures("on_postgres")


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def tree(db):
    """Province → 2 cities → 2 counties each; a running plan (2024–2028) with an increment,
    a level with a baseline and a ceiling, each allocated to the four counties."""
    province = factories.region("研判省", level="province")
    cities = [factories.region(f"研判市{i}", parent=province) for i in range(2)]
    counties = [
        factories.region(f"研判县{i}{j}", level="county", parent=city)
        for i, city in enumerate(cities)
        for j in range(2)
    ]
    plan = factories.plan("judgement-generated", region=province, start_year=2024, end_year=2028)
    targets = [
        factories.target(plan, "inc", measure="increment", target_value=40, target_year=2028),
        factories.target(
            plan, "lvl", measure="level", baseline_value=5, target_value=40, target_year=2028
        ),
        factories.target(
            plan, "cap", measure="ratio", comparator="lte", target_value=60, target_year=2028
        ),
    ]
    for target in targets:
        for county in counties:
            Allocation.objects.create(target=target, region=county, value=10)
    return {"regions": [province, *cities, *counties], "targets": targets, "plan": plan}


def asks_of(targets, on=None):
    on = on or timezone.localdate()
    found = []
    for target in Target.objects.filter(pk__in=[t.pk for t in targets]).select_related("plan"):
        if target.retired_on is not None:
            continue
        found.append(Ask(target, on))
        for allocation in Allocation.objects.filter(target=target, retired_on__isnull=True):
            found.append(Ask(target, on, allocation.region_id, allocation.value))
    return found


def engine(asks):
    """The engine's answer now, from freshly loaded inputs (no store)."""
    targets = list({a.target.pk: a.target for a in asks}.values())
    inputs = load_status_inputs(targets, allocation_regions=None)
    rules = StatusRules.from_settings()
    return {a.key: progress_to_json(a.compute(inputs, rules)) for a in asks}


def stored(asks):
    return {key: progress_to_json(p) for key, p in judgement.judge(asks).items()}


PERIODS = ["2024", "2025", "2026H1", "2025Q3"]
operation = st.tuples(
    st.sampled_from(
        [
            "approve",
            "approve",
            "reopen",
            "revalue",
            "delete",
            "demo",
            "adjust",
            "milestone",
            "edit_milestone",
            "retire_allocation",
            "share",
            "edit_target",
            "read",
        ]
    ),
    st.integers(0, 2),  # target
    st.integers(0, 6),  # region
    st.sampled_from(PERIODS),
    st.decimals(min_value=0, max_value=90, places=1, allow_nan=False, allow_infinity=False),
)


def apply(op, tree) -> None:
    kind, t, r, period, value = op
    target, region = tree["targets"][t], tree["regions"][r]
    found = ProgressReport.objects.filter(target=target, region=region, period=period)
    if kind in ("approve", "demo"):
        ProgressReport.objects.update_or_create(
            target=target,
            region=region,
            period=period,
            defaults={"value": value, "status": "approved", "is_demo": kind == "demo"},
        )
    elif kind == "reopen":
        found.update(status="returned")
    elif kind == "revalue":
        found.update(value=value)
    elif kind == "delete":
        found.delete()
    elif kind == "adjust":
        TargetAdjustment.objects.create(
            target=target,
            old_value=target.target_value,
            new_value=value + 1,
            doc_number=f"调整{value}",
            adopted_on=datetime.date(2025, 1 + r, 1),
            reason="测试",
        )
    elif kind == "milestone":
        Milestone.objects.create(
            plan=tree["plan"],
            target=target,
            code=f"m{Milestone.objects.count()}",
            due_on=datetime.date(2024 + r % 3, 12, 31),
            planned_value=value,
        )
    elif kind == "edit_milestone":
        Milestone.objects.filter(target=target).update(planned_value=value)
    elif kind == "retire_allocation":
        Allocation.objects.filter(target=target, region=region).update(
            retired_on=None if r % 2 else datetime.date(2025, 6, 1)
        )
    elif kind == "share":
        Allocation.objects.filter(target=target, region=region).update(value=value)
    elif kind == "edit_target":
        Target.objects.filter(pk=target.pk).update(target_value=value + 1)
    # "read": nothing changes; the steps in between read (and store) anyway


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=st.lists(operation, min_size=1, max_size=15))
def test_after_random_histories_the_stored_judgement_is_the_engines(tree, operations):
    with rolled_back():
        stored(asks_of(tree["targets"]))  # judged and stored before the history begins
        for op in operations:
            apply(op, tree)
            asks = asks_of(tree["targets"])
            assert stored(asks) == engine(asks)  # judged again where a change reached it
        asks = asks_of(tree["targets"])
        assert stored(asks) == engine(asks)
        assert TargetJudgement.objects.filter(target_id__in=[t.pk for t in tree["targets"]])
        assert judgement.differences([t.pk for t in tree["targets"]]) == []


def test_a_round_trip_through_json_keeps_every_field(tree):
    target = tree["targets"][1]
    ProgressReport.objects.create(
        target=target, region=tree["regions"][3], period="2025", value=7, status="approved"
    )
    TargetAdjustment.objects.create(
        target=target,
        old_value=40,
        new_value=Decimal("36.5"),
        new_year=2027,
        doc_number="豫消〔2025〕1号",
        adopted_on=datetime.date(2025, 3, 1),
        reason="测试",
    )
    on = timezone.localdate()
    progress = compute_status(target, load_status_inputs([target]), on=on)
    again = progress_from_json(progress_to_json(progress))
    assert again.as_dict() == progress.as_dict()
    assert again.adjustment.doc_number == "豫消〔2025〕1号"
    assert again.verdict == progress.verdict and again.light == progress.light


def test_an_approval_changes_the_stored_judgement_at_once_and_only_where_it_reaches(tree):
    target, county = tree["targets"][0], tree["regions"][3]
    asks = asks_of([target])
    before = stored(asks)
    clocks = dict(
        TargetJudgement.objects.filter(target_id=target.pk).values_list("region_id", "pair_version")
    )
    ProgressReport.objects.create(
        target=target, region=county, period="2025", value=9, status="approved"
    )
    after = stored(asks)
    assert after == engine(asks)
    assert after[Ask(target, timezone.localdate()).key]["actual"] == "9.0000"
    assert after != before
    # The other city's county was not reached: its stored row was read, not judged again.
    other = tree["regions"][5]
    row = TargetJudgement.objects.get(target_id=target.pk, region_id=other.pk, allocation=True)
    assert row.pair_version == clocks[other.pk]


def test_a_judgement_of_yesterday_is_not_read_today(tree, monkeypatch):
    target = tree["targets"][0]
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    monkeypatch.setattr(judgement.timezone, "localdate", lambda: yesterday)
    stored([Ask(target, yesterday)])
    assert TargetJudgement.objects.filter(target_id=target.pk, as_of=yesterday).exists()
    monkeypatch.setattr(judgement.timezone, "localdate", lambda: today)
    result = judgement.judge([Ask(target, today)])
    assert result[Ask(target, today).key].on == today
    # Today's row replaced yesterday's (a year end would have stayed).
    assert list(
        TargetJudgement.objects.filter(target_id=target.pk, allocation=False).values_list(
            "as_of", flat=True
        )
    ) == [today]


def test_other_tolerances_are_not_read_from_the_store(tree, settings):
    target, county = tree["targets"][0], tree["regions"][3]
    ProgressReport.objects.create(
        target=target, region=county, period="2025", value=12, status="approved"
    )
    ask = Ask(target, timezone.localdate())
    first = judgement.judge([ask])[ask.key]
    settings.STATUS_RULES = {"lagging_below": "0.01", "critical_below": "0.005"}
    again = judgement.judge([ask])[ask.key]
    assert again.status == compute_status(target, load_status_inputs([target])).status
    assert (first.status, again.status) != ("on_track", "critical")  # sanity: both judged


def test_a_damaged_stored_judgement_is_found_by_the_check_and_repaired_by_the_rebuild(tree):
    target = tree["targets"][0]
    ProgressReport.objects.create(
        target=target, region=tree["regions"][3], period="2025", value=9, status="approved"
    )
    stored(asks_of([target]))
    row = TargetJudgement.objects.get(target_id=target.pk, allocation=False)
    row.progress = {**row.progress, "actual": "999.0000"}
    row.save(update_fields=["progress"])
    with pytest.raises(CommandError, match="不一致"):
        call_command("rebuild_status", "--check", "--target", str(target.pk))
    call_command("rebuild_status", "--target", str(target.pk))
    call_command("rebuild_status", "--check", "--target", str(target.pk))
    assert stored(asks_of([target])) == engine(asks_of([target]))


def test_a_board_read_from_the_store_is_the_board_judged_afresh(tree):
    target = tree["targets"][0]
    ProgressReport.objects.create(
        target=target, region=tree["regions"][3], period="2025", value=9, status="approved"
    )
    plan = tree["plan"]
    first = StatusBoard([plan])  # judges and stores
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM targets_targetjudgement")
        assert cursor.fetchone()[0] >= 3
    again = StatusBoard([plan])  # reads
    assert {k: v.as_dict() for k, v in again.target_progress.items()} == {
        k: v.as_dict() for k, v in first.target_progress.items()
    }
    assert again._inputs is None  # nothing was judged: the inputs were never read
    summary = again.region_summary(tree["regions"][1].pk)["allocations"]
    assert summary.total == 2 * 3  # two counties × three targets, from the store


def installed_judgement_sql() -> dict:
    """The clock triggers and their functions as the database holds them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid),
                   pg_get_functiondef(t.tgfoid)
              FROM pg_trigger t
             WHERE NOT t.tgisinternal AND t.tgname LIKE 'fireplan_judgement_%'
             ORDER BY 1, 2
            """
        )
        return {(table, name): rest for table, name, *rest in cursor.fetchall()}


def test_migrate_installs_exactly_what_the_judgement_store_installs_today(db):
    migrated = installed_judgement_sql()
    assert len(migrated) == len(judgement_store.TRIGGERS) + 1  # + the truncate trigger
    judgement_store.install_triggers()
    assert installed_judgement_sql() == migrated, "add a migration with the store's new SQL"
