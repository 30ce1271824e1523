"""Scores for the assessment sheet (考核表) and verdicts for the evaluation table (中期评估).

Everything numeric comes from the status engine (``targets.rollups.StatusBoard`` and
``targets.status.compute_status``); this module only adds the rules of the assessment, which
are data (``reports.models.AssessmentScheme`` and what hangs off it):

Items
    one per target of the plan, and one per task that has no target (cancelled tasks are not
    assessed). A district's sheet has the targets allocated to it (judged against its share)
    and the targets set for it; a unit's sheet has the targets and target-less tasks of the
    tasks it leads.
Points
    an ``ItemWeight`` when the scheme has one for the item; otherwise ``binding_points`` for
    binding (约束性) targets, ``expected_points`` for the other targets, ``task_points`` for
    tasks. Zero points: shown, not scored.
Completion used for the score (``basis``)
    met → 1; no figure although one is due (未填报) → 0; not yet due (未到期) → not scored.
    ``pace`` (default): the pace ratio (progress ÷ expected progress, the ratio behind the
    engine's status; ``targets.status.pace_ratio``), else the engine's completion when there
    is no pace.
    ``target``: the engine's completion (actual ÷ target value). Both capped to 0–1.
    Tasks: met or on track → 1, otherwise the latest stated percent (0 without one).
Score
    item score = points × completion (so never above the item's points); the group's base
    score = Σ item scores ÷ Σ points of scored items × full marks; deductions are subtracted
    and the result stops at zero; a veto item (一票否决) fails the group whatever its score
    (the lowest grade band that does not pass, 不合格 by default). Grade: the first band, from
    the highest minimum down, whose minimum the final score reaches.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.choices import Attribute
from core.models import Region, Unit
from core.scope import CHANGE, VIEW, allows, require, scope_of
from core.services import NotAllowed, ServiceError, lock_for_edit, save_versioned
from planning.choices import AssignmentRole, TaskStatus
from planning.models import Plan, Task
from reports.models import (
    AssessmentScheme,
    Deduction,
    GradeBand,
    ItemWeight,
    ScoreBasis,
    VetoItem,
)
from targets.choices import Comparator, ProgressStatus
from targets.models import Target
from targets.rollups import StatusBoard
from targets.scope_rules import sees_figures, with_visible_figures
from targets.status import (
    LIGHTS,
    StatusRules,
    TargetProgress,
    compute_status,
    pace_ratio,
    year_end,
    year_plan,
)

ZERO, ONE = Decimal(0), Decimal(1)
CENT = Decimal("0.01")
DEFAULT_BANDS = [("优秀", 90, True), ("良好", 80, True), ("合格", 60, True), ("不合格", 0, False)]
GROUP_BY_REGION, GROUP_BY_UNIT = "region", "unit"


def quantize(value: Decimal | None, step: Decimal = CENT) -> Decimal | None:
    return None if value is None else value.quantize(step, rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------------------ verdicts

AHEAD, NORMAL, BEHIND, UNLIKELY, UNKNOWN = "ahead", "normal", "behind", "unlikely", "unknown"
COMPLETED, NOT_COMPLETED = "completed", "not_completed"  # a finished plan (终期评估)
VERDICT_LABELS = {
    COMPLETED: "已完成",
    NOT_COMPLETED: "未完成",
    AHEAD: "超前",
    NORMAL: "正常",
    BEHIND: "滞后",
    UNLIKELY: "难以完成",
    UNKNOWN: "无法评估",
}
VERDICT_LIGHTS = {
    COMPLETED: "green",
    NOT_COMPLETED: "red",
    AHEAD: "green",
    NORMAL: "green",
    BEHIND: "yellow",
    UNLIKELY: "red",
}
AHEAD_FROM = Decimal("1.1")


def verdict(
    target: Target,
    progress: TargetProgress,
    *,
    rules: StatusRules,
    is_allocation: bool = False,
) -> str:
    """The evaluation verdict (中期评估结论) of a target at the engine's date.

    In this order (first that applies):
    无法评估  no figure yet;
    超前      the target is met before the end of its target year (a ceilings that holds is
              正常, not ahead);
    正常      met at or after the end of its target year;
    难以完成  the target year has ended and it is not met;
    (no pace to compare with: 正常 when the projection meets the target, else 难以完成);
    超前      pace ratio ≥ 110 %;
    正常      pace ratio ≥ ``lagging_below`` (100 % by default);
    滞后      behind pace, but the projection (the engine's straight line from the start through
              the latest figure, to the end of the target year) still meets the target, or the
              pace ratio is at least ``critical_below`` (80 %);
    难以完成  behind pace by more than that and the projection misses the target.

    Once the plan has ended (``progress.finished``, the engine's judgement) it is 已完成 or
    未完成 — no pace, no projection.
    """
    if progress.actual is None:
        return UNKNOWN
    if progress.finished:
        return COMPLETED if progress.status == ProgressStatus.MET else NOT_COMPLETED
    due = year_end(progress.target_year or target.target_year or target.plan.end_year)
    if progress.status == ProgressStatus.MET:
        if target.comparator == Comparator.LTE:
            return NORMAL
        return AHEAD if progress.on < due else NORMAL
    if progress.on > due:
        return UNLIKELY
    ratio = pace_ratio(target, progress, is_allocation=is_allocation)
    if ratio is None:
        if progress.projection_meets is None:
            return UNKNOWN
        return NORMAL if progress.projection_meets else UNLIKELY
    if ratio >= AHEAD_FROM:
        return AHEAD
    if ratio >= rules.lagging_below:
        return NORMAL
    if progress.projection_meets or ratio >= rules.critical_below:
        return BEHIND
    return UNLIKELY


# ------------------------------------------------------------------------------ rules


@dataclass
class Rules:
    """A scheme's rules as plain data (a default one when staff have not set the year up)."""

    scheme: AssessmentScheme | None
    title: str
    full_marks: Decimal
    binding_points: Decimal
    expected_points: Decimal
    task_points: Decimal
    basis: str
    target_points: dict[int, Decimal] = field(default_factory=dict)
    task_points_by_id: dict[int, Decimal] = field(default_factory=dict)
    deductions: dict[tuple[str, int], list[Deduction]] = field(default_factory=dict)
    vetoes: dict[tuple[str, int], list[VetoItem]] = field(default_factory=dict)
    bands: list[tuple[str, Decimal, bool]] = field(default_factory=list)

    @property
    def basis_label(self) -> str:
        return str(ScoreBasis(self.basis).label)

    def points_for_target(self, target: Target) -> Decimal:
        if target.pk in self.target_points:
            return self.target_points[target.pk]
        if target.attribute == Attribute.BINDING:
            return self.binding_points
        return self.expected_points

    def points_for_task(self, task: Task) -> Decimal:
        return self.task_points_by_id.get(task.pk, self.task_points)

    def grade(self, score: Decimal, *, vetoed: bool) -> tuple[str, bool]:
        """(grade, passing)."""
        if vetoed:
            failing = [name for name, _, passing in self.bands if not passing]
            return (failing[-1] if failing else "不合格"), False
        for name, minimum, passing in self.bands:
            if score >= minimum:
                return name, passing
        return "不合格", False


def load_rules(plan: Plan, year: int) -> Rules:
    """The plan's scheme for the year (5 queries), or the defaults when there is none."""
    scheme = AssessmentScheme.objects.filter(plan=plan, year=year).first()
    if scheme is None:
        default = AssessmentScheme(plan=plan, year=year)
        return Rules(
            scheme=None,
            title="",
            full_marks=default.full_marks,
            binding_points=default.binding_points,
            expected_points=default.expected_points,
            task_points=default.task_points,
            basis=default.basis,
            bands=[(name, Decimal(minimum), passing) for name, minimum, passing in DEFAULT_BANDS],
        )
    rules = Rules(
        scheme=scheme,
        title=scheme.title,
        full_marks=scheme.full_marks,
        binding_points=scheme.binding_points,
        expected_points=scheme.expected_points,
        task_points=scheme.task_points,
        basis=scheme.basis,
    )
    for weight in ItemWeight.objects.filter(scheme=scheme):
        if weight.target_id:
            rules.target_points[weight.target_id] = weight.points
        else:
            rules.task_points_by_id[weight.task_id] = weight.points
    deductions: dict[tuple[str, int], list[Deduction]] = defaultdict(list)
    for deduction in Deduction.objects.filter(scheme=scheme).order_by("pk"):
        deductions[_owner_key(deduction)].append(deduction)
    vetoes: dict[tuple[str, int], list[VetoItem]] = defaultdict(list)
    for veto in VetoItem.objects.filter(scheme=scheme).order_by("pk"):
        vetoes[_owner_key(veto)].append(veto)
    rules.deductions, rules.vetoes = dict(deductions), dict(vetoes)
    bands = GradeBand.objects.filter(scheme=scheme).order_by("-min_score")
    rules.bands = [(b.name, b.min_score, b.passing) for b in bands] or [
        (name, Decimal(minimum), passing) for name, minimum, passing in DEFAULT_BANDS
    ]
    return rules


def _owner_key(row: Deduction | VetoItem) -> tuple[str, int]:
    if row.region_id:
        return (GROUP_BY_REGION, row.region_id)
    return (GROUP_BY_UNIT, row.unit_id)


# ------------------------------------------------------------------------------ assessment


@dataclass
class Item:
    kind: str  # "target" or "task"
    object_id: int
    number: str
    task_title: str
    name: str
    units: str
    measure_unit: str
    attribute: str
    target_value: Decimal | None
    year_plan: Decimal | None
    actual: Decimal | None
    completion: Decimal | None
    expected: Decimal | None
    status: str | None
    points: Decimal
    basis_value: Decimal | None  # the completion the score follows; None: not scored
    note: str = ""
    # 指标调整: target_value is the value in force; the plan's own value and the document
    original_value: Decimal | None = None
    doc_number: str = ""  # the adjustment in force ("" when the original is)

    @property
    def adjusted_value(self) -> Decimal | None:
        return self.target_value if self.doc_number else None

    @property
    def scored(self) -> bool:
        return self.basis_value is not None and self.points > 0

    @property
    def score(self) -> Decimal | None:
        if not self.scored:
            return None
        return quantize(self.points * self.basis_value)

    @property
    def status_label(self) -> str:
        return str(ProgressStatus(self.status).label) if self.status else "不考核"

    @property
    def light(self) -> str:
        return LIGHTS[self.status] if self.status else "grey"


@dataclass
class Group:
    kind: str  # "plan", "region" or "unit"
    key: int | None
    label: str
    rules: Rules
    items: list[Item] = field(default_factory=list)
    deductions: list[Deduction] = field(default_factory=list)
    vetoes: list[VetoItem] = field(default_factory=list)

    @property
    def scored_count(self) -> int:
        return sum(1 for i in self.items if i.scored)

    @property
    def points_total(self) -> Decimal:
        return sum((i.points for i in self.items if i.scored), ZERO)

    @property
    def _exact_score(self) -> Decimal:
        return sum((i.points * i.basis_value for i in self.items if i.scored), ZERO)

    @property
    def raw_score(self) -> Decimal:
        """Σ item scores, summed before rounding (so it may differ from the sum of the
        rounded item scores by a cent)."""
        return quantize(self._exact_score)

    @property
    def base_score(self) -> Decimal | None:
        """Σ scores ÷ Σ points × full marks (None when nothing can be scored yet)."""
        if not self.points_total:
            return None
        return quantize(self._exact_score / self.points_total * self.rules.full_marks)

    @property
    def deducted(self) -> Decimal:
        return sum((d.points for d in self.deductions), ZERO)

    @property
    def final_score(self) -> Decimal | None:
        if self.base_score is None:
            return None
        return max(self.base_score - self.deducted, ZERO)

    @property
    def vetoed(self) -> bool:
        return bool(self.vetoes)

    @property
    def grade(self) -> str:
        if self.final_score is None and not self.vetoed:
            return "暂不评定"
        return self.rules.grade(self.final_score or ZERO, vetoed=self.vetoed)[0]

    @property
    def passing(self) -> bool | None:
        if self.final_score is None and not self.vetoed:
            return None
        return self.rules.grade(self.final_score or ZERO, vetoed=self.vetoed)[1]


@dataclass
class Assessment:
    plan: Plan
    year: int
    on: datetime.date
    by: str
    rules: Rules
    overall: Group
    groups: list[Group]

    @property
    def title(self) -> str:
        return self.rules.title or f"{self.plan.title}{self.year}年度考核表"


def assessment_date(year: int, today: datetime.date | None = None) -> datetime.date:
    """A year is assessed at its last day, or today while it is still running."""
    today = today or timezone.localdate()
    return min(year_end(year), today)


def build_assessment(
    plan: Plan, year: int, *, user, by: str = GROUP_BY_REGION, on: datetime.date | None = None
) -> Assessment:
    """The 考核表 data for ``plan`` and ``year`` as ``user`` may see it (a fixed number of
    queries: the status board's, the rules', nothing per item)."""
    if by not in (GROUP_BY_REGION, GROUP_BY_UNIT):
        raise ValueError(f"unknown grouping {by!r}")
    on = on or assessment_date(year)
    rules = load_rules(plan, year)
    # The one rule for figures (targets.scope_rules): no target set for a sibling region.
    targets = with_visible_figures(Target.objects.for_user(user, VIEW).filter(plan=plan), user)
    board = StatusBoard([plan], on=on, targets=targets)
    builder = _ItemBuilder(board, rules, year, on)
    regions = board.inputs.regions
    overall = Group("plan", plan.region_id, regions.names.get(plan.region_id, ""), rules)
    overall.items = [builder.target_item(t) for t in board.targets] + [
        builder.task_item(task) for task in builder.taskless_tasks()
    ]
    _attach_penalties(overall, rules, GROUP_BY_REGION, plan.region_id)
    groups: list[Group] = []
    if by == GROUP_BY_REGION:
        by_region: dict[int, list[Item]] = defaultdict(list)
        for target in board.targets:
            if target.region_id != plan.region_id:
                by_region[target.region_id].append(builder.target_item(target))
            for allocation in board.inputs.allocations.get(target.pk, []):
                if allocation.region_id != target.region_id:
                    by_region[allocation.region_id].append(
                        builder.target_item(target, allocation.region_id, allocation.value)
                    )
        for region_id, items in by_region.items():
            if not sees_figures(user, region_id):
                continue
            group = Group("region", region_id, regions.names.get(region_id, ""), rules, items)
            _attach_penalties(group, rules, GROUP_BY_REGION, region_id)
            groups.append(group)
    else:
        leads: dict[int, Unit] = {}
        led: dict[int, set[int]] = defaultdict(set)
        for assignment in board.assignments:
            if assignment.role == AssignmentRole.LEAD:
                leads[assignment.unit_id] = assignment.unit
                led[assignment.unit_id].add(assignment.task_id)
        taskless = builder.taskless_tasks()
        for unit_id, unit in leads.items():
            items = [builder.target_item(t) for t in board.targets if t.task_id in led[unit_id]]
            items += [builder.task_item(task) for task in taskless if task.pk in led[unit_id]]
            if not items:
                continue
            group = Group("unit", unit_id, unit.name, rules, items)
            _attach_penalties(group, rules, GROUP_BY_UNIT, unit_id)
            groups.append(group)
    groups.sort(key=lambda g: g.label)
    return Assessment(plan, year, on, by, rules, overall, groups)


def _attach_penalties(group: Group, rules: Rules, kind: str, key: int) -> None:
    group.deductions = rules.deductions.get((kind, key), [])
    group.vetoes = rules.vetoes.get((kind, key), [])


class _ItemBuilder:
    def __init__(self, board: StatusBoard, rules: Rules, year: int, on: datetime.date):
        self.board, self.rules, self.year, self.on = board, rules, year, on
        self.plan_units: dict[int, str] = {}
        lead: dict[int, list[str]] = defaultdict(list)
        support: dict[int, list[str]] = defaultdict(list)
        for assignment in sorted(board.assignments, key=lambda a: (a.order, a.pk)):
            names = lead if assignment.role == AssignmentRole.LEAD else support
            names[assignment.task_id].append(assignment.unit.name)
        for task in board.tasks:
            text = "、".join(lead[task.pk])
            if support[task.pk]:
                text += ("；" if text else "") + "配合：" + "、".join(support[task.pk])
            self.plan_units[task.pk] = text
        self.tasks = {t.pk: t for t in board.tasks}

    def taskless_tasks(self) -> list[Task]:
        return [
            t
            for t in self.board.tasks
            if not self.board.targets_by_task.get(t.pk) and t.status != TaskStatus.CANCELLED
        ]

    def target_item(
        self, target: Target, region_id: int | None = None, share: Decimal | None = None
    ) -> Item:
        board = self.board
        is_allocation = region_id is not None
        if is_allocation:
            progress = compute_status(
                target, board.inputs, on=self.on, rules=board.rules, region_id=region_id,
                target_value=share,
            )  # fmt: skip
            units = board.inputs.regions.names.get(region_id, "")
        else:
            progress = board.target_progress[target.pk]
            units = self.plan_units.get(target.task_id, "") if target.task_id else ""
        task = self.tasks.get(target.task_id)
        points = self.rules.points_for_target(target)
        basis, note = self._basis(target, progress, is_allocation)
        return Item(
            kind="target",
            object_id=target.pk,
            number=target.code,
            task_title=str(task) if task else "",
            name=target.name,
            units=units,
            measure_unit=target.measure_unit,
            attribute=target.get_attribute_display() if target.attribute else "",
            target_value=progress.target_value,
            year_plan=year_plan(
                target, board.inputs, self.year, region_id=region_id, target_value=share
            ),
            actual=progress.actual,
            completion=progress.completion,
            expected=progress.expected,
            status=progress.status,
            points=points,
            basis_value=basis,
            note=note,
            original_value=progress.original_value,
            doc_number=progress.adjustment.doc_number if progress.adjustment else "",
        )

    def _basis(self, target, progress, is_allocation) -> tuple[Decimal | None, str]:
        status = progress.status
        if status == ProgressStatus.MET:
            return ONE, ""
        if status == ProgressStatus.NO_DATA:
            return ZERO, "未填报，不得分"
        if status == ProgressStatus.NOT_DUE:
            return None, "未到考核期，不计分"
        value = None
        if self.rules.basis == ScoreBasis.PACE:
            value = pace_ratio(target, progress, is_allocation=is_allocation)
        if value is None:
            value = progress.completion
        if value is None:
            return ZERO, "无法计算完成度"
        return min(max(value, ZERO), ONE), ""

    def task_item(self, task: Task) -> Item:
        progress = self.board.task_progress[task.pk]
        status = progress.status
        percent = progress.latest_percent
        if status in (ProgressStatus.MET, ProgressStatus.ON_TRACK):
            basis, note = ONE, ""
        elif status == ProgressStatus.NOT_DUE or status is None:
            basis, note = None, "未到考核期，不计分"
        elif percent is not None:
            basis, note = Decimal(percent) / 100, f"按最新进展 {percent}% 计分"
        else:
            basis, note = ZERO, "无进展记录，不得分"
        return Item(
            kind="task",
            object_id=task.pk,
            number=task.number or task.code,
            task_title=task.title,
            name="",
            units=self.plan_units.get(task.pk, ""),
            measure_unit="%",
            attribute="",
            target_value=Decimal(100),
            year_plan=None,
            actual=Decimal(percent) if percent is not None else None,
            completion=Decimal(percent) / 100 if percent is not None else None,
            expected=None,
            status=status,
            points=self.rules.points_for_task(task),
            basis_value=basis,
            note=note,
        )


# ------------------------------------------------------------------------------ evaluation


@dataclass
class EvaluationRow:
    target: Target
    region_label: str
    progress: TargetProgress
    ratio: Decimal | None
    verdict: str

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.verdict]

    @property
    def doc_number(self) -> str:
        """The 文号 of the adjustment in force ("" when the plan's own value is)."""
        adjustment = self.progress.adjustment
        return adjustment.doc_number if adjustment else ""

    @property
    def adjusted_value(self) -> Decimal | None:
        return self.progress.target_value if self.doc_number else None

    @property
    def light(self) -> str:
        return VERDICT_LIGHTS.get(self.verdict, "grey")


