"""``manage.py jobs_rqworker``: the worker when ``JOBS_BACKEND=redis`` (django-tasks-rq).

django-rq's ``rqworker`` with the two things a plain one gets wrong here: it first recovers
the jobs a dead worker left running (core.jobs.recover_interrupted, as ``db_worker`` does;
the re-queue goes to Redis), and it runs django-tasks-rq's job class — with RQ's own class
every task fails with "'Task' object is not callable". Queues default to ``default``."""

from django.conf import settings
from django.core.management.base import CommandError

from core.jobs import recover_interrupted

try:
    from django_rq.management.commands.rqworker import Command as RQWorkerCommand
except ImportError:  # the redis extra is not installed
    from django.core.management.base import BaseCommand as RQWorkerCommand

JOB_CLASS = "django_tasks_rq.backend.Job"


class Command(RQWorkerCommand):
    help = "Run the Redis (RQ) worker (jobs left running by a dead worker are recovered first)"

    def handle(self, *args, **options):
        if settings.JOBS_BACKEND != "redis":
            raise CommandError(
                "JOBS_BACKEND is not redis: run `manage.py db_worker` (the database backend)"
            )
        counts = recover_interrupted()
        if options["verbosity"] and any(counts.values()):
            self.stdout.write(
                "recovered interrupted jobs: {requeued} queued again, {failed} failed".format(
                    **counts
                )
            )
        options["job_class"] = JOB_CLASS
        return super().handle(*(args or ("default",)), **options)
