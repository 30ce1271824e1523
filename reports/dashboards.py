"""What the dashboards show (总览, district page, unit page), assembled from the status engine
in a fixed number of queries whatever the number of plans, targets, regions and reports.

Queries: the plans in scope; ``StatusBoard`` (its own fixed set: the stored judgement of
the targets shown, ``targets.judgement``, and the engine's inputs only for what is not
current); the reporting periods of those plans and the reporting tallies
(``targets.tally_store``: one row per plan × period × region, so the work does not grow with
targets × regions × periods); the recent history (three queries). Everything else is Python
over what these returned. The overview judges the plans' targets only (no allocation); a
region page loads only what concerns its subtree.
The region and unit pages render their target tables a page at a time (``target_page``).
"""

from __future__ import annotations

import datetime
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from itertools import chain

from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Collate
from django.utils import timezone

from core.regions import RegionTree
from core.scope import VIEW, in_regions, scope_of
from planning.models import Plan, Task
from reports.completeness import REPORTED, Cell, deadline
from reports.fragments import fragment_key
from targets import rollup_store
from targets.choices import Feed, ProgressStatus
from targets.models import Allocation, ProgressReport, ReportingPeriod, ReportingTally, Target
from targets.owed import owed_periods, owing_q, owing_regions, past_lock_date
from targets.rollups import StatusBoard, Summary
from targets.status import LIGHTS, TargetProgress, plan_finished

DUE_SOON_DAYS = 90
# The overview lists the regions most behind in the open periods, not all of them: at
# national scale that would be thousands of rows (the completeness page has them all).
OWED_NOW_LIMIT = 20
TALLY_COUNTS = ("owed", "draft", "submitted", "approved", "returned", "on_time", "late")
RECENT_CHANGES = 12
TARGET_ROWS_PER_PAGE = 50  # the region and unit pages' target tables (``target_page``)
# The region and unit pages' 「本期未报送」 table (``owed_page``): a unit leading a national
# plan's targets, or a province's page, has a row per owing county — thousands.
OWED_ROWS_PER_PAGE = 20
# The five lights of the overview, in the order the office reads them.
LIGHT_STATUSES = [
    ProgressStatus.MET,
    ProgressStatus.ON_TRACK,
    ProgressStatus.LAGGING,
    ProgressStatus.CRITICAL,
    ProgressStatus.UNMET,  # a finished plan's target short of its goal (issue 17)
    ProgressStatus.NO_DATA,
]


@dataclass
class Light:
    status: str
    label: str
    light: str
    count: int


def lights(summary: Summary) -> list[Light]:
    return [
        Light(s.value, str(s.label), LIGHTS[s], summary.counts[s.value]) for s in LIGHT_STATUSES
    ]


@dataclass
class DueMilestone:
    due_on: datetime.date
    text: str
    plan: Plan
    target: Target | None
    task: Task | None
    days_left: int


@dataclass
class Owed:
    """Figures owed in the open period: per region, those not yet submitted or approved."""

    region_id: int
    region_name: str
    plan: Plan
    period: str
    due_on: datetime.date
    missing: int
    owed: int


@dataclass
class Change:
    when: datetime.datetime
    who: str
    action: str
    kind: str
    label: str
    url_name: str
    pk: int


@dataclass
class PlanCard:
    plan: Plan
    targets: Summary
    tasks: Summary
    target_lights: list[Light]
    task_lights: list[Light]
    finished: bool = False  # the plan's end date has passed (judged 已完成 / 未完成)


@dataclass
class Reporting:
    """Completeness and punctuality of a set of owed figures (all open and past periods)."""

    cell: Cell = field(default_factory=Cell)
    owed_now: list[Owed] = field(default_factory=list)
    owed_now_total: int = 0  # rows owing in the open periods (owed_now may show fewer)

    @property
    def on_time_percent(self) -> int | None:
        reported = self.cell.on_time + self.cell.late
        return round(100 * self.cell.on_time / reported) if reported else None


def plans_in_scope(user):
    return list(
        Plan.objects.for_user(user, VIEW)
        .exclude(status="reference")
        .select_related("region")
        .order_by("region__name", "-start_year", "title")
    )