def build_evaluation(plan: Plan, *, user, on: datetime.date | None = None) -> list[EvaluationRow]:
    """中期评估 rows: each target of the plan the user may see, then its allocations."""
    on = on or timezone.localdate()
    # The one rule for figures (targets.scope_rules): no target set for a sibling region, no
    # sibling region's share.
    targets = with_visible_figures(Target.objects.for_user(user, VIEW).filter(plan=plan), user)
    board = StatusBoard([plan], on=on, targets=targets)
    names = board.inputs.regions.names
    rows = []
    for target in board.targets:
        progress = board.target_progress[target.pk]
        rows.append(
            EvaluationRow(
                target,
                names.get(target.region_id, ""),
                progress,
                pace_ratio(target, progress),
                verdict(target, progress, rules=board.rules),
            )
        )
        for allocation in board.inputs.allocations.get(target.pk, []):
            if allocation.region_id == target.region_id:
                continue
            if not sees_figures(user, allocation.region_id):
                continue
            share = compute_status(
                target, board.inputs, on=on, rules=board.rules,
                region_id=allocation.region_id, target_value=allocation.value,
            )  # fmt: skip
            rows.append(
                EvaluationRow(
                    target,
                    names.get(allocation.region_id, ""),
                    share,
                    pace_ratio(target, share, is_allocation=True),
                    verdict(target, share, rules=board.rules, is_allocation=True),
                )
            )
    return rows


