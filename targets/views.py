"""Target pages (targets.services, targets.upkeep): the reporting workflow — what I owe
(我的填报), the report form, the review inbox — and the target page with the edit pages of
targets and milestones (指标、时间节点的维护).

Views parse input and call the services; they never write themselves. Objects outside
the user's scope are 404 (restrict → get_object_or_404); actions the role lacks are 403.
"""

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.editing import (
    editable_or_404,
    export_redirect,
    may_change_region,
    run_service,
    visible_or_404,
)
from core.history import history_entries
from core.models import Region
from core.numbers import plain, understood
from core.once import once_per_form
from core.periods import is_valid_period
from core.regions import RegionTree
from core.scope import APPROVE, REPORT, VIEW, can, require, scope_of
from core.services import NotAllowed, ServiceError, StaleEdit
from planning.models import Plan, Task
from planning.views import lifecycle_action
from targets import bases, retire, services, upkeep
from targets.allocations import (
    cascade_tree,
    related_targets,
    split_allocation,
    whole_regions,
)
from targets.choices import EvaluationKind, Feed, ReportStatus
from targets.filtersets import ProgressReportFilterSet
from targets.forms import (
    AdjustmentForm,
    AllocationSplitForm,
    BaseFiguresForm,
    EvaluationNoteForm,
    MilestoneCreateForm,
    MilestoneUpkeepForm,
    ReasonForm,
    ReportForm,
    TargetCreateForm,
    TargetUpkeepForm,
)
from targets.models import (
    Allocation,
    Milestone,
    ProgressReport,
    ReportContribution,
    Target,
    TargetAdjustment,
    TargetEvaluationNote,
)
from targets.owed import owed_items
from targets.scope_rules import sees_figures
from targets.series import target_series
from targets.status import (
    compute_allocations,
    compute_status,
    load_status_inputs,
    milestone_state,
    value_in_force,
)


def my_reports(request):
    require(request.user, REPORT)
    items = owed_items(request.user)
    state = request.GET.get("state", "")
    if state:
        items = [item for item in items if item.state == state]
    from targets.owed import STATE_LABELS

    context = {"items": items, "state": state, "state_choices": STATE_LABELS.items()}
    return render(request, "targets/my_reports.html", context)


def _report_context(request, target, region, period, report, form):
    contributions = ReportContribution.objects.filter(
        target=target, region=region, period=period
    ).select_related("unit", "submitted_by")
    previous = (
        ProgressReport.objects.filter(target=target, region=region, period__lt=period)
        .filter(status=ReportStatus.APPROVED)
        .order_by("-period")
        .first()
    )
    return {
        "target": target,
        "region": region,
        "period": period,
        "report": report,
        "form": form,
        "previous": previous,
        "contributions": contributions,
        "editable": report is None or report.status in services.EDITABLE,
        "can_review": can(request.user, APPROVE),
        "reason_form": ReasonForm(initial={"version": report.version if report else None}),
        "history": history_entries(report) if report else [],
        "evidence": list(report.evidence.all()) if report else [],
    }


