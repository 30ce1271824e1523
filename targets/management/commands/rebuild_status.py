"""Judge every target and allocation again and store it, or --check the stored judgement."""

import time

from django.core.management.base import BaseCommand, CommandError

from targets import judgement


class Command(BaseCommand):
    help = (
        "重新研判全部指标与分解指标并保存，或用 --check 核对 / Judge every live target and "
        "allocation for today and store it (run daily after midnight so no page judges), or "
        "--check that every stored judgement counted as current equals the engine's."
    )

    def add_arguments(self, parser):
        parser.add_argument("--target", type=int, action="append", help="只处理该指标（可重复）")
        parser.add_argument("--check", action="store_true", help="只核对，不修改；不一致时退出码 1")

    def handle(self, *args, target, check, **options):
        if not judgement.supported():
            raise CommandError("研判结果仅在 PostgreSQL 上保存；当前数据库每次读取时研判。")
        started = time.monotonic()
        if check:
            found = judgement.differences(target)
            for difference in found[:20]:
                self.stdout.write(str(difference))
            if found:
                many = "至少 " if len(found) >= 1000 else ""
                raise CommandError(
                    f"保存的研判结果与重新研判不一致：{many}{len(found)} 项；"
                    "请运行 manage.py rebuild_status"
                )
            seconds = time.monotonic() - started
            self.stdout.write(f"保存的研判结果与重新研判一致（{seconds:.1f} 秒）")
            return
        count = judgement.rebuild(target)
        self.stdout.write(f"已重新研判并保存 {count} 项（{time.monotonic() - started:.1f} 秒）")