# ------------------------------------------------------------------------------ services


def _check_may_edit(actor, plan: Plan) -> None:
    require(actor, CHANGE)
    if not allows(actor, plan, CHANGE):
        raise NotAllowed("out_of_scope", _("该规划不在您的管理范围内"))


@transaction.atomic
def ensure_scheme(plan: Plan, year: int, *, actor) -> AssessmentScheme:
    """The plan's scheme for the year, created with the default grade bands if missing."""
    _check_may_edit(actor, plan)
    if not plan.start_year <= year <= plan.end_year:
        raise ServiceError(
            "year_outside_plan",
            _("%(year)s 年不在规划期 %(start_year)s—%(end_year)s 内")
            % {"year": year, "start_year": plan.start_year, "end_year": plan.end_year},
            field="year",
        )
    scheme = AssessmentScheme.objects.filter(plan=plan, year=year).first()
    if scheme is not None:
        return scheme
    scheme = AssessmentScheme(plan=plan, year=year, updated_by=actor)
    scheme._history_user = actor
    scheme.save()
    for name, minimum, passing in DEFAULT_BANDS:
        band = GradeBand(scheme=scheme, name=name, min_score=Decimal(minimum), passing=passing)
        band._history_user = actor
        band.save()
    return scheme


SCHEME_FIELDS = ["title", "full_marks", "binding_points", "expected_points", "task_points"]


