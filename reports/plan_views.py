"""The pages that read plans together with their targets and progress: the overview, the plan
list and plan page, task pages, region and unit pages (reports layer: they read across apps)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.editing import editable_or_404, may_change_region, visible_or_404
from core.history import history_entries
from core.models import Region, Unit
from core.once import once_per_form
from core.scope import CHANGE, EXPORT, REPORT, can, require
from core.services import NotAllowed, ServiceError
from planning import services
from planning.choices import AssignmentRole
from planning.filtersets import PlanFilterSet
from planning.forms import TaskUpdateForm
from planning.models import Plan, Section, Stage, Task, TaskUpdate
from reports import charts, dashboards, page_cache
from reports.evaluation import docx_response, evaluation_date, parse_kind
from reports.filtersets import PlanTaskFilterSet
from reports.forms import SuccessorForm
from targets.choices import ProgressStatus
from targets.integrity import plan_findings
from targets.models import Target
from targets.rollups import StatusBoard, Summary
from targets.status import LIGHTS, TargetProgress, plan_finished
from targets.successor import create_successor

PAGE_SIZE = 50


def home(request):
    """总览: every plan in scope with its lights, binding targets lagging, milestones due soon,
    who has not reported for the open period, recent changes (reports.dashboards); the
    charts on top (reports.charts). The content is kept whole (reports.page_cache)."""
    on = timezone.localdate()
    plans = dashboards.plans_in_scope(request.user)

    def build() -> str:
        context = dashboards.overview(request.user, on=on)
        context["charts"] = charts.for_overview_page(request.user, context)
        context["charts_url"] = reverse("api_overview_charts")
        return page_cache.render_content(request, "planning/home_content.html", context)

    html = page_cache.content(
        request, "overview", [p.pk for p in plans], on, build, cacheable=not request.GET
    )
    return render(request, "planning/home.html", {"content": page_cache.fill(html, request)})


def region_detail(request, pk: int):
    region = visible_or_404(request, Region.objects.select_related("parent"), pk)
    on = timezone.localdate()
    plans = dashboards.plans_in_scope(request.user)
    page, owed = request.GET.get("page"), request.GET.get("owed_page")

    def build() -> str:
        context = dashboards.region_page(request.user, region, on=on, page=page, owed=owed)
        context["charts"] = charts.for_region(request.user, region, on=on, context=context)
        context["charts_url"] = reverse("region-charts", args=[region.pk])
        return page_cache.render_content(request, "planning/region_detail_content.html", context)

    html = page_cache.content(
        request,
        "region",
        [p.pk for p in plans],
        on,
        build,
        region.pk,
        page,
        owed,
        cacheable=page_cache.plain_query(request, "page", "owed_page"),
    )
    context = {"region": region, "content": page_cache.fill(html, request)}
    return render(request, "planning/region_detail.html", context)


def unit_detail(request, pk: int):
    unit = visible_or_404(request, Unit.objects.select_related("region"), pk)
    on = timezone.localdate()
    plans = dashboards.plans_in_scope(request.user)
    page, owed = request.GET.get("page"), request.GET.get("owed_page")

    def build() -> str:
        context = dashboards.unit_page(request.user, unit, on=on, page=page, owed=owed)
        return page_cache.render_content(request, "planning/unit_detail_content.html", context)

    html = page_cache.content(
        request,
        "unit",
        [p.pk for p in plans],
        on,
        build,
        unit.pk,
        page,
        owed,
        cacheable=page_cache.plain_query(request, "page", "owed_page"),
    )
    context = {"unit": unit, "content": page_cache.fill(html, request)}
    return render(request, "planning/unit_detail.html", context)


def _count(model, **outer) -> Coalesce:
    """Rows of ``model`` per plan, as a subquery (no join that would multiply the plans)."""
    rows = (
        model.objects.filter(**{key: OuterRef(value) for key, value in outer.items()})
        .order_by()
        .values(*outer)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def plan_list(request):
    queryset = (
        Plan.objects.for_user(request.user)
        .select_related("region", "parent")
        .annotate(task_count=_count(Task, plan="pk"), target_count=_count(Target, plan="pk"))
        .order_by("region__name", "-start_year", "title")
    )
    filterset = PlanFilterSet(request.GET, queryset=queryset, request=request)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for plan in page:
        plan.can_change = may_change_region(request.user, plan.region_id)
    context = {"filterset": filterset, "page": page, "can_create": can(request.user, CHANGE)}
    return render(request, "planning/plan_list.html", context)


@dataclass
class TaskRow:
    task: Task
    progress: object
    lead: list[Unit] = field(default_factory=list)
    support: list[Unit] = field(default_factory=list)
    targets: list[tuple[Target, TargetProgress]] = field(default_factory=list)


@dataclass
class SectionNode:
    section: Section | None
    depth: int
    tasks: list[TaskRow] = field(default_factory=list)
    targets: list[tuple[Target, TargetProgress]] = field(default_factory=list)


@dataclass
class TreeFilter:
    """What the plan page's filters keep: the matching tasks (None: every task), the sections
    chosen with those below them (None: all), and the attribute and light that the targets
    shown must have. ``tasks_only`` when a filter concerns tasks alone (unit, role, task
    status, search): targets set in a section without a task then drop out."""

    task_ids: set[int] | None = None
    section_ids: set[int] | None = None
    attribute: str = ""
    progress: str = ""
    tasks_only: bool = False

    @classmethod
    def from_filterset(cls, filterset: PlanTaskFilterSet) -> TreeFilter:
        chosen = filterset.chosen()
        if not chosen:
            return cls()
        return cls(
            task_ids=set(filterset.qs.values_list("pk", flat=True)),
            section_ids=filterset.section_ids(),
            attribute=chosen.get("attribute", ""),
            progress=chosen.get("progress", ""),
            tasks_only=bool(chosen.keys() & {"unit", "role", "status", "search"}),
        )

    @property
    def active(self) -> bool:
        return self.task_ids is not None

    def keeps_loose(self, target: Target, progress: TargetProgress) -> bool:
        """Whether a target set in a section without a task stays."""
        return not self.tasks_only and (
            (self.section_ids is None or target.section_id in self.section_ids)
            and (not self.attribute or target.attribute == self.attribute)
            and (not self.progress or progress.status == self.progress)
        )


def plan_tree(
    sections: list[Section], board: StatusBoard, keep: TreeFilter | None = None
) -> list[SectionNode]:
    """Sections depth-first with their tasks (units, targets, statuses) and the targets set
    in a section without a task; what has no section comes last. With an active filter, only
    the matching tasks and targets, in the sections that hold them and those above. Pure
    Python over what the board already loaded."""
    keep = keep or TreeFilter()
    rows: dict[int, TaskRow] = {
        task.pk: TaskRow(task, board.task_progress[task.pk])
        for task in board.tasks
        if keep.task_ids is None or task.pk in keep.task_ids
    }
    for assignment in sorted(board.assignments, key=lambda a: (a.order, a.pk)):
        row = rows.get(assignment.task_id)
        if row is not None:
            role_list = row.lead if assignment.role == AssignmentRole.LEAD else row.support
            role_list.append(assignment.unit)
    loose_targets: dict[int | None, list] = {}
    for target in board.targets:
        pair = (target, board.target_progress[target.pk])
        if target.task_id in rows:
            if not keep.attribute or target.attribute == keep.attribute:
                rows[target.task_id].targets.append(pair)
        elif not keep.active or (target.task_id is None and keep.keeps_loose(*pair)):
            loose_targets.setdefault(target.section_id, []).append(pair)

    known = {s.pk for s in sections}
    children: dict[int | None, list[Section]] = {}
    for section in sections:
        parent = section.parent_id if section.parent_id in known else None
        children.setdefault(parent, []).append(section)
    tasks_by_section: dict[int | None, list[TaskRow]] = {}
    for row in rows.values():
        key = row.task.section_id if row.task.section_id in known else None
        tasks_by_section.setdefault(key, []).append(row)
    shown = _sections_shown(sections, tasks_by_section, loose_targets) if keep.active else known

    nodes: list[SectionNode] = []
    stack = [(s, 0) for s in reversed(children.get(None, []))]
    while stack:
        section, depth = stack.pop()
        if section.pk in shown:
            nodes.append(
                SectionNode(
                    section,
                    depth,
                    tasks_by_section.get(section.pk, []),
                    loose_targets.pop(section.pk, []),
                )
            )
        stack.extend((child, depth + 1) for child in reversed(children.get(section.pk, [])))
    leftover = [pair for pairs in loose_targets.values() for pair in pairs]
    if tasks_by_section.get(None) or leftover:
        nodes.append(SectionNode(None, 0, tasks_by_section.get(None, []), leftover))
    return nodes


def _sections_shown(sections: list[Section], tasks_by_section: dict, targets: dict) -> set[int]:
    """The sections holding a task or target, and every section above them."""
    parents = {s.pk: s.parent_id for s in sections}
    shown: set[int] = set()
    for pk in {*tasks_by_section, *targets} & set(parents):
        while pk in parents and pk not in shown:
            shown.add(pk)
            pk = parents[pk]
    return shown


def status_counts(summary: Summary) -> list[tuple[str, str, int]]:
    """(light, label, count) per status, in the engine's order, for the summary line."""
    return [(LIGHTS[s], str(s.label), summary.counts[s.value]) for s in ProgressStatus]


