"""Writes to plans, sections, tasks, task units and task progress notes (DESIGN §3, §5).

Every write is one transaction that
- checks the role (``require(actor, CHANGE)``, 403) and the scope (``NotAllowed``: the object,
  and any region or plan it is pointed at, must be the actor's to change or see);
- locks the row and checks the version the user loaded (``StaleEdit``, naming who saved in
  between), so two people editing the same task never overwrite each other silently;
- validates with the model's ``full_clean`` plus the rules below (``InvalidInput`` naming
  every field that is wrong);
- saves only the changed fields, bumps the version and leaves a history record attributed to
  the actor;
- checks the scope again after the change (NetBox's pattern): an edit may not move an object
  out of the actor's reach.

Browser forms, the API and importers call these functions; ``edit_object`` and
``create_object`` (core.services) are the shared path that stations.services and
targets.upkeep use too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.choices import Role
from core.evidence import check_evidence_file, store_evidence
from core.models import Region, Unit
from core.scope import CHANGE, REPORT, VIEW, allows, can, require, scope_of
from core.services import (
    InvalidInput,
    NotAllowed,
    ServiceError,
    attribute_change,
    check_may_change,
    checked_reason,
    create_object,
    edit_object,
    invalid,
    lock_for_edit,
    save_versioned,
)
from core.text import TEXT_LIMIT
from planning.choices import AssignmentRole, PlanStatus
from planning.models import Plan, Section, Stage, Task, TaskAssignment, TaskUpdate

PLAN_FIELDS = (
    "title", "kind", "status", "issuer", "doc_number", "issued_on", "start_year", "end_year",
    "parent", "source_file", "source_text",
)  # fmt: skip
PLAN_CREATE_FIELDS = ("code", "region", *PLAN_FIELDS)
STAGE_FIELDS = ("name", "starts_on", "ends_on", "order", "source_text")
SECTION_FIELDS = ("parent", "number", "title", "kind", "order", "source_text")
SECTION_CREATE_FIELDS = ("code", *SECTION_FIELDS)
TASK_FIELDS = (
    "section", "number", "title", "description", "due_on", "status", "order", "source_text",
)  # fmt: skip
TASK_CREATE_FIELDS = ("code", *TASK_FIELDS)
TEXT_MAX = TEXT_LIMIT  # core.text: the one limit of free text
CREATED = "创建"  # the history reason of a creation when the user gave none
PERCENT_MESSAGE = gettext_lazy("完成百分比应为 0 到 100 之间的整数")


def same_plan(model: type[models.Model], obj, plan_id: int, *names: str) -> None:
    for name in names:
        related = getattr(obj, name)
        if related is not None and related.plan_id != plan_id:
            raise invalid(
                model,
                name,
                _("“%(related)s”不属于本规划，请从本规划中选择") % {"related": related},
            )


# ------------------------------------------------------------------- archived plans (归档)


def check_plan_writable(plan: Plan) -> None:
    """The one check every write to a plan or its parts makes (sections, tasks, progress
    notes here; targets, milestones, allocations, figures, periods and adjustments in
    targets): an archived plan is read-only (code ``plan_archived``)."""
    if plan.archived_on is not None:
        raise ServiceError(
            "plan_archived",
            _(
                "规划“%(plan)s”已于 %(date)s 归档，只能查看，不能修改；"
                "如需修改请联系系统管理员取消归档"
            )
            % {"plan": plan.title, "date": f"{plan.archived_on:%Y-%m-%d}"},
        )


def may_archive(plan: Plan, on=None) -> bool:
    """A plan may be archived once its period is over (its last year before this year) or
    it is marked closed (已结束)."""
    on = on or timezone.localdate()
    return plan.end_year < on.year or plan.status == PlanStatus.CLOSED


@transaction.atomic
def archive_plan(plan: Plan, *, actor, version: int | None, reason: str = "") -> Plan:
    """归档: the plan and all its parts become read-only (staff in scope)."""
    check_may_change(actor, plan)
    plan = lock_for_edit(Plan, plan.pk, version)
    if plan.archived_on is not None:
        raise ServiceError("already_archived", _("该规划已归档"))
    if not may_archive(plan):
        raise ServiceError(
            "plan_not_over",
            _("规划期至 %(year)s 年，尚未结束，不能归档（可先将状态改为“已结束”）")
            % {"year": plan.end_year},
        )
    plan.archived_on = timezone.localdate()
    save_versioned(plan, ["archived_on"], actor=actor, reason=reason or _("归档"))
    return plan


@transaction.atomic
def unarchive_plan(plan: Plan, *, actor, version: int | None, reason: str = "") -> Plan:
    """取消归档: system administrators only."""
    check_may_change(actor, plan)
    scope = scope_of(actor)
    if not (scope.everything or scope.role == Role.ADMIN):
        raise NotAllowed("admin_only", _("只有系统管理员可以取消归档"))
    plan = lock_for_edit(Plan, plan.pk, version)
    if plan.archived_on is None:
        raise ServiceError("not_archived", _("该规划未归档"))
    plan.archived_on = None
    save_versioned(plan, ["archived_on"], actor=actor, reason=reason or _("取消归档"))
    return plan


# -------------------------------------------------------- retire (停用), restore, delete
#
# One rule for sections, tasks, targets, milestones and allocations: a part that anything
# points at (figures, progress notes, adjustments, children …) is never deleted, only
# retired — kept with its history and figures, hidden from reporting and shown struck
# through; a part nothing points at may be deleted, the deletion recorded in its history.
# targets.retire applies the same functions to its models.


def attachments(obj: models.Model, *, parts: Sequence[str] = ()) -> list[tuple[str, int]]:
    """What points at ``obj``: (what, how many) for every relation with rows, except its own
    ``parts`` (accessor names of rows deleted with it, e.g. a task's unit assignments) and
    derived or history rows (relations without a reverse name, ``related_name="+"``). Read
    from the model's relations, so a layer above (targets' figures) is found without being
    imported. One query per relation."""
    found = []
    for relation in obj._meta.related_objects:
        if relation.hidden or relation.get_accessor_name() in parts:
            continue
        if relation.many_to_many:
            count = getattr(obj, relation.get_accessor_name()).count()
        else:
            count = relation.related_model._base_manager.filter(
                **{relation.field.name: obj}
            ).count()
        if count:
            found.append((str(relation.related_model._meta.verbose_name), count))
    return found


def has_attachments_error(obj: models.Model, found: Sequence[tuple[str, int]]) -> ServiceError:
    what = "、".join(
        _("%(count)s 条%(what)s") % {"count": count, "what": name} for name, count in found
    )
    return ServiceError(
        "has_attachments",
        _(
            "“%(name)s”已有%(what)s，不能删除。可以改为“停用”："
            "保留历史和数据，不再填报，在页面上以删除线显示。"
        )
        % {"name": obj, "what": what},
    )


def _plan_of(obj: models.Model) -> Plan:
    return obj if isinstance(obj, Plan) else obj.plan


def set_retired(
    obj: models.Model, *, actor, version: int | None, retired: bool, reason: str = "", plan=None
) -> models.Model:
    """停用 (``retired``) or 恢复 ``obj`` (call inside ``transaction.atomic``): scope, the
    plan not archived, the version the user saw, a history row with the reason."""
    check_may_change(actor, obj)
    check_plan_writable(plan or _plan_of(obj))
    model = type(obj)
    if hasattr(obj, "version"):
        obj = lock_for_edit(model, obj.pk, version)
    else:
        obj = model._default_manager.select_for_update().get(pk=obj.pk)
    if retired and obj.retired_on is not None:
        raise ServiceError("already_retired", _("“%(name)s”已停用") % {"name": obj})
    if not retired and obj.retired_on is None:
        raise ServiceError("not_retired", _("“%(name)s”未停用") % {"name": obj})
    obj.retired_on = timezone.localdate() if retired else None
    reason = reason or (_("停用") if retired else _("恢复"))
    if hasattr(obj, "version"):
        save_versioned(obj, ["retired_on"], actor=actor, reason=reason)
    else:
        attribute_change(obj, actor=actor, reason=reason)
        obj.save(update_fields=["retired_on"])
    return obj


def delete_part(
    obj: models.Model,
    *,
    actor,
    version: int | None,
    parts: Sequence[str] = (),
    extra: Sequence[tuple[str, int]] = (),
    reason: str = "",
    plan=None,
) -> None:
    """Delete ``obj`` when nothing is attached (``attachments`` plus ``extra``, what the
    caller knows of), else refuse with code ``has_attachments`` naming what is and offering
    停用. The deletion leaves a history row (django-simple-history) with the reason."""
    check_may_change(actor, obj)
    check_plan_writable(plan or _plan_of(obj))
    model = type(obj)
    if hasattr(obj, "version"):
        obj = lock_for_edit(model, obj.pk, version)
    else:
        obj = model._default_manager.select_for_update().get(pk=obj.pk)
    found = [*attachments(obj, parts=parts), *extra]
    if found:
        raise has_attachments_error(obj, found)
    attribute_change(obj, actor=actor, reason=reason or _("删除"))
    for name in parts:  # its own rows, deleted with it, each with a history row
        for row in getattr(obj, name).all():
            row._history_user, row._change_reason = actor, obj._change_reason
            row.delete()
    obj.delete()


@transaction.atomic
def retire_section(section: Section, *, actor, version: int | None, reason: str = "") -> Section:
    return set_retired(section, actor=actor, version=version, retired=True, reason=reason)


@transaction.atomic
def restore_section(section: Section, *, actor, version: int | None, reason: str = "") -> Section:
    return set_retired(section, actor=actor, version=version, retired=False, reason=reason)


@transaction.atomic
def delete_section(section: Section, *, actor, version: int | None, reason: str = "") -> None:
    delete_part(section, actor=actor, version=version, reason=reason)


@transaction.atomic
def retire_task(task: Task, *, actor, version: int | None, reason: str = "") -> Task:
    return set_retired(task, actor=actor, version=version, retired=True, reason=reason)


@transaction.atomic
def restore_task(task: Task, *, actor, version: int | None, reason: str = "") -> Task:
    return set_retired(task, actor=actor, version=version, retired=False, reason=reason)


@transaction.atomic
def delete_task(task: Task, *, actor, version: int | None, reason: str = "") -> None:
    delete_part(task, actor=actor, version=version, parts=("assignments",), reason=reason)


# ------------------------------------------------------------------------------ plans


def _plan_rules(plan: Plan) -> None:
    if plan.parent_id and plan.parent_id == plan.pk:
        raise invalid(Plan, "parent", _("上位规划不能是本规划"))


@transaction.atomic
def create_plan(*, actor, values: Mapping[str, Any], reason: str = "") -> Plan:
    reason = checked_reason(reason) or ""
    region = values.get("region")
    if not isinstance(region, Region):
        raise invalid(Plan, "region", _("请选择规划所属区划"))
    return create_object(
        Plan,
        actor=actor,
        values=values,
        allowed=PLAN_CREATE_FIELDS,
        within=region,
        related={"parent": VIEW},
        rules=_plan_rules,
        reason=reason or CREATED,
    )


@transaction.atomic
def update_plan(
    plan: Plan, *, actor, version: int | None, changes: Mapping[str, Any], reason: str = ""
) -> Plan:
    check_plan_writable(plan)
    return edit_object(
        Plan,
        plan,
        actor=actor,
        version=version,
        changes=changes,
        allowed=PLAN_FIELDS,
        related={"parent": VIEW},
        rules=_plan_rules,
        reason=reason,  # checked by edit_object
    )


# ------------------------------------------------------------------------------ stages


def _stage_rules(stage: Stage) -> None:
    if stage.starts_on and stage.ends_on and stage.starts_on > stage.ends_on:
        raise invalid(Stage, "ends_on", _("结束日期不能早于开始日期"))
    duplicate = Stage.objects.filter(plan_id=stage.plan_id, name=stage.name).exclude(pk=stage.pk)
    if stage.name and duplicate.exists():
        raise invalid(Stage, "name", _("本规划已有名为“%(name)s”的阶段") % {"name": stage.name})


@transaction.atomic
def create_stage(plan: Plan, *, actor, values: Mapping[str, Any], reason: str = "") -> Stage:
    """A new implementation stage (实施阶段) of ``plan``; without ``order`` it comes last."""
    check_plan_writable(plan)
    reason = checked_reason(reason) or ""
    values = dict(values)
    if values.get("order") is None:
        last = Stage.objects.filter(plan=plan).aggregate(last=models.Max("order"))["last"]
        values["order"] = 0 if last is None else last + 1
    return create_object(
        Stage,
        actor=actor,
        values={**values, "plan": plan},
        allowed=("plan", *STAGE_FIELDS),
        within=plan,
        rules=_stage_rules,
        reason=reason or CREATED,
    )


@transaction.atomic
def update_stage(
    stage: Stage, *, actor, version: int | None, changes: Mapping[str, Any], reason: str = ""
) -> Stage:
    check_plan_writable(stage.plan)
    return edit_object(
        Stage,
        stage,
        actor=actor,
        version=version,
        changes=changes,
        allowed=STAGE_FIELDS,
        rules=_stage_rules,
        reason=reason,  # checked by edit_object
    )


# ------------------------------------------------------------------------------ sections


def _section_rules(section: Section) -> None:
    same_plan(Section, section, section.plan_id, "parent")
    node, seen = section.parent, set()
    while node is not None and section.pk and node.pk not in seen:
        if node.pk == section.pk:
            raise invalid(Section, "parent", _("上级章节不能是本章节或其下级章节"))
        seen.add(node.pk)
        node = node.parent


@transaction.atomic
def create_section(plan: Plan, *, actor, values: Mapping[str, Any], reason: str = "") -> Section:
    """A new section (章节) of ``plan``. Without ``order`` it comes last under its parent and
    the plan's sections are numbered again in tree order; without ``code`` it gets the next
    free ``s<n>``."""
    check_plan_writable(plan)
    reason = checked_reason(reason) or ""
    values = dict(values)
    if not values.get("code"):
        values["code"] = _free_code(Section, plan, "s")
    placed = values.get("order") is None
    if placed:
        sections = _locked_sections(plan)
        tree = _children(sections)
        parent = values.get("parent")
        parent_pk = parent.pk if isinstance(parent, Section) else None
        placed = parent_pk is None or parent_pk in sections  # else the rules refuse it
        values["order"] = _order_after(sections, tree, parent_pk) if placed else 0
    section = create_object(
        Section,
        actor=actor,
        values={**values, "plan": plan},
        allowed=("plan", *SECTION_CREATE_FIELDS),
        within=plan,
        rules=_section_rules,
        reason=reason or CREATED,
    )
    if placed:
        # The sections after it move down by one (a history record each).
        sections[section.pk] = section
        tree.setdefault(parent_pk, []).append(section.pk)
        _renumber(sections, tree, actor=actor)
    return section


@transaction.atomic
def update_section(
    section: Section,
    *,
    actor,
    version: int | None,
    changes: Mapping[str, Any],
    reason: str = "",
) -> Section:
    check_plan_writable(section.plan)
    return edit_object(
        Section,
        section,
        actor=actor,
        version=version,
        changes=changes,
        allowed=SECTION_FIELDS,
        rules=_section_rules,
        reason=reason,  # checked by edit_object
    )


class Move(models.TextChoices):
    UP = "up", gettext_lazy("上移")
    DOWN = "down", gettext_lazy("下移")
    INDENT = "indent", gettext_lazy("缩进")
    OUTDENT = "outdent", gettext_lazy("取消缩进")


RENUMBERED = "随章节调整重新编排顺序"


@transaction.atomic
def move_section(
    section: Section, *, actor, version: int | None, move: str, reason: str = ""
) -> Section:
    """Move a section in its plan's tree (DESIGN §3): 上移/下移 swap it with the sibling
    before/after it, 缩进 makes it the last child of the sibling before it, 取消缩进 makes it
    the sibling right after its parent. It moves with its subsections and tasks.

    Then every section of the plan is numbered again in tree order (``order`` 1, 2, …, as the
    seed loader numbers them), in this transaction; each section whose order or parent changed
    gets a history record (the moved one with the user's reason).
    """
    check_plan_writable(section.plan)
    reason = checked_reason(reason) or ""
    try:
        move = Move(move)
    except ValueError:
        raise ServiceError("invalid_move", _("未知的调整方式：%(move)s") % {"move": move}) from None
    check_may_change(actor, section)
    section = lock_for_edit(Section, section.pk, version)
    sections = _locked_sections(section.plan)
    tree = _children(sections)
    siblings = tree[section.parent_id]
    at = siblings.index(section.pk)
    if move == Move.UP:
        if at == 0:
            raise ServiceError("cannot_move", _("该章节已是同级第一个，不能上移"))
        siblings[at - 1], siblings[at] = siblings[at], siblings[at - 1]
    elif move == Move.DOWN:
        if at == len(siblings) - 1:
            raise ServiceError("cannot_move", _("该章节已是同级最后一个，不能下移"))
        siblings[at + 1], siblings[at] = siblings[at], siblings[at + 1]
    elif move == Move.INDENT:
        if at == 0:
            raise ServiceError("cannot_move", _("该章节前面没有同级章节，不能缩进"))
        new_parent = siblings[at - 1]
        siblings.pop(at)
        tree.setdefault(new_parent, []).append(section.pk)
        sections[section.pk].parent_id = new_parent
    else:
        parent = sections.get(section.parent_id)
        if parent is None:
            raise ServiceError("cannot_move", _("该章节已是顶层章节，不能取消缩进"))
        siblings.pop(at)
        upper = tree.setdefault(parent.parent_id, [])
        upper.insert(upper.index(parent.pk) + 1, section.pk)
        sections[section.pk].parent_id = parent.parent_id
    sections[section.pk].version = section.version
    _renumber(sections, tree, actor=actor, moved=section.pk, reason=reason or str(move.label))
    return sections[section.pk]


def _locked_sections(plan: Plan) -> dict[int, Section]:
    """The plan's sections, locked, in their current order (the plan page's order)."""
    rows = Section.objects.select_for_update().filter(plan=plan).order_by("order", "pk")
    return {s.pk: s for s in rows}


def _children(sections: dict[int, Section]) -> dict[int | None, list[int]]:
    tree: dict[int | None, list[int]] = {None: []}
    for section in sections.values():
        parent = section.parent_id if section.parent_id in sections else None
        tree.setdefault(parent, []).append(section.pk)
    return tree


def _renumber(
    sections: dict[int, Section],
    tree: dict[int | None, list[int]],
    *,
    actor,
    moved: int | None = None,
    reason: str = "",
) -> None:
    """Number the sections 1, 2, … depth-first and save those whose order or parent changed
    (one history record each)."""
    stored = dict(
        (pk, (order, parent))
        for pk, order, parent in Section.objects.filter(pk__in=sections).values_list(
            "pk", "order", "parent_id"
        )
    )
    order, stack = 0, list(reversed(tree.get(None, [])))
    while stack:
        pk = stack.pop()
        order += 1
        section = sections[pk]
        section.order = order
        was_order, was_parent = stored[pk]
        changed = [
            name
            for name, differs in (
                ("order", section.order != was_order),
                ("parent", section.parent_id != was_parent),
            )
            if differs
        ]
        if changed:
            save_versioned(
                section, changed, actor=actor, reason=reason if pk == moved else RENUMBERED
            )
        stack.extend(reversed(tree.get(pk, [])))


def _order_after(sections: dict[int, Section], tree: dict, parent_pk: int | None) -> int:
    """The order a new last child of ``parent_pk`` takes in tree order: right after the
    parent's last descendant (or the plan's last section)."""
    anchor, children = parent_pk, tree.get(parent_pk)
    while children:
        anchor = children[-1]
        children = tree.get(anchor)
    if anchor is None:
        return 1
    return sections[anchor].order + 1


def _free_code(model: type[models.Model], plan: Plan, prefix: str) -> str:
    """The next ``<prefix><n>`` code not used in the plan (codes are unique per plan)."""
    used = set(model.objects.filter(plan=plan).values_list("code", flat=True))
    n = len(used) + 1
    while f"{prefix}{n}" in used:
        n += 1
    return f"{prefix}{n}"


# ------------------------------------------------------------------------------ tasks


def _task_rules(task: Task) -> None:
    same_plan(Task, task, task.plan_id, "section")


@transaction.atomic
def create_task(
    plan: Plan,
    *,
    actor,
    values: Mapping[str, Any],
    lead_units: Iterable[Unit] = (),
    support_units: Iterable[Unit] = (),
    reason: str = "",
) -> Task:
    """A new task (重点任务) with its lead and support units. Without ``order`` it comes after
    the plan's last task (last in its section); without ``code`` it gets the next free
    ``t<n>``."""
    check_plan_writable(plan)
    reason = checked_reason(reason) or ""
    values = dict(values)
    if values.get("order") is None:
        last = Task.objects.filter(plan=plan).aggregate(last=models.Max("order"))["last"]
        values["order"] = (last or 0) + 1
    if not values.get("code"):
        values["code"] = _free_code(Task, plan, "t")
    task = create_object(
        Task,
        actor=actor,
        values={**values, "plan": plan},
        allowed=("plan", *TASK_CREATE_FIELDS),
        within=plan,
        rules=_task_rules,
        reason=reason or CREATED,
    )
    _apply_assignments(task, actor=actor, lead_units=lead_units, support_units=support_units)
    return task


@transaction.atomic
def update_task(
    task: Task,
    *,
    actor,
    version: int | None,
    changes: Mapping[str, Any],
    lead_units: Iterable[Unit] | None = None,
    support_units: Iterable[Unit] | None = None,
    reason: str = "",
) -> Task:
    """Change a task and, when ``lead_units``/``support_units`` are given, its units, in one
    transaction and one version step."""
    check_plan_writable(task.plan)

    def assignments(locked: Task) -> str:
        if lead_units is None and support_units is None:
            return ""
        current = _current_units(locked)
        return _apply_assignments(
            locked,
            actor=actor,
            lead_units=current[AssignmentRole.LEAD] if lead_units is None else lead_units,
            support_units=current[AssignmentRole.SUPPORT]
            if support_units is None
            else support_units,
        )

    return edit_object(
        Task,
        task,
        actor=actor,
        version=version,
        changes=changes,
        allowed=TASK_FIELDS,
        rules=_task_rules,
        reason=reason,  # checked by edit_object
        extra=assignments,
    )


@transaction.atomic
def set_task_units(
    task: Task,
    *,
    actor,
    version: int | None,
    lead_units: Iterable[Unit],
    support_units: Iterable[Unit],
) -> Task:
    """Replace a task's lead and support units (牵头/配合单位)."""
    return update_task(
        task,
        actor=actor,
        version=version,
        changes={},
        lead_units=lead_units,
        support_units=support_units,
    )