@transaction.atomic
def update_scheme(
    scheme: AssessmentScheme, *, actor, version: int | None, changes: dict
) -> AssessmentScheme:
    _check_may_edit(actor, scheme.plan)
    scheme = lock_for_edit(AssessmentScheme, scheme.pk, version)
    fields = []
    for name in [*SCHEME_FIELDS, "basis", "note"]:
        if name in changes and getattr(scheme, name) != changes[name]:
            setattr(scheme, name, changes[name])
            fields.append(name)
    if scheme.full_marks is not None and scheme.full_marks <= 0:
        raise ServiceError("bad_points", _("满分应大于 0"), field="full_marks")
    if scheme.basis not in ScoreBasis.values:
        raise ServiceError("bad_basis", _("计分依据应为“按序时进度”或“按目标值”"), field="basis")
    if fields:
        scheme.updated_by = actor
        save_versioned(scheme, [*fields, "updated_by"], actor=actor, reason="修改考核方案")
    return scheme


def _owner(scheme: AssessmentScheme, actor, region: Region | None, unit: Unit | None):
    if (region is None) == (unit is None):
        raise ServiceError(
            "owner_required", _("请选择一个被考核区划或一个被考核单位"), field="region"
        )
    located = region.pk if region is not None else unit.region_id
    if not scope_of(actor).covers(located):
        raise NotAllowed("out_of_scope", _("该区划或单位不在您的管理范围内"))


