"""The review of an imported draft (issue 18, item 3): an uploaded document becomes a
``PlanDraft`` of its owner; the reviewer's edits are applied to the draft here and
「发布」 publishes it through ``publish_draft`` in one transaction. The pages
(``plan_import.views``) only call these.

What the reviewer can do, all in one form sent with the draft's version (``submit_review``):
- the plan's title, period and region (in the reviewer's scope);
- each section's number and title, or drop it: what was under a dropped section (its
  sub-sections, tasks, targets) moves up to the nearest kept section (``drop_sections``);
- each task's title and units, or drop it (its targets go with it);
- each target's fields and task (a target without a task is a plan-level one), or drop it;
- each milestone the extractor could not attach: attach it to a task or target, or drop it;
- each station's name, region (matched to the region tree), address, class, in-service
  month and status, or drop it;
- each unit name: the matched unit (``unit_matching``, with its confidence), another unit of
  the scope, or 「新建单位」. Nothing is created unasked: ``publish_draft`` refuses names,
  milestones and station regions left undecided.

A form sent from an older version of the draft (another tab saved since) is refused with
``StaleDraft``; a form with a wrong field changes nothing and names the field.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from core.models import Region, Unit
from core.scope import CHANGE, in_regions, require, scope_of
from core.services import NotAllowed, ServiceError, StaleEdit
from plan_import.draft import Draft, UnitChoice, draft_from_json, drop_sections
from plan_import.extract import clean, extract
from plan_import.models import PlanDraft
from plan_import.publish import NEW_UNIT, publish_draft, unit_names
from plan_import.readers import read_document
from plan_import.unit_matching import Match, region_matcher, unit_matcher
from planning.models import Plan
from stations.choices import StationClass, StationStatus
from targets.choices import Comparator

DROP = "drop"  # a loose milestone's choice: drop it
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class StaleDraft(StaleEdit):
    """The form was sent from an older version of the draft (another tab saved since)."""

    def __init__(self, plan_draft: PlanDraft):
        ServiceError.__init__(
            self,
            "stale_edit",
            _(
                "这份草稿已在另一个页面保存过（当前第 %(version)s 版），您这次提交的修改未保存。"
                "下面是最新内容，请核对后重新修改"
            )
            % {"version": plan_draft.version},
        )
        self.changed_by, self.changed_at = "", None


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
    return regions if scope.everything else regions.filter(in_regions("pk", scope.region_ids))


def scope_units(actor):
    scope = scope_of(actor)
    units = Unit.objects.select_related("region").order_by("region__level", "name", "pk")
    if scope.everything:
        return units
    return units.filter(in_regions("region_id", scope.visible_region_ids))


def default_region(draft: Draft, regions: list[Region]) -> Region | None:
    """The region the draft was given on review, else the scope's region the plan's title or
    issuer names (the longest name: 南京市 before 江苏省), else the scope's first."""
    by_pk = {region.pk: region for region in regions}
    if draft.plan.region_id in by_pk:
        return by_pk[draft.plan.region_id]
    text = draft.plan.title + draft.plan.issuer
    named = [region for region in regions if region.name and region.name in text]
    if named:
        return max(named, key=lambda region: len(region.name))
    return regions[0] if regions else None


# ------------------------------------------------------------------------ proposals


@dataclass
class Proposals:
    """The matcher's proposals for the page: each unit name's and each station's best
    matches (best first), and the choice the page preselects."""

    units: dict[str, list[Match]]
    stations: dict[str, list[Match]]

    def unit_choice(self, draft: Draft, name: str) -> str:
        """The reviewer's saved decision, else a preselected match, else "" (待确认)."""
        for choice in draft.units:
            if choice.name == name:
                return NEW_UNIT if choice.new else str(choice.unit_id or "")
        found = self.units.get(name) or []
        return str(found[0].item.pk) if found and found[0].preselected else ""

    def station_choice(self, station, plan_region: Region | None) -> str:
        if station.region_id:
            return str(station.region_id)
        if not station.region:  # the document names none: the plan's region
            return str(plan_region.pk) if plan_region else ""
        found = self.stations.get(station.ref) or []
        return str(found[0].item.pk) if found and found[0].preselected else ""


def _nearness(region: Region | None, regions: list[Region], units: list[Unit]):
    """A sort key: the plan's region first, then those above it (nearest first), then those
    below it, then the rest (no queries: the parents of the listed regions)."""
    parents = {item.pk: item.parent_id for item in regions}
    parents.update({unit.region.pk: unit.region.parent_id for unit in units})
    above: dict[int, int] = {}
    node, step = region.parent_id if region else None, 1
    while node is not None and node not in above:
        above[node] = step
        node, step = parents.get(node), step + 1

    def below(region_id: int) -> bool:
        seen = set()
        while region_id is not None and region_id not in seen:
            seen.add(region_id)
            region_id = parents.get(region_id)
            if region is not None and region_id == region.pk:
                return True
        return False

    def key(region_id: int) -> tuple[int, int]:
        if region is not None and region_id == region.pk:
            return (0, 0)
        if region_id in above:
            return (1, above[region_id])
        return (2, 0) if below(region_id) else (3, 0)

    return key