def _current_units(task: Task) -> dict[str, list[Unit]]:
    found: dict[str, list[Unit]] = {AssignmentRole.LEAD: [], AssignmentRole.SUPPORT: []}
    for assignment in task.assignments.select_related("unit").order_by("order", "pk"):
        found.setdefault(assignment.role, []).append(assignment.unit)
    return found


def _apply_assignments(
    task: Task, *, actor, lead_units: Iterable[Unit], support_units: Iterable[Unit]
) -> str:
    """Make the task's assignments match; return what changed, in words (empty if nothing)."""
    lead, support = list(dict.fromkeys(lead_units)), list(dict.fromkeys(support_units))
    both = [u for u in lead if u in support]
    if both:
        raise InvalidInput(
            {
                "support_units": [
                    _("%(units)s不能同时是牵头单位和配合单位")
                    % {"units": "、".join(map(str, both))}
                ]
            },
            {"support_units": _("配合单位")},
        )
    wanted = [*lead, *support]
    roles = {u.pk: AssignmentRole.LEAD for u in lead} | {
        u.pk: AssignmentRole.SUPPORT for u in support
    }
    existing = {
        a.unit_id: a
        for a in TaskAssignment.objects.select_for_update().filter(task=task).select_related("unit")
    }
    added = [u.pk for u in wanted if u.pk not in existing]
    if added:
        visible = set(
            Unit.objects.for_user(actor, VIEW).filter(pk__in=added).values_list("pk", flat=True)
        )
        outside = [u for u in wanted if u.pk in added and u.pk not in visible]
        if outside:
            raise NotAllowed(
                "related_out_of_scope",
                _("所选单位不在您的范围内：%(units)s") % {"units": "、".join(map(str, outside))},
            )

    def position(unit: Unit) -> tuple[int, int]:
        # Leads first; units already assigned keep their place (the plan's order), new ones
        # follow in the order given.
        kept = existing.get(unit.pk)
        return (0 if roles[unit.pk] == AssignmentRole.LEAD else 1, kept.order if kept else 10**6)

    wanted = sorted(wanted, key=position)
    orders = _orders(wanted, existing)
    notes = []
    for unit_id, assignment in existing.items():
        if unit_id not in roles:
            assignment._history_user = actor
            notes.append(f"移除{assignment.unit}")
            assignment.delete()
    for unit, order in zip(wanted, orders, strict=True):
        role = roles[unit.pk]
        assignment = existing.get(unit.pk)
        if assignment is None:
            assignment = TaskAssignment(task=task, unit=unit, role=role, order=order)
            assignment._history_user = actor
            assignment.save()
            notes.append(f"新增{unit}（{assignment.get_role_display()}）")
        elif (assignment.role, assignment.order) != (role, order):
            if assignment.role != role:
                notes.append(f"{unit}改为{AssignmentRole(role).label}")
            assignment.role, assignment.order = role, order
            assignment._history_user = actor
            assignment.save(update_fields=["role", "order"])
    return "责任单位：" + "，".join(notes) if notes else ""


