"""Background jobs on the pages (namespace ``core``, under /downloads/): 「我的下载」, a job's
page with its progress bar (htmx polls ``job_progress`` every second while the job is queued
or running: rows done / total, elapsed, 取消), cancelling, and downloading the file.

A job is its owner's only: another user gets 404, as for anything outside their scope."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core import jobs
from core.evidence_views import content_disposition
from core.models import Job
from core.services import ServiceError

LIST_LIMIT = 50
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _own_job(request, pk: int) -> Job:
    return get_object_or_404(Job, pk=pk, owner=request.user)


@require_GET
def job_list(request):
    """我的下载: the user's latest jobs, their state and files (one query)."""
    rows = list(Job.objects.filter(owner=request.user).order_by("-created_at", "-pk")[:LIST_LIMIT])
    context = {"jobs": rows, "days": settings.JOB_RESULT_DAYS}
    return render(request, "core/job_list.html", context)


def _progress_context(job: Job) -> dict:
    now = timezone.now()
    end = job.finished_at or now
    elapsed = int((end - job.started_at).total_seconds()) if job.started_at else 0
    return {
        "job": job,
        "elapsed": elapsed,
        "active": not job.finished,
        "days": settings.JOB_RESULT_DAYS,
    }


@require_GET
def job_detail(request, pk: int):
    job = jobs.refresh(_own_job(request, pk))
    return render(request, "core/job_detail.html", _progress_context(job))


@require_GET
def job_progress(request, pk: int):
    """The progress fragment htmx swaps in; it stops polling once the job has ended."""
    job = jobs.refresh(_own_job(request, pk))
    return render(request, "core/job_detail.html#progress", _progress_context(job))


@require_POST
def job_cancel(request, pk: int):
    job = _own_job(request, pk)
    try:
        jobs.cancel_job(job, actor=request.user)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已取消“%(title)s”") % {"title": job.title})
    return redirect("core:job_detail", pk=job.pk)


@require_GET
def job_download(request, pk: int):
    job = _own_job(request, pk)
    if not job.downloadable:
        raise Http404(_("文件不存在或已过保留期"))
    response = FileResponse(job.result.open("rb"), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(job.result_name, "download.xlsx")
    response["X-Content-Type-Options"] = "nosniff"
    return response