@once_per_form
def report_edit(request, target_id: int, region_id: int, period: str):
    target = get_object_or_404(
        Target.objects.for_user(request.user, VIEW).select_related("plan", "region"), pk=target_id
    )
    region = get_object_or_404(Region.objects.for_user(request.user, VIEW), pk=region_id)
    if not is_valid_period(period) or not scope_of(request.user).covers(region):
        # A figure belongs to one region: outside the user's sub-tree it does not exist for
        # them (a county liaison cannot open the city's own figure above it).
        raise Http404
    report = ProgressReport.objects.filter(target=target, region=region, period=period).first()
    period_problem = _period_problem(target, region, period)
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = services.save_report(
                    actor=request.user,
                    target=target,
                    region=region,
                    period=period,
                    value=data["value"],
                    note=data["note"],
                    confirm_note=data["confirm_note"],
                    evidence=data["evidence"],
                    version=data["version"],
                    submit="submit" in request.POST,
                )
            except NotAllowed as error:
                raise PermissionDenied(error.message) from None
            except services.NeedsConfirmation as error:
                form.add_error(
                    "confirm_note",
                    _("%(warning)s。请在“异常值说明”中说明后再保存。") % {"warning": error.message},
                )
            except ServiceError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                verb = _("已提交") if report.status == ReportStatus.SUBMITTED else _("已保存草稿")
                done = _("%(verb)s：%(target)s %(region)s %(period)s") % {
                    "verb": verb,
                    "target": target.name,
                    "region": region.name,
                    "period": period,
                }
                read_as = understood(data["value"], report.value)
                if read_as is not None:
                    done += _("（数值“%(raw)s”已理解为 %(value)s）") % {
                        "raw": data["value"].strip(),
                        "value": read_as,
                    }
                messages.success(request, done)
                return redirect(request.path)
            # Not saved: the page says what the number was read as, next to the field.
            form.understood = {"value": _understood_value(request.POST.get("value", ""), target)}
    else:
        form = ReportForm(
            initial={
                # Written plainly (30000, not 3E+4: an exponent is refused when saved back).
                "value": plain(report.value) if report and report.value is not None else "",
                "note": report.note if report else "",
                "confirm_note": report.confirm_note if report else "",
                "version": report.version if report else 0,
            }
        )
    context = _report_context(request, target, region, period, report, form)
    if period_problem and (report is None or report.status in services.EDITABLE):
        context["editable"] = False
        context["period_problem"] = period_problem
    return render(request, "targets/report_form.html", context, status=400 if form.errors else 200)


def _understood_value(raw: str, target) -> str | None:
    try:
        return understood(raw, services.parse_value(raw, target))
    except ServiceError:
        return None  # the refusal is on the form


def _period_problem(target, region, period) -> str:
    """Why figures cannot be entered for this period now (empty when they can)."""
    try:
        found = services.reporting_period(target, period)
    except ServiceError as error:
        return error.message
    locked = services.locked_error(found, region)
    return locked.message if locked is not None else ""


def review_inbox(request):
    if request.GET.get("export") == "xlsx":
        # Old links: the ledger export is a reports view (same filters).
        return export_redirect(request, "reports:excel_report_ledger")
    require(request.user, APPROVE)
    data = request.GET.copy()
    data.setdefault("status", ReportStatus.SUBMITTED)
    queryset = (
        ProgressReport.objects.for_user(request.user, APPROVE)
        .select_related("target__plan", "region", "submitted_by")
        .order_by("submitted_at", "pk")
    )
    filterset = ProgressReportFilterSet(data, queryset=queryset, request=request)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "targets/review_inbox.html",
        {"filterset": filterset, "page": page, "reason_form": ReasonForm()},
    )


def _reviewable(request, pk: int) -> ProgressReport:
    return get_object_or_404(ProgressReport.objects.for_user(request.user, VIEW), pk=pk)


def _safe_next(request, fallback: str) -> str:
    """The ``next`` address when it stays on this site, else the fallback (no open redirect)."""
    target = request.POST.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else fallback


def _back(request, report: ProgressReport):
    fallback = reverse(
        "targets:report_edit", args=[report.target_id, report.region_id, report.period]
    )
    return redirect(_safe_next(request, fallback))


def _version(request) -> int | None:
    raw = request.POST.get("version")
    return int(raw) if raw and raw.isdigit() else None


def _run(request, report, action, **kwargs):
    try:
        action(report, actor=request.user, version=_version(request), **kwargs)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except ServiceError as error:
        messages.error(request, error.message)
        return False
    return True


@require_POST
def report_approve(request, pk: int):
    require(request.user, APPROVE)
    report = _reviewable(request, pk)
    if _run(request, report, services.approve_report):
        messages.success(
            request,
            _("已审核通过：%(target)s %(region)s %(period)s")
            % {"target": report.target.name, "region": report.region.name, "period": report.period},
        )
    return _back(request, report)


