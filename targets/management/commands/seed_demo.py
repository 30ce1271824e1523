from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from planning.models import Plan
from targets.demo import clear_demo_progress, generate_demo_progress


class Command(BaseCommand):
    help = "为种子规划生成演示进度数据（标记为演示数据） / Generate labelled demo progress."

    def add_arguments(self, parser):
        parser.add_argument("--clear", action="store_true", help="删除全部演示数据")
        parser.add_argument("--until", type=int, help="生成到哪一年（默认去年）")
        parser.add_argument("--seed", type=int, default=2021)
        parser.add_argument("--force", action="store_true", help="DEBUG 关闭时也执行")

    def handle(self, *args, clear, until, seed, force, **options):
        if clear:
            self.stdout.write(f"已删除演示数据 {clear_demo_progress()} 条")
            return
        if not settings.DEBUG and not force:
            raise CommandError("生产环境（DEBUG 关闭）不生成演示数据；确需生成请加 --force")
        until = until or timezone.localdate().year - 1
        plans = Plan.objects.exclude(status="reference")
        written = generate_demo_progress(plans, until_year=until, seed=seed)
        self.stdout.write(self.style.SUCCESS(f"已生成演示数据 {written} 条（截至 {until} 年）"))
