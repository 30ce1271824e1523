"""Create the day's reminders, and with --email send each user a digest of their new ones.

    manage.py send_notices                      # today, notices only (shown in the header)
    manage.py send_notices --email              # and e-mail the digests
    manage.py send_notices --date 2025-01-28 --email --base-url https://fireplan.example.cn

Run it once a day (cron or a systemd timer). Safe to rerun: a notice is created once per
user and key, and a notice is e-mailed once. E-mail goes through django.core.mail (the
console backend unless EMAIL_BACKEND is set); users without an address are skipped.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from reports.notices import generate_notices, send_digests


def parse_date(raw: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"日期“{raw}”无效，应为 2025-01-31 这样的格式") from None


class Command(BaseCommand):
    help = "生成提醒（临近截止、进度滞后、已逾期），可选发送邮件摘要"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="按此日期判断（YYYY-MM-DD，默认今天）")
        parser.add_argument("--email", action="store_true", help="向用户发送新提醒的邮件摘要")
        parser.add_argument(
            "--base-url",
            default=getattr(settings, "SITE_URL", ""),
            help="邮件中链接的网站地址，如 https://fireplan.example.cn（默认 settings.SITE_URL）",
        )

    def handle(self, *args, **options):
        on = parse_date(options["date"]) if options["date"] else None
        created = generate_notices(on=on)
        self.stdout.write(f"新建提醒 {created} 条")
        if not options["email"]:
            return
        sent, failed = send_digests(base_url=options["base_url"].rstrip("/"))
        self.stdout.write(f"已发送邮件 {sent} 封")
        for user, error in failed:
            self.stderr.write(
                f"发送给 {user.username} <{user.email}> 失败：{error}（下次运行重试）"
            )
        if failed:
            raise CommandError(f"{len(failed)} 封邮件发送失败")
