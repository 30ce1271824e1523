"""Editing a plan, its sections and tasks (the pages that read progress are in reports)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.editing import editable_or_404, run_service
from core.history import history_entries
from core.services import NotAllowed, ServiceError
from planning import services
from planning.forms import PlanForm, SectionForm, TaskForm
from planning.models import Plan, Section, Task


def plan_edit(request, pk: int):
    plan = editable_or_404(request, Plan.objects.select_related("region"), pk)
    form = PlanForm(
        request.POST if request.method == "POST" else None, instance=plan, user=request.user
    )
    status = 200
    if request.method == "POST":
        saved, status = run_service(
            form,
            lambda changes, version: services.update_plan(
                plan, actor=request.user, version=version, changes=changes
            ),
        )
        if saved is not None:
            messages.success(request, _("已保存：%(title)s") % {"title": saved.title})
            return redirect("reports:plan_detail", pk=saved.pk)
    context = {"plan": plan, "form": form, "history": history_entries(plan)}
    return render(request, "planning/plan_form.html", context, status=status)


def section_edit(request, pk: int):
    section = editable_or_404(request, Section.objects.select_related("plan"), pk)
    form = SectionForm(
        request.POST if request.method == "POST" else None, instance=section, user=request.user
    )
    status = 200
    if request.method == "POST":
        saved, status = run_service(
            form,
            lambda changes, version: services.update_section(
                section, actor=request.user, version=version, changes=changes
            ),
        )
        if saved is not None:
            messages.success(request, _("已保存：%(name)s") % {"name": saved})
            return redirect(
                reverse("reports:plan_detail", args=[saved.plan_id]) + f"#section-{saved.pk}"
            )
    context = {"section": section, "form": form, "history": history_entries(section)}
    return render(request, "planning/section_form.html", context, status=status)


def task_edit(request, pk: int):
    task = editable_or_404(request, Task.objects.select_related("plan", "section"), pk)
    form = TaskForm(
        request.POST if request.method == "POST" else None, instance=task, user=request.user
    )
    status = 200
    if request.method == "POST":
        saved, status = run_service(
            form,
            lambda changes, version: services.update_task(
                task,
                actor=request.user,
                version=version,
                changes=changes,
                lead_units=form.cleaned_data["lead_units"],
                support_units=form.cleaned_data["support_units"],
            ),
        )
        if saved is not None:
            messages.success(request, _("已保存：%(name)s") % {"name": saved})
            return redirect("reports:task_detail", pk=saved.pk)
    context = {"task": task, "form": form, "history": history_entries(task)}
    return render(request, "planning/task_form.html", context, status=status)


# ------------------------------------------------- 停用 / 恢复 / 删除 / 归档 (POST only)

ACTION_DONE = {
    "retire": gettext_lazy("已停用：%(name)s"),
    "restore": gettext_lazy("已恢复：%(name)s"),
    "delete": gettext_lazy("已删除：%(name)s"),
    "archive": gettext_lazy("已归档：%(name)s"),
    "unarchive": gettext_lazy("已取消归档：%(name)s"),
}


def lifecycle_action(request, obj, action: str, call, *, back: str, after_delete: str = ""):
    """Run one of the lifecycle services (``call(version, reason)``) from a POST form and go
    back to ``back`` with its message; a refusal (has_attachments, plan_archived, a stale
    version …) is shown as an error message on the same page, nothing changed."""
    try:
        version = int(request.POST.get("version") or 0) or None
    except ValueError:
        version = None
    reason = (request.POST.get("reason") or "").strip()[:200]
    name = str(obj)
    try:
        call(version, reason)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect(back)
    messages.success(request, ACTION_DONE[action] % {"name": name})
    return redirect(after_delete if action == "delete" and after_delete else back)


PART_SERVICES = {
    Section: {
        "retire": services.retire_section,
        "restore": services.restore_section,
        "delete": services.delete_section,
    },
    Task: {
        "retire": services.retire_task,
        "restore": services.restore_task,
        "delete": services.delete_task,
    },
}


@require_POST
def section_action(request, pk: int, action: str):
    section = editable_or_404(request, Section.objects.select_related("plan"), pk)
    service = PART_SERVICES[Section][action]
    return lifecycle_action(
        request,
        section,
        action,
        lambda version, reason: service(
            section, actor=request.user, version=version, reason=reason
        ),
        back=reverse("planning:section_edit", args=[pk]),
        after_delete=reverse("reports:plan_detail", args=[section.plan_id]),
    )


@require_POST
def task_action(request, pk: int, action: str):
    task = editable_or_404(request, Task.objects.select_related("plan"), pk)
    service = PART_SERVICES[Task][action]
    return lifecycle_action(
        request,
        task,
        action,
        lambda version, reason: service(task, actor=request.user, version=version, reason=reason),
        back=reverse("planning:task_edit", args=[pk]),
        after_delete=reverse("reports:plan_detail", args=[task.plan_id]),
    )


@require_POST
def plan_archive(request, pk: int, action: str):
    plan = editable_or_404(request, Plan.objects.all(), pk)
    service = services.archive_plan if action == "archive" else services.unarchive_plan
    return lifecycle_action(
        request,
        plan,
        action,
        lambda version, reason: service(plan, actor=request.user, version=version, reason=reason),
        back=reverse("planning:plan_edit", args=[pk]),
    )
