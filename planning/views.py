"""Editing a plan, its sections and tasks (the pages that read progress are in reports)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from core.editing import editable_or_404, run_service
from core.history import history_entries
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
