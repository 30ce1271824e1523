"""``manage.py db_worker``: the database backend's worker, which first recovers the jobs a
dead worker left running (core.jobs.recover_interrupted), so a job survives a worker restart:
queued again or failed with a message, never left running.

core is listed before django_tasks_db in INSTALLED_APPS, so this command is the one run."""

from django_tasks_db.management.commands.db_worker import Command as BackendWorkerCommand

from core.jobs import recover_interrupted


class Command(BackendWorkerCommand):
    help = "Run the background worker (jobs left running by a dead worker are recovered first)"

    def handle(self, *args, **options):
        counts = recover_interrupted()
        if options["verbosity"] and any(counts.values()):
            self.stdout.write(
                "recovered interrupted jobs: {requeued} queued again, {failed} failed".format(
                    **counts
                )
            )
        return super().handle(*args, **options)