def plan_detail(request, pk: int):
    plan = visible_or_404(
        request, Plan.objects.select_related("region", "parent", "predecessor", "successor"), pk
    )
    on = timezone.localdate()

    def build() -> str:
        context = plan_context(request, plan, on)
        return page_cache.render_content(request, "planning/plan_detail_content.html", context)

    # Filtered views are rendered as they come (their queries are the user's own).
    html = page_cache.content(
        request, "plan", [plan.pk], on, build, plan.pk, cacheable=not request.GET
    )

    def successor_form() -> str:
        form = SuccessorForm(
            initial={
                "start_year": plan.end_year + 1,
                "end_year": plan.end_year + 1 + plan.end_year - plan.start_year,
            }
        )
        # Without the request: its context processors (the header's menu and notices query)
        # would run a second time for this one form; the CSRF token is all it needs of it.
        context = {"plan": plan, "successor_form": form, "csrf_token": get_token(request)}
        return render_to_string("planning/successor_form.html", context)

    content = page_cache.fill(html, request, {SUCCESSOR_SLOT: successor_form})
    return render(request, "planning/plan_detail.html", {"plan": plan, "content": content})


SUCCESSOR_SLOT = "<!--page-slot:successor-form-->"


def plan_context(request, plan: Plan, on: datetime.date) -> dict:
    """What the plan page shows (the successor form apart: ``SUCCESSOR_SLOT``)."""
    sections = list(Section.objects.filter(plan=plan).order_by("order", "pk"))
    board = StatusBoard([plan], on=on)
    summary = board.plan_summary(plan)
    filterset = PlanTaskFilterSet(
        request.GET or None,
        queryset=Task.objects.filter(plan=plan),
        request=request,
        sections=sections,
        board=board,
    )
    keep = TreeFilter.from_filterset(filterset)
    return {
        "plan": plan,
        "nodes": plan_tree(sections, board, keep),
        "retired_targets": board.retired_targets,
        "filterset": filterset,
        "matching_tasks": len(keep.task_ids) if keep.active else None,
        "summary": summary,
        "target_counts": status_counts(summary["targets"]),
        "task_counts": status_counts(summary["tasks"]),
        "can_change": may_change_region(request.user, plan.region_id),
        "history": history_entries(plan),
        "stages": stage_timeline(plan, on),
        "findings": plan_findings(plan),
        "finished": plan_finished(plan, board.on),
        "evaluation_on": evaluation_date(plan, board.on),
    }