@require_POST
def report_return(request, pk: int):
    require(request.user, APPROVE)
    report = _reviewable(request, pk)
    if _run(request, report, services.return_report, reason=request.POST.get("reason", "")):
        messages.success(
            request,
            _("已退回：%(target)s %(region)s %(period)s")
            % {"target": report.target.name, "region": report.region.name, "period": report.period},
        )
    return _back(request, report)


@require_POST
def report_reopen(request, pk: int):
    require(request.user, APPROVE)
    report = _reviewable(request, pk)
    if _run(request, report, services.reopen_report, reason=request.POST.get("reason", "")):
        messages.success(request, _("已重新打开，填报人可修改后重新提交"))
    return _back(request, report)


@require_POST
def report_submit(request, pk: int):
    require(request.user, REPORT)
    report = _reviewable(request, pk)
    if _run(request, report, services.submit_report):
        messages.success(request, _("已提交"))
    return _back(request, report)


@require_POST
def reports_bulk_approve(request):
    require(request.user, APPROVE)
    ids = [int(pk) for pk in request.POST.getlist("report") if pk.isdigit()]
    reports = list(ProgressReport.objects.for_user(request.user, APPROVE).filter(pk__in=ids))
    if len(reports) != len(set(ids)):
        raise PermissionDenied(_("所选报送中有不在您审核范围内的"))
    try:
        with transaction.atomic():
            count = services.bulk_approve(reports, actor=request.user)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except ServiceError as error:
        messages.error(request, _("批量审核未执行：%(error)s") % {"error": error.message})
    else:
        messages.success(request, _("已批量审核通过 %(count)s 条") % {"count": count})
    return redirect(_safe_next(request, reverse("targets:review_inbox")))


# ------------------------------------------------------------ targets and milestones


TARGET_PAGE = Target.objects.select_related(
    "plan__region", "task", "section", "region", "predecessor__plan", "successor__plan"
)


def target_detail(request, pk: int):
    target = visible_or_404(request, TARGET_PAGE, pk)
    return render(request, "targets/target_detail.html", _target_context(request, target))


def _cascade_context(request, target: Target, inputs, allocations, related) -> dict:
    """指标分解 on the target page: the target it implements above, the targets implementing
    it below, and its split as a tree, each with value, figure and light (judged from the one
    ``inputs``: no query per row)."""
    parent = next((t for t in related if t.pk == target.parent_target_id), None)
    children = [t for t in related if t.parent_target_id == target.pk]
    progress = {a.region_id: p for a, p in allocations}
    tree = cascade_tree(
        target, (a for a, _ in allocations), inputs.regions.parent, inputs.regions.names
    )
    return {
        "parent_target": (parent, compute_status(parent, inputs)) if parent else None,
        "child_targets": [(t, compute_status(t, inputs)) for t in children],
        "cascade": [(node, progress.get(node.region_id)) for node in tree.walk()][1:],
        "cascade_root": tree,
    }


