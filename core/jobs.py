"""Background jobs (后台任务): long exports and imports run by a worker, with progress.

The mechanism only; the work is registered by the app that owns it (``register`` in its
``AppConfig.ready()``: reports registers the ledger exports and the figures import,
plan_import the publishing of a draft), so core never imports a higher layer.

- ``start_job`` writes the ``Job`` row and enqueues ``run_job`` in one transaction (with the
  database backend both rows commit together: a job is never queued without its task; with
  Redis, ``JOBS_BACKEND=redis``, the task is sent once the row is committed).
- ``run_job`` (in ``manage.py db_worker``, or ``jobs_rqworker`` on Redis) claims the row
  (queued → running), calls the kind's function with a ``Progress``, stores the file it returns
  with an expiry, and ends the row as succeeded, failed (with a Chinese message) or cancelled.
- ``Progress(done, total)`` only sets two numbers; a thread of its own writes them with a
  heartbeat every ``JOB_HEARTBEAT_SECONDS`` on its own connection — short autocommit
  updates, outside the work's transaction (an import's one transaction stays all or nothing
  while the page sees its progress) — and reads back a cancellation, which the next call
  raises as ``JobCancelled`` inside the work.
- ``recover_interrupted`` (run by ``db_worker`` as it starts, and by the status page and API
  for the job they show): a job whose worker is gone (its process on this host has ended, or
  its heartbeat is older than ``JOB_STALE_SECONDS``) is queued again if its kind is
  idempotent and it has not yet been tried twice, else failed with 「任务中断：工作进程已停止，
  请重新发起」. Nothing stays "running" forever.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import PurePath
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks_db.backend import DatabaseBackend

from core.choices import JobState
from core.models import Job
from core.services import NotAllowed, ServiceError

try:  # Django 6: built in
    from django.tasks import task
except ImportError:  # Django 5.2: the django-tasks backport (same API)
    from django_tasks import task

logger = logging.getLogger(__name__)

INTERRUPTED = gettext_lazy("任务中断：工作进程已停止，请重新发起")
REQUEUED = gettext_lazy("工作进程已停止，任务已重新排队")
NOT_QUEUED = gettext_lazy("任务未能排队：后台任务服务不可用，请稍后重新发起")
INTERNAL_FAILURE = gettext_lazy("任务失败：系统内部错误，请稍后重试或联系管理员")
MAX_ATTEMPTS = 2  # an idempotent job is run at most twice (once again after a lost worker)
ACTIVE = (JobState.QUEUED, JobState.RUNNING)


class JobCancelled(Exception):
    """Raised inside the work by ``Progress`` once the owner has cancelled the job."""


class JobNotActive(ServiceError):
    status_code = 409

    def __init__(self, job: Job):
        super().__init__(
            "job_finished",
            _("任务已结束（%(state)s），无法取消") % {"state": job.get_state_display()},
        )


@dataclass(frozen=True)
class JobOutput:
    """What a job hands back: an open, rewound file and the name it is downloaded under
    (both optional: an import has no file), and a message for the user."""

    file: IO[bytes] | None = None
    filename: str = ""
    message: str = ""


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Callable[[Job, Progress], JobOutput]
    idempotent: bool


KINDS: dict[str, JobKind] = {}


def register(name: str, run: Callable[[Job, Progress], JobOutput], *, idempotent: bool) -> None:
    """Declare a kind of job. ``idempotent``: running it again after a lost worker gives the
    same result (an export); an import is not re-run behind the user's back."""
    KINDS[name] = JobKind(name, run, idempotent)


# ------------------------------------------------------------------------------ starting


def start_job(*, owner, kind: str, title: str, parameters: dict, total: int | None = None) -> Job:
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    with transaction.atomic():
        job = Job.objects.create(
            owner=owner, kind=kind, title=title[:200], parameters=parameters, total=total
        )
        _enqueue(job)
    return job