def due_milestones(board: StatusBoard, on: datetime.date) -> list[DueMilestone]:
    """Milestones of targets and tasks not yet completed and due within DUE_SOON_DAYS."""
    until = on + datetime.timedelta(days=DUE_SOON_DAYS)
    targets = {t.pk: t for t in board.targets}
    tasks = {t.pk: t for t in board.tasks}
    milestones = chain(
        chain.from_iterable(board.milestones.get(pk, []) for pk in targets),
        chain.from_iterable(board.task_milestones.values()),
    )
    rows = []
    for m in milestones:
        if m.completed_on or not (on <= m.due_on <= until):
            continue
        target, task = targets.get(m.target_id), tasks.get(m.task_id)
        owner = target or task
        text = m.text or (target.name if target else task.title)
        if target and m.planned_value is not None:
            text = f"{target.name}：{m.planned_value.normalize():f}{target.measure_unit}"
        rows.append(
            DueMilestone(
                m.due_on, text, board.plans[owner.plan_id], target, task, (m.due_on - on).days
            )
        )
    return sorted(rows, key=lambda r: (r.due_on, r.plan.pk))


def reporting_from_tally(
    user,
    plans: list[Plan],
    *,
    regions: set[int] | None = None,
    on: datetime.date,
    with_cell: bool = True,
    owed_limit: int | None = None,
) -> Reporting:
    """The same figures as ``reporting_from_reports`` for every report-fed target of
    ``plans``, read from the reporting tallies (one row per plan × period × region, kept by
    PostgreSQL triggers, ``targets/tally_store.py``): at most three queries — the periods,
    the sums per period (``with_cell``) and the regions still owing in the open periods (the
    first ``owed_limit`` of them, plus their number) — whatever the number of targets."""
    scope = scope_of(user)
    result = Reporting()
    periods = {
        (p.plan_id, p.period): p
        for p in ReportingPeriod.objects.filter(plan_id__in=[p.pk for p in plans])
        if int(p.period[:4]) <= on.year
    }
    if not periods:
        return result
    rows = ReportingTally.objects.filter(
        plan_id__in={plan_id for plan_id, _ in periods},
        period__in={code for _, code in periods},
    )
    if not scope.everything:
        rows = rows.filter(in_regions("region_id", scope.region_ids))
    if regions is not None:
        rows = rows.filter(region_id__in=regions)
    if with_cell:
        sums = (
            rows.values("plan_id", "period")
            .annotate(**{name: Sum(name) for name in TALLY_COUNTS})
            .order_by()
        )
        for row in sums:
            period = periods.get((row["plan_id"], row["period"]))
            if period is None:
                continue
            cell = result.cell
            for name in TALLY_COUNTS:
                setattr(cell, name, getattr(cell, name) + row[name])
            if on > period.due_on:
                cell.overdue += row["owed"] - row["submitted"] - row["approved"]
    open_periods = [p for p in periods.values() if not past_lock_date(p, on)]
    if not open_periods:
        return result
    due = Case(
        *(When(plan_id=p.plan_id, period=p.period, then=Value(p.due_on)) for p in open_periods),
        output_field=DateField(),
    )
    owing = (
        rows.filter(
            reduce(operator.or_, (Q(plan_id=p.plan_id, period=p.period) for p in open_periods))
        )
        .annotate(missing=F("owed") - F("submitted") - F("approved"), due_on=due)
        .filter(missing__gt=0)
        # "C": code-point order, as Python sorts the names (reporting_from_reports)
        .order_by("due_on", "-missing", Collate("region__name", "C"), "plan_id", "period")
        .values_list("region_id", "region__name", "plan_id", "period", "missing", "owed")
    )
    if owed_limit is not None:
        result.owed_now_total = owing.count()
        owing = owing[:owed_limit]
    plan_by_id = {p.pk: p for p in plans}
    result.owed_now = [
        Owed(
            region_id,
            name,
            plan_by_id[plan_id],
            period,
            periods[(plan_id, period)].due_on,
            missing,
            owed,
        )
        for region_id, name, plan_id, period, missing, owed in owing
    ]
    if owed_limit is None:
        result.owed_now_total = len(result.owed_now)
    return result


def allocated_regions(targets: list[Target], regions: set[int] | None) -> dict[int, list[int]]:
    """The regions of each target's live allocations (within ``regions`` when given), as
    ids: one query of two columns, not the board's Allocation objects (20 000 of them for a
    unit leading 200 targets of a province; building them was 80 % of the unit page)."""
    rows = Allocation.objects.filter(
        target_id__in=[t.pk for t in targets], retired_on__isnull=True
    ).order_by()
    if regions is not None:
        rows = rows.filter(region_id__in=list(regions))
    found: dict[int, list[int]] = defaultdict(list)
    for target_id, region_id in rows.values_list("target_id", "region_id"):
        found[target_id].append(region_id)
    return found


