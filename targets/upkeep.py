"""Keeping targets and milestones current (指标、时间节点的维护): one transaction each,
scope-checked, version-checked and recorded in history — the shared path of
planning.services. The reporting workflow stays in targets.services.

Target adjustments (指标调整, ``adjust_target``): a document adopted mid-term changes a
target's value or year. The target row keeps the value and year of the plan as issued (so
whatever reads ``target.target_value`` still reads the original); the value in force on a date
is the latest adjustment adopted on or before it (``targets.status.value_in_force``, which the
engine, the pages and the exports use). An adjustment is never edited or deleted: a wrong one
is reversed by another, adopted on the same day or later.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.scope import CHANGE, VIEW
from core.services import (
    InvalidInput,
    check_may_change,
    checked_reason,
    clip_reason,
    create_object,
    edit_object,
    invalid,
    lock_for_edit,
    save_versioned,
    validate,
)
from planning.models import Plan
from planning.services import check_plan_writable, same_plan
from targets.allocations import parent_target_problem
from targets.choices import EvaluationKind, Feed
from targets.formulas import FormulaError, parse_formula
from targets.models import Milestone, Target, TargetAdjustment, TargetEvaluationNote

TARGET_FIELDS = (
    "task", "section", "name", "measure", "measure_unit", "comparator", "target_value",
    "target_year", "baseline_value", "baseline_year", "baseline_source", "attribute", "region",
    "formula", "feed", "order", "source_text", "parent_target",
)  # fmt: skip
TARGET_CREATE_FIELDS = ("plan", "code", *TARGET_FIELDS)
MILESTONE_FIELDS = (
    "due_on", "planned_value", "is_cumulative", "text", "region", "completed_on", "order",
    "source_text",
)  # fmt: skip
MILESTONE_CREATE_FIELDS = ("plan", "target", "task", "code", *MILESTONE_FIELDS)
# A target or milestone is set for a region: it must be one the actor may change; the target
# a target implements (指标分解) one the actor may see.
RELATED = {"region": CHANGE, "parent_target": VIEW}


def change_reason(reason: str | None, default: str = "") -> str:
    """The reason a person gave (修改原因), checked once in core; ``default`` when blank."""
    return checked_reason(reason) or default


def _free_code(model, plan, stem: str) -> str:
    """The first ``<stem><n>`` not yet a code in the plan (a code left blank on a create form:
    the seeds write milestones' codes as ``<owner>-m<n>`` the same way)."""
    taken = set(
        model.objects.filter(plan=plan, code__startswith=stem).values_list("code", flat=True)
    )
    number = 1
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"


def _target_rules(target: Target) -> None:
    same_plan(Target, target, target.plan_id, "task", "section")
    if target.parent_target_id:
        problem = parent_target_problem(target, target.parent_target)
        if problem:
            raise invalid(Target, "parent_target", problem)
    if target.baseline_year and target.target_year and target.baseline_year > target.target_year:
        raise invalid(Target, "target_year", _("目标年度不能早于基期年度"))
    if target.feed == Feed.FORMULA and not target.formula.strip():
        raise invalid(Target, "formula", _("数据来源为公式计算时请填写计算公式"))
    if target.formula.strip():  # a formula kept for later must parse too
        try:
            parse_formula(target.formula)
        except FormulaError as error:
            raise invalid(
                Target, "formula", _("公式无法识别：%(error)s") % {"error": error}
            ) from None


@transaction.atomic
def create_target(
    plan: Plan, *, actor, values: Mapping[str, Any], reason: str | None = None
) -> Target:
    """A new target of ``plan`` (of one of its tasks, or of the plan as a whole when it has
    no task). A blank code becomes ``<task code>-t<n>`` (``t<n>`` without a task)."""
    check_plan_writable(plan)
    reason = change_reason(reason, default=_("创建"))
    values = {"region": plan.region, **values, "plan": plan}
    if not str(values.get("code") or "").strip():
        task = values.get("task")
        values["code"] = _free_code(Target, plan, f"{task.code}-t" if task else "t")
    return create_object(
        Target,
        actor=actor,
        values=values,
        allowed=TARGET_CREATE_FIELDS,
        within=plan,
        related=RELATED,
        rules=_target_rules,
        reason=reason,
    )


@transaction.atomic
def update_target(
    target: Target,
    *,
    actor,
    version: int | None,
    changes: Mapping[str, Any],
    reason: str | None = None,
) -> Target:
    check_plan_writable(target.plan)
    reason = change_reason(reason)
    return edit_object(
        Target,
        target,
        actor=actor,
        version=version,
        changes=changes,
        allowed=TARGET_FIELDS,
        related=RELATED,
        rules=_target_rules,
        reason=reason,
    )


def _milestone_rules(milestone: Milestone) -> None:
    same_plan(Milestone, milestone, milestone.plan_id, "target", "task")
    if milestone.task_id and milestone.planned_value is not None:
        raise invalid(Milestone, "planned_value", _("任务的时间节点是定性节点，不填计划值"))
    if milestone.completed_on and milestone.completed_on > timezone.localdate():
        raise invalid(Milestone, "completed_on", _("完成日期不能晚于今天"))


@transaction.atomic
def create_milestone(*, actor, values: Mapping[str, Any], reason: str | None = None) -> Milestone:
    """A milestone of a target (with a planned value) or of a task (qualitative). A blank
    code becomes ``<owner code>-m<n>``, as the seeds name them."""
    reason = change_reason(reason, default=_("创建"))
    owner = values.get("target") or values.get("task")
    if owner is None:
        raise invalid(Milestone, None, _("时间节点必须属于一个目标指标或一个任务"))
    check_plan_writable(owner.plan)
    values = {**values, "plan": owner.plan}
    if not str(values.get("code") or "").strip():
        values["code"] = _free_code(Milestone, owner.plan, f"{owner.code}-m")
    return create_object(
        Milestone,
        actor=actor,
        values=values,
        allowed=MILESTONE_CREATE_FIELDS,
        within=owner.plan,
        related=RELATED,
        rules=_milestone_rules,
        reason=reason,
    )


@transaction.atomic
def update_milestone(
    milestone: Milestone,
    *,
    actor,
    version: int | None,
    changes: Mapping[str, Any],
    reason: str | None = None,
) -> Milestone:
    check_plan_writable(milestone.plan)
    reason = change_reason(reason)
    return edit_object(
        Milestone,
        milestone,
        actor=actor,
        version=version,
        changes=changes,
        allowed=MILESTONE_FIELDS,
        related=RELATED,
        rules=_milestone_rules,
        reason=reason,
    )


# ------------------------------------------------------------------------ target adjustments


def _as_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise invalid(TargetAdjustment, "new_value", _("请填写数字")) from None
    if not number.is_finite():
        raise invalid(TargetAdjustment, "new_value", _("请填写数字"))
    return number


def _adjustment_errors(
    target: Target,
    latest: TargetAdjustment | None,
    *,
    new_value: Decimal | None,
    new_year: int | None,
    doc_number: str,
    adopted_on: datetime.date | None,
    reason: str,
) -> dict[str | None, list[str]]:
    errors: dict[str | None, list[str]] = {}

    def add(field: str | None, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if new_value is None:
        add("new_value", _("请填写调整后的目标值"))
    elif new_value < 0:
        add("new_value", _("目标值不能为负数"))
    if not doc_number:
        add("doc_number", _("请填写调整文件的文号"))
    if not reason:
        add("reason", _("请填写调整理由"))
    if adopted_on is None:
        add("adopted_on", _("请填写调整文件的印发日期"))
    else:
        plan_start = datetime.date(target.plan.start_year, 1, 1)
        if adopted_on > timezone.localdate():
            add("adopted_on", _("印发日期不能晚于今天"))
        elif adopted_on < plan_start:
            add(
                "adopted_on",
                _("印发日期不能早于规划期开始（%(start)s）") % {"start": f"{plan_start:%Y-%m-%d}"},
            )
        elif latest is not None and adopted_on < latest.adopted_on:
            add(
                "adopted_on",
                _(
                    "印发日期不能早于上一次调整（%(doc)s，%(date)s）；调整按先后生效，"
                    "如需更正请登记一次新的调整"
                )
                % {"doc": latest.doc_number, "date": f"{latest.adopted_on:%Y-%m-%d}"},
            )
    if new_year is not None and target.baseline_year and new_year < target.baseline_year:
        add("new_year", _("目标年度不能早于基期年度（%(year)s）") % {"year": target.baseline_year})
    return errors


@transaction.atomic
def adjust_target(
    target: Target,
    *,
    actor,
    version: int | None,
    new_value: Any,
    new_year: int | None = None,
    doc_number: str,
    adopted_on: datetime.date | None,
    reason: str,
) -> TargetAdjustment:
    """Record an adjustment of ``target`` (指标调整) adopted by document ``doc_number`` on
    ``adopted_on``: staff in whose scope the plan lies, on the version of the target they saw.

    ``new_year`` None keeps the year in force. The adjustment records the value and year in
    force before it (``old_value``, ``old_year``: those of the latest adjustment, else the
    original); the target keeps its original value and year and gets a new version (its
    ETag changes) with a history row naming the document. Adjustments take effect in order,
    so one adopted before the latest is refused: a wrong adjustment is reversed by a new one.
    """
    check_may_change(actor, target)
    check_plan_writable(target.plan)
    target = lock_for_edit(Target, target.pk, version)
    latest = TargetAdjustment.objects.filter(target=target).order_by("-adopted_on", "-pk").first()
    current_value = latest.new_value if latest else target.target_value
    current_year = latest.new_year if latest else target.target_year
    doc_number, reason = (doc_number or "").strip(), (reason or "").strip()
    new_value = _as_decimal(new_value)
    new_year = current_year if new_year in (None, "") else new_year
    errors = _adjustment_errors(
        target,
        latest,
        new_value=new_value,
        new_year=new_year,
        doc_number=doc_number,
        adopted_on=adopted_on,
        reason=reason,
    )
    if not errors and new_value == current_value and new_year == current_year:
        errors[None] = [_("调整后的目标值和目标年度与现行的相同，无需调整")]
    if errors:
        raise InvalidInput.for_model(TargetAdjustment, errors)
    adjustment = TargetAdjustment(
        target=target,
        old_value=current_value,
        old_year=current_year,
        new_value=new_value,
        new_year=new_year,
        doc_number=doc_number,
        adopted_on=adopted_on,
        reason=reason,
        actor=actor,
    )
    validate(adjustment)
    adjustment.save()
    reason = clip_reason(_("指标调整（%(doc)s）") % {"doc": doc_number})  # 文号 up to 128
    save_versioned(target, [], actor=actor, reason=reason)
    return adjustment


# ------------------------------------------------------------------------------ evaluations


@transaction.atomic
def save_evaluation_note(
    target: Target, *, actor, kind: str, reason: str
) -> TargetEvaluationNote | None:
    """Record why ``target`` was not met, for the mid-term or final evaluation (未完成原因).
    An empty reason removes the note; history keeps every version."""
    check_may_change(actor, target)
    if kind not in EvaluationKind.values:
        raise invalid(TargetEvaluationNote, "kind", _("评估类型应为中期评估或终期评估"))
    reason = (reason or "").strip()
    note = TargetEvaluationNote.objects.select_for_update().filter(target=target, kind=kind).first()
    if note is None:
        if not reason:
            return None
        note = TargetEvaluationNote(target=target, kind=kind, reason=reason, actor=actor)
        note._history_user = actor
        note._change_reason = "填写未完成原因"
        note.save()
        return note
    if not reason:
        note._history_user = actor
        note._change_reason = "删除未完成原因"
        note.delete()
        return None
    note.reason, note.actor = reason, actor
    save_versioned(note, ["reason", "actor", "updated_at"], actor=actor, reason="修改未完成原因")
    return note
