from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from seeds.loader import SeedError, load_seed_plans


class Command(BaseCommand):
    help = "载入 fixtures/plans/ 中的种子规划（幂等，单一事务） / Load the seed plans."

    def add_arguments(self, parser):
        parser.add_argument("--only", action="append", metavar="CODE", help="只载入该编码的规划")
        parser.add_argument("files", nargs="*", type=Path, help="要载入的文件（默认全部）")

    def handle(self, *args, files, only, **options):
        try:
            result = load_seed_plans(files or None, only=only)
        except SeedError as error:
            raise CommandError(
                "种子数据有误，未写入任何数据：\n" + "\n".join(error.errors)
            ) from None
        labels = sorted(set(result.created) | set(result.updated) | set(result.unchanged))
        for label in labels:
            self.stdout.write(
                f"{label:>16}: {result.created[label]:4} 新增 {result.updated[label]:4} 更新 "
                f"{result.unchanged[label]:4} 未变"
            )
        summary = "已更新" if result.changed else "无变化"
        self.stdout.write(self.style.SUCCESS(f"{summary}：{', '.join(result.plans)}"))
