"""Jobs on Redis (JOBS_BACKEND=redis, django-tasks-rq): an export queued through the RQ
backend is run by a real ``manage.py jobs_rqworker`` and ends with its file; a worker killed
mid-export (the RQ worker and its work horse, SIGKILL) leaves a running job that the next
worker recovers — queued again through Redis and finished, or failed with the message.

Needs Redis on 127.0.0.1:6379; uses database 13 and flushes only that one. Without Redis the
tests skip with a notice — except in CI (CI=true), where they fail."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from core import jobs
from core.choices import JobState
from core.models import Job, Region
from reports.excel.jobs import LEDGER_EXPORT
from stations.models import Station
from tests.core.test_job_worker import wait_for, worker_env

REDIS_URL = "redis://127.0.0.1:6379/13"
ROWS = 20_000

ROOT = Path(__file__).resolve().parents[2]

# One Redis database for the file: under pytest-xdist its tests run in one worker, one after
# another, so no test flushes database 13 under another's queue.
pytestmark = pytest.mark.xdist_group("redis")


def _skip_or_fail(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(f"注意 NOTICE: Redis job tests skipped — {reason}")


@pytest.fixture
def redis_jobs(settings, tmp_path):
    """This process enqueues through the RQ backend on Redis database 13, emptied around the
    test; returns the environment of a worker sharing the test database and media."""
    try:
        import django_tasks_rq  # noqa: F401
        import redis
    except ImportError:
        _skip_or_fail("django-tasks-rq not installed; pip install -e '.[redis]'")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        _skip_or_fail(f"Redis on 127.0.0.1:6379 does not answer ({error})")
    client.flushdb()
    settings.MEDIA_ROOT = tmp_path
    settings.JOBS_BACKEND = "redis"
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": -1}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    yield worker_env(tmp_path) | {"JOBS_BACKEND": "redis", "REDIS_URL": REDIS_URL}
    client.flushdb()
    client.close()


def rq_worker(env, *arguments) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "jobs_rqworker", *arguments],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def export_stations(owner, count: int) -> Job:
    region = Region.objects.get(name="南召县")
    Station.objects.bulk_create(
        (Station(name=f"测试站{n}", region=region, status="planned", address=f"测试路{n}号")
         for n in range(count)),
        batch_size=5000,
    )  # fmt: skip
    return jobs.start_job(
        owner=owner, kind=LEDGER_EXPORT, title="消防站台账导出",
        parameters={"ledger": "stations", "query": ""},
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_an_export_queued_on_redis_is_run_by_the_rq_worker(seeded, supervisor_nanyang, redis_jobs):
    job = export_stations(supervisor_nanyang, 3)
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.task_id  # sent to Redis once committed

    worker = rq_worker(redis_jobs, "--burst")  # runs what is queued, then exits
    _out, errors = worker.communicate(timeout=120)
    assert worker.returncode == 0, errors.decode()[-2000:]

    job.refresh_from_db()
    assert (job.state, job.attempts, job.message) == (JobState.SUCCEEDED, 1, "")
    assert job.done == job.total >= 3 and job.downloadable
    assert default_storage.exists(job.result.name) and job.result_size_bytes > 0
    assert jobs.run_job.get_result(job.task_id).status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)
def test_a_job_survives_its_rq_worker_being_killed(redis_jobs, seeded, supervisor_nanyang):
    job = export_stations(supervisor_nanyang, ROWS)
    worker = rq_worker(redis_jobs)
    try:
        running = wait_for(
            lambda: Job.objects.filter(pk=job.pk, state=JobState.RUNNING, done__gt=0).first(),
            90,
            "the RQ worker to make progress",
        )
        # RQ runs the job in a forked work horse of its own process group: kill both.
        horse = int(running.worker.rpartition(":")[2])
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        os.kill(horse, signal.SIGKILL)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    wait_for(lambda: jobs._process_gone(running.worker), 30, "the work horse to end")
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and 0 < job.done < ROWS  # what a dead worker leaves
    first_task = job.task_id

    restarted = rq_worker(redis_jobs, "--burst")  # recovers first: queued again on Redis
    _out, errors = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, errors.decode()[-2000:]
    job.refresh_from_db()
    assert (job.state, job.message) in [
        (JobState.SUCCEEDED, ""),
        (JobState.FAILED, "任务中断：工作进程已停止，请重新发起"),
    ]
    if job.state == JobState.SUCCEEDED:  # queued again through Redis, run in full
        assert job.task_id != first_task and job.attempts == 2
        assert job.done == job.total >= ROWS and job.downloadable


@pytest.mark.django_db(transaction=True)
def test_a_redis_that_does_not_answer_fails_the_job_with_a_message(
    seeded, supervisor_nanyang, settings
):
    pytest.importorskip("django_tasks_rq")
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/13"}}  # nothing listens
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    job = export_stations(supervisor_nanyang, 3)  # no exception for the request to answer
    job.refresh_from_db()
    assert (job.state, job.task_id) == (JobState.FAILED, "")  # not left queued forever
    assert job.message == "任务未能排队：后台任务服务不可用，请稍后重新发起"


def settings_in(**environ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("JOBS_BACKEND", "TASKS_BACKEND")}
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.TASKS['default']['BACKEND'], getattr(s, 'RQ_QUEUES', {}).get('default'), "
        "'django_rq' in s.INSTALLED_APPS)"
    )
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=env | {"DJANGO_SETTINGS_MODULE": "fireplan.settings", "REDIS_URL": ""} | environ,
    )  # fmt: skip


def test_one_switch_chooses_the_jobs_backend():
    pytest.importorskip("django_tasks_rq")
    default = settings_in()
    assert default.stdout.split() == ["django_tasks_db.DatabaseBackend", "None", "False"]
    redis = settings_in(JOBS_BACKEND="redis", REDIS_URL=REDIS_URL)
    assert redis.stdout.strip() == (
        f"django_tasks_rq.RQBackend {{'URL': '{REDIS_URL}', 'DEFAULT_TIMEOUT': -1}} True"
    ), redis.stderr[-1000:]
    for environ, refusal in [
        ({"JOBS_BACKEND": "redis"}, "JOBS_BACKEND=redis needs REDIS_URL"),
        ({"JOBS_BACKEND": "celery"}, "JOBS_BACKEND must be database or redis"),
        ({"TASKS_BACKEND": "django_tasks_rq.RQBackend"}, "TASKS_BACKEND was replaced"),
    ]:
        refused = settings_in(**environ)
        assert refused.returncode != 0 and refusal in refused.stderr, environ
