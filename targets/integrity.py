"""Plan-integrity check: where a plan's own numbers do not add up.

The seed data keeps a plan's contradictions as the plan states them; this check finds them, so
committee staff can see them (on the plan page, in the API and from ``manage.py check_plans``)
instead of the system silently picking one statement. Every finding names the rows involved and
the plan text they came from. Costs a fixed number of queries, whatever the number of plans.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import caches
from django.db import connection
from django.db.models import Prefetch, QuerySet

from core.regions import RegionTree
from planning.models import Plan, Task
from targets.allocations import cascade_tree
from targets.choices import Measure
from targets.models import Allocation, BaseFigure, Milestone, Target

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class FindingItem:
    kind: str  # target, milestone, allocation, base_figure, task
    code: str
    label: str
    source_text: str


@dataclass
class Finding:
    level: str
    code: str
    plan: str
    message: str
    items: list[FindingItem] = field(default_factory=list)

    @property
    def item_codes(self) -> list[str]:
        return [item.code for item in self.items]


def _item(obj, kind: str, label: str | None = None, code: str | None = None) -> FindingItem:
    code = code or getattr(obj, "code", "") or f"{kind}:{obj.pk}"
    return FindingItem(kind, code, label or str(obj), obj.source_text)


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return format(value.normalize(), "f")


# Words that say *when* or *how much so far* rather than *what*; stripped before comparing names.
_NOISE = re.compile(
    r"“?十[三四]五”?(期间|时期|末)?|到20\d\d年(底)?|全[市区县]|累计|现有|共|总数|总量|达到|数量"
)
_BRACKETS = re.compile(r"（[^）]*）|\([^)]*\)")
_QUOTES = re.compile(r"[“”\"'‘’]")
_INCREMENT = re.compile(r"新建|新增|增建|组建|建成|增加|新配备|购置")


def indicator_key(name: str) -> tuple[str, bool]:
    """What a name measures, and whether it is counted as an increment (新建…) or a level."""
    text = _QUOTES.sub("", _BRACKETS.sub("", name))
    text = _NOISE.sub("", text)
    is_increment = bool(_INCREMENT.search(text))
    return _INCREMENT.sub("", text).strip(" ，,、的"), is_increment


def plans_with_inputs(plans: QuerySet[Plan] | None = None) -> QuerySet[Plan]:
    plans = Plan.objects.all() if plans is None else plans
    return plans.select_related("region").prefetch_related(
        Prefetch(
            "targets",
            # Live targets only (停用 ones are kept, not checked); ties of ``order`` by pk, so
            # that a finding names its items in a stable order.
            queryset=Target.objects.filter(retired_on__isnull=True)
            .select_related("region", "parent_target")
            .prefetch_related(
                Prefetch("milestones", queryset=Milestone.objects.order_by("due_on", "order")),
                # Not the targets' own allocations: ``_live_parts`` reads them as rows.
                "parent_target__allocations",
            )
            .order_by("order", "pk"),
        ),
        Prefetch("milestones", queryset=Milestone.objects.filter(task__isnull=False)),
        Prefetch("tasks", queryset=Task.objects.exclude(due_on=None)),
        Prefetch("base_figures", queryset=BaseFigure.objects.order_by("year", "name")),
    )


def _region_tree() -> Callable[[], RegionTree]:
    """The region tree (parents and names), read once, when the first split is checked:
    plans without allocations cost no query for it."""
    return functools.cache(RegionTree.load)


@dataclass(frozen=True)
class _Part:
    """A live allocation as the check reads it: a row, not a model instance — a national
    plan has hundreds of thousands (building them, with their regions, took most of a minute
    for 560 000)."""

    pk: int
    region_id: int
    value: Decimal | None
    source_text: str
    retired_on: None = None


def _live_parts(targets: list[Target]) -> dict[int, list[_Part]]:
    """The live allocations of ``targets`` by target (one query)."""
    parts: dict[int, list[_Part]] = defaultdict(list)
    rows = (
        Allocation.objects.filter(target_id__in=[t.pk for t in targets], retired_on__isnull=True)
        .order_by("target_id", "pk")
        .values_list("target_id", "pk", "region_id", "value", "source_text")
    )
    for target_id, *row in rows.iterator(chunk_size=10_000):
        parts[target_id].append(_Part(*row))
    return parts


def check_plan_integrity(plans: QuerySet[Plan] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    tree = _region_tree()  # the levels of a split, shared by every plan
    plans = list(plans_with_inputs(plans))
    parts = _live_parts([t for plan in plans for t in plan.targets.all()])
    for plan in plans:
        findings.extend(check_one_plan(plan, tree, parts))
    return findings


# What the check reads of one plan, as one digest (one query). The plan's own rows (plan,
# targets, tasks, base figures, task milestones) by their whole text; what hangs below its
# targets and their parent targets (milestones, allocations, adjustments) through their
# whole-target clocks (``targets/judgement_store.py``: ticked by triggers in the change's
# transaction); the region tree (levels and names of a split) by its whole text too.
_INPUTS_DIGEST = """
    SELECT md5(concat_ws('|',
      (SELECT p::text FROM planning_plan p WHERE p.id = %(plan)s),
      (SELECT string_agg(t::text, ',' ORDER BY t.id) FROM targets_target t
        WHERE t.plan_id = %(plan)s),
      (SELECT string_agg(k.target_id || ':' || k.version, ',' ORDER BY k.target_id)
         FROM targets_judgementclock k
        WHERE k.region_id = 0 AND k.target_id IN (
              SELECT t.id FROM targets_target t WHERE t.plan_id = %(plan)s
              UNION SELECT t.parent_target_id FROM targets_target t
               WHERE t.plan_id = %(plan)s AND t.parent_target_id IS NOT NULL)),
      (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM planning_task x
        WHERE x.plan_id = %(plan)s),
      (SELECT string_agg(b::text, ',' ORDER BY b.id) FROM targets_basefigure b
        WHERE b.plan_id = %(plan)s),
      (SELECT string_agg(m::text, ',' ORDER BY m.id) FROM targets_milestone m
        WHERE m.plan_id = %(plan)s AND m.task_id IS NOT NULL),
      (SELECT md5(string_agg(r.id || ':' || coalesce(r.parent_id, 0) || ':' || r.name, ','
                             ORDER BY r.id)) FROM planning_region r)
    ))"""
CACHE_SECONDS = 24 * 3600


def inputs_digest(plan: Plan) -> str:
    """A digest that changes whenever anything ``check_one_plan`` reads of ``plan`` changes."""
    with connection.cursor() as cursor:
        cursor.execute(_INPUTS_DIGEST, {"plan": plan.pk})
        return cursor.fetchone()[0]


def plan_findings(plan: Plan) -> list[Finding]:
    """``check_one_plan`` of ``plan``, kept in the shared cache under the digest of what it
    reads (``inputs_digest``): a page view costs one query while nothing changed, and never
    shows a stale result — any change of the inputs is a new key. The check itself stays
    ``check_one_plan``; only its result is kept."""
    cache = caches["shared"]
    key = f"plan-integrity:{plan.pk}:{inputs_digest(plan)}"
    findings = cache.get(key)
    if findings is None:
        findings = check_plan_integrity(Plan.objects.filter(pk=plan.pk))
        cache.set(key, findings, CACHE_SECONDS)
    return findings


def check_one_plan(
    plan: Plan,
    tree: Callable[[], RegionTree] | None = None,
    parts: dict[int, list[_Part]] | None = None,
) -> list[Finding]:
    tree = tree or _region_tree()
    targets = list(plan.targets.all())
    parts = _live_parts(targets) if parts is None else parts
    findings: list[Finding] = []
    for target in targets:
        findings.extend(_milestone_schedule(plan, target))
        findings.extend(_allocation_total(plan, target, tree, parts.get(target.pk, [])))
        findings.extend(_parent_target_share(plan, target))
    findings.extend(_baseline_plus_increment(plan, targets))
    findings.extend(_conflicting_targets(plan, targets))
    findings.extend(_base_figure_contradictions(plan, list(plan.base_figures.all())))
    findings.extend(_dates_outside_period(plan, targets))
    findings.extend(_incomplete_targets(plan, targets))
    return findings


def _milestone_schedule(plan: Plan, target: Target) -> Iterable[Finding]:
    valued = [m for m in target.milestones.all() if m.planned_value is not None]
    if not valued or target.target_value is None or target.measure != Measure.INCREMENT:
        return
    cumulative = [m for m in valued if m.is_cumulative]
    if cumulative:
        total = cumulative[-1].planned_value
        how = "累计计划值最后为"
    else:
        total = sum((m.planned_value for m in valued), Decimal(0))
        how = "各节点计划值合计"
    if total != target.target_value:
        yield Finding(
            ERROR,
            "milestone_sum_mismatch",
            plan.code,
            f"“{target.name}”{how} {_fmt(total)}，与目标值 {_fmt(target.target_value)} 不一致",
            [_item(target, "target"), *(_item(m, "milestone") for m in valued)],
        )


def _allocation_total(
    plan: Plan,
    target: Target,
    tree: Callable[[], RegionTree],
    allocations: list[_Part],
) -> Iterable[Finding]:
    """Each level of the split (issue 17: province → city → county → town) whose parts do not
    add up to its whole: the target's value, or an allocation that is split further
    (``allocations``: the target's live parts)."""
    if not allocations:
        return
    regions = tree()
    names = {a.region_id: regions.names.get(a.region_id, "") for a in allocations}
    names[target.region_id] = target.region.name
    for node in cascade_tree(target, allocations, regions.parent, names).walk():
        if node.adds_up is not False:
            continue
        whole = "" if node.allocation is None else f"在{node.region_name}"
        code = (
            "allocation_total_mismatch" if node.allocation is None else "allocation_level_mismatch"
        )
        yield Finding(
            ERROR,
            code,
            plan.code,
            f"“{target.name}”{whole}分解到各地合计 {_fmt(node.parts_total)}，与"
            f"{'目标值' if node.allocation is None else '其分解值'} {_fmt(node.value)} 不一致",
            [
                _item(target, "target")
                if node.allocation is None
                else _allocation_item(target, node.allocation, node.region_name),
                *(
                    _allocation_item(target, child.allocation, child.region_name)
                    for child in node.children
                ),
            ],
        )


def _allocation_item(target: Target, allocation, region_name: str) -> FindingItem:
    return _item(
        allocation,
        "allocation",
        f"{region_name} {_fmt(allocation.value)}",
        code=f"{target.code}/{region_name}",
    )


def _parent_target_share(plan: Plan, target: Target) -> Iterable[Finding]:
    """A target that implements a higher-level one (指标分解) should carry the share the
    higher-level target gives its region, when it gives one."""
    parent = target.parent_target
    if parent is None or target.target_value is None:
        return
    share = next((a for a in parent.allocations.all() if a.region_id == target.region_id), None)
    if share is not None and share.value != target.target_value:
        yield Finding(
            WARNING,
            "parent_target_share_mismatch",
            plan.code,
            f"“{target.name}”目标值 {_fmt(target.target_value)}，与上级指标“{parent.name}”"
            f"分解到{target.region.name}的 {_fmt(share.value)} 不一致",
            [_item(target, "target"), _item(parent, "target")],
        )


def _same_scope(a: Target, b: Target) -> bool:
    return (
        a.region_id == b.region_id
        and a.measure_unit == b.measure_unit
        and (a.target_year is None or b.target_year is None or a.target_year == b.target_year)
    )


def _baseline_plus_increment(plan: Plan, targets: list[Target]) -> Iterable[Finding]:
    levels = [t for t in targets if t.measure == Measure.LEVEL and t.baseline_value is not None]
    increments = [t for t in targets if t.measure == Measure.INCREMENT and t.target_value]
    for level in levels:
        if level.target_value is None:
            continue
        subject, _ = indicator_key(level.name)
        for increment in increments:
            inc_subject, is_increment = indicator_key(increment.name)
            if inc_subject != subject or not is_increment or not _same_scope(level, increment):
                continue
            total = level.baseline_value + increment.target_value
            if total != level.target_value:
                yield Finding(
                    ERROR,
                    "baseline_increment_mismatch",
                    plan.code,
                    f"“{level.name}”基数 {_fmt(level.baseline_value)} 加“{increment.name}” "
                    f"{_fmt(increment.target_value)} 为 {_fmt(total)}，与所述总数 "
                    f"{_fmt(level.target_value)} 不一致",
                    [_item(level, "target"), _item(increment, "target")],
                )


def _conflicting_targets(plan: Plan, targets: list[Target]) -> Iterable[Finding]:
    groups: dict[tuple, list[Target]] = defaultdict(list)
    for target in targets:
        if target.target_value is None:
            continue
        subject, is_increment = indicator_key(target.name)
        key = (subject, is_increment, target.measure, target.comparator, target.region_id)
        groups[key].append(target)
    for group in groups.values():
        for i, first in enumerate(group):
            for second in group[i + 1 :]:
                if _same_scope(first, second) and first.target_value != second.target_value:
                    yield Finding(
                        ERROR,
                        "conflicting_target_values",
                        plan.code,
                        f"同一指标两处表述不一致：“{first.name}” {_fmt(first.target_value)}"
                        f"{first.measure_unit} 与 “{second.name}” {_fmt(second.target_value)}"
                        f"{second.measure_unit}",
                        [_item(first, "target"), _item(second, "target")],
                    )


def _base_figure_contradictions(plan: Plan, figures: list[BaseFigure]) -> Iterable[Finding]:
    """An amount built over a period cannot exceed what exists at its end (连州: 80 vs 5)."""
    by_subject: dict[tuple, dict[bool, list[BaseFigure]]] = defaultdict(lambda: defaultdict(list))
    for figure in figures:
        subject, is_increment = indicator_key(figure.name)
        by_subject[(subject, figure.region_id, figure.year, figure.measure_unit)][
            is_increment
        ].append(figure)
    for kinds in by_subject.values():
        for added in kinds[True]:
            for level in kinds[False]:
                if added.value > level.value:
                    yield Finding(
                        ERROR,
                        "increment_exceeds_total",
                        plan.code,
                        f"“{added.name}” {_fmt(added.value)}{added.measure_unit} 大于同期"
                        f"“{level.name}” {_fmt(level.value)}{level.measure_unit}",
                        [
                            _item(added, "base_figure", added.name, f"{added.name}/{added.year}"),
                            _item(level, "base_figure", level.name, f"{level.name}/{level.year}"),
                        ],
                    )


def _dates_outside_period(plan: Plan, targets: list[Target]) -> Iterable[Finding]:
    first_day = datetime.date(plan.start_year, 1, 1)
    last_day = datetime.date(plan.end_year, 12, 31)
    period = f"{plan.start_year}—{plan.end_year}"
    for target in targets:
        if target.target_year and not plan.start_year <= target.target_year <= plan.end_year:
            yield Finding(
                WARNING,
                "target_year_outside_plan",
                plan.code,
                f"“{target.name}”目标年度 {target.target_year} 不在规划期 {period} 内",
                [_item(target, "target")],
            )
    task_milestones = plan.milestones.all()  # prefetched: milestones of tasks
    for milestone in [m for t in targets for m in t.milestones.all()] + list(task_milestones):
        if not first_day <= milestone.due_on <= last_day:
            yield _milestone_outside(plan, milestone, period)
        elif plan.issued_on and milestone.due_on < plan.issued_on:
            yield Finding(
                WARNING,
                "milestone_before_issue",
                plan.code,
                f"时间节点 {milestone.due_on} 早于规划印发日期 {plan.issued_on}",
                [_item(milestone, "milestone")],
            )
    for task in plan.tasks.all():  # tasks with a due date (prefetched)
        if not first_day <= task.due_on <= last_day:
            yield Finding(
                WARNING,
                "task_due_outside_plan",
                plan.code,
                f"任务“{task.title}”完成时限 {task.due_on} 不在规划期 {period} 内",
                [_item(task, "task")],
            )


def _milestone_outside(plan: Plan, milestone: Milestone, period: str) -> Finding:
    return Finding(
        WARNING,
        "milestone_outside_plan",
        plan.code,
        f"时间节点 {milestone.due_on} 不在规划期 {period} 内",
        [_item(milestone, "milestone")],
    )


def _incomplete_targets(plan: Plan, targets: list[Target]) -> Iterable[Finding]:
    for target in targets:
        missing = []
        if target.target_value is None:
            missing.append("目标值")
        if not target.measure_unit:
            missing.append("计量单位")
        if target.target_year is None:
            missing.append("目标年度")
        if missing:
            yield Finding(
                WARNING,
                "target_incomplete",
                plan.code,
                f"“{target.name}”缺少{'、'.join(missing)}",
                [_item(target, "target")],
            )