def plan_evaluation_report(request, pk: int):
    """The evaluation report (Word) of the plan at ``?on=`` (today by default)."""
    require(request.user, EXPORT)
    plan = visible_or_404(request, Plan.objects.select_related("region"), pk)
    today = timezone.localdate()
    try:
        on = datetime.date.fromisoformat(request.GET["on"]) if request.GET.get("on") else today
        kind = parse_kind(request.GET.get("kind"), plan, on)
    except ValueError:
        messages.error(request, _("评估日期应为 YYYY-MM-DD 格式"))
        return redirect("reports:plan_detail", pk=plan.pk)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("reports:plan_detail", pk=plan.pk)
    return docx_response(plan, user=request.user, on=on, kind=kind)


@require_POST
@once_per_form
def plan_successor(request, pk: int):
    """「编制下一期规划」: the draft plan of the next period (targets.successor)."""
    plan = editable_or_404(request, Plan.objects.all(), pk)
    try:
        successor = create_successor(
            plan,
            actor=request.user,
            start_year=request.POST.get("start_year"),
            end_year=request.POST.get("end_year"),
            code=request.POST.get("code", ""),
            title=request.POST.get("title", ""),
        )
    except NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("reports:plan_detail", pk=plan.pk)
    messages.success(
        request, _("已编制下一期规划草稿：%(title)s，请核对后发布") % {"title": successor.title}
    )
    return redirect("reports:plan_detail", pk=successor.pk)


