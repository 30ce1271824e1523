"""Reporting completeness (填报完整性): for one plan and its reporting periods, how many of the
figures owed have come in, by region (or by lead unit) × period.

What is owed is what ``targets.owed`` lists for reporters (its rule: ``owing_regions``,
``owes_period``): every report-fed target of the plan, for its own region and each region it is
allocated to, for every open period up to the target's year (the plan's last year when the
target has none). Only regions inside the user's scope count, so a county's staff see their
county's row and nothing else.

Per cell: the figures owed and the reports in each state (draft, submitted, approved,
returned; ``missing`` = owed with no report at all); ``reported`` = submitted + approved, and
among those, ``on_time`` (submitted by the end of the period's due date, local time) and
``late``. ``overdue`` counts owed figures not reported although the due date has passed — it
decides the colour. Rates are reported ÷ owed, per cell, per row (all periods) and per column
(all rows).

A fixed number of queries whatever the number of targets, regions, periods and reports: the
region tree, the periods, the targets with their allocations, the reports (one row each), and
for the unit variant the lead assignments.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from core.regions import RegionTree
from core.scope import VIEW, in_regions, scope_of
from planning.choices import AssignmentRole
from planning.models import Plan, TaskAssignment
from targets.choices import Feed, ReportStatus
from targets.models import Allocation, ProgressReport, ReportingPeriod, Target
from targets.owed import owes_period, owing_regions

BY_REGION, BY_UNIT = "region", "unit"
NO_UNIT_LABEL = "未明确牵头单位"
REPORTED = {ReportStatus.SUBMITTED, ReportStatus.APPROVED}
WARNING_FROM = Decimal("0.8")  # a late column reads yellow from 80 % reported, red below


@dataclass
class Cell:
    owed: int = 0
    draft: int = 0
    submitted: int = 0
    approved: int = 0
    returned: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0

    @property
    def missing(self) -> int:
        return self.owed - self.draft - self.submitted - self.approved - self.returned

    @property
    def reported(self) -> int:
        return self.submitted + self.approved

    @property
    def rate(self) -> Decimal | None:
        return Decimal(self.reported) / Decimal(self.owed) if self.owed else None

    @property
    def rate_percent(self) -> int | None:
        rate = self.rate
        return None if rate is None else int((rate * 100).to_integral_value())

    @property
    def css(self) -> str:
        """Bootstrap table colour: all in green; nothing late yet neutral; else yellow/red."""
        if not self.owed:
            return ""
        if self.reported == self.owed:
            return "table-success"
        if not self.overdue:
            return "table-light"
        return "table-warning" if self.rate >= WARNING_FROM else "table-danger"

    def add(self, status: str | None, *, on_time: bool | None, overdue: bool) -> None:
        self.owed += 1
        if status is not None:
            setattr(self, status, getattr(self, status) + 1)
        if on_time is True:
            self.on_time += 1
        elif on_time is False:
            self.late += 1
        if overdue:
            self.overdue += 1


@dataclass
class Row:
    key: int | None  # region id, or unit id (None: the target's task has no lead unit)
    label: str
    cells: list[Cell]
    total: Cell = field(default_factory=Cell)
    region_id: int | None = None  # set when the rows are regions (links filter by it)


@dataclass
class Matrix:
    plan: Plan
    by: str
    periods: list[ReportingPeriod]
    rows: list[Row]
    columns: list[Cell]  # one per period, over every row (each owed figure counted once)
    total: Cell
    on: datetime.date

    def row(self, key: int | None) -> Row:
        return next(row for row in self.rows if row.key == key)

    @property
    def table(self) -> list[tuple[Row, list[tuple[ReportingPeriod, Cell]]]]:
        """Rows with their cells paired with the periods, for templates."""
        return [(row, list(zip(self.periods, row.cells, strict=True))) for row in self.rows]

    @property
    def footer(self) -> list[tuple[ReportingPeriod, Cell]]:
        return list(zip(self.periods, self.columns, strict=True))


def deadline(period: ReportingPeriod) -> datetime.datetime:
    """The first instant after the due date, in the site's time zone."""
    next_day = period.due_on + datetime.timedelta(days=1)
    return datetime.datetime.combine(
        next_day, datetime.time.min, tzinfo=timezone.get_current_timezone()
    )


