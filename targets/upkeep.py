"""Keeping targets and milestones current (指标、时间节点的维护): one transaction each,
scope-checked, version-checked and recorded in history — the shared path of
planning.services. The reporting workflow stays in targets.services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.scope import CHANGE
from core.services import create_object, edit_object, invalid
from planning.models import Plan
from planning.services import same_plan
from targets.choices import Feed
from targets.formulas import FormulaError, parse_formula
from targets.models import Milestone, Target

TARGET_FIELDS = (
    "task", "section", "name", "measure", "measure_unit", "comparator", "target_value",
    "target_year", "baseline_value", "baseline_year", "attribute", "region", "formula", "feed",
    "order", "source_text",
)  # fmt: skip
TARGET_CREATE_FIELDS = ("plan", "code", *TARGET_FIELDS)
MILESTONE_FIELDS = (
    "due_on", "planned_value", "is_cumulative", "text", "region", "completed_on", "order",
    "source_text",
)  # fmt: skip
MILESTONE_CREATE_FIELDS = ("plan", "target", "task", "code", *MILESTONE_FIELDS)
# A target or milestone is set for a region: it must be one the actor may change.
RELATED = {"region": CHANGE}


def _target_rules(target: Target) -> None:
    same_plan(Target, target, target.plan_id, "task", "section")
    if target.baseline_year and target.target_year and target.baseline_year > target.target_year:
        raise invalid(Target, "target_year", _("目标年度不能早于基期年度"))
    if target.feed == Feed.FORMULA:
        if not target.formula.strip():
            raise invalid(Target, "formula", _("数据来源为公式计算时请填写计算公式"))
        try:
            parse_formula(target.formula)
        except FormulaError as error:
            raise invalid(
                Target, "formula", _("公式无法识别：%(error)s") % {"error": error}
            ) from None


@transaction.atomic
def create_target(plan: Plan, *, actor, values: Mapping[str, Any]) -> Target:
    values = {"region": plan.region, **values, "plan": plan}
    return create_object(
        Target,
        actor=actor,
        values=values,
        allowed=TARGET_CREATE_FIELDS,
        within=plan,
        related=RELATED,
        rules=_target_rules,
        reason="创建",
    )


@transaction.atomic
def update_target(
    target: Target, *, actor, version: int | None, changes: Mapping[str, Any]
) -> Target:
    return edit_object(
        Target,
        target,
        actor=actor,
        version=version,
        changes=changes,
        allowed=TARGET_FIELDS,
        related=RELATED,
        rules=_target_rules,
    )


def _milestone_rules(milestone: Milestone) -> None:
    same_plan(Milestone, milestone, milestone.plan_id, "target", "task")
    if milestone.task_id and milestone.planned_value is not None:
        raise invalid(Milestone, "planned_value", _("任务的时间节点是定性节点，不填计划值"))
    if milestone.completed_on and milestone.completed_on > timezone.localdate():
        raise invalid(Milestone, "completed_on", _("完成日期不能晚于今天"))


@transaction.atomic
def create_milestone(*, actor, values: Mapping[str, Any]) -> Milestone:
    """A milestone of a target (with a planned value) or of a task (qualitative)."""
    owner = values.get("target") or values.get("task")
    if owner is None:
        raise invalid(Milestone, None, _("时间节点必须属于一个目标指标或一个任务"))
    return create_object(
        Milestone,
        actor=actor,
        values={**values, "plan": owner.plan},
        allowed=MILESTONE_CREATE_FIELDS,
        within=owner.plan,
        related=RELATED,
        rules=_milestone_rules,
        reason="创建",
    )


@transaction.atomic
def update_milestone(
    milestone: Milestone, *, actor, version: int | None, changes: Mapping[str, Any]
) -> Milestone:
    return edit_object(
        Milestone,
        milestone,
        actor=actor,
        version=version,
        changes=changes,
        allowed=MILESTONE_FIELDS,
        related=RELATED,
        rules=_milestone_rules,
    )