def reporting_from_reports(
    user,
    board: StatusBoard,
    targets: list[Target],
    *,
    regions: set[int] | None = None,
    on: datetime.date,
) -> Reporting:
    """Owed figures of report-fed ``targets`` (their region and allocations, inside the
    user's scope and ``regions`` when given), for every reporting period that has begun,
    counted from the reports (three queries: the periods, the reports counted by target,
    period, status and punctuality, and the open periods' reports region by region, for who
    still owes) — the Python work grows with targets × periods, and with the owing regions
    in the open periods only. The reference for the tallies
    (``reporting_from_tally``; tests compare both), the unit page (a subset of targets, which
    the per-region tallies cannot separate) and SQLite."""
    scope = scope_of(user)
    result = Reporting()
    targets = [t for t in targets if t.feed == Feed.REPORTS]
    plan_ids = {t.plan_id for t in targets}
    periods: dict[int, list[ReportingPeriod]] = defaultdict(list)
    for period in ReportingPeriod.objects.filter(plan_id__in=plan_ids).order_by("period"):
        if int(period.period[:4]) <= on.year:
            periods[period.plan_id].append(period)
    wanted_by_target: dict[int, set[int]] = {}
    allocated = allocated_regions(targets, regions)
    for target in targets:
        wanted_by_target[target.pk] = owing_regions(
            target, allocated.get(target.pk, ()), scope=scope, within=regions
        )
    owed = {
        target.pk: owed_periods(target, periods[target.plan_id], board.plans[target.plan_id])
        for target in targets
    }
    open_codes = {p.period for ps in owed.values() for p in ps if not past_lock_date(p, on)}
    _count_owed(result.cell, targets, owed, wanted_by_target, on=on)
    # The open periods, region by region (who still owes): only the owing regions' reports —
    # at national scale a target has thousands of county figures below its region.
    found = (
        {
            (target_id, region_id, period): status
            for target_id, region_id, period, status in ProgressReport.objects.filter(
                target_id__in=[t.pk for t in targets],
                period__in=open_codes,
                region_id__in=set().union(*wanted_by_target.values()),
            ).values_list("target_id", "region_id", "period", "status")
        }
        if open_codes
        else {}
    )
    names = board.regions.names
    owed_now: dict[tuple[int, int, str], Owed] = {}
    for target in targets:
        wanted = wanted_by_target[target.pk]
        for period in owed[target.pk]:
            if past_lock_date(period, on):
                continue
            for region_id in wanted:
                status = found.get((target.pk, region_id, period.period))
                key = (region_id, target.plan_id, period.period)
                row = owed_now.get(key) or owed_now.setdefault(
                    key,
                    Owed(
                        region_id,
                        names.get(region_id, ""),
                        board.plans[target.plan_id],
                        period.period,
                        period.due_on,
                        0,
                        0,
                    ),
                )
                row.owed += 1
                row.missing += status not in REPORTED
    result.owed_now = sorted(
        (row for row in owed_now.values() if row.missing),
        key=lambda r: (r.due_on, -r.missing, r.region_name, r.plan.pk, r.period),
    )
    result.owed_now_total = len(result.owed_now)
    return result


