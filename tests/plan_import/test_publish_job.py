"""「发布」 of a large reviewed draft runs as a background job: nothing is published until the
worker runs it, then the whole plan at once; the job's page says which plan."""

import pytest
from django.urls import reverse

from core import jobs
from core.choices import JobState
from core.models import Job
from plan_import.jobs import PLAN_PUBLISH
from plan_import.models import PlanDraft
from planning.models import Plan
from tests.plan_import.test_review import form_fields, resolve_pending_units, upload

pytestmark = pytest.mark.django_db


def test_a_large_draft_is_published_by_its_job(staff_nanjing, client, settings):
    settings.JOB_IMPORT_THRESHOLD = 1
    client.force_login(staff_nanjing)
    upload(client)
    draft = PlanDraft.objects.get(owner=staff_nanjing)
    url = reverse("plan_import:review", args=[draft.pk])
    fields = form_fields(client.get(url).content.decode()) | {"action": "publish"}
    plans = Plan.objects.count()

    # Undecided unit names are refused on the page, as for a small draft: no job.
    pending = client.post(url, fields)
    assert pending.status_code == 400 and "尚未确认" in pending.content.decode()
    assert not Job.objects.filter(owner=staff_nanjing).exists()

    fields = form_fields(client.get(url).content.decode()) | {"action": "publish"}
    assert resolve_pending_units(fields)
    for key in [key for key in fields if key.endswith("-attach") and not fields[key]]:
        fields[key] = "drop"
    response = client.post(url, fields)
    job = Job.objects.get(owner=staff_nanjing, kind=PLAN_PUBLISH)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert Plan.objects.count() == plans  # queued: nothing published yet
    assert "csrfmiddlewaretoken" not in job.parameters["form"]

    assert jobs.execute(job.pk) == JobState.SUCCEEDED
    draft.refresh_from_db()
    assert draft.published_plan is not None and Plan.objects.count() == plans + 1
    job.refresh_from_db()
    assert job.message == f"已发布规划：{draft.published_plan.title}"
    # Run again (a double click queued twice): refused, nothing published twice.
    again = jobs.start_job(
        owner=staff_nanjing, kind=PLAN_PUBLISH, title="again", parameters=job.parameters
    )
    assert jobs.execute(again.pk) == JobState.FAILED
    assert Job.objects.get(pk=again.pk).message == "这份草稿已经发布过"
    assert Plan.objects.count() == plans + 1
