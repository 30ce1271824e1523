"""Planned vs actual by period for one target: the data the target page's chart draws (and
the API's /targets/{id}/series/ returns). One engine pass per year end, inputs fetched once.
``target_value`` and ``target_year`` are those in force on the date (指标调整), with
``original_value`` and the adjusting document's ``doc_number``.

Read for a user, the series follows the one rule for figures (``targets.scope_rules.sees_figures``):
a sibling region's share is left out, and a target set for a sibling region shows its plan
but no actual, projection or status.

A target that continues one of the previous period's plan (``Target.predecessor``, made by
``targets.successor``) reads across both periods: the predecessor's years come first (their
actual figures, judged by the engine on the predecessor), each point naming its plan."""

from __future__ import annotations

import datetime

from django.utils import timezone

from targets.models import Target
from targets.scope_rules import sees_figures
from targets.status import compute_allocations, compute_status, load_status_inputs, year_end


def _number(value):
    return None if value is None else float(value)


def target_series(target: Target, *, user, on: datetime.date | None = None) -> dict:
    on = on or timezone.localdate()
    plan = target.plan
    inputs = load_status_inputs([target])
    now = compute_status(target, inputs, on=on)
    own_figures = sees_figures(user, target.region_id)
    # The target year in force (an adjustment may have moved it), the plan's end when unstated.
    last_year = max(now.target_year, plan.start_year)
    years = list(range(plan.start_year, last_year + 1))
    points = []
    for year in years:
        at = min(year_end(year), on) if year <= on.year else year_end(year)
        progress = compute_status(target, inputs, on=year_end(year))
        reached = year_end(year) <= on or year == on.year
        reached = reached and own_figures
        actual = compute_status(target, inputs, on=at).actual if reached else None
        points.append(
            {
                "period": str(year),
                "plan": plan.pk,
                "planned": _number(progress.expected),
                "actual": _number(actual),
            }
        )
    earlier, predecessor = (
        _predecessor_points(target, years[0] if years else None, on) if own_figures else ([], None)
    )
    regions = [
        {
            "region": allocation.region_id,
            "region_name": inputs.regions.names.get(allocation.region_id, ""),
            "allocated": _number(allocation.value),
            "actual": _number(progress.actual),
            "status": progress.status,
        }
        for allocation, progress in compute_allocations(target, inputs, on=on)
        if sees_figures(user, allocation.region_id)
    ]
    return {
        "target": target.pk,
        "on": on.isoformat(),
        "unit": target.measure_unit,
        "target_value": _number(now.target_value),
        "original_value": _number(now.original_value),
        "doc_number": now.adjustment.doc_number if now.adjustment else None,
        "target_year": last_year,
        "status": now.status if own_figures else None,
        "is_demo": now.is_demo,
        "points": earlier + points,
        "predecessor": predecessor,
        "projection": {
            "period": str(last_year),
            "value": _number(now.projection) if own_figures else None,
            "meets": now.projection_meets if own_figures else None,
        },
        "regions": regions,
        "figures_hidden": not own_figures,
    }


def _predecessor_points(target: Target, before: int | None, on: datetime.date):
    """The previous period's actual figures (years before ``before``) and what they are."""
    if not target.predecessor_id:
        return [], None
    earlier = Target.objects.select_related("plan").get(pk=target.predecessor_id)
    inputs = load_status_inputs([earlier])
    points = []
    for year in range(earlier.plan.start_year, earlier.plan.end_year + 1):
        if before is not None and year >= before:
            break
        at = min(year_end(year), on)
        actual = compute_status(earlier, inputs, on=at).actual if at >= year_end(year) else None
        points.append(
            {
                "period": str(year),
                "plan": earlier.plan_id,
                "planned": None,
                "actual": _number(actual),
            }
        )
    info = {"target": earlier.pk, "plan": earlier.plan_id, "plan_title": earlier.plan.title}
    return points, info
