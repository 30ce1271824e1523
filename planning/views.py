"""Creating and editing a plan, its sections and tasks, and ordering the sections (the pages
that read progress are in reports)."""

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
from core.once import once_per_form
from core.scope import CHANGE, require, scope_of
from core.services import NotAllowed, ServiceError
from planning import services
from planning.forms import (
    PlanCreateForm,
    PlanForm,
    SectionCreateForm,
    SectionForm,
    StageCreateForm,
    StageForm,
    TaskCreateForm,
    TaskForm,
)
from planning.models import Plan, Section, Stage, Task


def _section_url(section: Section) -> str:
    return reverse("reports:plan_detail", args=[section.plan_id]) + f"#section-{section.pk}"


def _initial_pk(request, name: str, queryset) -> int | None:
    """A ``?parent=`` / ``?section=`` pre-selection, kept only when it names a row of
    ``queryset`` (the plan's own sections)."""
    raw = request.GET.get(name, "")
    if raw.isdigit() and queryset.filter(pk=int(raw)).exists():
        return int(raw)
    return None


# ------------------------------------------------------------------------------ creating


@once_per_form
def plan_create(request):
    require(request.user, CHANGE)
    data = request.POST if request.method == "POST" else None
    form = PlanCreateForm(
        data,
        instance=Plan(),
        user=request.user,
        initial={"region": scope_of(request.user).region_id},
    )
    status = 200
    if request.method == "POST":
        saved, status = run_service(
            form,
            lambda changes, version: services.create_plan(
                actor=request.user, values=changes, reason=form.cleaned_data["reason"]
            ),
        )
        if saved is not None:
            messages.success(request, _("已新建规划：%(title)s") % {"title": saved.title})
            return redirect("reports:plan_detail", pk=saved.pk)
    return render(request, "planning/plan_create.html", {"form": form}, status=status)


def _stages_url(plan_id: int) -> str:
    return reverse("reports:plan_detail", args=[plan_id]) + "#stages"


@once_per_form
def stage_create(request, pk: int):
    plan = editable_or_404(request, Plan.objects.all(), pk)
    data = request.POST if request.method == "POST" else None
    form = StageCreateForm(data, instance=Stage(plan=plan), user=request.user)
    status = 200
    if request.method == "POST":
        saved, status = run_service(
            form,
            lambda changes, version: services.create_stage(
                plan, actor=request.user, values=changes, reason=form.cleaned_data["reason"]
            ),
        )
        if saved is not None:
            messages.success(request, _("已新增阶段：%(name)s") % {"name": saved.name})
            return redirect(_stages_url(plan.pk))
    context = {"plan": plan, "form": form}
    return render(request, "planning/stage_create.html", context, status=status)


def stage_edit(request, pk: int):
    stage = editable_or_404(request, Stage.objects.select_related("plan"), pk)
    form = StageForm(
        request.POST if request.method == "POST" else None, instance=stage, user=request.user
    )
    status = 200
    if request.method == "POST":
        saved, status = run_service(
            form,
            lambda changes, version: services.update_stage(
                stage,
                actor=request.user,
                version=version,
                changes=changes,
                reason=form.cleaned_data["reason"],
            ),
        )
        if saved is not None:
            messages.success(request, _("已保存：%(name)s") % {"name": saved.name})
            return redirect(_stages_url(saved.plan_id))
    context = {"stage": stage, "form": form, "history": history_entries(stage)}
    return render(request, "planning/stage_form.html", context, status=status)


@once_per_form
def section_create(request, pk: int):
    plan = editable_or_404(request, Plan.objects.all(), pk)
    section = Section(plan=plan)
    data = request.POST if request.method == "POST" else None
    parent = _initial_pk(request, "parent", Section.objects.filter(plan=plan))
    form = SectionCreateForm(data, instance=section, user=request.user, initial={"parent": parent})
    status = 200
    if request.method == "POST":
        saved, status = run_service(
            form,
            lambda changes, version: services.create_section(
                plan, actor=request.user, values=changes, reason=form.cleaned_data["reason"]
            ),
        )
        if saved is not None:
            messages.success(request, _("已新增章节：%(name)s") % {"name": saved})
            return redirect(_section_url(saved))
    context = {"plan": plan, "form": form, "parent": parent}
    return render(request, "planning/section_create.html", context, status=status)


@once_per_form
def task_create(request, pk: int):
    plan = editable_or_404(request, Plan.objects.all(), pk)
    data = request.POST if request.method == "POST" else None
    section = _initial_pk(request, "section", Section.objects.filter(plan=plan))
    form = TaskCreateForm(
        data, instance=Task(plan=plan), user=request.user, initial={"section": section}
    )
    status = 200
    if request.method == "POST":
        saved, status = run_service(
            form,
            lambda changes, version: services.create_task(
                plan,
                actor=request.user,
                values=changes,
                lead_units=form.cleaned_data["lead_units"],
                support_units=form.cleaned_data["support_units"],
                reason=form.cleaned_data["reason"],
            ),
        )
        if saved is not None:
            messages.success(request, _("已新增任务：%(name)s") % {"name": saved})
            return redirect("reports:task_detail", pk=saved.pk)
    return render(request, "planning/task_create.html", {"plan": plan, "form": form}, status=status)


@require_POST
def section_move(request, pk: int):
    """上移 / 下移 / 缩进 / 取消缩进 (the buttons beside each section on the plan page). The
    version the page showed guards against a double click or a page left open: the second
    POST is refused as stale."""
    section = editable_or_404(request, Section.objects.all(), pk)
    version = request.POST.get("version", "")
    if not version.isdigit():
        messages.error(request, _("缺少版本号，请刷新页面后重试"))
        return redirect(_section_url(section))
    try:
        moved = services.move_section(
            section,
            actor=request.user,
            version=int(version),
            move=request.POST.get("move", ""),
            reason=request.POST.get("reason", ""),
        )
    except NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect(_section_url(section))
    messages.success(request, _("已调整章节位置：%(name)s") % {"name": moved})
    return redirect(_section_url(moved))


# ------------------------------------------------------------------------------ editing


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
                plan,
                actor=request.user,
                version=version,
                changes=changes,
                reason=form.cleaned_data["reason"],
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
                section,
                actor=request.user,
                version=version,
                changes=changes,
                reason=form.cleaned_data["reason"],
            ),
        )
        if saved is not None:
            messages.success(request, _("已保存：%(name)s") % {"name": saved})
            return redirect(_section_url(saved))
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
                reason=form.cleaned_data["reason"],
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
