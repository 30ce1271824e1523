"""The numbers behind the dashboards' charts and the 简报 (issue 21): lights by plan,
regions ranked by completion against pace (序时进度), the binding targets' yearly completion,
reporting on time by region, what changed since a date, the most lagging binding targets.

One function builds them all (``chart_data``) from a ``StatusBoard`` the page already has —
the engine is pure, so judging the binding targets at each year end costs no query — plus a
fixed number of queries: the reporting periods and the tallies (two), the approvals and
returns since the date (two: the counts and the latest rows), the adjustments (one). The API
(``reports/api.py``) and the pages' text alternatives both read this dict, so the chart and
its table show the same numbers.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from core.choices import Attribute
from core.regions import RegionTree
from core.scope import in_regions, scope_of
from planning.models import Plan
from reports.dashboards import LIGHT_STATUSES, plans_in_scope, region_page
from targets import rollup_store
from targets.choices import ProgressStatus, ReportStatus
from targets.judgement import Ask
from targets.models import (
    Allocation,
    ProgressReport,
    ReportingPeriod,
    ReportingTally,
    Target,
    TargetAdjustment,
)
from targets.rollups import StatusBoard
from targets.status import TargetProgress, year_end

# The overview ranks the regions furthest behind pace, not all of them (national scale).
RANKED_REGIONS = 20
BINDING_SERIES = 10
LAGGING_BRIEF = 5
RECENT_ITEMS = 12
# Behind: lagging or critical while the plan runs, 未完成 once it is over.
LAGGING = (ProgressStatus.CRITICAL, ProgressStatus.UNMET, ProgressStatus.LAGGING)
# The plan lights of the overview, and 未完成 (finished plans).
CHART_LIGHTS = [*LIGHT_STATUSES, ProgressStatus.UNMET]


def percent(value: Decimal | float | None) -> float | None:
    """0–1 → a percent with one decimal, as the chart and its table both show it."""
    return None if value is None else round(float(value) * 100, 1)


def month_start(on: datetime.date) -> datetime.date:
    return on.replace(day=1)


@dataclass
class RegionRow:
    """A region's targets (and allocations) at the date: mean completion and mean pace."""

    region: int
    region_name: str
    completions: list[Decimal] = field(default_factory=list)
    paces: list[Decimal] = field(default_factory=list)
    binding_lagging: int = 0
    items: int = 0

    def add(self, progress: TargetProgress, *, binding: bool) -> None:
        self.items += 1
        if progress.completion is not None:
            self.completions.append(progress.completion_display)
        goal = progress.target_value
        if progress.expected is not None and goal:
            self.paces.append(min(max(progress.expected / goal, Decimal(0)), Decimal(1)))
        if binding and progress.status in LAGGING:
            self.binding_lagging += 1

    def as_dict(self) -> dict:
        completion = sum(self.completions) / len(self.completions) if self.completions else None
        pace = sum(self.paces) / len(self.paces) if self.paces else None
        gap = None if completion is None or pace is None else completion - pace
        return {
            "region": self.region,
            "region_name": self.region_name,
            "completion": percent(completion),
            "pace": percent(pace),
            "gap": percent(gap),
            "binding_lagging": self.binding_lagging,
            "items": self.items,
        }


def _rank(rows: list[dict]) -> list[dict]:
    """Furthest behind pace first; regions that cannot be judged last, by name."""
    return sorted(
        rows,
        key=lambda r: (r["gap"] is None, r["gap"] if r["gap"] is not None else 0, r["region_name"]),
    )


def plan_lights(board: StatusBoard, plans: list[Plan], targets: list[Target]) -> list[dict]:
    counts: dict[int, Counter] = {p.pk: Counter() for p in plans}
    for target in targets:
        counts[target.plan_id][board.target_progress[target.pk].status] += 1
    return [
        {
            "plan": plan.pk,
            "title": plan.title,
            "counts": {s.value: counts[plan.pk][s.value] for s in CHART_LIGHTS},
        }
        for plan in plans
    ]


