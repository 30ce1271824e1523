"""A job survives its worker being killed: a real ``manage.py db_worker`` runs a large export,
is killed with SIGKILL mid-way, and a new worker started after it finishes the job (queued
again: an export is idempotent) — the job ends succeeded, or failed with the message, never
left running."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from core import jobs
from core.choices import JobState
from core.models import Job, Region
from reports.excel.jobs import LEDGER_EXPORT
from stations.models import Station

ROWS = 20_000


def worker_env(media) -> dict:
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    return os.environ | {
        "DATABASE_URL": url,
        "SECRET_KEY": "worker-test-secret-key-0123456789abcdefghijkl",
        "DEBUG": "0",
        "MEDIA_ROOT": str(media),
        "JOB_HEARTBEAT_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
    }


def start_worker(env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2",
         "--no-startup-delay"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_a_job_survives_its_worker_being_killed(seeded, supervisor_nanyang, tmp_path):
    region = Region.objects.get(name="南召县")
    Station.objects.bulk_create(
        (Station(name=f"测试站{n}", region=region, status="planned", address=f"测试路{n}号")
         for n in range(ROWS)),
        batch_size=5000,
    )  # fmt: skip
    job = jobs.start_job(
        owner=supervisor_nanyang, kind=LEDGER_EXPORT, title="消防站台账导出",
        parameters={"ledger": "stations", "query": ""},
    )  # fmt: skip
    env = worker_env(tmp_path)
    worker = start_worker(env)
    try:
        # Mid-way: the worker has claimed the job and written some progress.
        wait_for(
            lambda: Job.objects.filter(pk=job.pk, state=JobState.RUNNING, done__gt=0).exists(),
            90,
            "the first worker to make progress",
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        job.refresh_from_db()
        assert job.state == JobState.RUNNING and 0 < job.done < ROWS  # what a dead worker leaves
        first_task = job.task_id

        worker = start_worker(env)
        wait_for(
            lambda: Job.objects.filter(pk=job.pk).exclude(state__in=jobs.ACTIVE).exists(),
            180,
            "the job to end after the restart",
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    job.refresh_from_db()
    assert (job.state, job.message) in [
        (JobState.SUCCEEDED, ""),
        (JobState.FAILED, "任务中断：工作进程已停止，请重新发起"),
    ]
    if job.state == JobState.SUCCEEDED:  # queued again, run by the new worker in full
        assert job.attempts == 2 and job.done == job.total >= ROWS and job.downloadable
    # The backend's row of the killed run does not say RUNNING forever either.
    assert DBTaskResult.objects.get(id=first_task).status == "FAILED"
