"""The plan of the next period (编制下一期规划): a draft copied from a finished or ending plan.

``create_successor(plan, actor=…, start_year=2026, end_year=2030)`` copies the plan's sections,
tasks (with their lead and support units), targets, milestones and allocations into a new
draft plan, in one transaction, each row with a history record. Dates and target years move
by the offset between the two start years. Each target's baseline becomes the predecessor
target's actual at the end of the predecessor plan, as the status engine judges it
(``targets.status.compute_status`` at 31 December of the end year): for an increment (新增)
the total achieved over the period, for a level or ratio the last value. ``baseline_year`` is
that end year and ``baseline_source`` says where the number came from. Each copied target
keeps a link to the one it continues (``Target.predecessor``), so its series can be read
across both periods (``targets.series``). Nothing reported is copied; stages (dated phases of
the old period) and reporting periods are not copied either.

Page (reports.plan_views), API (``POST /api/v1/plans/{id}/successor/``) and any generator
call this one function.
"""

from __future__ import annotations

import datetime
import itertools
import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.scope import CHANGE
from core.services import NotAllowed, ServiceError, check_may_change, validate
from planning.choices import PlanStatus, TaskStatus
from planning.models import Plan, Section, Task, TaskAssignment
from targets.models import Allocation, Milestone, Target
from targets.status import compute_status, load_status_inputs, year_end

# 十三五 → 十四五 → 十五五 …: the usual name of the next five-year period.
PERIOD_NAMES = ["十一五", "十二五", "十三五", "十四五", "十五五", "十六五", "十七五"]
MAX_SPAN_YEARS = 10
REASON = "编制下一期规划"


def baseline_source(year: int) -> str:
    return _("上期规划实际值（%(year)s年）") % {"year": year}


def _next_title(title: str, start_year: int, end_year: int) -> str:
    for name, following in itertools.pairwise(PERIOD_NAMES):
        if name in title:
            return title.replace(name, following).replace("（征求意见稿）", "") + _("（草稿）")
    return _("%(title)s（%(start)s—%(end)s年，草稿）") % {
        "title": title,
        "start": start_year,
        "end": end_year,
    }


def _next_code(code: str, plan: Plan, start_year: int, end_year: int) -> str:
    old = f"{plan.start_year}-{plan.end_year}"
    if old in code:
        return code.replace(old, f"{start_year}-{end_year}")
    return f"{code}-{start_year}-{end_year}"[:64]


def _shift(day: datetime.date | None, years: int) -> datetime.date | None:
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def _check_years(plan: Plan, start_year, end_year) -> tuple[int, int]:
    try:
        start, end = int(start_year), int(end_year)
    except (TypeError, ValueError):
        raise ServiceError(
            "invalid_years", _("请填写下一期规划的起止年度（如 2026—2030）"), field="start_year"
        ) from None
    if start <= plan.end_year:
        raise ServiceError(
            "invalid_years",
            _("下一期规划的起始年度应晚于本规划的终止年度（%(year)s年）") % {"year": plan.end_year},
            field="start_year",
        )
    if end < start:
        raise ServiceError("invalid_years", _("终止年度不能早于起始年度"), field="end_year")
    if end - start + 1 > MAX_SPAN_YEARS:
        raise ServiceError(
            "invalid_years",
            _("规划期不能超过 %(years)s 年") % {"years": MAX_SPAN_YEARS},
            field="end_year",
        )
    return start, end


def _save(obj, actor):
    obj._history_user = actor
    obj._change_reason = REASON
    obj.save()
    return obj


def _baselines(plan: Plan, targets: list[Target]) -> dict[int, object]:
    """Each target's actual at the end of the plan, as the engine judges it."""
    inputs = load_status_inputs(targets)
    end = year_end(plan.end_year)
    return {target.pk: compute_status(target, inputs, on=end).actual for target in targets}


@transaction.atomic
def create_successor(
    plan: Plan,
    *,
    actor,
    start_year,
    end_year,
    code: str = "",
    title: str = "",
) -> Plan:
    """Create the draft plan of the next period from ``plan`` (see the module docstring)."""
    check_may_change(actor, plan)
    # Lock the predecessor: two simultaneous requests make one successor, the other is refused.
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if Plan.objects.filter(predecessor=plan).exists():
        raise ServiceError(
            "successor_exists", _("本规划已有下一期规划，不能重复编制"), field="start_year"
        )
    start, end = _check_years(plan, start_year, end_year)
    offset = start - plan.start_year
    code = (code or "").strip() or _next_code(plan.code, plan, start, end)
    if Plan.objects.filter(code=code).exists():
        raise ServiceError(
            "code_taken", _("编码“%(code)s”已被其他规划使用") % {"code": code}, field="code"
        )
    parent = getattr(plan.parent, "successor", None) if plan.parent_id else None
    successor = Plan(
        code=code,
        title=(title or "").strip() or _next_title(plan.title, start, end),
        kind=plan.kind,
        status=PlanStatus.DRAFT,
        issuer=plan.issuer,
        start_year=start,
        end_year=end,
        region=plan.region,
        parent=parent,
        predecessor=plan,
        source_text=_("由《%(title)s》编制的下一期规划草稿") % {"title": plan.title},
    )
    validate(successor)
    try:
        with transaction.atomic():
            _save(successor, actor)
    except IntegrityError:  # the unique predecessor or code, taken since the checks above
        raise ServiceError(
            "successor_exists", _("本规划已有下一期规划，不能重复编制"), field="start_year"
        ) from None
    if not Plan.objects.filter(pk=successor.pk).for_user(actor, CHANGE).exists():
        raise NotAllowed("out_of_scope", _("该记录不在您的管理范围内"))
    _copy_contents(plan, successor, actor=actor, offset=offset)
    return successor


