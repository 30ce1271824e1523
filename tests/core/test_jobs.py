"""Background jobs (core.jobs): a large export becomes a job with a progress page, its owner
alone sees and downloads it, cancelling stops it, expired files go, and a job whose worker
died is queued again or failed with a message — never left running."""

import io
import os
import socket
import subprocess

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core import jobs
from core.choices import JobState
from core.models import Job, Region
from reports.excel.jobs import FIGURES_IMPORT, LEDGER_EXPORT
from stations.models import Station

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def small_threshold(settings):
    """Nanyang's register (a handful of stations) counts as large."""
    settings.JOB_EXPORT_THRESHOLD = 2


def add_stations(count: int, region_name: str = "南召县") -> None:
    region = Region.objects.get(name=region_name)
    Station.objects.bulk_create(
        Station(name=f"测试站{n}", region=region, status="planned", address=f"测试路{n}号")
        for n in range(count)
    )


def start_export(client, user) -> Job:
    client.force_login(user)
    response = client.get(reverse("reports:excel_station_register"))
    assert response.status_code == 302, response.content[:300]
    job = Job.objects.get(owner=user)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    return job


def dead_worker() -> str:
    """A worker name on this host whose process has ended."""
    process = subprocess.Popen(["true"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}"


# ------------------------------------------------------------------------------ lifecycle


def test_a_large_export_is_queued_and_then_downloaded_by_its_owner(
    client, seeded, small_threshold, supervisor_nanyang
):
    add_stations(3)
    job = start_export(client, supervisor_nanyang)
    assert job.state == JobState.QUEUED and job.kind == LEDGER_EXPORT
    # Queued with its task, in the same transaction: the worker will find both.
    assert DBTaskResult.objects.filter(id=job.task_id, status="READY").exists()
    page = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert "排队中" in page and 'hx-trigger="every 1s"' in page and "取消" in page

    assert jobs.execute(job.pk) == JobState.SUCCEEDED
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.done == job.total >= 3
    assert job.expires_at > timezone.now() + timezone.timedelta(days=6)
    fragment = client.get(reverse("core:job_progress", args=[job.pk])).content.decode()
    assert "hx-trigger" not in fragment  # ended: the page stops polling
    assert reverse("core:job_download", args=[job.pk]) in fragment

    response = client.get(reverse("core:job_download", args=[job.pk]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))["消防站台账"]
    names = [row[1] for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert "测试站2" in names and len(names) >= 3


def test_below_the_threshold_the_export_stays_in_the_request(client, seeded, supervisor_nanyang):
    client.force_login(supervisor_nanyang)
    response = client.get(reverse("reports:excel_station_register"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert not Job.objects.exists()


def test_only_the_owner_sees_a_job_and_its_file(
    client, seeded, small_threshold, supervisor_nanyang, staff_nanyang
):
    job = start_export(client, supervisor_nanyang)
    jobs.execute(job.pk)
    client.force_login(staff_nanyang)
    for name in ("job_detail", "job_progress", "job_download"):
        assert client.get(reverse(f"core:{name}", args=[job.pk])).status_code == 404
    assert client.post(reverse("core:job_cancel", args=[job.pk])).status_code == 404
    assert job.title not in client.get(reverse("core:job_list")).content.decode()


def test_a_failed_export_says_why(client, seeded, small_threshold, supervisor_nanyang):
    job = start_export(client, supervisor_nanyang)
    Job.objects.filter(pk=job.pk).update(parameters={"ledger": "stations", "query": "status=x"})
    assert jobs.execute(job.pk) == JobState.FAILED
    job.refresh_from_db()
    assert job.message == "筛选条件已无效，请重新导出" and not job.result


# ------------------------------------------------------------------------------ cancel


def test_a_cancelled_queued_job_never_runs(client, seeded, small_threshold, supervisor_nanyang):
    job = start_export(client, supervisor_nanyang)
    response = client.post(reverse("core:job_cancel", args=[job.pk]), follow=True)
    assert "已取消" in response.content.decode()
    assert jobs.execute(job.pk) == "skipped"
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and not job.result
    # Cancelling again is refused with the job's state, nothing changes.
    response = client.post(reverse("core:job_cancel", args=[job.pk]), follow=True)
    assert "任务已结束（已取消），无法取消" in response.content.decode()


def test_a_running_job_stops_at_its_next_progress_call(seeded, supervisor_nanyang):
    calls = []

    def work(job, progress):
        progress(1, 3)
        calls.append(1)
        Job.objects.filter(pk=job.pk).update(state=JobState.CANCELLED)  # the owner's click
        progress.flush()  # the heartbeat reads it back
        progress(2, 3)
        calls.append(2)
        return jobs.JobOutput()

    jobs.register("test_cancel", work, idempotent=True)
    try:
        job = jobs.start_job(owner=supervisor_nanyang, kind="test_cancel", title="t", parameters={})
        assert jobs.execute(job.pk) == JobState.CANCELLED
    finally:
        del jobs.KINDS["test_cancel"]
    assert calls == [1]
    assert Job.objects.get(pk=job.pk).state == JobState.CANCELLED


# ------------------------------------------------------------------------------ recovery


@pytest.mark.parametrize(
    ("kind", "state", "message"),
    [
        (LEDGER_EXPORT, JobState.QUEUED, "工作进程已停止，任务已重新排队"),
        (FIGURES_IMPORT, JobState.FAILED, "任务中断：工作进程已停止，请重新发起"),
    ],
)
def test_a_job_of_a_dead_worker_is_queued_again_or_failed(
    seeded, supervisor_nanyang, kind, state, message
):
    job = jobs.start_job(owner=supervisor_nanyang, kind=kind, title="t", parameters={})
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, worker=dead_worker(), heartbeat_at=timezone.now(), attempts=1
    )
    DBTaskResult.objects.filter(id=job.task_id).update(status="RUNNING")
    assert jobs.recover_interrupted() == {
        "requeued": int(state == JobState.QUEUED),
        "failed": int(state == JobState.FAILED),
    }
    job.refresh_from_db()
    assert (job.state, job.message) == (state, message)
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()


def test_an_export_lost_twice_fails_and_a_live_job_is_left_alone(seeded, supervisor_nanyang):
    lost = jobs.start_job(owner=supervisor_nanyang, kind=LEDGER_EXPORT, title="t", parameters={})
    live = jobs.start_job(owner=supervisor_nanyang, kind=LEDGER_EXPORT, title="u", parameters={})
    stale = timezone.now() - timezone.timedelta(minutes=5)
    Job.objects.filter(pk=lost.pk).update(
        state=JobState.RUNNING, worker="elsewhere:1", heartbeat_at=stale, attempts=2
    )
    Job.objects.filter(pk=live.pk).update(
        state=JobState.RUNNING, worker="elsewhere:1", heartbeat_at=timezone.now(), attempts=1
    )
    jobs.recover_interrupted()
    assert Job.objects.get(pk=lost.pk).state == JobState.FAILED
    assert Job.objects.get(pk=live.pk).state == JobState.RUNNING


def test_the_status_page_recovers_a_stale_job(client, seeded, supervisor_nanyang):
    job = jobs.start_job(owner=supervisor_nanyang, kind=FIGURES_IMPORT, title="t", parameters={})
    stale = timezone.now() - timezone.timedelta(minutes=5)
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, worker="elsewhere:1", heartbeat_at=stale
    )
    client.force_login(supervisor_nanyang)
    page = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert "任务中断：工作进程已停止，请重新发起" in page


# ------------------------------------------------------------------------------ expiry


def test_expired_files_are_deleted_and_no_longer_downloadable(
    client, seeded, small_threshold, supervisor_nanyang
):
    job = start_export(client, supervisor_nanyang)
    jobs.execute(job.pk)
    job.refresh_from_db()
    path = job.result.path
    assert jobs.purge_expired(job.expires_at - timezone.timedelta(seconds=1)) == 0
    assert jobs.purge_expired(job.expires_at) == 1
    job.refresh_from_db()
    assert not job.result and not job.downloadable
    assert not os.path.exists(path)
    assert client.get(reverse("core:job_download", args=[job.pk])).status_code == 404
    assert "文件已过保留期，已删除" in client.get(reverse("core:job_list")).content.decode()


# ------------------------------------------------------------------------------ lists


@pytest.mark.parametrize("rows", [1, 30])
def test_my_downloads_queries_do_not_grow_with_jobs(client, seeded, supervisor_nanyang, rows):
    for number in range(rows):
        jobs.start_job(owner=supervisor_nanyang, kind=LEDGER_EXPORT, title=f"导出{number}",
                       parameters={})  # fmt: skip
    client.force_login(supervisor_nanyang)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("core:job_list"))
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="job-row"') == rows
    # session, user with profile, the jobs, then the header's: region tree (the menu's role
    # and scope), unread notices — the same for 1 and 30.
    assert len(queries) == 5, [q["sql"][:120] for q in queries]


@pytest.mark.parametrize("rows", [1, 30])
def test_the_jobs_api_list_queries_do_not_grow(client, seeded, supervisor_nanyang, rows):
    for number in range(rows):
        jobs.start_job(owner=supervisor_nanyang, kind=LEDGER_EXPORT, title=f"导出{number}",
                       parameters={})  # fmt: skip
    client.force_login(supervisor_nanyang)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/jobs/")
    assert response.status_code == 200 and response.json()["count"] == rows
    # session, user with profile, the page of jobs (fewer than a page: no count query).
    assert len(queries) == 3, [q["sql"][:120] for q in queries]


# ------------------------------------------------------------------------------ API


def test_the_api_answers_202_with_the_status_url_and_cancels(
    client, seeded, small_threshold, supervisor_nanyang, staff_nanyang
):
    client.force_login(supervisor_nanyang)
    response = client.get("/api/v1/exports/stations/")
    assert response.status_code == 202
    body = response.json()
    assert response["Location"] == body["status_url"]
    assert body["state"] == "queued" and body["download_url"] is None
    status = client.get(body["status_url"]).json()
    assert status["id"] == body["id"] and status["total"] == body["total"]

    cancel = f"/api/v1/jobs/{body['id']}/cancel/"
    assert client.post(cancel).json()["state"] == "cancelled"
    again = client.post(cancel)
    assert again.status_code == 409 and again.json()["code"] == "job_finished"

    client.force_login(staff_nanyang)
    assert client.get(body["status_url"]).status_code == 404
    assert client.post(cancel).status_code == 404


def test_a_finished_job_gives_its_download_url(client, seeded, small_threshold, supervisor_nanyang):
    client.force_login(supervisor_nanyang)
    body = client.get("/api/v1/exports/stations/").json()
    jobs.execute(body["id"])
    status = client.get(body["status_url"]).json()
    assert status["state"] == "succeeded" and status["done"] == status["total"]
    assert client.get(status["download_url"]).status_code == 200
