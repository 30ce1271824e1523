"""Roll-ups: task status from its targets, milestones and updates; summaries per plan,
section, region and unit. ``StatusBoard`` fetches once for a set of plans (a fixed number of
queries) and answers every question about them without querying again.

Task rules (first that applies): a cancelled task is not judged; a task marked completed is
met; past its due date and not completed is critical; otherwise its targets' statuses and its
milestones' states (done → met, overdue → critical, pending → not_due) combine: all met → met,
else the worst of critical, lagging, no_data; else on_track when anything is on track or met,
else not_due. A task with neither targets nor milestones is judged by its latest update's
percent against the share of its time elapsed (same tolerances as targets); with no update at
all it is no_data once its first year has ended.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from core.regions import RegionTree
from planning.choices import AssignmentRole, TaskStatus
from planning.models import Plan, Task, TaskAssignment, TaskUpdate
from targets.choices import MilestoneState, ProgressStatus
from targets.judgement import Ask, judge, storable
from targets.judgement import supported as judgement_supported
from targets.models import Allocation, Milestone, Target
from targets.status import (
    StatusInputs,
    StatusRules,
    TargetProgress,
    load_status_inputs,
    milestone_state,
    plan_finished,
    year_end,
)

STATUS_ORDER = [s.value for s in ProgressStatus]
JUDGED = {
    ProgressStatus.MET,
    ProgressStatus.ON_TRACK,
    ProgressStatus.LAGGING,
    ProgressStatus.CRITICAL,
    ProgressStatus.UNMET,
}
MILESTONE_AS_STATUS = {
    MilestoneState.DONE: ProgressStatus.MET,
    MilestoneState.OVERDUE: ProgressStatus.CRITICAL,
    MilestoneState.PENDING: ProgressStatus.NOT_DUE,
}


def combine(statuses: list[str]) -> str | None:
    """One status for a group of statuses (see the module docstring)."""
    if not statuses:
        return None
    if all(s == ProgressStatus.MET for s in statuses):
        return ProgressStatus.MET
    worst_first = (
        ProgressStatus.UNMET,
        ProgressStatus.CRITICAL,
        ProgressStatus.LAGGING,
        ProgressStatus.NO_DATA,
    )
    for worst in worst_first:
        if worst in statuses:
            return worst
    if ProgressStatus.ON_TRACK in statuses or ProgressStatus.MET in statuses:
        return ProgressStatus.ON_TRACK
    return ProgressStatus.NOT_DUE


@dataclass
class Summary:
    """Counts by status and what a committee office asks first."""

    counts: Counter = field(default_factory=Counter)
    binding_lagging: list[int] = field(default_factory=list)  # target ids to escalate
    reports_due: int = 0
    reports_in: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def share_on_track(self) -> Decimal | None:
        """Met or on track, among those that can be judged (not no_data / not_due)."""
        judged = sum(self.counts[s] for s in JUDGED)
        if not judged:
            return None
        good = self.counts[ProgressStatus.MET] + self.counts[ProgressStatus.ON_TRACK]
        return Decimal(good) / Decimal(judged)

    @property
    def completeness(self) -> Decimal | None:
        """Share of due report-fed targets that have a figure (未填报 is the rest)."""
        return Decimal(self.reports_in) / Decimal(self.reports_due) if self.reports_due else None

    def add(self, status: str | None) -> None:
        if status is not None:
            self.counts[status] += 1

    def as_dict(self) -> dict:
        return {
            "counts": {status: self.counts[status] for status in STATUS_ORDER},
            "total": self.total,
            "share_on_track": self.share_on_track,
            "binding_lagging": self.binding_lagging,
            "completeness": self.completeness,
        }


@dataclass
class TaskProgress:
    task_id: int
    status: str | None
    target_statuses: list[str]
    milestone_states: dict[int, str]
    latest_percent: int | None


class StatusBoard:
    """Statuses of every target and task of some plans at one date, and their roll-ups."""

    def __init__(
        self,
        plans: QuerySet[Plan] | list[Plan],
        *,
        on: datetime.date | None = None,
        rules: StatusRules | None = None,
        targets: QuerySet[Target] | None = None,
        tasks: QuerySet[Task] | None = None,
        allocation_regions=None,
    ):
        """``targets`` / ``tasks`` narrow the board (default: all of the plans'; a task is
        judged right only when its targets are on the board). ``allocation_regions``: see
        ``load_status_inputs`` — ``()`` when no allocation is judged."""
        self.on = on or timezone.localdate()
        self.rules = rules or StatusRules.from_settings()
        self.plans: dict[int, Plan] = {p.pk: p for p in plans}
        plan_ids = list(self.plans)
        if targets is None:
            targets = Target.objects.filter(plan_id__in=plan_ids)
        # Retired (停用) targets are neither judged nor counted: the pages list them apart,
        # struck through (``retired_targets``, from the same query).
        loaded = list(targets.select_related("plan", "region").order_by("plan_id", "order"))
        self.targets = [t for t in loaded if t.retired_on is None]
        self.retired_targets = [t for t in loaded if t.retired_on is not None]
        if tasks is None:
            tasks = Task.objects.filter(plan_id__in=plan_ids)
        self.tasks = list(tasks.select_related("section").order_by("plan_id", "order"))
        self._allocation_regions = allocation_regions
        self._inputs: StatusInputs | None = None
        self._allocations: dict[int, list[Allocation]] | None = None
        self._allocation_progress: dict[int, list[tuple[Allocation, TargetProgress]]] | None
        self._allocation_progress = None
        self._regions: RegionTree | None = None
        self._milestones: dict[int, list[Milestone]] | None = None
        # Judgements of today are stored (targets.judgement); at any other date, or without
        # the store (SQLite), the board loads the engine's inputs once, as it always did.
        self._stores = judgement_supported() and storable(self.on)
        judged = self.judge([Ask(t, self.on) for t in self.targets])
        self.target_progress: dict[int, TargetProgress] = {
            t.pk: judged[Ask(t, self.on).key] for t in self.targets
        }
        self._load_task_inputs([t.pk for t in self.tasks])
        self.task_progress: dict[int, TaskProgress] = {
            t.pk: self._judge_task(t) for t in self.tasks
        }

    # what the engine reads, loaded only when something is judged here -------------------

    @property
    def inputs(self) -> StatusInputs:
        """Everything the engine reads for the board's targets (and the allocations to
        ``allocation_regions``), loaded on first use: the stored judgement spares it when
        nothing on the board changed since it was judged (``targets.judgement``)."""
        if self._inputs is None:
            self._inputs = load_status_inputs(
                self.targets, allocation_regions=self._allocation_regions
            )
        return self._inputs

    def _loader(self, targets: list[Target], regions: set[int]) -> StatusInputs:
        """Inputs to judge ``targets`` (and allocations to ``regions``): the board's own when
        they are loaded already, else only what these judgements read."""
        if self._inputs is None and not self._stores:
            return self.inputs
        if self._inputs is not None:
            inputs = self._inputs
            if regions <= {a.region_id for rows in inputs.allocations.values() for a in rows}:
                return inputs
        return load_status_inputs(targets, regions=regions, allocation_regions=())

    def judge(self, asks: list[Ask]) -> dict[tuple, TargetProgress]:
        """``asks`` judged at their dates: stored judgements where current, else the engine's
        (``targets.judgement.judge``)."""
        return judge(asks, rules=self.rules, inputs=self._loader)

    @property
    def milestones(self) -> dict[int, list[Milestone]]:
        """The targets' live milestones in schedule order (the engine's ``inputs.milestones``;
        one query when the inputs were not loaded)."""
        if self._milestones is None:
            if self._inputs is not None:
                self._milestones = self._inputs.milestones
            else:
                self._milestones = self._load_milestones()
        return self._milestones

    def _load_milestones(self) -> dict[int, list[Milestone]]:
        milestones: dict[int, list[Milestone]] = defaultdict(list)
        live = Milestone.objects.filter(
            target_id__in=[t.pk for t in self.targets], retired_on__isnull=True
        )
        for milestone in live.order_by("due_on", "order"):
            milestones[milestone.target_id].append(milestone)
        return milestones

    @property
    def allocations(self) -> dict[int, list[Allocation]]:
        """Each target's live allocations (to ``allocation_regions`` when given), one query on
        first use."""
        if self._allocations is None:
            if self._inputs is not None:
                self._allocations = self._inputs.allocations
            else:
                self._allocations = self.load_allocations(self._allocation_regions)
        return self._allocations

    def load_allocations(self, regions: Iterable[int] | None) -> dict[int, list[Allocation]]:
        found: dict[int, list[Allocation]] = defaultdict(list)
        rows = Allocation.objects.filter(
            target_id__in=[t.pk for t in self.targets], retired_on__isnull=True
        )
        if regions is not None:
            rows = rows.filter(region_id__in=list(regions))
        for allocation in rows:  # an empty region list runs no query
            found[allocation.target_id].append(allocation)
        return found

    @property
    def regions(self) -> RegionTree:
        """The region tree (one query on first use)."""
        if self._regions is None:
            self._regions = self._inputs.regions if self._inputs is not None else RegionTree.load()
        return self._regions

    def allocation_progress(self, target: Target) -> list[tuple[Allocation, TargetProgress]]:
        """The target's allocations on the board with their judgement (``compute_allocations``
        through the store), all of the board's judged on first use."""
        if self._allocation_progress is None:
            self._allocation_progress = self.judge_allocations(self.allocations)
        return self._allocation_progress.get(target.pk, [])

    def judge_allocations(
        self, allocations: dict[int, list[Allocation]]
    ) -> dict[int, list[tuple[Allocation, TargetProgress]]]:
        """``allocations`` (by target, of the board's targets) with their judgement."""
        targets = {t.pk: t for t in self.targets}
        asks = {
            a.pk: Ask(targets[target_id], self.on, a.region_id, a.value)
            for target_id, rows in allocations.items()
            if target_id in targets
            for a in rows
        }
        judged = self.judge(list(asks.values()))
        return {
            target_id: [(a, judged[asks[a.pk].key]) for a in rows]
            for target_id, rows in allocations.items()
            if target_id in targets
        }

    def _load_task_inputs(self, task_ids: list[int]) -> None:
        self.task_milestones: dict[int, list[Milestone]] = defaultdict(list)
        live = Milestone.objects.filter(task_id__in=task_ids, retired_on__isnull=True)
        for milestone in live.order_by("due_on"):
            self.task_milestones[milestone.task_id].append(milestone)
        # The latest update that states a percent, up to the date (one query).
        self.latest_percent: dict[int, int] = {}
        updates = (
            TaskUpdate.objects.filter(
                task_id__in=task_ids, percent__isnull=False, created_at__date__lte=self.on
            )
            .order_by("task_id", "created_at")
            .values_list("task_id", "percent")
        )
        for task_id, percent in updates:
            self.latest_percent[task_id] = percent
        self.assignments: list[TaskAssignment] = list(
            TaskAssignment.objects.filter(task_id__in=task_ids).select_related("unit")
        )
        self.targets_by_task: dict[int, list[Target]] = defaultdict(list)
        for target in self.targets:
            if target.task_id:
                self.targets_by_task[target.task_id].append(target)

    def _judge_task(self, task: Task) -> TaskProgress:
        target_statuses = [self.target_progress[t.pk].status for t in self.targets_by_task[task.pk]]
        states = {m.pk: milestone_state(m, self.on) for m in self.task_milestones[task.pk]}
        percent = self.latest_percent.get(task.pk)
        progress = TaskProgress(task.pk, None, target_statuses, states, percent)
        if task.status == TaskStatus.CANCELLED:
            return progress
        if task.status == TaskStatus.COMPLETED:
            progress.status = ProgressStatus.MET
            return progress
        if plan_finished(self.plans[task.plan_id], self.on):
            # A finished plan's task is done (its targets and milestones met, or reported at
            # 100 %) or not (未完成) — not late (严重滞后).
            parts = target_statuses + [MILESTONE_AS_STATUS[s] for s in states.values()]
            done = combine(parts) == ProgressStatus.MET if parts else (percent or 0) >= 100
            progress.status = ProgressStatus.MET if done else ProgressStatus.UNMET
            return progress
        if task.due_on and task.due_on < self.on:
            progress.status = ProgressStatus.CRITICAL
            return progress
        parts = target_statuses + [MILESTONE_AS_STATUS[s] for s in states.values()]
        if parts:
            progress.status = combine(parts)
            return progress
        progress.status = self._judge_by_updates(task, percent)
        return progress

    def _judge_by_updates(self, task: Task, percent: int | None) -> str:
        plan = self.plans[task.plan_id]
        start_year = plan.start_year
        start = datetime.date(start_year, 1, 1)
        if percent is None:
            return (
                ProgressStatus.NOT_DUE if self.on < year_end(start_year) else ProgressStatus.NO_DATA
            )
        if percent >= 100:
            return ProgressStatus.MET
        end = task.due_on or year_end(plan.end_year)
        elapsed = Decimal((self.on - start).days) / Decimal(max((end - start).days, 1))
        ratio = Decimal(percent) / 100 / min(elapsed, Decimal(1)) if elapsed > 0 else Decimal(1)
        if ratio >= self.rules.lagging_below:
            return ProgressStatus.ON_TRACK
        if ratio >= self.rules.critical_below:
            return ProgressStatus.LAGGING
        return ProgressStatus.CRITICAL

    # summaries ------------------------------------------------------------------------------

    def _summarise(self, targets: list[Target], tasks: list[Task]) -> dict[str, Summary]:
        targets_summary, tasks_summary = Summary(), Summary()
        for target in targets:
            progress = self.target_progress[target.pk]
            targets_summary.add(progress.status)
            if progress.escalate:
                targets_summary.binding_lagging.append(target.pk)
            if target.feed == "reports" and progress.status != ProgressStatus.NOT_DUE:
                targets_summary.reports_due += 1
                if progress.status != ProgressStatus.NO_DATA:
                    targets_summary.reports_in += 1
        for task in tasks:
            if task.retired_on is None:  # a retired task is listed, struck through, not counted
                tasks_summary.add(self.task_progress[task.pk].status)
        return {"targets": targets_summary, "tasks": tasks_summary}

    def plan_summary(self, plan: Plan) -> dict[str, Summary]:
        return self._summarise(
            [t for t in self.targets if t.plan_id == plan.pk],
            [t for t in self.tasks if t.plan_id == plan.pk],
        )

    def section_summary(self, section_id: int) -> dict[str, Summary]:
        return self._summarise(
            [t for t in self.targets if t.section_id == section_id],
            [t for t in self.tasks if t.section_id == section_id],
        )

    def region_summary(self, region_id: int) -> dict[str, Summary]:
        """Targets set for the region or below, plus the region's allocations of others."""
        region_ids = self.regions.subtree(region_id)
        own = [t for t in self.targets if t.region_id in region_ids]
        summary = self._summarise(own, [])
        allocations = Summary()
        for target in self.targets:
            if target.region_id in region_ids:
                continue
            for allocation, progress in self.allocation_progress(target):
                if allocation.region_id in region_ids:
                    allocations.add(progress.status)
        summary["allocations"] = allocations
        return summary

    def unit_summary(self, unit_id: int) -> dict[str, Summary]:
        """A unit's tasks, those it leads apart from those it supports."""
        roles: dict[str, set[int]] = defaultdict(set)
        for assignment in self.assignments:
            if assignment.unit_id == unit_id:
                roles[assignment.role].add(assignment.task_id)
        result = {}
        for role in (AssignmentRole.LEAD, AssignmentRole.SUPPORT):
            tasks = [t for t in self.tasks if t.pk in roles[role]]
            targets = [t for t in self.targets if t.task_id in roles[role]]
            part = self._summarise(targets, tasks)
            result[f"{role}_tasks"] = part["tasks"]
            result[f"{role}_targets"] = part["targets"]
        return result
