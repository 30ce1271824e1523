"""Who may see, change, report and approve targets and figures (core.scope).

Targets are read with their plan (in or above the scope) but reported only where they are
owed: set for, or allocated to, a region in the scope — and by a liaison with a unit only for
targets of tasks that unit takes part in. Figures belong to one region: visible, reportable
and approvable only inside the scope. Evidence is visible through the figures and task
updates it proves (registered here, the lowest app that knows both)."""

from django.db.models import Q

from core.scope import REPORT, Scope, in_regions, inside, located, register, scope_of
from targets.owed import owing_q


def sees_figures(user_or_scope, region_id: int | None) -> bool:
    """The one rule for figures read outside the report rows (the target page, the series,
    the exports, the 409 of a create): a user sees the figures of the regions in their scope
    and the totals of the regions above it — never a sibling region's own figure. (Report
    rows themselves follow ``_report_rule``: only inside the scope.)"""
    scope = user_or_scope if isinstance(user_or_scope, Scope) else scope_of(user_or_scope)
    return scope.everything or region_id in scope.visible_region_ids


def with_visible_figures(targets, user):
    """``sees_figures`` for a queryset of targets: those whose own figures the user sees (a
    target set for a sibling region is left out of the exports that show its figures)."""
    scope = scope_of(user)
    if scope.everything:
        return targets
    return targets.filter(in_regions("region_id", scope.visible_region_ids))


def _reportable_targets(scope: Scope) -> Q:
    """Targets a liaison owes figures for: set for, or allocated to, a region in scope (the
    rule of targets.owed), and with a unit, of tasks that unit takes part in."""
    in_scope = owing_q(scope.region_ids)
    if scope.unit_id:
        in_scope &= Q(task__assignments__unit_id=scope.unit_id)
    return in_scope


def _target_rule(scope: Scope, action: str) -> Q:
    if action == REPORT:
        return _reportable_targets(scope)
    return located("plan__region_id")(scope, action)


def _report_rule(scope: Scope, action: str) -> Q:
    rule = in_regions("region_id", scope.region_ids)
    if action == REPORT and scope.unit_id:
        rule &= Q(target__task__assignments__unit_id=scope.unit_id)
    return rule


def _evidence_rule(scope: Scope, action: str) -> Q:
    return in_regions("reports__region_id", scope.region_ids) | in_regions(
        "task_updates__task__plan__region_id", scope.visible_region_ids
    )


register("core.evidence", _evidence_rule, distinct=True)
register("targets.target", _target_rule, distinct=True)
register("targets.milestone", located("plan__region_id"))
register("targets.allocation", located("target__plan__region_id"))
register("targets.targetadjustment", located("target__plan__region_id"))
register("targets.targetevaluationnote", located("target__plan__region_id"))
register("targets.progressreport", _report_rule, distinct=True)
register("targets.firestatistic", located("region_id"))
register("targets.basefigure", located("region_id"))
register("targets.reportingperiod", located("plan__region_id"))
register("targets.lockexception", inside("region_id"))
register("targets.reportcontribution", inside("region_id"))