def _enqueue(job: Job) -> None:
    """Queue ``run_job`` for the job. The database backend writes its task in the caller's
    transaction (both rows or neither). Another backend (Redis) is sent the task once the
    row is committed: sent earlier, a quick worker would find no queued row and skip it, and
    the job would stay queued forever."""
    if isinstance(run_job.get_backend(), DatabaseBackend):
        job.task_id = _send(job.pk)
    else:
        transaction.on_commit(partial(_send_after_commit, job.pk))


def _send(job_id: int) -> str:
    task_id = str(run_job.enqueue(job_id).id)
    Job.objects.filter(pk=job_id).update(task_id=task_id)
    return task_id


def _send_after_commit(job_id: int) -> None:
    """The row is committed; a queue that cannot be reached fails the job with a message
    instead of leaving it queued with no task (or answering the request with a 500)."""
    try:
        _send(job_id)
    except Exception:
        logger.exception("job %s: the task could not be queued", job_id)
        Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(
            state=JobState.FAILED, finished_at=timezone.now(), message=str(NOT_QUEUED)
        )


def cancel_job(job: Job, *, actor) -> Job:
    """Queued: it will not run. Running: the work stops at its next progress call (an
    import's transaction is rolled back)."""
    if job.owner_id != actor.pk:
        raise NotAllowed("job_not_owner", _("只有任务发起人可以取消该任务"))
    now = timezone.now()
    updated = Job.objects.filter(pk=job.pk, state__in=ACTIVE).update(
        state=JobState.CANCELLED, finished_at=now, message=_("已由发起人取消")
    )
    job.refresh_from_db()
    if not updated:
        raise JobNotActive(job)
    return job


# ------------------------------------------------------------------------------ running


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@task()
def run_job(job_id: int) -> str:
    """The one task every job runs through; returns the job's final state."""
    return execute(job_id)


def execute(job_id: int) -> str:
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        worker=worker_name(),
        message="",
    )
    if not claimed:  # cancelled while queued, or already taken
        return "skipped"
    job = Job.objects.select_related("owner").get(pk=job_id)
    kind = KINDS.get(job.kind)
    if kind is None:
        _end(job, JobState.FAILED, message=str(INTERNAL_FAILURE))
        return JobState.FAILED
    progress = Progress(job.pk, total=job.total)
    progress.start()
    try:
        output = kind.run(job, progress)
    except JobCancelled:
        progress.stop()
        return JobState.CANCELLED
    except ServiceError as error:
        progress.stop()
        _end(job, JobState.FAILED, message=error.message)
        return JobState.FAILED
    except Exception:
        progress.stop()
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _end(job, JobState.FAILED, message=str(INTERNAL_FAILURE))
        return JobState.FAILED
    progress.stop()
    return _succeed(job, output, progress)


def _succeed(job: Job, output: JobOutput, progress: Progress) -> str:
    stored, size = "", 0
    if output.file is not None:
        with output.file:
            output.file.seek(0, os.SEEK_END)
            size = output.file.tell()
            output.file.seek(0)
            stored = default_storage.save(_stored_name(output.filename), File(output.file))
    done = progress.total if progress.total is not None else progress.done
    ended = _end(
        job,
        JobState.SUCCEEDED,
        message=output.message,
        result=stored,
        result_name=output.filename,
        result_size_bytes=size,
        expires_at=timezone.now() + datetime.timedelta(days=settings.JOB_RESULT_DAYS),
        done=done or 0,
        total=progress.total if progress.total is not None else progress.done,
    )
    if not ended:  # cancelled (or failed by a stale check) meanwhile: keep nothing
        if stored:
            default_storage.delete(stored)
        return Job.objects.filter(pk=job.pk).values_list("state", flat=True).first() or ""
    return JobState.SUCCEEDED


def _stored_name(filename: str) -> str:
    """A random name under MEDIA_ROOT (no URL serves it; jobs:download checks the owner)."""
    return f"jobs/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


def _end(job: Job, state: str, **fields) -> bool:
    """Running → ``state``; False when the job is no longer running."""
    return bool(
        Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
            state=state, finished_at=timezone.now(), heartbeat_at=timezone.now(), **fields
        )
    )


