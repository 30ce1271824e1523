"""Demo progress figures, so a tried-out instance has something to show.

Every figure written here is marked ``is_demo``; pages, exports and ``plan_status`` label them
演示数据. They never go into fixtures/, and ``clear_demo_progress`` removes exactly them. The
figures are generated from a fixed random seed around each target's own schedule (its
milestones, or an even share per year), so a demo looks plausible: most targets near pace,
some ahead, some lagging.
"""

from __future__ import annotations

import random
from decimal import Decimal

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from planning.models import Plan
from targets.choices import Comparator, Feed, Measure, ReportStatus
from targets.models import Milestone, ProgressReport, Target

DEMO_NOTE = "演示数据（seed_demo 生成，非真实进度）"


def _yearly_plan(target: Target, plan: Plan, milestones: list[Milestone]) -> dict[int, Decimal]:
    """What the target plans to add each year (increments) or to reach (levels)."""
    last = target.target_year or plan.end_year
    years = list(range(plan.start_year, max(last, plan.start_year) + 1))
    valued = [m for m in milestones if m.planned_value is not None]
    if target.measure == Measure.INCREMENT and valued:
        per_year: dict[int, Decimal] = {}
        running = Decimal(0)
        for m in valued:
            step = m.planned_value - running if m.is_cumulative else m.planned_value
            running = m.planned_value if m.is_cumulative else running + m.planned_value
            per_year[m.due_on.year] = per_year.get(m.due_on.year, Decimal(0)) + step
        return per_year
    goal = target.target_value
    if target.measure == Measure.INCREMENT:
        return {year: goal / len(years) for year in years}
    start = target.baseline_value if target.baseline_value is not None else goal * Decimal("0.6")
    return {
        year: start + (goal - start) * Decimal(i + 1) / len(years) for i, year in enumerate(years)
    }


def _demo_value(target: Target, planned: Decimal, rng: random.Random) -> Decimal:
    if target.comparator == Comparator.LTE:
        factor = Decimal(str(rng.uniform(0.6, 1.3)))
    else:
        factor = Decimal(str(rng.choice([0.7, 0.85, 0.95, 1.0, 1.0, 1.05, 1.15])))
    value = planned * factor
    if target.measure_unit == "%":
        value = min(value, Decimal(100))
    if target.measure == Measure.INCREMENT or target.measure_unit in {"个", "座", "支", "人", "辆"}:
        value = value.quantize(Decimal(1))
    return max(value.quantize(Decimal("0.01")), Decimal(0))


@transaction.atomic
def generate_demo_progress(plans, *, until_year: int, seed: int = 2021) -> int:
    """Approved demo figures for every report-fed target of the plans, for each year up to
    ``until_year``, where no figure exists yet. Returns how many were written."""
    rng = random.Random(seed)
    targets = (
        Target.objects.filter(plan__in=plans, feed=Feed.REPORTS, target_value__isnull=False)
        .exclude(comparator__in=[Comparator.REDUCE_BY, Comparator.INCREASE_BY])
        .select_related("plan")
        .prefetch_related("milestones")
        .order_by("plan_id", "order")
    )
    existing = set(
        ProgressReport.objects.filter(target__in=targets).values_list(
            "target_id", "region_id", "period"
        )
    )
    rows = []
    for target in targets:
        plan = target.plan
        schedule = _yearly_plan(target, plan, list(target.milestones.all()))
        for year in range(plan.start_year, min(until_year, plan.end_year) + 1):
            key = (target.pk, target.region_id, str(year))
            if key in existing or year not in schedule:
                continue
            rows.append(
                ProgressReport(
                    target=target,
                    region_id=target.region_id,
                    period=str(year),
                    value=_demo_value(target, schedule[year], rng),
                    note=DEMO_NOTE,
                    status=ReportStatus.APPROVED,
                    is_demo=True,
                )
            )
    bulk_create_with_history(rows, ProgressReport, batch_size=500)
    return len(rows)


@transaction.atomic
def clear_demo_progress() -> int:
    """Remove every demo figure (and nothing else)."""
    deleted, _ = ProgressReport.objects.filter(is_demo=True).delete()
    return deleted