def compared_regions(plans: list[Plan], tree: RegionTree, parent: int | None) -> list[int]:
    """The regions the charts compare: a region page's children (itself when it has none);
    on the overview, the children of the plans' regions (a city plan: its districts)."""
    anchors = [parent] if parent is not None else sorted({p.region_id for p in plans})
    found: list[int] = []
    for anchor in anchors:
        for region_id in tree.children.get(anchor) or [anchor]:
            if region_id not in found:
                found.append(region_id)
    return found


def region_ranking(
    board: StatusBoard,
    targets: list[Target],
    *,
    tree: RegionTree,
    regions: list[int],
    allocations: dict[int, list[tuple[Allocation, TargetProgress]]] | None = None,
) -> list[dict]:
    """Each of ``regions`` with the targets set in its subtree and the allocations to it
    (``allocations``: judged apart, the board's by default), furthest
    behind pace first."""
    rows: dict[int, RegionRow] = {}
    owner = {}
    for region in regions:
        rows[region] = RegionRow(region, tree.names.get(region, ""))
    # deepest last, so a region inside another compared one counts for itself
    for region in sorted(regions, key=lambda r: len(tree.ancestors(r))):
        for region_id in tree.subtree(region):
            owner[region_id] = region
    for target in targets:
        binding = target.attribute == Attribute.BINDING
        region = owner.get(target.region_id)
        if region is not None:
            rows[region].add(board.target_progress[target.pk], binding=binding)
            continue
        shares = allocations.get(target.pk, []) if allocations is not None else None
        for allocation, progress in board.allocation_progress(target) if shares is None else shares:
            region = owner.get(allocation.region_id)
            if region is not None:
                rows[region].add(progress, binding=binding)
    return _rank([r.as_dict() for r in rows.values()])


def binding_series(board: StatusBoard, targets: list[Target]) -> list[dict]:
    """Each binding target's completion at every year end from the plan's start (at the date
    for the current year), the BINDING_SERIES least complete first. The year ends are judged
    once and stored like today's judgement (``StatusBoard.judge``): one query when stored."""
    on = board.on
    rows, years_of = [], {}
    binding = [t for t in targets if t.attribute == Attribute.BINDING]
    # Only the BINDING_SERIES drawn are judged at each year end (the order is today's).
    binding.sort(key=lambda t: _completion_order(t, board.target_progress[t.pk]))
    for target in binding[:BINDING_SERIES]:
        now = board.target_progress[target.pk]
        plan = board.plans[target.plan_id]
        last = min(on.year, now.target_year or plan.end_year)
        years_of[target.pk] = list(range(plan.start_year, last + 1))
    asks = [
        Ask(target, min(year_end(year), on))
        for target in targets
        for year in years_of.get(target.pk, [])
    ]
    judged = board.judge(asks)
    for target in targets:
        if target.pk not in years_of:
            continue
        now = board.target_progress[target.pk]
        points = []
        for year in years_of[target.pk]:
            progress = judged[Ask(target, min(year_end(year), on)).key]
            points.append(
                {
                    "year": year,
                    "completion": percent(progress.completion_display),
                    "actual": None if progress.actual is None else float(progress.actual),
                }
            )
        rows.append(
            {
                "target": target.pk,
                "name": target.name,
                "unit": target.measure_unit,
                "region_name": target.region.name,
                "target_value": None if now.target_value is None else float(now.target_value),
                "completion": percent(now.completion_display),
                "status": now.status,
                "points": points,
            }
        )
    rows.sort(key=lambda r: (r["completion"] is None, r["completion"] or 0, r["target"]))
    return rows[:BINDING_SERIES]


def _completion_order(target: Target, now: TargetProgress) -> tuple:
    """The series' order: least complete first (as ``percent`` rounds it), unknown last."""
    completion = percent(now.completion_display)
    return (completion is None, completion or 0, target.pk)


