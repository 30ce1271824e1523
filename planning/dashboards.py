"""What the dashboards show (总览, district page, unit page), assembled from the status engine
in a fixed number of queries whatever the number of plans, targets, regions and reports.

Queries: the plans in scope; ``StatusBoard`` (its own fixed set); the reporting periods of
those plans; the progress reports of the open periods; the recent history (three queries).
Everything else is Python over what these returned.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import chain

from django.utils import timezone

from accounts.scope import VIEW, scope_of
from reports.completeness import REPORTED, Cell, deadline
from targets.choices import Feed, ProgressStatus
from targets.models import ProgressReport, ReportingPeriod, Target
from targets.rollups import StatusBoard, Summary
from targets.status import LIGHTS, TargetProgress

from .models import Plan, Task

DUE_SOON_DAYS = 90
RECENT_CHANGES = 12
# The five lights of the overview, in the order the office reads them.
LIGHT_STATUSES = [
    ProgressStatus.MET,
    ProgressStatus.ON_TRACK,
    ProgressStatus.LAGGING,
    ProgressStatus.CRITICAL,
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


@dataclass
class Reporting:
    """Completeness and punctuality of a set of owed figures (all open and past periods)."""

    cell: Cell = field(default_factory=Cell)
    owed_now: list[Owed] = field(default_factory=list)

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
        chain.from_iterable(board.inputs.milestones.get(pk, []) for pk in targets),
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


def reporting(
    user,
    board: StatusBoard,
    targets: list[Target],
    *,
    regions: set[int] | None = None,
    on: datetime.date,
) -> Reporting:
    """Owed figures of report-fed ``targets`` (their region and allocations, inside the
    user's scope and ``regions`` when given), for every reporting period that has begun.
    Two queries: the periods and the reports."""
    scope = scope_of(user)
    result = Reporting()
    targets = [t for t in targets if t.feed == Feed.REPORTS]
    plan_ids = {t.plan_id for t in targets}
    periods: dict[int, list[ReportingPeriod]] = defaultdict(list)
    for period in ReportingPeriod.objects.filter(plan_id__in=plan_ids).order_by("period"):
        if int(period.period[:4]) <= on.year:
            periods[period.plan_id].append(period)
    codes = {p.period for ps in periods.values() for p in ps}
    wanted_by_target: dict[int, set[int]] = {}
    for target in targets:
        wanted = {target.region_id, *(a.region_id for a in board.inputs.allocations[target.pk])}
        if not scope.everything:
            wanted &= scope.region_ids
        if regions is not None:
            wanted &= regions
        wanted_by_target[target.pk] = wanted
    # Only the owing regions' reports: at national scale a target has thousands of county
    # figures below its region, and reading them all would make the page grow with the data.
    found = {
        (target_id, region_id, period): (status, submitted_at)
        for target_id, region_id, period, status, submitted_at in ProgressReport.objects.filter(
            target_id__in=[t.pk for t in targets],
            period__in=codes,
            region_id__in=set().union(*wanted_by_target.values()),
        ).values_list("target_id", "region_id", "period", "status", "submitted_at")
    }
    names = board.inputs.regions.names
    owed_now: dict[tuple[int, int, str], Owed] = {}
    for target in targets:
        wanted = wanted_by_target[target.pk]
        last_year = target.target_year or board.plans[target.plan_id].end_year
        for period in periods[target.plan_id]:
            if int(period.period[:4]) > last_year:
                continue
            is_open = period.locks_on >= on
            period_deadline = deadline(period)  # once per period, not per cell (profiled)
            for region_id in wanted:
                status, submitted_at = found.get(
                    (target.pk, region_id, period.period), (None, None)
                )
                on_time = None
                if status in REPORTED and submitted_at is not None:
                    on_time = submitted_at < period_deadline
                overdue = status not in REPORTED and on > period.due_on
                result.cell.add(status, on_time=on_time, overdue=overdue)
                if is_open:
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
        key=lambda r: (r.due_on, -r.missing, r.region_name),
    )
    return result


def recent_changes(plan_ids: list[int], limit: int = RECENT_CHANGES) -> list[Change]:
    """The latest history of the plans' targets, tasks and progress reports (three queries).
    Reports are listed by their target (a figure's region may lie outside the reader's scope,
    so the value itself is not shown here)."""
    sources = [
        (Target.history.filter(plan_id__in=plan_ids), "指标", "target_detail", "name", "id"),
        (Task.history.filter(plan_id__in=plan_ids), "任务", "task_detail", "title", "id"),
        (
            ProgressReport.history.filter(target__plan_id__in=plan_ids).select_related("target"),
            "填报",
            "target_detail",
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
    board = StatusBoard(plans, on=on)
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
            )
        )
    lagging_ids = {pk for card in cards for pk in card.targets.binding_lagging}
    binding_lagging = [
        (t, board.target_progress[t.pk]) for t in board.targets if t.pk in lagging_ids
    ]
    return {
        "plans": plans,
        "cards": cards,
        "binding_lagging": binding_lagging,
        "due_soon": due_milestones(board, on),
        "reporting": reporting(user, board, board.targets, on=on),
        "changes": recent_changes([p.pk for p in plans]),
        "due_days": DUE_SOON_DAYS,
        "on": on,
    }


def target_rows(board: StatusBoard, targets: list[Target]) -> list[tuple[Target, TargetProgress]]:
    return [(t, board.target_progress[t.pk]) for t in targets]


def region_page(user, region, *, on: datetime.date | None = None) -> dict:
    """A district: targets set for it or below or allocated to it, tasks its units take part
    in, what it owes and how complete and punctual its reporting is."""
    on = on or timezone.localdate()
    board = StatusBoard(plans_in_scope(user), on=on)
    subtree = board.inputs.regions.subtree(region.pk)
    targets = [
        t
        for t in board.targets
        if t.region_id in subtree
        or any(a.region_id in subtree for a in board.inputs.allocations[t.pk])
    ]
    task_ids = {a.task_id for a in board.assignments if a.unit.region_id in subtree}
    tasks = [t for t in board.tasks if t.pk in task_ids]
    summary = board.region_summary(region.pk)
    return {
        "region": region,
        "targets": target_rows(board, targets),
        "tasks": [(t, board.task_progress[t.pk], board.plans[t.plan_id]) for t in tasks],
        "target_lights": lights(summary["targets"]),
        "allocation_lights": lights(summary["allocations"]),
        "reporting": reporting(user, board, targets, regions=subtree, on=on),
        "on": on,
    }


def unit_page(user, unit, *, on: datetime.date | None = None) -> dict:
    """A responsible unit: the tasks it leads or supports, their targets, what is owed on them
    and the reporting completeness and punctuality."""
    on = on or timezone.localdate()
    board = StatusBoard(plans_in_scope(user), on=on)
    roles = {a.task_id: a.get_role_display() for a in board.assignments if a.unit_id == unit.pk}
    tasks = [t for t in board.tasks if t.pk in roles]
    targets = [t for t in board.targets if t.task_id in roles]
    summary = board.unit_summary(unit.pk)
    return {
        "unit": unit,
        "tasks": [
            (t, board.task_progress[t.pk], roles[t.pk], board.plans[t.plan_id]) for t in tasks
        ],
        "targets": target_rows(board, targets),
        "lead_lights": lights(summary["lead_tasks"]),
        "support_lights": lights(summary["support_tasks"]),
        "reporting": reporting(user, board, targets, on=on),
        "on": on,
    }