def _copy_contents(plan: Plan, successor: Plan, *, actor, offset: int) -> None:
    sections: dict[int, Section] = {}
    # Parents before children: a section's parent is always copied first.
    pending = list(Section.objects.filter(plan=plan).order_by("order", "pk"))
    while pending:
        later = []
        for old in pending:
            if old.parent_id and old.parent_id not in sections:
                later.append(old)
                continue
            sections[old.pk] = _save(
                Section(
                    plan=successor,
                    parent=sections.get(old.parent_id),
                    code=old.code,
                    number=old.number,
                    title=old.title,
                    kind=old.kind,
                    order=old.order,
                    source_text=old.source_text,
                ),
                actor,
            )
        if len(later) == len(pending):  # a parent outside the plan: keep them at the top
            for old in later:
                old.parent_id = None
        pending = later

    tasks: dict[int, Task] = {}
    for old in Task.objects.filter(plan=plan, retired_on__isnull=True).order_by("order", "pk"):
        tasks[old.pk] = _save(
            Task(
                plan=successor,
                section=sections.get(old.section_id),
                code=old.code,
                number=old.number,
                title=old.title,
                description=old.description,
                due_on=_shift(old.due_on, offset),
                status=TaskStatus.NOT_STARTED,
                order=old.order,
                source_text=old.source_text,
            ),
            actor,
        )
    for old in TaskAssignment.objects.filter(
        task__plan=plan, task__retired_on__isnull=True
    ).order_by("task_id", "order"):
        _save(
            TaskAssignment(
                task=tasks[old.task_id], unit_id=old.unit_id, role=old.role, order=old.order
            ),
            actor,
        )

    # What was retired (停用) stays behind: the next period starts from the live plan.
    old_targets = list(
        Target.objects.filter(plan=plan, retired_on__isnull=True).order_by("order", "pk")
    )
    baselines = _baselines(plan, old_targets)
    source = baseline_source(plan.end_year)
    targets: dict[int, Target] = {}
    for old in old_targets:
        baseline = baselines[old.pk]
        targets[old.pk] = _save(
            Target(
                plan=successor,
                task=tasks.get(old.task_id),
                section=sections.get(old.section_id),
                code=old.code,
                name=old.name,
                measure=old.measure,
                measure_unit=old.measure_unit,
                comparator=old.comparator,
                target_value=old.target_value,
                target_year=old.target_year + offset if old.target_year else None,
                baseline_value=baseline,
                baseline_year=plan.end_year if baseline is not None else None,
                baseline_source=source if baseline is not None else "",
                attribute=old.attribute,
                region_id=old.region_id,
                formula=old.formula,
                feed=old.feed,
                order=old.order,
                source_text=old.source_text,
                predecessor=old,
            ),
            actor,
        )
    for old in Allocation.objects.filter(target__in=old_targets, retired_on__isnull=True).order_by(
        "pk"
    ):
        _save(
            Allocation(
                target=targets[old.target_id],
                region_id=old.region_id,
                value=old.value,
                source_text=old.source_text,
            ),
            actor,
        )
    for old in Milestone.objects.filter(plan=plan, retired_on__isnull=True).order_by("pk"):
        if (old.target_id and old.target_id not in targets) or (
            old.task_id and old.task_id not in tasks
        ):
            continue  # its target or task was retired
        _save(
            Milestone(
                plan=successor,
                target=targets.get(old.target_id),
                task=tasks.get(old.task_id),
                code=old.code,
                due_on=_shift(old.due_on, offset),
                planned_value=old.planned_value,
                is_cumulative=old.is_cumulative,
                text=re.sub(
                    r"(\d{4})(?=\s*年)",
                    lambda m: str(int(m.group(1)) + offset),
                    old.text or "",
                ),
                region_id=old.region_id,
                order=old.order,
                source_text=old.source_text,
            ),
            actor,
        )