def reporting_by_region(
    user, plans: list[Plan], *, on: datetime.date, tree: RegionTree, parent: int | None
) -> list[dict]:
    """Figures reported on time among those reported, per region, from the reporting tallies
    (two queries). The overview: the RANKED_REGIONS least punctual regions; a region page: its
    children, each summing its subtree."""
    scope = scope_of(user)
    periods = [
        (p.plan_id, p.period)
        for p in ReportingPeriod.objects.filter(plan_id__in=[p.pk for p in plans]).only(
            "plan_id", "period"
        )
        if int(p.period[:4]) <= on.year
    ]
    rows = ReportingTally.objects.filter(
        plan_id__in={plan for plan, _ in periods}, period__in={code for _, code in periods}
    )
    if not scope.everything:
        rows = rows.filter(in_regions("region_id", scope.region_ids))
    owner: dict[int, int] = {}
    if parent is not None:
        for child in tree.children.get(parent) or [parent]:
            for region_id in tree.subtree(child):
                owner[region_id] = child
        rows = rows.filter(region_id__in=owner)
    sums: dict[int, Counter] = defaultdict(Counter)
    for row in (
        []
        if not periods
        else rows.values("region_id")
        .annotate(owed=Sum("owed"), on_time=Sum("on_time"), late=Sum("late"))
        .order_by()
    ):
        key = owner.get(row["region_id"], row["region_id"])
        for name in ("owed", "on_time", "late"):
            sums[key][name] += row[name]
    if parent is not None:
        for child in set(owner.values()):
            sums.setdefault(child, Counter())
    result = []
    for region_id, counts in sums.items():
        reported = counts["on_time"] + counts["late"]
        result.append(
            {
                "region": region_id,
                "region_name": tree.names.get(region_id, ""),
                "owed": counts["owed"],
                "on_time": counts["on_time"],
                "late": counts["late"],
                "on_time_rate": percent(Decimal(counts["on_time"]) / reported)
                if reported
                else None,
            }
        )
    result.sort(
        key=lambda r: (
            r["on_time_rate"] is None,
            r["on_time_rate"] or 0,
            r["region_name"],
        )
    )
    return result if parent is not None else result[:RANKED_REGIONS]


