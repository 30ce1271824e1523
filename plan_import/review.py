"""The review of an imported draft (issue 18, item 3): an uploaded document becomes a
``PlanDraft`` of its owner; the reviewer's edits (each task and target accepted, edited or
dropped, unit names matched to existing units or 「新建单位」, the region chosen in the
user's scope) are applied to the draft here, and 「发布」 publishes it through
``publish_draft`` in one transaction. The pages (``plan_import.views``) only call these."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from core.models import Region, Unit
from core.scope import CHANGE, require, scope_of
from core.services import NotAllowed, ServiceError
from plan_import.draft import Draft, draft_from_json
from plan_import.extract import clean, extract
from plan_import.models import PlanDraft
from plan_import.publish import publish_draft
from plan_import.readers import read_document
from planning.models import Plan
from targets.choices import Comparator

NEW_UNIT = "new"


def create_draft(*, actor, name: str, data: bytes) -> PlanDraft:
    """Read the upload (behind the guard of ``read_document``) and keep its draft."""
    require(actor, CHANGE)
    lines = read_document(name, data)
    draft = extract(lines)
    return PlanDraft.objects.create(
        owner=actor,
        file_name=name[:255],
        document_text="\n".join(line.text for line in lines),
        data=draft.as_json(),
    )


def draft_of(actor, pk: int) -> PlanDraft | None:
    """The user's own draft (another user's is not found)."""
    require(actor, CHANGE)
    return PlanDraft.objects.filter(pk=pk, owner=actor).first()


def source_line(lines: list[str], source_text: str) -> int | None:
    """The index of the document line an item came from (its first line, cleaned)."""
    first = clean((source_text or "").split("\n")[0].split(" | ")[0])[:24]
    if not first:
        return None
    for index, line in enumerate(lines):
        if first in clean(line):
            return index
    return None


def scope_regions(actor):
    scope = scope_of(actor)
    regions = Region.objects.order_by("level", "name")
    return regions if scope.everything else regions.filter(pk__in=scope.region_ids)


def scope_units(actor):
    scope = scope_of(actor)
    units = Unit.objects.select_related("region").order_by("region__level", "name")
    return units if scope.everything else units.filter(region_id__in=scope.visible_region_ids)


def unit_names(draft: Draft) -> list[str]:
    names: list[str] = []
    for task in draft.tasks:
        for name in [*task.lead_units, *task.support_units]:
            if name not in names:
                names.append(name)
    return names


@dataclass
class Review:
    """The reviewer's edits read from the form, and the errors found in them."""

    draft: Draft
    region: Region | None = None
    unit_map: dict[str, Unit] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _number(text: str):
    text = text.strip().replace("％", "").replace("%", "").replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return float(value)


def _year(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isdigit() and 1900 <= int(text) <= 2100):
        raise ValueError(text)
    return int(text)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.replace("，", "、").split("、") if part.strip()]


def apply_review(plan_draft: PlanDraft, post, *, actor) -> Review:
    """The draft as the reviewer left it: dropped items removed (a dropped task's targets
    with it), edited fields applied, each wrong field named in ``errors``."""
    draft = draft_from_json(plan_draft.data)
    review = Review(draft)
    errors = review.errors
    draft.plan.title = post.get("plan-title", draft.plan.title).strip()
    for key, attr in (("plan-start_year", "start_year"), ("plan-end_year", "end_year")):
        try:
            setattr(draft.plan, attr, _year(post.get(key, str(getattr(draft.plan, attr) or ""))))
        except ValueError:
            errors[key] = _("年度应为四位数字，如 2025")
    region_id = post.get("region", "")
    review.region = (
        scope_regions(actor).filter(pk=region_id).first() if region_id.isdigit() else None
    )
    if review.region is None:
        errors["region"] = _("请选择规划所属区划（在您的管辖范围内）")

    kept_tasks, dropped = [], set()
    for task in draft.tasks:
        prefix = f"task-{task.ref}-"
        if not post.get(prefix + "keep"):
            dropped.add(task.ref)
            continue
        task.title = post.get(prefix + "title", task.title).strip()
        if not task.title:
            errors[prefix + "title"] = _("任务名称不能为空")
        if prefix + "lead" in post:
            task.lead_units = _names(post.get(prefix + "lead", ""))
        if prefix + "support" in post:
            task.support_units = _names(post.get(prefix + "support", ""))
        kept_tasks.append(task)
    draft.tasks = kept_tasks

    comparators = {choice.value for choice in Comparator}
    kept_targets = []
    for target in draft.targets:
        prefix = f"target-{target.ref}-"
        if target.task_ref in dropped or not post.get(prefix + "keep"):
            continue
        target.name = post.get(prefix + "name", target.name).strip()
        target.unit = post.get(prefix + "unit", target.unit).strip()
        try:
            shown = "" if target.value is None else f"{target.value:g}"
            target.value = _number(post.get(prefix + "value", shown))
        except ValueError:
            errors[prefix + "value"] = _("目标值应为数字")
        if target.value is None and prefix + "value" not in errors:
            errors[prefix + "value"] = _("请填写目标值，或删除这一指标")
        try:
            target.year = _year(post.get(prefix + "year", str(target.year or "")))
        except ValueError:
            errors[prefix + "year"] = _("年度应为四位数字，如 2025")
        comparator = post.get(prefix + "comparator", target.comparator)
        if comparator not in comparators:
            errors[prefix + "comparator"] = _("请选择比较方式")
        target.comparator = comparator
        kept_targets.append(target)
    draft.targets = kept_targets

    units = {str(unit.pk): unit for unit in scope_units(actor)}
    for index, name in enumerate(unit_names(draft)):
        choice = post.get(f"unit-{index}-name") == name and post.get(f"unit-{index}", NEW_UNIT)
        if not choice or choice == NEW_UNIT:
            continue
        if choice not in units:
            errors[f"unit-{index}"] = _("所选单位不在您的管辖范围内")
            continue
        review.unit_map[name] = units[choice]
    return review


def save_review(plan_draft: PlanDraft, review: Review) -> None:
    plan_draft.data = review.draft.as_json()
    plan_draft.save(update_fields=["data"])


def publish_review(plan_draft: PlanDraft, review: Review, *, actor) -> Plan:
    """「发布」: the reviewed draft as a plan, or nothing on any error (one transaction)."""
    if review.errors:
        raise ServiceError("invalid_review", _("审核内容有误，请按提示修改后再发布"))
    if plan_draft.published_plan_id:
        raise ServiceError("already_published", _("这份草稿已经发布过"))
    if not scope_of(actor).covers(review.region):
        raise NotAllowed("out_of_scope", _("所选区划不在您的管辖范围内"))
    with transaction.atomic():
        plan = publish_draft(
            review.draft,
            actor=actor,
            region=review.region,
            source_file=plan_draft.file_name,
            unit_map=review.unit_map,
        )
        plan_draft.data = review.draft.as_json()
        plan_draft.published_plan = plan
        plan_draft.save(update_fields=["data", "published_plan"])
    return plan
