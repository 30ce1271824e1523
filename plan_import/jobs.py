"""Publishing a large reviewed draft (「发布」) as a background job (core.jobs): above
``JOB_IMPORT_THRESHOLD`` items (sections, tasks, targets, stations, milestones) the review
page hands the reviewer's form to a job instead of publishing inside the request. The worker
reads the form again as the owner (``apply_review``) and publishes it in one transaction
(``publish_review``): the plan with all its parts, or nothing. Registered in
``PlanImportConfig.ready``."""

from __future__ import annotations

from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext as _

from core import once
from core.jobs import JobOutput, Progress, register, start_job
from core.models import Job
from core.services import ServiceError
from plan_import import review as reviews
from plan_import.draft import Draft, draft_from_json
from plan_import.publish import check_decided

PLAN_PUBLISH = "plan_publish"
NOT_KEPT = ("csrfmiddlewaretoken", once.FIELD)  # one-request tokens: not stored in the job


def draft_size(draft: Draft) -> int:
    return sum(
        len(part)
        for part in (draft.sections, draft.tasks, draft.targets, draft.stations, draft.milestones)
    )


def publish_in_background(plan_draft, post: QueryDict, *, user) -> Job | None:
    """A job when the draft has more items than ``JOB_IMPORT_THRESHOLD`` and its form is
    current, has no wrong field and leaves nothing undecided (checked here, writing nothing);
    else None, and the page answers as for a small draft. The worker applies the same form to
    the same draft version (``submit_review``): a review saved meanwhile in another tab fails
    the job as stale."""
    draft = draft_from_json(plan_draft.data)
    size = draft_size(draft)
    if size <= settings.JOB_IMPORT_THRESHOLD:
        return None
    if str(post.get("version", "")) != str(plan_draft.version):
        return None  # stale: refused on the page like any review from an old form
    review = reviews.apply_review(plan_draft, post, actor=user)
    if review.errors:
        return None
    try:
        check_decided(review.draft, review.units)
    except ServiceError:
        return None  # undecided names or milestones: said on the page, as for a small draft
    form = post.copy()
    for name in NOT_KEPT:
        form.pop(name, None)
    return start_job(
        owner=user,
        kind=PLAN_PUBLISH,
        title=_("发布规划“%(title)s”（%(items)s 项）")
        % {"title": draft.plan.title or plan_draft.file_name, "items": size},
        parameters={"draft": plan_draft.pk, "form": form.urlencode()},
        total=size,
    )


def _run_plan_publish(job: Job, progress: Progress) -> JobOutput:
    form = QueryDict(job.parameters["form"])
    plan_draft = reviews.draft_of(job.owner, job.parameters["draft"])
    if plan_draft is None:
        raise ServiceError("not_found", _("没有这份导入草稿"))
    size = draft_size(draft_from_json(plan_draft.data))
    progress(0, size)
    review = reviews.submit_review(job.owner, plan_draft.pk, form, publish=True)
    if review.error is not None:
        raise review.error
    progress(size, size)
    return JobOutput(message=_("已发布规划：%(title)s") % {"title": review.plan.title})


def register_jobs() -> None:
    # Not re-run behind the reviewer's back after a lost worker (the transaction was rolled
    # back; the draft is still there to publish again).
    register(PLAN_PUBLISH, _run_plan_publish, idempotent=False)