def _orders(wanted: list[Unit], existing: dict[int, TaskAssignment]) -> list[int]:
    """Keep the stored order numbers when the kept units stay in sequence and new ones only
    follow them; otherwise number afresh from 1 (as the seed plans do)."""
    kept = [existing[u.pk].order for u in wanted if u.pk in existing]
    first_new = next((i for i, u in enumerate(wanted) if u.pk not in existing), len(wanted))
    in_sequence = all(a < b for a, b in pairwise(kept))
    if in_sequence and len(kept) == first_new:
        top = max(kept, default=0)
        return kept + [top + i for i in range(1, len(wanted) - len(kept) + 1)]
    return list(range(1, len(wanted) + 1))


# ------------------------------------------------------------------------------ task updates


def may_post_update(actor, task: Task) -> bool:
    """Staff in scope, and liaisons of the task's region — a liaison bound to a unit only on
    tasks that unit leads or supports (progress notes are theirs to write, like figures)."""
    if not can(actor, REPORT) or not allows(actor, task, REPORT):
        return False
    scope = scope_of(actor)
    if scope.unit_id and not can(actor, CHANGE):
        return task.assignments.filter(unit_id=scope.unit_id).exists()
    return True


def _percent(raw) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise invalid(TaskUpdate, "percent", PERCENT_MESSAGE) from None
    if not 0 <= value <= 100:
        raise invalid(TaskUpdate, "percent", PERCENT_MESSAGE)
    return value


