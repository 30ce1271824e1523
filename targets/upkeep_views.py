"""Target and milestone pages: a target with its status, milestones, allocations and
history, and the edit pages. Views parse input and call targets.upkeep; outside the scope is
404, lacking the role 403 (planning.editing)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.editing import editable_or_404, may_change_region, run_service, visible_or_404
from core.history import history_entries
from targets import upkeep
from targets.models import Milestone, ProgressReport, Target
from targets.series import target_series
from targets.status import compute_allocations, compute_status, load_status_inputs, milestone_state
from targets.upkeep_forms import MilestoneForm, TargetForm


def target_detail(request, pk: int):
    target = visible_or_404(
        request, Target.objects.select_related("plan__region", "task", "section", "region"), pk
    )
    # The engine's inputs hold the milestones and allocations too: no query per row.
    inputs = load_status_inputs([target])
    names = inputs.regions.names
    progress = compute_status(target, inputs)
    context = {
        "target": target,
        "plan": target.plan,
        "progress": progress,
        "milestones": [
            (m, milestone_state(m), names.get(m.region_id, ""))
            for m in inputs.milestones.get(target.pk, [])
        ],
        "allocations": [
            (allocation, names.get(allocation.region_id, ""), allocation_progress)
            for allocation, allocation_progress in compute_allocations(target, inputs)
        ],
        "can_change": may_change_region(request.user, target.plan.region_id),
        "history": history_entries(target),
        # The chart fetches the same series from the API; the table under it shows it as text.
        "series": target_series(target),
        "reports": ProgressReport.objects.for_user(request.user)
        .filter(target=target)
        .select_related("region", "submitted_by")
        .prefetch_related("evidence")
        .order_by("-period", "region__name"),
    }
    return render(request, "targets/target_detail.html", context)


def target_edit(request, pk: int):
    target = editable_or_404(request, Target.objects.select_related("plan", "region"), pk)
    form = TargetForm(
        request.POST if request.method == "POST" else None, instance=target, user=request.user
    )
    status = 200
    if request.method == "POST":
        saved, status = run_service(
            form,
            lambda changes, version: upkeep.update_target(
                target, actor=request.user, version=version, changes=changes
            ),
        )
        if saved is not None:
            messages.success(request, _("已保存：%(name)s") % {"name": saved.name})
            return redirect("target_detail", pk=saved.pk)
    context = {"target": target, "form": form, "history": history_entries(target)}
    return render(request, "targets/target_form.html", context, status=status)


def milestone_edit(request, pk: int):
    milestone = editable_or_404(
        request, Milestone.objects.select_related("plan", "target", "task"), pk
    )
    form = MilestoneForm(
        request.POST if request.method == "POST" else None, instance=milestone, user=request.user
    )
    status = 200
    if request.method == "POST":
        saved, status = run_service(
            form,
            lambda changes, version: upkeep.update_milestone(
                milestone, actor=request.user, version=version, changes=changes
            ),
        )
        if saved is not None:
            messages.success(
                request, _("已保存时间节点：%(date)s") % {"date": f"{saved.due_on:%Y-%m-%d}"}
            )
            if saved.target_id:
                return redirect("target_detail", pk=saved.target_id)
            return redirect("task_detail", pk=saved.task_id)
    context = {"milestone": milestone, "form": form, "history": history_entries(milestone)}
    return render(request, "targets/milestone_form.html", context, status=status)