def _count_owed(
    cell: Cell,
    targets: list[Target],
    owed: dict[int, list[ReportingPeriod]],
    wanted_by_target: dict[int, set[int]],
    *,
    on: datetime.date,
) -> None:
    """Add every owed figure of every period to ``cell``: the owing regions' reports counted
    in SQL by target, period, status and punctuality (a few rows per target and period, not
    one per figure; targets owed by the same regions share one condition), the figures
    without a report as the rest."""
    groups: dict[frozenset[int], list[int]] = defaultdict(list)
    for target in targets:
        groups[frozenset(wanted_by_target[target.pk])].append(target.pk)
    codes = {p.period for ps in owed.values() for p in ps}
    if not codes or not groups:
        return
    deadlines = {(p.plan_id, p.period): deadline(p) for ps in owed.values() for p in ps}
    punctual = Case(
        *(
            When(target__plan_id=plan_id, period=code, submitted_at__lt=at, then=Value(True))
            for (plan_id, code), at in deadlines.items()
        ),
        default=Value(False),
        output_field=BooleanField(),
    )
    rows = (
        ProgressReport.objects.filter(
            reduce(
                operator.or_,
                (
                    Q(target_id__in=ids, region_id__in=regions)
                    for regions, ids in groups.items()
                    if regions
                ),
                Q(pk__in=[]),
            ),
            period__in=codes,
        )
        .annotate(
            punctual=punctual,
            unsubmitted=ExpressionWrapper(Q(submitted_at__isnull=True), BooleanField()),
        )
        .values("target_id", "period", "status", "punctual", "unsubmitted")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counted: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for row in rows:
        counted[(row["target_id"], row["period"])].append(row)
    for target in targets:
        wanted = len(wanted_by_target[target.pk])
        for period in owed[target.pk]:
            reported = 0
            for row in counted.get((target.pk, period.period), ()):
                status, count = row["status"], row["count"]
                setattr(cell, status, getattr(cell, status) + count)
                if status in REPORTED and not row["unsubmitted"]:
                    if row["punctual"]:
                        cell.on_time += count
                    else:
                        cell.late += count
                reported += count if status in REPORTED else 0
            cell.owed += wanted
            if on > period.due_on:
                cell.overdue += wanted - reported


def _raw_reporting() -> bool:
    """No tallies (SQLite): reporting is counted from the reports, which needs every
    allocation of the targets on the board."""
    return not rollup_store.supported()


def reporting(
    user,
    plans: list[Plan],
    board: StatusBoard,
    targets: list[Target],
    *,
    regions: set[int] | None = None,
    on: datetime.date,
    with_cell: bool = True,
    owed_limit: int | None = None,
) -> Reporting:
    """Reporting of every report-fed target of ``plans`` owed by ``regions`` (all when
    None): from the tallies on PostgreSQL, from the reports elsewhere (``targets`` are the
    board's targets owing there; the two ways agree, tests compare them)."""
    if not _raw_reporting():
        return reporting_from_tally(
            user, plans, regions=regions, on=on, with_cell=with_cell, owed_limit=owed_limit
        )
    result = reporting_from_reports(user, board, targets, regions=regions, on=on)
    if owed_limit is not None:
        result.owed_now = result.owed_now[:owed_limit]
    return result


def recent_changes(plan_ids: list[int], limit: int = RECENT_CHANGES) -> list[Change]:
    """The latest history of the plans' targets, tasks and progress reports (three queries).
    Reports are listed by their target (a figure's region may lie outside the reader's scope,
    so the value itself is not shown here)."""
    sources = [
        (
            Target.history.filter(plan_id__in=plan_ids),
            "指标",
            "targets:target_detail",
            "name",
            "id",
        ),
        (Task.history.filter(plan_id__in=plan_ids), "任务", "reports:task_detail", "title", "id"),
        (
            ProgressReport.history.filter(target__plan_id__in=plan_ids).select_related("target"),
            "填报",
            "targets:target_detail",
            None,
            "target_id",
        ),
    ]
    actions = {"+": "新增", "~": "修改", "-": "删除"}
    changes = []
    for records, kind, url_name, label_field, pk_field in sources:
        for record in records.select_related("history_user").order_by("-history_date")[:limit]:
            user = record.history_user
            if label_field:
                label = getattr(record, label_field)
            else:
                label = f"{record.target.name}（{record.period}，{record.get_status_display()}）"
            changes.append(
                Change(
                    timezone.localtime(record.history_date),
                    (user.get_full_name() or user.username) if user else "系统",
                    actions.get(record.history_type, record.history_type),
                    kind,
                    label,
                    url_name,
                    getattr(record, pk_field),
                )
            )
    changes.sort(key=lambda c: c.when, reverse=True)
    return changes[:limit]


def overview(user, *, on: datetime.date | None = None) -> dict:
    on = on or timezone.localdate()
    plans = plans_in_scope(user)
    key = fragment_key(user, [p.pk for p in plans], on)  # before the board reads
    # The plans' own targets only: no allocation is judged here (at national scale each
    # target is allocated to thousands of counties; their statuses are on the region pages).
    board = StatusBoard(plans, on=on, allocation_regions=None if _raw_reporting() else ())
    cards = []
    for plan in plans:
        summary = board.plan_summary(plan)
        cards.append(
            PlanCard(
                plan,
                summary["targets"],
                summary["tasks"],
                lights(summary["targets"]),
                lights(summary["tasks"]),
                plan_finished(plan, on),
            )
        )
    lagging_ids = {pk for card in cards for pk in card.targets.binding_lagging}
    binding_lagging = [
        (t, board.target_progress[t.pk]) for t in board.targets if t.pk in lagging_ids
    ]
    return {
        "plans": plans,
        "cards": cards,
        # Running plans first; plans whose period is over apart (their verdicts are final).
        "running_cards": [card for card in cards if not card.finished],
        "finished_cards": [card for card in cards if card.finished],
        "binding_lagging": binding_lagging,
        "due_soon": due_milestones(board, on),
        "reporting": reporting(
            user, plans, board, board.targets, on=on, with_cell=False, owed_limit=OWED_NOW_LIMIT
        ),
        "changes": recent_changes([p.pk for p in plans]),
        "due_days": DUE_SOON_DAYS,
        "on": on,
        "board": board,  # the charts (reports.charts) read the same judgement
        "fragment_key": key,
    }


def target_rows(board: StatusBoard, targets: list[Target]) -> list[tuple[Target, TargetProgress]]:
    return [(t, board.target_progress[t.pk]) for t in targets]


def target_page(rows: list, page: str | int | None) -> Page:
    """The rows of one page of a target table (``TARGET_ROWS_PER_PAGE``): a county has
    hundreds of targets, and a page renders only what it shows; the lights above the table
    and the charts count them all."""
    return Paginator(rows, TARGET_ROWS_PER_PAGE).get_page(page)


def owed_page(reporting: Reporting, page: str | int | None) -> Page:
    """One page of the regions still owing in the open periods (``OWED_ROWS_PER_PAGE``,
    in ``reporting.owed_now``'s order, most behind first); the figures above the table count
    them all."""
    return Paginator(reporting.owed_now, OWED_ROWS_PER_PAGE).get_page(page)


def region_page(
    user,
    region,
    *,
    on: datetime.date | None = None,
    page=None,
    owed=None,
    fragments: bool = True,
) -> dict:
    """A district: targets set for it or below or allocated to it, tasks its units take part
    in, what it owes and how complete and punctual its reporting is."""
    on = on or timezone.localdate()
    plans = plans_in_scope(user)
    # Before the board reads (reports/fragments.py); not for the charts' API (no fragments).
    key = fragment_key(user, [p.pk for p in plans], on) if fragments else ""
    subtree = RegionTree.load().subtree(region.pk)
    # Only what concerns the region: its targets and those allocated to it, the tasks its
    # units take part in (with their targets, which a task's status needs), the allocations
    # to it — not the whole plan's (issue 9: a county page at national scale).
    plan_ids = [p.pk for p in plans]
    tasks = Task.objects.filter(
        plan_id__in=plan_ids, assignments__unit__region_id__in=subtree
    ).distinct()
    targets = Target.objects.filter(plan_id__in=plan_ids).filter(
        owing_q(subtree) | Q(task__in=tasks)
    )
    board = StatusBoard(
        plans,
        on=on,
        targets=Target.objects.filter(pk__in=targets.values("pk")),
        tasks=tasks,
        allocation_regions=None if _raw_reporting() else subtree,
    )
    targets = [
        t
        for t in board.targets
        if owing_regions(t, (a.region_id for a in board.allocations.get(t.pk, [])), within=subtree)
    ]
    task_ids = {a.task_id for a in board.assignments if a.unit.region_id in subtree}
    tasks = [t for t in board.tasks if t.pk in task_ids]
    summary = board.region_summary(region.pk)
    rows = target_rows(board, targets)
    owing = reporting(user, plans, board, targets, regions=subtree, on=on)
    return {
        "region": region,
        "targets": rows,
        "target_page": target_page(rows, page),
        "tasks": [(t, board.task_progress[t.pk], board.plans[t.plan_id]) for t in tasks],
        "target_lights": lights(summary["targets"]),
        "allocation_lights": lights(summary["allocations"]),
        "reporting": owing,
        "owed_page": owed_page(owing, owed),
        "on": on,
        "plans": plans,
        "board": board,  # the charts (reports.charts) read the same judgement
        "fragment_key": key,
    }


def unit_page(user, unit, *, on: datetime.date | None = None, page=None, owed=None) -> dict:
    """A responsible unit: the tasks it leads or supports, their targets, what is owed on them
    and the reporting completeness and punctuality."""
    on = on or timezone.localdate()
    plans = plans_in_scope(user)
    key = fragment_key(user, [p.pk for p in plans], on)  # before the board reads
    board = StatusBoard(plans, on=on)
    roles = {a.task_id: a.get_role_display() for a in board.assignments if a.unit_id == unit.pk}
    tasks = [t for t in board.tasks if t.pk in roles]
    targets = [t for t in board.targets if t.task_id in roles]
    summary = board.unit_summary(unit.pk)
    rows = target_rows(board, targets)
    # Counted from the reports: the tallies are per region, not per unit's targets.
    owing = reporting_from_reports(user, board, targets, on=on)
    return {
        "unit": unit,
        "tasks": [
            (t, board.task_progress[t.pk], roles[t.pk], board.plans[t.plan_id]) for t in tasks
        ],
        "targets": rows,
        "target_page": target_page(rows, page),
        "lead_lights": lights(summary["lead_tasks"]),
        "support_lights": lights(summary["support_tasks"]),
        "reporting": owing,
        "owed_page": owed_page(owing, owed),
        "on": on,
        "fragment_key": key,
    }
