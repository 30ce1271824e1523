"""Who owes a figure, and what a reporter owes (我的填报).

The rule, in one place (every Python caller uses the functions below; the reporting tallies
keep the same rule in SQL, ``targets/tally_store.py``, and a test compares the two):

- a report-fed target's figure is owed by its own region and by every region it is allocated
  to (``owing_regions``, ``owes_region``; as a filter on targets, ``owing_q``);
- nothing is owed for a retired (停用) target, nor by the region of a retired allocation
  (``retired_on`` set: kept with its history and figures, hidden from reporting);
- for each period of its plan whose year is not after the target's year — the plan's last year
  when the target has none (``owed_periods``, ``owes_period``).

A period is locked for a region after its ``locks_on`` date, unless staff granted that region
or a region above it an exception still running (``locked``, ``lock_exceptions``).

``owed_items`` lists what a reporter owes in a fixed number of queries whatever the number of
rows: reportable targets with their allocations, the plans' reporting periods, the existing
reports, the lock exceptions.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Container, Iterable
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.regions import RegionTree
from core.scope import REPORT, Scope, scope_of
from planning.models import Plan
from targets.choices import Feed, ReportStatus
from targets.models import Allocation, LockException, ProgressReport, ReportingPeriod, Target

P = TypeVar("P")

# ------------------------------------------------------------------------------ the rule


def last_owed_year(target: Target, plan: Plan) -> int:
    """The last year figures of ``target`` (of ``plan``) are owed for."""
    return target.target_year or plan.end_year


def owes_period(target: Target, period: str, plan: Plan) -> bool:
    """Whether a figure of ``target`` is owed for the period code (2022, 2022H1, 2022Q3)."""
    return target.retired_on is None and int(period[:4]) <= last_owed_year(target, plan)


def owed_periods(target: Target, periods: Iterable[P], plan: Plan) -> list[P]:
    """The reporting periods (objects with a ``period`` code) a figure is owed for."""
    return [p for p in periods if owes_period(target, p.period, plan)]


def owes_region(target: Target, region_id: int, allocated: Container[int]) -> bool:
    """Whether ``region_id`` owes the target's figures; ``allocated``: the region ids the
    target is allocated to (or a region id → share mapping)."""
    return region_id == target.region_id or region_id in allocated


def owing_regions(
    target: Target,
    allocated: Iterable[int] | None = None,
    *,
    scope: Scope | None = None,
    within: Container[int] | None = None,
) -> set[int]:
    """The regions owing the target's figures: its own and those it is allocated to
    (``allocated``: the ids of its live allocations; by default the target's allocations,
    prefetched or read, less the retired ones) — only those ``scope`` covers and those
    ``within``, when given. None for a retired target."""
    if target.retired_on is not None:
        return set()
    if allocated is None:
        allocated = (a.region_id for a in target.allocations.all() if a.retired_on is None)
    regions = {target.region_id, *allocated}
    if scope is not None and not scope.everything:
        regions = {r for r in regions if scope.covers(r)}
    if within is not None:
        regions = {r for r in regions if r in within}
    return regions


def owing_q(region_ids: Iterable[int], prefix: str = "") -> Q:
    """Live targets (``prefix`` leads to them) set for or allocated (by a live allocation)
    to any of these regions — those whose figures the regions owe, when report-fed. Joins the
    allocations: a target may come more than once."""
    region_ids = list(region_ids)
    return Q(**{f"{prefix}retired_on__isnull": True}) & (
        Q(**{f"{prefix}region_id__in": region_ids})
        | Q(
            **{
                f"{prefix}allocations__region_id__in": region_ids,
                f"{prefix}allocations__retired_on__isnull": True,
            }
        )
    )


def locked(
    period: ReportingPeriod,
    region_ids: Iterable[int],
    on: datetime.date,
    exceptions: Container[tuple[int, int]],
) -> bool:
    """Whether ``period`` is locked on ``on`` for a region (``region_ids``: the region and
    every region above it): after its ``locks_on`` date, unless one of them holds an
    exception (``exceptions``: (period id, region id) pairs, see ``lock_exceptions``)."""
    return past_lock_date(period, on) and not any((period.pk, r) in exceptions for r in region_ids)


def past_lock_date(period: ReportingPeriod, on: datetime.date) -> bool:
    """Whether ``on`` is after the period's ``locks_on`` date (exceptions aside)."""
    return on > period.locks_on


def lock_exceptions(on: datetime.date, **filters) -> set[tuple[int, int]]:
    """(period id, region id) of the lock exceptions still running on ``on`` (one query)."""
    return set(
        LockException.objects.filter(until__gte=on, **filters).values_list(
            "reporting_period_id", "region_id"
        )
    )


# ------------------------------------------------------------------------------ 我的填报

NOT_STARTED = "not_started"
STATE_LABELS = {  # in the order of the page's filter; the statuses' own labels
    NOT_STARTED: gettext_lazy("未开始"),
    **{
        status.value: status.label
        for status in (
            ReportStatus.DRAFT,
            ReportStatus.SUBMITTED,
            ReportStatus.RETURNED,
            ReportStatus.APPROVED,
        )
    },
}


@dataclass
class OwedItem:
    target: Target
    region_id: int
    region_name: str
    reporting_period: ReportingPeriod
    report: ProgressReport | None
    locked: bool

    @property
    def state(self) -> str:
        return self.report.status if self.report else NOT_STARTED

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def overdue(self) -> bool:
        return self.state in (NOT_STARTED, "draft", "returned") and (
            timezone.localdate() > self.reporting_period.due_on
        )


def owed_items(user, *, on: datetime.date | None = None) -> list[OwedItem]:
    on = on or timezone.localdate()
    scope = scope_of(user)
    tree = RegionTree.load()
    targets = list(
        Target.objects.for_user(user, REPORT)
        .filter(feed=Feed.REPORTS, retired_on__isnull=True)
        .select_related("plan", "region")
        .prefetch_related(
            Prefetch("allocations", queryset=Allocation.objects.filter(retired_on__isnull=True))
        )
        .order_by("plan_id", "order")
    )
    plan_ids = {t.plan_id for t in targets}
    periods: dict[int, list[ReportingPeriod]] = defaultdict(list)
    for period in ReportingPeriod.objects.filter(plan_id__in=plan_ids).order_by("period"):
        periods[period.plan_id].append(period)
    reports = {
        (r.target_id, r.region_id, r.period): r
        for r in ProgressReport.objects.filter(target__in=targets)
    }
    exceptions = lock_exceptions(on, reporting_period__plan_id__in=plan_ids)
    items = []
    for target in targets:
        regions = sorted(owing_regions(target, scope=scope))
        for period in owed_periods(target, periods[target.plan_id], target.plan):
            for region_id in regions:
                chain = {region_id, *tree.ancestors(region_id)}
                items.append(
                    OwedItem(
                        target=target,
                        region_id=region_id,
                        region_name=tree.names.get(region_id, ""),
                        reporting_period=period,
                        report=reports.get((target.pk, region_id, period.period)),
                        locked=locked(period, chain, on, exceptions),
                    )
                )
    return items