def _target_context(
    request,
    target: Target,
    adjust_form: AdjustmentForm | None = None,
    note_form: EvaluationNoteForm | None = None,
) -> dict:
    # The engine's inputs hold the milestones, allocations and adjustments too: no query per row.
    # The targets above and below it in the cascade (指标分解) are judged with it.
    related = related_targets(target, request.user)
    inputs = load_status_inputs([target, *related])
    names = inputs.regions.names
    progress = compute_status(target, inputs)
    in_force = value_in_force(target, progress.on, inputs=inputs)
    adjustments = list(
        TargetAdjustment.objects.filter(target=target)
        .select_related("actor")
        .order_by("adopted_on", "pk")
    )
    can_change = may_change_region(request.user, target.plan.region_id)
    if can_change and adjust_form is None:
        adjust_form = AdjustmentForm(
            initial={
                "new_value": in_force.value.normalize() if in_force.value is not None else None,
                "new_year": in_force.year,
                "version": target.version,
            }
        )
    # The one rule for figures: no sibling region's share, no actual of a sibling's target.
    own_figures = sees_figures(request.user, target.region_id)
    allocations = [
        (allocation, allocation_progress)
        for allocation, allocation_progress in compute_allocations(target, inputs)
        if sees_figures(request.user, allocation.region_id)
    ]
    # The engine judges live allocations and milestones only; retired ones are listed apart,
    # struck through.
    retired_allocations = list(
        Allocation.objects.filter(target=target, retired_on__isnull=False)
        .select_related("region")
        .order_by("region__name")
    )
    retired_milestones = list(
        Milestone.objects.filter(target=target, retired_on__isnull=False).order_by("due_on", "pk")
    )
    return {
        "retired_allocations": retired_allocations,
        "retired_milestones": retired_milestones,
        "target": target,
        "plan": target.plan,
        "progress": progress if own_figures else None,
        "figures_hidden": not own_figures,
        "in_force": in_force,
        # the adjustment in force, with its reason (the engine's copy holds what it judges by)
        "adjustment": next(
            (a for a in adjustments if in_force.adjusted and a.pk == in_force.adjustment.pk),
            None,
        ),
        "adjustments": adjustments,
        "adjust_form": adjust_form if can_change else None,
        "evaluation_notes": list(
            TargetEvaluationNote.objects.filter(target=target)
            .select_related("actor")
            .order_by("kind")
        ),
        "note_form": (note_form or EvaluationNoteForm(initial={"kind": _default_kind(progress)}))
        if can_change
        else None,
        # What the formula lacks, where it is entered and by whom (the engine's missing inputs).
        "missing_bases": _missing_bases(
            [(progress, target)] * own_figures + [(p, target) for _, p in allocations],
            target.plan,
            names,
        ),
        "milestones": [
            (m, milestone_state(m), names.get(m.region_id, ""))
            for m in inputs.milestones.get(target.pk, [])
        ],
        "allocations": [
            (allocation, names.get(allocation.region_id, ""), allocation_progress)
            for allocation, allocation_progress in allocations
        ],
        **_cascade_context(request, target, inputs, allocations, related),
        "can_change": can_change,
        "bases_year": _bases_year(request.user, target),
        "history": history_entries(target),
        # The chart fetches the same series from the API; the table under it shows it as text.
        "series": target_series(target, user=request.user),
        "reports": ProgressReport.objects.for_user(request.user)
        .filter(target=target)
        .select_related("region", "submitted_by")
        .prefetch_related("evidence")
        .order_by("-period", "region__name"),
    }


def _default_kind(progress) -> str:
    return EvaluationKind.FINAL if progress.finished else EvaluationKind.MID


@require_POST
def target_evaluation_note(request, pk: int):
    """The 「未完成原因」 form of the target page (staff in scope), through
    ``targets.upkeep.save_evaluation_note``."""
    target = editable_or_404(request, TARGET_PAGE, pk)
    form = EvaluationNoteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            upkeep.save_evaluation_note(
                target, actor=request.user, kind=data["kind"], reason=data["reason"]
            )
        except NotAllowed as error:
            raise PermissionDenied(error.message) from None
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("已保存未完成原因：%(name)s") % {"name": target.name})
            return redirect(
                reverse("targets:target_detail", args=[target.pk]) + "#evaluation-notes"
            )
    context = _target_context(request, target, note_form=form)
    return render(request, "targets/target_detail.html", context, status=400)


@require_POST
def target_adjust(request, pk: int):
    """The 「指标调整」 form of the target page (staff in scope): records an adjustment through
    ``targets.upkeep.adjust_target``; a refusal shows the page again with the errors."""
    target = editable_or_404(request, TARGET_PAGE, pk)
    form = AdjustmentForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            adjustment = upkeep.adjust_target(
                target,
                actor=request.user,
                version=data["version"],
                new_value=data["new_value"],
                new_year=data["new_year"],
                doc_number=data["doc_number"],
                adopted_on=data["adopted_on"],
                reason=data["reason"],
            )
        except NotAllowed as error:
            raise PermissionDenied(error.message) from None
        except StaleEdit as error:
            form.add_error(None, error.message)
            status = 409
        except ServiceError as error:
            form.add_service_error(error)
        else:
            text = _("已登记指标调整：%(doc)s，自 %(date)s 起目标值为 %(value)s")
            messages.success(
                request,
                text
                % {
                    "doc": adjustment.doc_number,
                    "date": f"{adjustment.adopted_on:%Y-%m-%d}",
                    "value": adjustment.new_value.normalize(),
                },
            )
            return redirect(reverse("targets:target_detail", args=[target.pk]) + "#adjustments")
        target.refresh_from_db()
    context = _target_context(request, target, adjust_form=form)
    return render(request, "targets/target_detail.html", context, status=status)


