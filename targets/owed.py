"""What a reporter owes (我的填报): target × region × open period, with the report's state.

A fixed number of queries whatever the number of rows: reportable targets with their
allocations, the plans' reporting periods, the existing reports, the lock exceptions.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone

from core.regions import RegionTree
from core.scope import REPORT, scope_of
from targets.choices import Feed
from targets.models import Allocation, LockException, ProgressReport, ReportingPeriod, Target

NOT_STARTED = "not_started"
STATE_LABELS = {
    NOT_STARTED: "未开始",
    "draft": "草稿",
    "submitted": "已提交",
    "returned": "已退回",
    "approved": "已审核",
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
        return STATE_LABELS[self.state]

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
        .filter(feed=Feed.REPORTS)
        .select_related("plan", "region")
        .prefetch_related(Prefetch("allocations", queryset=Allocation.objects.all()))
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
    exceptions = {
        (e.reporting_period_id, e.region_id)
        for e in LockException.objects.filter(reporting_period__plan_id__in=plan_ids, until__gte=on)
    }
    items = []
    for target in targets:
        regions = {target.region_id, *(a.region_id for a in target.allocations.all())}
        if not scope.everything:
            regions &= scope.region_ids
        last_year = target.target_year or target.plan.end_year
        for period in periods[target.plan_id]:
            if int(period.period[:4]) > last_year:
                continue
            for region_id in sorted(regions):
                chain = {region_id, *tree.ancestors(region_id)}
                locked = on > period.locks_on and not any(
                    (period.pk, r) in exceptions for r in chain
                )
                items.append(
                    OwedItem(
                        target=target,
                        region_id=region_id,
                        region_name=tree.names.get(region_id, ""),
                        reporting_period=period,
                        report=reports.get((target.pk, region_id, period.period)),
                        locked=locked,
                    )
                )
    return items