@transaction.atomic
def add_deduction(
    scheme: AssessmentScheme,
    *,
    actor,
    reason: str,
    points,
    region: Region | None = None,
    unit: Unit | None = None,
) -> Deduction:
    _check_may_edit(actor, scheme.plan)
    _owner(scheme, actor, region, unit)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("请填写扣分事由"), field="reason")
    try:
        points = Decimal(str(points))
    except ArithmeticError:
        raise ServiceError("bad_points", _("扣分应为大于 0 的数字"), field="points") from None
    if not points.is_finite() or points <= 0 or points > 1000:
        raise ServiceError("bad_points", _("扣分应为大于 0、不超过 1000 的数字"), field="points")
    deduction = Deduction(
        scheme=scheme,
        region=region,
        unit=unit,
        reason=reason[:255],
        points=quantize(points),
        created_by=actor,
    )
    deduction._history_user = actor
    deduction.save()
    return deduction


@transaction.atomic
def add_veto(
    scheme: AssessmentScheme,
    *,
    actor,
    title: str,
    region: Region | None = None,
    unit: Unit | None = None,
    occurred_on: datetime.date | None = None,
    note: str = "",
) -> VetoItem:
    _check_may_edit(actor, scheme.plan)
    _owner(scheme, actor, region, unit)
    title = (title or "").strip()
    if not title:
        raise ServiceError("title_required", _("请填写否决事项"), field="title")
    veto = VetoItem(
        scheme=scheme,
        region=region,
        unit=unit,
        title=title[:255],
        occurred_on=occurred_on,
        note=note,
        created_by=actor,
    )
    veto._history_user = actor
    veto.save()
    return veto