def _bases_year(user, target) -> int | None:
    """For a formula target the user may feed: the year whose bases to enter first (the last
    completed year within the plan). No query: the scope is cached."""
    if target.feed != Feed.FORMULA or not bases.may_enter(user, target.region):
        return None
    plan = target.plan
    return max(plan.start_year, min(timezone.localdate().year - 1, plan.end_year))


def _save_upkeep(form, call):
    """POST of a target or milestone form: parse, ask about numbers read as something else
    than they say (3万 → 30000) before saving, then ``call(changes, version, reason)`` —
    a ``targets.upkeep`` service. Returns ``(saved or None, status, readings asked about)``."""
    if form.is_valid():
        asked = form.readings_to_confirm()
        if asked:
            return None, 200, asked
    saved, status = run_service(
        form, lambda changes, version: call(changes, version, form.reason())
    )
    return saved, status, []


def _saved_message(request, text: str, form) -> None:
    """The page message after a save, with what typed numbers were read as (１，２００ → 1200)."""
    notes = "；".join(str(reading) for reading in form.readings())
    if notes:
        text += _("（%(notes)s）") % {"notes": notes}
    messages.success(request, text)


def _form_page(request, template: str, context: dict, status: int, asked: list):
    context = context | {"asked": asked}
    return render(request, template, context, status=status)


def target_create(request, plan_id: int):
    """「新增指标」: a target of the plan (``?task=`` of one of its tasks), by staff in whose
    scope the plan lies, through ``targets.upkeep.create_target``; then its page."""
    plan = editable_or_404(request, Plan.objects.select_related("region"), plan_id)
    task = None
    raw_task = request.GET.get("task", "")
    if raw_task:
        if not raw_task.isdigit():
            raise Http404
        task = get_object_or_404(Task.objects.select_related("section"), plan=plan, pk=raw_task)
    target = Target(plan=plan, task=task, section=task.section if task else None)
    target.region = plan.region
    form = TargetCreateForm(
        request.POST if request.method == "POST" else None, instance=target, user=request.user
    )
    status, asked = 200, []
    if request.method == "POST":
        saved, status, asked = _save_upkeep(
            form,
            lambda changes, version, reason: upkeep.create_target(
                plan, actor=request.user, values=changes, reason=reason
            ),
        )
        if saved is not None:
            _saved_message(request, _("已新增指标：%(name)s") % {"name": saved.name}, form)
            return redirect("targets:target_detail", pk=saved.pk)
    context = {"plan": plan, "task": task, "form": form, "history": []}
    return _form_page(request, "targets/target_create.html", context, status, asked)


def target_edit(request, pk: int):
    target = editable_or_404(request, Target.objects.select_related("plan", "region"), pk)
    form = TargetUpkeepForm(
        request.POST if request.method == "POST" else None, instance=target, user=request.user
    )
    status, asked = 200, []
    if request.method == "POST":
        saved, status, asked = _save_upkeep(
            form,
            lambda changes, version, reason: upkeep.update_target(
                target, actor=request.user, version=version, changes=changes, reason=reason
            ),
        )
        if saved is not None:
            _saved_message(request, _("已保存：%(name)s") % {"name": saved.name}, form)
            return redirect("targets:target_detail", pk=saved.pk)
    context = {"target": target, "form": form, "history": history_entries(target)}
    return _form_page(request, "targets/target_form.html", context, status, asked)