def stage_timeline(plan: Plan, on: datetime.date | None = None) -> list[tuple[Stage, str]]:
    """The plan's stages with where today (``on``) falls: past, current or future."""
    today = on or timezone.localdate()
    rows = []
    for stage in Stage.objects.filter(plan=plan).order_by("order", "starts_on", "pk"):
        if stage.ends_on and stage.ends_on < today:
            when = "past"
        elif stage.starts_on and stage.starts_on > today:
            when = "future"
        else:
            when = "current" if stage.starts_on or stage.ends_on else "future"
        rows.append((stage, when))
    return rows


def _task_context(request, task: Task, update_form: TaskUpdateForm) -> dict:
    board = StatusBoard([task.plan], targets=Target.objects.filter(task=task))
    assignments = sorted(
        (a for a in board.assignments if a.task_id == task.pk), key=lambda a: (a.order, a.pk)
    )
    updates = (
        TaskUpdate.objects.filter(task=task)
        .select_related("author")
        .prefetch_related("evidence")
        .order_by("-created_at", "-pk")
    )
    return {
        "task": task,
        "plan": task.plan,
        "progress": board.task_progress[task.pk],
        "lead": [a.unit for a in assignments if a.role == AssignmentRole.LEAD],
        "support": [a.unit for a in assignments if a.role == AssignmentRole.SUPPORT],
        "targets": [(t, board.target_progress[t.pk]) for t in board.targets],
        "retired_targets": board.retired_targets,
        "milestones": [
            (m, board.task_progress[task.pk].milestone_states[m.pk])
            for m in board.task_milestones[task.pk]
        ],
        "updates": updates,
        "update_form": update_form,
        "can_change": may_change_region(request.user, task.plan.region_id),
        "can_post": services.may_post_update(request.user, task),
        "history": history_entries(task),
    }


def task_detail(request, pk: int):
    task = visible_or_404(request, Task.objects.select_related("plan__region", "section"), pk)
    return render(
        request, "planning/task_detail.html", _task_context(request, task, TaskUpdateForm())
    )


@require_POST
@once_per_form
def task_update_create(request, pk: int):
    require(request.user, REPORT)
    task = visible_or_404(request, Task.objects.select_related("plan__region", "section"), pk)
    form = TaskUpdateForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.post_task_update(
                task,
                actor=request.user,
                text=data["text"],
                percent=data["percent"],
                evidence=data["evidence"],
            )
        except NotAllowed as error:
            raise PermissionDenied(error.message) from None
        except ServiceError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("已添加进展"))
            return redirect(reverse("reports:task_detail", args=[task.pk]) + "#updates")
    context = _task_context(request, task, form)
    return render(request, "planning/task_detail.html", context, status=400)