def changes_since(
    user,
    plans: list[Plan],
    *,
    since: datetime.date,
    on: datetime.date,
    regions: set[int] | None = None,
) -> dict:
    """「本月变化」: figures approved and returned (history of the reports) and targets adjusted
    (adjustments adopted) from ``since`` to ``on``, in the reader's scope (three queries)."""
    scope = scope_of(user)
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(since, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(on + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    plan_ids = [p.pk for p in plans]
    records = ProgressReport.history.filter(
        target__plan_id__in=plan_ids,
        history_date__gte=start,
        history_date__lt=end,
        history_type="~",
        status__in=[ReportStatus.APPROVED, ReportStatus.RETURNED],
    )
    adjustments = TargetAdjustment.objects.filter(
        target__plan_id__in=plan_ids, adopted_on__gte=since, adopted_on__lte=on
    )
    if not scope.everything:
        records = records.filter(in_regions("region_id", scope.region_ids))
        adjustments = adjustments.filter(in_regions("target__region_id", scope.visible_region_ids))
    if regions is not None:
        records = records.filter(region_id__in=regions)
        adjustments = adjustments.filter(
            Q(target__region_id__in=regions) | Q(target__allocations__region_id__in=regions)
        ).distinct()
    counts = records.aggregate(
        approved=Count("pk", filter=Q(status=ReportStatus.APPROVED)),
        returned=Count("pk", filter=Q(status=ReportStatus.RETURNED)),
    )
    items = [
        {
            "when": timezone.localtime(r.history_date).isoformat(timespec="minutes"),
            "kind": r.status,
            "target": r.target_id,
            "label": f"{r.target.name}（{r.region.name}，{r.period}）",
        }
        for r in records.select_related("target", "region").order_by("-history_date")[:RECENT_ITEMS]
    ]
    adjusted = list(adjustments.select_related("target").order_by("-adopted_on", "-pk"))
    items += [
        {
            "when": a.adopted_on.isoformat(),
            "kind": "adjusted",
            "target": a.target_id,
            "label": f"{a.target.name}（{a.doc_number}）",
        }
        for a in adjusted[:RECENT_ITEMS]
    ]
    items.sort(key=lambda i: i["when"], reverse=True)
    return {
        "since": since.isoformat(),
        "approved": counts["approved"],
        "returned": counts["returned"],
        "adjusted": len(adjusted),
        "items": items[:RECENT_ITEMS],
    }


def most_lagging(board: StatusBoard, targets: list[Target]) -> list[dict]:
    """The LAGGING_BRIEF binding targets furthest behind: 严重滞后 and 未完成 before 滞后,
    then the lowest completion."""
    rows = []
    for target in targets:
        progress = board.target_progress[target.pk]
        if target.attribute != Attribute.BINDING or progress.status not in LAGGING:
            continue
        rows.append(
            {
                "target": target.pk,
                "name": target.name,
                "region_name": target.region.name,
                "unit": target.measure_unit,
                "status": progress.status,
                "status_label": str(ProgressStatus(progress.status).label),
                "actual": None if progress.actual is None else float(progress.actual),
                "expected": None if progress.expected is None else float(progress.expected),
                "target_value": None
                if progress.target_value is None
                else float(progress.target_value),
                "completion": percent(progress.completion_display),
            }
        )
    rows.sort(
        key=lambda r: (
            r["status"] == ProgressStatus.LAGGING,
            r["completion"] is None,
            r["completion"] or 0,
            r["target"],
        )
    )
    return rows[:LAGGING_BRIEF]


def chart_data(
    user,
    board: StatusBoard,
    plans: list[Plan],
    targets: list[Target],
    *,
    since: datetime.date | None = None,
    region=None,
    tree: RegionTree | None = None,
) -> dict:
    """Everything the charts draw, for the plans' ``targets`` on ``board`` — the overview's
    (``region`` None) or a region's (its children compared side by side)."""
    on = board.on
    since = since or month_start(on)
    tree = tree or RegionTree.load()
    parent = region.pk if region is not None else None
    subtree = tree.subtree(parent) if parent is not None else None
    compared = compared_regions(plans, tree, parent)
    allocations = None
    if parent is None and rollup_store.supported():
        # The overview's board judges no allocation (national scale); load only those to
        # the compared regions (a fixed number of queries).
        allocations = board.judge_allocations(board.load_allocations(compared))
    ranking = region_ranking(board, targets, tree=tree, regions=compared, allocations=allocations)
    return {
        "on": on.isoformat(),
        "since": since.isoformat(),
        "region": parent,
        "plans": plan_lights(board, plans, targets),
        "regions": ranking if parent is not None else ranking[:RANKED_REGIONS],
        "binding_series": binding_series(board, targets),
        "reporting": reporting_by_region(user, plans, on=on, tree=tree, parent=parent),
        "changes": changes_since(user, plans, since=since, on=on, regions=subtree),
        "lagging": most_lagging(board, targets),
    }


def for_overview(user, *, on: datetime.date, since: datetime.date | None = None) -> dict:
    """The overview's charts without the rest of the overview (the API)."""
    plans = plans_in_scope(user)
    board = StatusBoard(
        plans, on=on, allocation_regions=None if not rollup_store.supported() else ()
    )
    return chart_data(user, board, plans, board.targets, since=since)


def for_overview_page(user, context: dict, *, since: datetime.date | None = None) -> dict:
    """The overview page's charts, from the board the page already judged."""
    board = context["board"]
    return chart_data(user, board, context["plans"], board.targets, since=since)


def for_region(
    user, region, *, on: datetime.date, since: datetime.date | None = None, context=None
) -> dict:
    """A region's charts: its children side by side (``context``: the region page's, when
    the page has built it already)."""
    context = context or region_page(user, region, on=on, fragments=False)
    targets = [target for target, _progress in context["targets"]]
    return chart_data(user, context["board"], context["plans"], targets, since=since, region=region)


def for_plan(user, plan: Plan, *, on: datetime.date, since: datetime.date | None = None) -> dict:
    """One plan's charts (the plan's 简报): its regions ranked as on the overview."""
    board = StatusBoard(
        [plan], on=on, allocation_regions=None if not rollup_store.supported() else ()
    )
    return chart_data(user, board, [plan], board.targets, since=since)