def milestone_create(request, target_id: int):
    """「新增节点」 of a target (with a planned value in the target's unit), by staff in whose
    scope it lies, through ``targets.upkeep.create_milestone``; then the target's page."""
    target = editable_or_404(request, Target.objects.select_related("plan"), target_id)
    back = reverse("targets:target_detail", args=[target.pk]) + "#milestones"
    return _milestone_create(request, {"target": target}, back)


def task_milestone_create(request, task_id: int):
    """「新增节点」 of a task: a qualitative step (no value; done on a date); then the task page."""
    task = editable_or_404(request, Task.objects.select_related("plan"), task_id)
    back = reverse("reports:task_detail", args=[task.pk]) + "#milestones"
    return _milestone_create(request, {"task": task}, back)


def _milestone_create(request, owner: dict, back: str):
    (parent,) = owner.values()
    milestone = Milestone(plan=parent.plan, **owner)
    form = MilestoneCreateForm(
        request.POST if request.method == "POST" else None, instance=milestone, user=request.user
    )
    status, asked = 200, []
    if request.method == "POST":
        saved, status, asked = _save_upkeep(
            form,
            lambda changes, version, reason: upkeep.create_milestone(
                actor=request.user, values={**changes, **owner}, reason=reason
            ),
        )
        if saved is not None:
            text = _("已新增时间节点：%(date)s") % {"date": f"{saved.due_on:%Y-%m-%d}"}
            _saved_message(request, text, form)
            return redirect(back)
    context = {"owner": parent, "milestone": milestone, "form": form, "history": [], "back": back}
    return _form_page(request, "targets/milestone_create.html", context, status, asked)


def milestone_edit(request, pk: int):
    milestone = editable_or_404(
        request, Milestone.objects.select_related("plan", "target", "task"), pk
    )
    form = MilestoneUpkeepForm(
        request.POST if request.method == "POST" else None, instance=milestone, user=request.user
    )
    status, asked = 200, []
    if request.method == "POST":
        saved, status, asked = _save_upkeep(
            form,
            lambda changes, version, reason: upkeep.update_milestone(
                milestone, actor=request.user, version=version, changes=changes, reason=reason
            ),
        )
        if saved is not None:
            text = _("已保存时间节点：%(date)s") % {"date": f"{saved.due_on:%Y-%m-%d}"}
            _saved_message(request, text, form)
            if saved.target_id:
                return redirect("targets:target_detail", pk=saved.target_id)
            return redirect("reports:task_detail", pk=saved.task_id)
    context = {"milestone": milestone, "form": form, "history": history_entries(milestone)}
    return _form_page(request, "targets/milestone_form.html", context, status, asked)


# ------------------------------------------------------------ 指标分解 (issue 17)


def allocation_split(request, pk: int, region_id: int | None = None):
    """「分解」: split the target's value (「分解到区县」, no region) or one allocation's value (a
    row of the split, ``region_id``) among the regions directly below it. Staff in scope;
    the page adds the parts up as they are typed (static/targets/allocation_split.js), the
    service checks the sum again and refuses one over the whole."""
    target = editable_or_404(request, TARGET_PAGE, pk)
    tree = RegionTree.load()
    allocations = list(Allocation.objects.filter(target=target))
    by_region = {a.region_id: a for a in allocations}
    if region_id is None or region_id == target.region_id:
        whole_region_id, whole_value, whole_key = target.region_id, target.target_value, None
    elif region_id in by_region:
        whole_region_id, whole_value, whole_key = region_id, by_region[region_id].value, region_id
    else:
        raise Http404(_("该区划没有这一指标的分解值"))
    wholes = whole_regions(target.region_id, allocations, tree.parent)
    part_ids = {r for r, whole in wholes.items() if whole == whole_key}
    part_ids |= set(tree.children.get(whole_region_id, ()))
    parts = sorted(
        (
            (r, tree.names.get(r, ""), by_region[r].value if r in by_region else None)
            for r in part_ids
        ),
        key=lambda part: part[1],
    )
    form = AllocationSplitForm(
        request.POST if request.method == "POST" else None,
        parts=parts,
        measure_unit=target.measure_unit,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                split_allocation(
                    target,
                    actor=request.user,
                    whole_region_id=whole_key,
                    values=form.values(),
                    reason=form.cleaned_data["reason"],
                )
            except NotAllowed as error:
                raise PermissionDenied(error.message) from None
            except ServiceError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    _("已保存分解：%(region)s") % {"region": tree.names.get(whole_region_id, "")},
                )
                return redirect(reverse("targets:target_detail", args=[target.pk]) + "#cascade")
    context = {
        "target": target,
        "form": form,
        "whole_name": tree.names.get(whole_region_id, ""),
        "whole_value": whole_value,
        "whole_is_target": whole_key is None,
        "has_parts": bool(parts),
    }
    return render(request, "targets/allocation_split.html", context, status=status)