def proposals(
    draft: Draft, *, region: Region | None, regions: list[Region], units: list[Unit]
) -> Proposals:
    near = _nearness(region, regions, units)
    names = {item.name for item in regions} | {unit.region.name for unit in units}
    matcher = unit_matcher(sorted(units, key=lambda unit: near(unit.region_id)), names)
    places = region_matcher(sorted(regions, key=lambda item: near(item.pk)))
    return Proposals(
        units={name: matcher.match(name) for name in unit_names(draft)},
        stations={
            station.ref: places.match(station.region) if station.region else []
            for station in draft.stations
        },
    )


# ------------------------------------------------------------------------ the review


@dataclass
class Review:
    """The reviewer's edits read from the form, the errors found in them (by field name), and
    after 「发布」 the plan — or the error that refused it."""

    draft: Draft
    region: Region | None = None
    units: dict[str, Unit | str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    plan: Plan | None = None
    error: ServiceError | None = None


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


def _month(text: str) -> str | None:
    text = text.strip().replace("/", "-").replace(".", "-")
    if not text:
        return None
    found = _MONTH.match(text)
    if not found or not (1900 <= int(found[1]) <= 2100 and 1 <= int(found[2]) <= 12):
        raise ValueError(text)
    return f"{int(found[1]):04d}-{int(found[2]):02d}"


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.replace("，", "、").split("、") if part.strip()]


def apply_review(plan_draft: PlanDraft, post, *, actor) -> Review:
    """The draft as the reviewer left it: dropped items removed, edited fields applied,
    decisions recorded, each wrong field named in ``errors``. Writes nothing."""
    draft = draft_from_json(plan_draft.data)
    review = Review(draft)
    _plan(review, post, actor)
    _sections(review, post)
    dropped_tasks = _tasks(review, post)
    _targets(review, post, dropped_tasks)
    _milestones(review, post)
    _stations(review, post, actor)
    _units(review, post, actor)
    return review


def _plan(review: Review, post, actor) -> None:
    draft, errors = review.draft, review.errors
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
    else:
        draft.plan.region_id = review.region.pk


def _sections(review: Review, post) -> None:
    draft, dropped = review.draft, set()
    for section in draft.sections:
        prefix = f"section-{section.ref}-"
        if prefix + "title" not in post and prefix + "keep" not in post:
            continue  # not on the page that was sent (kept as it was)
        if not post.get(prefix + "keep"):
            dropped.add(section.ref)
            continue
        section.number = post.get(prefix + "number", section.number).strip()[:32]
        section.title = post.get(prefix + "title", section.title).strip()
        if not section.title:
            review.errors[prefix + "title"] = _("章节标题不能为空；不需要这一章节请取消「保留」")
    drop_sections(draft, dropped)


def _tasks(review: Review, post) -> set[str]:
    draft, errors = review.draft, review.errors
    kept, dropped = [], set()
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
        kept.append(task)
    draft.tasks = kept
    return dropped


def _targets(review: Review, post, dropped_tasks: set[str]) -> None:
    draft, errors = review.draft, review.errors
    tasks = {task.ref for task in draft.tasks}
    comparators = {choice.value for choice in Comparator}
    kept = []
    for target in draft.targets:
        prefix = f"target-{target.ref}-"
        if not post.get(prefix + "keep"):
            continue
        task_ref = post.get(prefix + "task", target.task_ref or "") or None
        if task_ref in dropped_tasks and task_ref == target.task_ref:
            continue  # a dropped task's targets go with it
        if task_ref is not None and task_ref not in tasks:
            errors[prefix + "task"] = _("所选任务不存在或已删除，请重新选择")
        target.task_ref = task_ref
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
        kept.append(target)
    draft.targets = kept


def _milestones(review: Review, post) -> None:
    """Loose milestones: attached ("task:t3" / "target:g2"), dropped, or left undecided."""
    draft = review.draft
    owners = {f"task:{task.ref}" for task in draft.tasks} | {
        f"target:{target.ref}" for target in draft.targets
    }
    kept = []
    for milestone in draft.milestones:
        key = f"milestone-{milestone.ref}-attach"
        choice = post.get(key, milestone.attach_to)
        if choice == DROP:
            continue
        if choice and choice not in owners:
            review.errors[key] = _("所选任务或指标不存在或已删除，请重新选择")
        milestone.attach_to = choice
        kept.append(milestone)
    draft.milestones = kept