@transaction.atomic
def remove_penalty(row: Deduction | VetoItem, *, actor) -> None:
    """Delete a deduction or veto item (history keeps the deleted row)."""
    _check_may_edit(actor, row.scheme.plan)
    row._history_user = actor
    row.delete()


@transaction.atomic
def set_item_points(
    scheme: AssessmentScheme, *, actor, points, target: Target | None = None, task=None
) -> ItemWeight:
    _check_may_edit(actor, scheme.plan)
    if (target is None) == (task is None):
        raise ServiceError("item_required", _("请选择一个指标或一个任务"), field="target")
    item = target or task
    if item.plan_id != scheme.plan_id:
        raise ServiceError("other_plan", _("该指标或任务不属于本规划"), field="target")
    try:
        points = Decimal(str(points))
    except ArithmeticError:
        raise ServiceError("bad_points", _("分值应为不小于 0 的数字"), field="points") from None
    if not points.is_finite() or points < 0 or points > 1000:
        raise ServiceError("bad_points", _("分值应为 0 到 1000 之间的数字"), field="points")
    weight = ItemWeight.objects.filter(scheme=scheme, target=target, task=task).first()
    created = weight is None
    if created:
        weight = ItemWeight(scheme=scheme, target=target, task=task)
    weight.points = quantize(points)
    weight._history_user = actor
    weight.save(update_fields=None if created else ["points"])
    return weight