@transaction.atomic
def post_task_update(
    task: Task, *, actor, text: str, percent=None, evidence: Sequence = ()
) -> TaskUpdate:
    """Append a progress note (任务进展) with optional percent and evidence files.

    The timeline is append-only: there is no service to change or delete a note, so what a
    unit said at a date stays as it said it.
    """
    require(actor, REPORT)
    if not may_post_update(actor, task):
        raise NotAllowed("out_of_scope", _("该任务不在您的填报范围内"))
    check_plan_writable(task.plan)
    if task.retired_on is not None:
        raise ServiceError("retired", _("该任务已停用，不再填写进展"))
    text = (text or "").strip()
    if not text:
        raise invalid(TaskUpdate, "text", _("请填写进展情况"))
    if len(text) > TEXT_MAX:
        raise invalid(TaskUpdate, "text", _("进展情况不能超过 %(max)s 字") % {"max": TEXT_MAX})
    value = _percent(percent)
    # Check every file before storing any, so a bad second file leaves no orphan first file.
    for upload in evidence:
        check_evidence_file(upload)
    update = TaskUpdate.objects.create(task=task, author=actor, text=text, percent=value)
    stored = [store_evidence(upload, actor=actor) for upload in evidence]
    if stored:
        update.evidence.add(*stored)
    return update
