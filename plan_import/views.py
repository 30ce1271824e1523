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
from core.services import ServiceError, StaleEdit
from plan_import import jobs as plan_jobs
from plan_import import review as reviews
from plan_import.draft import draft_from_json, section_depths
from plan_import.readers import DocumentLimits
from stations.choices import StationClass, StationStatus
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
    if request.method != "POST":
        draft = draft_from_json(plan_draft.data)
        return _render(request, plan_draft, draft, {}, status=200)
    publish = request.POST.get("action") == "publish"
    if publish:
        # A large draft whose form is right: the worker publishes it (all or nothing).
        job = plan_jobs.publish_in_background(plan_draft, request.POST, user=request.user)
        if job is not None:
            return redirect("core:job_detail", pk=job.pk)
    try:
        result = reviews.submit_review(request.user, pk, request.POST, publish=publish)
    except StaleEdit as error:
        # Another tab saved since this form was made: show the newest review, not this one.
        messages.error(request, error.message)
        plan_draft.refresh_from_db()
        return _render(
            request, plan_draft, draft_from_json(plan_draft.data), {}, status=error.status_code
        )
    except ServiceError as error:  # published meanwhile, or gone
        messages.error(request, error.message)
        return redirect("plan_import:review", pk=pk)
    if result.error is None:
        if result.plan is not None:
            messages.success(request, _("已发布规划：%(title)s") % {"title": result.plan.title})
            return redirect("reports:plan_detail", pk=result.plan.pk)
        messages.success(request, _("已保存审核结果"))
        return redirect("plan_import:review", pk=pk)
    messages.error(request, result.error.message)
    return _render(
        request,
        plan_draft,
        result.draft,
        result.errors,
        region=result.region,
        status=result.error.status_code,
    )


def _render(request, plan_draft, draft, errors, *, status: int, region=None):
    return render(
        request,
        "plan_import/review.html",
        _review_context(request, plan_draft, draft, errors, region),
        status=status,
    )


def _review_context(request, plan_draft, draft, errors, region):
    """Everything the review page shows, built here so that the template runs no query:
    the scope's regions and units (one query each), the matcher's proposals, the tree."""
    lines = plan_draft.document_text.split("\n")
    regions = list(reviews.scope_regions(request.user))
    units = list(reviews.scope_units(request.user))
    region = region or reviews.default_region(draft, regions)
    proposed = reviews.proposals(draft, region=region, regions=regions, units=units)

    def entry(item, prefix: str, **extra):
        return {
            "item": item,
            "line": reviews.source_line(lines, item.source_text),
            "errors": _errors_of(errors, prefix),
            **extra,
        }

    targets_of: dict[str | None, list] = {}
    for target in draft.targets:
        targets_of.setdefault(target.task_ref, []).append(
            entry(
                target,
                f"target-{target.ref}-",
                value="" if target.value is None else f"{target.value:g}",
            )
        )
    tasks_of: dict[str | None, list] = {}
    for task in draft.tasks:
        tasks_of.setdefault(task.section_ref, []).append(
            entry(task, f"task-{task.ref}-", targets=targets_of.get(task.ref, []))
        )
    depths = section_depths(draft)
    sections = [
        entry(
            section,
            f"section-{section.ref}-",
            depth=min(depths.get(section.ref, 0), 4),
            tasks=tasks_of.pop(section.ref, []),
        )
        for section in draft.sections
    ]
    top_tasks = [task for rows in tasks_of.values() for task in rows]
    unit_rows = []
    for index, name in enumerate(reviews.unit_names(draft)):
        matches = proposed.units.get(name, [])
        unit_rows.append(
            {
                "index": index,
                "name": name,
                "matches": matches,
                "suggested": {match.item.pk for match in matches},
                "chosen": proposed.unit_choice(draft, name),
                "error": errors.get(f"unit-{index}", ""),
            }
        )
    stations = [
        entry(
            station,
            f"station-{station.ref}-",
            matches=proposed.stations.get(station.ref, []),
            chosen=proposed.station_choice(station, region),
        )
        for station in draft.stations
    ]
    milestones = [
        {
            "item": milestone,
            "error": errors.get(f"milestone-{milestone.ref}-attach", ""),
            "section": next((s for s in draft.sections if s.ref == milestone.section_ref), None),
        }
        for milestone in draft.milestones
    ]
    return {
        "plan_draft": plan_draft,
        "draft": draft,
        "lines": lines,
        "sections": sections,
        "top_tasks": top_tasks,
        "loose_targets": targets_of.get(None, []),
        "task_choices": [(task.ref, f"{task.number} {task.title}") for task in draft.tasks],
        "target_choices": [(target.ref, target.name) for target in draft.targets],
        "loose_milestones": milestones,
        "stations": stations,
        "station_classes": StationClass.choices,
        "station_statuses": StationStatus.choices,
        "regions": regions,
        "region_id": region.pk if region else None,
        "units": units,
        "unit_names": unit_rows,
        "pending_units": sum(1 for row in unit_rows if not row["chosen"]),
        "comparators": Comparator.choices,
        "errors": errors,
        "plan_errors": _errors_of(errors, "plan-"),
        "new_unit": reviews.NEW_UNIT,
        "drop": reviews.DROP,
        "once_token": new_token(),
    }


def _errors_of(errors: dict[str, str], prefix: str) -> dict[str, str]:
    """The errors of one item, by field name (``task-t3-title`` → ``title``)."""
    return {
        key.removeprefix(prefix): message
        for key, message in errors.items()
        if key.startswith(prefix)
    }