def _stations(review: Review, post, actor) -> None:
    draft, errors = review.draft, review.errors
    classes = {choice.value for choice in StationClass}
    statuses = {choice.value for choice in StationStatus}
    regions = None
    kept = []
    for station in draft.stations:
        prefix = f"station-{station.ref}-"
        if prefix + "name" not in post and prefix + "keep" not in post:
            kept.append(station)  # not on the page that was sent
            continue
        if not post.get(prefix + "keep"):
            continue
        station.name = post.get(prefix + "name", station.name).strip()[:128]
        if not station.name:
            errors[prefix + "name"] = _("消防站名称不能为空")
        station.address = post.get(prefix + "address", station.address).strip()[:255]
        station_class = post.get(prefix + "class", station.station_class or "")
        if station_class and station_class not in classes:
            errors[prefix + "class"] = _("请选择站级")
        station.station_class = station_class or None
        status = post.get(prefix + "status", station.status)
        if status not in statuses:
            errors[prefix + "status"] = _("请选择状态")
        station.status = status
        try:
            station.in_service = _month(post.get(prefix + "in_service", station.in_service or ""))
        except ValueError:
            errors[prefix + "in_service"] = _("投入执勤年月应写成 2024-06 的样子")
        region_id = post.get(prefix + "region", str(station.region_id or ""))
        if region_id:
            if regions is None:
                regions = set(scope_regions(actor).values_list("pk", flat=True))
            if region_id.isdigit() and int(region_id) in regions:
                station.region_id = int(region_id)
            else:
                errors[prefix + "region"] = _("所选区划不在您的管辖范围内")
        else:
            station.region_id = None
        kept.append(station)
    draft.stations = kept


def _units(review: Review, post, actor) -> None:
    """Each unit name's decision, from the form (``unit-<i>-name`` beside ``unit-<i>``),
    else as saved before; names no longer in the draft are forgotten."""
    draft, errors = review.draft, review.errors
    posted = {}
    for key, name in post.items():
        match = re.fullmatch(r"unit-(\d+)-name", key)
        if match:
            posted[name] = (f"unit-{match[1]}", post.get(f"unit-{match[1]}", ""))
    saved = {choice.name: choice for choice in draft.units}
    scope = {str(unit.pk): unit for unit in scope_units(actor)}
    choices = []
    for name in unit_names(draft):
        key, value = posted.get(name, (None, None))
        if value is None:
            choice = saved.get(name)
            value = (NEW_UNIT if choice.new else str(choice.unit_id or "")) if choice else ""
        if not value:
            continue  # 待确认
        if value == NEW_UNIT:
            twin = review.region is not None and any(
                unit.name == name and unit.region_id == review.region.pk for unit in scope.values()
            )
            if twin:
                errors[key or "units"] = _(
                    "%(region)s已有名为「%(name)s」的单位，请直接选择该单位"
                ) % {
                    "region": review.region.name,
                    "name": name,
                }
            choices.append(UnitChoice(name, new=True))
            review.units[name] = NEW_UNIT
        elif value in scope:
            choices.append(UnitChoice(name, unit_id=int(value)))
            review.units[name] = scope[value]
        elif key:
            errors[key] = _("所选单位不在您的管辖范围内")
    draft.units = choices


# ------------------------------------------------------------------------ the doors


def _locked(actor, pk: int, post) -> PlanDraft:
    """The draft locked for this transaction, at the version the form was made from."""
    plan_draft = PlanDraft.objects.select_for_update().filter(pk=pk, owner=actor).first()
    if plan_draft is None:
        raise ServiceError("not_found", _("没有这份导入草稿"))
    if plan_draft.published_plan_id:
        raise ServiceError("already_published", _("这份草稿已经发布过"))
    version = str(post.get("version", ""))
    if not version.isdigit() or int(version) != plan_draft.version:
        raise StaleDraft(plan_draft)
    return plan_draft


def submit_review(actor, pk: int, post, *, publish: bool) -> Review:
    """Apply the review sent from the page and save it (「保存审核结果」) or publish it
    (「发布」), in one transaction; a review with a wrong field, or one 「发布」 refuses,
    changes nothing and comes back with ``error``. A stale form raises ``StaleDraft``."""
    require(actor, CHANGE)
    review = None
    try:
        with transaction.atomic():
            plan_draft = _locked(actor, pk, post)
            review = apply_review(plan_draft, post, actor=actor)
            if review.errors:
                raise ServiceError("invalid_review", _("审核内容有误，请按提示修改后再提交"))
            if publish:
                if not scope_of(actor).covers(review.region):
                    raise NotAllowed("out_of_scope", _("所选区划不在您的管辖范围内"))
                review.plan = publish_draft(
                    copy.deepcopy(review.draft),
                    actor=actor,
                    region=review.region,
                    source_file=plan_draft.file_name,
                    units=review.units,
                )
                plan_draft.published_plan = review.plan
            plan_draft.data = review.draft.as_json()
            plan_draft.version += 1
            plan_draft.save(update_fields=["data", "version", "published_plan"])
    except StaleDraft:
        raise
    except ServiceError as error:
        if review is None:
            raise
        review.plan, review.error = None, error
    return review
