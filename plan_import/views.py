"""The import pages (issue 18, item 3): upload a plan document → review its draft (the
document on one side, the draft tree on the other) → 「发布」. Staff only (``CHANGE``);
a draft is seen only by its owner; the rules are in ``plan_import.review``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.once import new_token, once_per_form
from core.scope import CHANGE, require
from core.services import NotAllowed, ServiceError
from plan_import import jobs as plan_jobs
from plan_import import review as reviews
from plan_import.readers import DocumentLimits
from targets.choices import Comparator


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("规划文件"))


@once_per_form
def upload(request):
    require(request.user, CHANGE)
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            limit = DocumentLimits().max_bytes
            if upload.size > limit:
                form.add_error(
                    "file",
                    _("文件大小 %(size)s MB，超过上限 %(limit)s MB")
                    % {"size": f"{upload.size / 2**20:.1f}", "limit": f"{limit / 2**20:.0f}"},
                )
            else:
                try:
                    draft = reviews.create_draft(
                        actor=request.user, name=upload.name, data=upload.read()
                    )
                except ServiceError as error:
                    form.add_error("file", error.message)
                else:
                    return redirect("plan_import:review", pk=draft.pk)
    context = {"form": form, "once_token": new_token()}
    return render(request, "plan_import/upload.html", context, status=status)


@once_per_form
def review(request, pk: int):
    plan_draft = reviews.draft_of(request.user, pk)
    if plan_draft is None:
        raise Http404(_("没有这份导入草稿"))
    if plan_draft.published_plan_id:
        return redirect("reports:plan_detail", pk=plan_draft.published_plan_id)
    status, errors, region_id, unit_map = 200, {}, None, {}
    draft = reviews.draft_from_json(plan_draft.data)
    if request.method == "POST":
        result = reviews.apply_review(plan_draft, request.POST, actor=request.user)
        draft, errors = result.draft, result.errors
        region_id = result.region.pk if result.region else None
        unit_map = {name: unit.pk for name, unit in result.unit_map.items()}
        if request.POST.get("action") == "publish" and not errors:
            job = plan_jobs.publish_in_background(
                plan_draft, request.POST, result.draft, user=request.user
            )
            if job is not None:  # a large plan: published by the worker, all or nothing
                reviews.save_review(plan_draft, result)
                return redirect("core:job_detail", pk=job.pk)
            try:
                plan = reviews.publish_review(plan_draft, result, actor=request.user)
            except ServiceError as error:
                messages.error(request, error.message)
                status = 403 if isinstance(error, NotAllowed) else 400
            else:
                messages.success(request, _("已发布规划：%(title)s") % {"title": plan.title})
                return redirect("reports:plan_detail", pk=plan.pk)
        elif not errors:
            reviews.save_review(plan_draft, result)
            messages.success(request, _("已保存审核结果"))
            return redirect("plan_import:review", pk=plan_draft.pk)
        else:
            messages.error(request, _("审核内容有误，请按提示修改后再发布"))
            status = 400
    return render(
        request,
        "plan_import/review.html",
        _review_context(request, plan_draft, draft, errors, region_id, unit_map),
        status=status,
    )


def _review_context(request, plan_draft, draft, errors, region_id, unit_map):
    lines = plan_draft.document_text.split("\n")
    regions = list(reviews.scope_regions(request.user))
    units = list(reviews.scope_units(request.user))
    by_name = {}
    for unit in units:
        by_name.setdefault(unit.name, unit.pk)
    targets_of: dict[str | None, list] = {}
    for target in draft.targets:
        targets_of.setdefault(target.task_ref, []).append(
            {
                "item": target,
                "line": reviews.source_line(lines, target.source_text),
                "value": "" if target.value is None else f"{target.value:g}",
            }
        )
    for entry in (row for rows in targets_of.values() for row in rows):
        entry["errors"] = _errors_of(errors, f"target-{entry['item'].ref}-")
    tasks = [
        {
            "item": task,
            "line": reviews.source_line(lines, task.source_text),
            "targets": targets_of.get(task.ref, []),
            "errors": _errors_of(errors, f"task-{task.ref}-"),
        }
        for task in draft.tasks
    ]
    names = [
        {
            "index": index,
            "name": name,
            "chosen": unit_map.get(name, by_name.get(name)),
            "error": errors.get(f"unit-{index}", ""),
        }
        for index, name in enumerate(reviews.unit_names(draft))
    ]
    return {
        "plan_draft": plan_draft,
        "draft": draft,
        "lines": lines,
        "tasks": tasks,
        "loose_targets": targets_of.get(None, []),
        "regions": regions,
        "region_id": region_id or (regions[0].pk if regions else None),
        "units": units,
        "unit_names": names,
        "comparators": Comparator.choices,
        "errors": errors,
        "plan_errors": _errors_of(errors, "plan-"),
        "new_unit": reviews.NEW_UNIT,
        "once_token": new_token(),
    }


def _errors_of(errors: dict[str, str], prefix: str) -> dict[str, str]:
    """The errors of one item, by field name (``task-t3-title`` → ``title``)."""
    return {
        key.removeprefix(prefix): message
        for key, message in errors.items()
        if key.startswith(prefix)
    }