# ------------------------------------------------------------ base figures (基础数据)


@dataclass
class MissingBase:
    """A value a formula lacks (the engine's ``MissingValue``), for a link to its page."""

    kind: str
    name: str
    label: str
    year: int
    region_id: int
    region_name: str
    who: str
    targets: list = field(default_factory=list)


def _missing_bases(progresses, plan, names: dict[int, str]) -> list[MissingBase]:
    """The engine's missing inputs of these verdicts, each once, with who should enter them
    (no query: the region names come with the engine's inputs)."""
    found: dict[tuple, MissingBase] = {}
    plan_region = names.get(plan.region_id, "") if plan is not None else ""
    for progress, target in progresses:
        for value in progress.missing_inputs:
            key = (value.kind, value.name, value.year, value.region_id)
            region_name = names.get(value.region_id, "")
            entry = found.setdefault(
                key,
                MissingBase(
                    value.kind,
                    value.name,
                    bases.label_of(value.kind, value.name),
                    value.year,
                    value.region_id,
                    region_name,
                    bases.who_enters_text(region_name, plan_region),
                ),
            )
            if target is not None and target not in entry.targets:
                entry.targets.append(target)
    return sorted(found.values(), key=lambda m: (m.region_name, m.year, m.kind, m.name))


def _visible_plan(request) -> Plan | None:
    raw = request.GET.get("plan", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    return get_object_or_404(
        Plan.objects.for_user(request.user, VIEW).select_related("region"), pk=int(raw)
    )


def _judged(sheet) -> list:
    """(target, verdict) for the formula targets judged in the sheet's region: its own, or
    its allocation there. A fixed number of queries (the engine's)."""
    if not sheet.targets:
        return []
    region_id = sheet.region.pk
    inputs = load_status_inputs(sheet.targets, regions=[region_id], allocation_regions=[region_id])
    judged = []
    for target in sheet.targets:
        if target.region_id == region_id:
            judged.append((target, compute_status(target, inputs)))
            continue
        share = next(
            (a for a in inputs.allocations.get(target.pk, []) if a.region_id == region_id), None
        )
        if share is not None:
            progress = compute_status(target, inputs, region_id=region_id, target_value=share.value)
            judged.append((target, progress))
    return judged


@once_per_form
def base_figures(request, region_id: int, year: int):
    """The fire statistics, population and other bases of a region and year (基础数据), as the
    formula targets of the region need them: entered by the region's liaison or staff whose
    scope holds the region (others: 404), through ``targets.bases.save_base_figures``."""
    require(request.user, REPORT)
    region = get_object_or_404(Region.objects.for_user(request.user, VIEW), pk=region_id)
    if not bases.may_enter(request.user, region):
        raise Http404  # a region's figures exist only for the people who enter them
    if not bases.FIRST_YEAR <= year <= timezone.localdate().year:
        raise Http404
    plan = _visible_plan(request)
    sheet = bases.load_sheet(region, year, plan=plan)
    status = 200
    if request.method == "POST":
        form = BaseFiguresForm(request.POST, sheet=sheet)
        status = 400
        if form.is_valid():
            try:
                saved = bases.save_base_figures(
                    region,
                    year,
                    actor=request.user,
                    values=form.values(),
                    reason=form.cleaned_data["reason"],
                    versions=form.versions(),
                )
            except NotAllowed as error:
                raise PermissionDenied(error.message) from None
            except StaleEdit as error:
                form.add_error(None, error.message)
                status = 409
            except ServiceError as error:
                form.add_service_error(error)
            else:
                if saved.written:
                    labels = "、".join(bases.item_for(key).label for key in saved.changed)
                    messages.success(
                        request,
                        _("已保存%(region)s %(year)s年基础数据：%(items)s")
                        % {"region": region.name, "year": year, "items": labels},
                    )
                else:
                    messages.info(request, _("数值没有变化，未保存"))
                return redirect(request.get_full_path())
    else:
        form = BaseFiguresForm(sheet=sheet)
    judged = _judged(sheet)
    owner = plan or (sheet.targets[0].plan if sheet.targets else None)
    names = {region.pk: region.name}
    if owner is not None:
        names[owner.region_id] = owner.region.name
    missing = _missing_bases([(p, t) for t, p in judged], owner, names)
    context = {
        "region": region,
        "year": year,
        "plan": plan,
        "sheet": sheet,
        "form": form,
        "rows": [(item, form[item.key], sheet.current(item)) for item in sheet.items],
        "judged": judged,
        "missing_here": [m for m in missing if m.year == year],
        "missing_elsewhere": [m for m in missing if m.year != year],
        "who": bases.who_enters(region, owner),
        "history": bases.history_of(region, year),
        "years": _nearby_years(year),
        "feed_formula": Feed.FORMULA,
    }
    return render(request, "targets/base_figures.html", context, status=status)


def _nearby_years(year: int) -> list[int]:
    last = timezone.localdate().year
    return [y for y in range(year - 2, year + 3) if bases.FIRST_YEAR <= y <= last]


# ------------------------------------------------------------ 停用 / 恢复 / 删除 (POST)

PART_SERVICES = {
    Target: {
        "retire": retire.retire_target,
        "restore": retire.restore_target,
        "delete": retire.delete_target,
    },
    Milestone: {
        "retire": retire.retire_milestone,
        "restore": retire.restore_milestone,
        "delete": retire.delete_milestone,
    },
}


@require_POST
def target_action(request, pk: int, action: str):
    target = editable_or_404(request, Target.objects.select_related("plan"), pk)
    service = PART_SERVICES[Target][action]
    return lifecycle_action(
        request,
        target,
        action,
        lambda version, reason: service(target, actor=request.user, version=version, reason=reason),
        back=reverse("targets:target_edit", args=[pk]),
        after_delete=reverse("reports:plan_detail", args=[target.plan_id]),
    )


@require_POST
def milestone_action(request, pk: int, action: str):
    milestone = editable_or_404(request, Milestone.objects.select_related("plan"), pk)
    service = PART_SERVICES[Milestone][action]
    owner = (
        reverse("targets:target_detail", args=[milestone.target_id])
        if milestone.target_id
        else reverse("reports:task_detail", args=[milestone.task_id])
    )
    return lifecycle_action(
        request,
        milestone,
        action,
        lambda version, reason: service(
            milestone, actor=request.user, version=version, reason=reason
        ),
        back=reverse("targets:milestone_edit", args=[pk]),
        after_delete=owner,
    )


@require_POST
def allocation_action(request, pk: int, action: str):
    allocation = editable_or_404(
        request, Allocation.objects.select_related("target__plan", "region"), pk
    )
    services_by_action = {
        "retire": retire.retire_allocation,
        "restore": retire.restore_allocation,
        "delete": retire.delete_allocation,
    }
    back = reverse("targets:target_detail", args=[allocation.target_id])
    return lifecycle_action(
        request,
        allocation,
        action,
        lambda version, reason: services_by_action[action](
            allocation, actor=request.user, reason=reason
        ),
        back=back,
    )