class Progress:
    """The ``progress(done, total)`` callable the exporters and importers take.

    A call costs two attribute writes (it is called per row); the heartbeat thread writes
    them to the database on its own connection and learns about a cancellation."""

    def __init__(self, job_id: int, *, total: int | None = None, interval: float | None = None):
        self.job_id = job_id
        self.done = 0
        self.total = total
        self.interval = settings.JOB_HEARTBEAT_SECONDS if interval is None else interval
        self._cancelled = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, done: int, total: int | None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if self._cancelled.is_set():
            raise JobCancelled

    def start(self) -> None:
        self._thread = threading.Thread(target=self._beat, name=f"job-{self.job_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stopped.wait(self.interval):
                try:
                    self.flush()
                except Exception:  # a lost connection must not end the work; retried next beat
                    logger.exception("job %s: progress not written", self.job_id)
                    connections.close_all()
        finally:
            connections.close_all()  # this thread's connections only (they are per thread)

    def flush(self) -> None:
        """One short autocommit update (this thread's own connection)."""
        updated = Job.objects.filter(pk=self.job_id, state=JobState.RUNNING).update(
            done=self.done, total=self.total, heartbeat_at=timezone.now()
        )
        if not updated and Job.objects.filter(pk=self.job_id, state=JobState.CANCELLED).exists():
            self._cancelled.set()


# ------------------------------------------------------------------------------ recovery


def _process_gone(worker: str) -> bool:
    """True when ``worker`` ran on this host and its process has ended."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def is_interrupted(job: Job, now: datetime.datetime | None = None) -> bool:
    if job.state != JobState.RUNNING:
        return False
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.JOB_STALE_SECONDS)
    return job.heartbeat_at is None or job.heartbeat_at < stale or _process_gone(job.worker)


def recover_interrupted(queryset=None) -> dict[str, int]:
    """Jobs left running by a dead worker: queued again (idempotent, tried once) or failed
    with ``INTERRUPTED``. Returns how many of each."""
    counts = {"requeued": 0, "failed": 0}
    now = timezone.now()
    queryset = Job.objects.all() if queryset is None else queryset
    with transaction.atomic():
        running = queryset.filter(state=JobState.RUNNING).select_for_update(skip_locked=True)
        for job in running:
            if not is_interrupted(job, now):
                continue
            _close_backend_task(job, now)
            kind = KINDS.get(job.kind)
            if kind is not None and kind.idempotent and job.attempts < MAX_ATTEMPTS:
                Job.objects.filter(pk=job.pk).update(
                    state=JobState.QUEUED, message=str(REQUEUED), done=0, heartbeat_at=None,
                    worker="",
                )  # fmt: skip
                _enqueue(job)
                counts["requeued"] += 1
            else:
                Job.objects.filter(pk=job.pk).update(
                    state=JobState.FAILED, message=str(INTERRUPTED), finished_at=now
                )
                counts["failed"] += 1
    return counts


def _close_backend_task(job: Job, now) -> None:
    """The database backend's row of the lost run would say RUNNING forever: say FAILED.
    (RQ moves a lost run to its failed registry itself, once the worker's heartbeat expires.)"""
    if not job.task_id or not isinstance(run_job.get_backend(), DatabaseBackend):
        return
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(id=job.task_id, status="RUNNING").update(
        status="FAILED",
        finished_at=now,
        exception_class_path="core.jobs.WorkerLost",
        traceback=str(INTERRUPTED),
    )


def refresh(job: Job) -> Job:
    """The job as a status page should show it: recovered first if its worker is gone."""
    if is_interrupted(job):
        recover_interrupted(Job.objects.filter(pk=job.pk))
        job.refresh_from_db()
    return job


# ------------------------------------------------------------------------------ expiry


def purge_expired(now: datetime.datetime | None = None) -> int:
    """Files past their expiry are deleted; the job row stays (its message says so)."""
    now = now or timezone.now()
    count = 0
    for job in Job.objects.filter(expires_at__lte=now).exclude(result=""):
        name = job.result.name
        Job.objects.filter(pk=job.pk).update(result="", message=_("文件已过保留期，已删除"))
        default_storage.delete(name)
        count += 1
    return count
