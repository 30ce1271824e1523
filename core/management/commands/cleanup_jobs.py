"""``manage.py cleanup_jobs``: delete job files past their expiry (JOB_RESULT_DAYS) and
recover jobs whose worker is gone. Run it daily (cron / systemd timer)."""

from django.core.management.base import BaseCommand

from core.jobs import purge_expired, recover_interrupted


class Command(BaseCommand):
    help = "Delete expired job files (我的下载) and recover jobs whose worker is gone"

    def handle(self, *args, **options):
        deleted = purge_expired()
        counts = recover_interrupted()
        self.stdout.write(
            f"deleted {deleted} expired file(s); "
            f"{counts['requeued']} job(s) queued again, {counts['failed']} failed"
        )