def plan_periods(plan: Plan, codes: list[str] | None = None) -> list[ReportingPeriod]:
    periods = ReportingPeriod.objects.filter(plan=plan).order_by("period")
    if codes:
        periods = periods.filter(period__in=codes)
    return list(periods)


def completeness(
    user,
    plan: Plan,
    *,
    periods: list[ReportingPeriod] | None = None,
    by: str = BY_REGION,
    on: datetime.date | None = None,
) -> Matrix:
    """The matrix for ``plan`` as ``user`` may see it; ``periods`` defaults to all of the
    plan's reporting periods. The caller has checked the user may open the plan."""
    if by not in (BY_REGION, BY_UNIT):
        raise ValueError(f"unknown grouping {by!r}")
    on = on or timezone.localdate()
    scope = scope_of(user)
    tree = RegionTree.load()
    if periods is None:
        periods = plan_periods(plan)
    targets = list(
        Target.objects.for_user(user, VIEW)
        .filter(plan=plan, feed=Feed.REPORTS)
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=Allocation.objects.only("target_id", "region_id", "retired_on"),
            )
        )
        # retired_on: the rule of targets.owed reads it (a retired target owes nothing)
        .only("pk", "plan_id", "task_id", "region_id", "target_year", "retired_on")
    )
    reports = ProgressReport.objects.filter(
        target__plan=plan, period__in=[p.period for p in periods]
    )
    if not scope.everything:
        reports = reports.filter(in_regions("region_id", scope.region_ids))
    found = {
        (target_id, region_id, period): (status, submitted_at)
        for target_id, region_id, period, status, submitted_at in reports.values_list(
            "target_id", "region_id", "period", "status", "submitted_at"
        )
    }
    leads, unit_names = _lead_units(targets) if by == BY_UNIT else ({}, {})

    deadlines = [deadline(p) for p in periods]
    row_cells: dict[int | None, list[Cell]] = defaultdict(lambda: [Cell() for _ in periods])
    row_totals: dict[int | None, Cell] = defaultdict(Cell)
    columns = [Cell() for _ in periods]
    total = Cell()
    for target in targets:
        regions = owing_regions(target, scope=scope)
        for index, period in enumerate(periods):
            if not owes_period(target, period.period, plan):
                continue
            for region_id in regions:
                status, submitted_at = found.get(
                    (target.pk, region_id, period.period), (None, None)
                )
                on_time = None
                if status in REPORTED and submitted_at is not None:
                    on_time = submitted_at < deadlines[index]
                overdue = status not in REPORTED and on > period.due_on
                keys = [region_id] if by == BY_REGION else leads.get(target.task_id) or [None]
                for key in keys:
                    row_cells[key][index].add(status, on_time=on_time, overdue=overdue)
                    row_totals[key].add(status, on_time=on_time, overdue=overdue)
                columns[index].add(status, on_time=on_time, overdue=overdue)
                total.add(status, on_time=on_time, overdue=overdue)

    if by == BY_REGION:
        labels = {key: tree.names.get(key, "") for key in row_cells}
        order = {key: (len(tree.ancestors(key)), labels[key]) for key in row_cells}
    else:
        labels = {key: unit_names.get(key, NO_UNIT_LABEL) for key in row_cells}
        # Units by name; the row of targets whose task has no lead unit comes last.
        order = {key: (key is None, labels[key]) for key in row_cells}
    rows = [
        Row(
            key=key,
            label=labels[key],
            cells=row_cells[key],
            total=row_totals[key],
            region_id=key if by == BY_REGION else None,
        )
        for key in sorted(row_cells, key=lambda k: order[k])
    ]
    return Matrix(plan=plan, by=by, periods=periods, rows=rows, columns=columns, total=total, on=on)


def _lead_units(targets: list[Target]) -> tuple[dict[int, list[int]], dict[int, str]]:
    """Lead units of the targets' tasks (task id → unit ids) and the units' names."""
    task_ids = {t.task_id for t in targets if t.task_id}
    leads: dict[int, list[int]] = defaultdict(list)
    names: dict[int, str] = {}
    assignments = (
        TaskAssignment.objects.filter(task_id__in=task_ids, role=AssignmentRole.LEAD)
        .select_related("unit")
        .order_by("task_id", "order", "pk")
    )
    for assignment in assignments:
        leads[assignment.task_id].append(assignment.unit_id)
        names[assignment.unit_id] = assignment.unit.name
    return leads, names
