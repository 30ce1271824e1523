import time

from django.core.management.base import BaseCommand, CommandError

from targets import rollup_store, tally_store
from targets.models import Target


class Command(BaseCommand):
    help = (
        "从审核通过的报送重建填报汇总，或用 --check 核对 / Rebuild the report roll-ups from the "
        "approved reports (after a bulk load or a change of the region tree), or --check them; "
        "the reporting tallies likewise (their triggers are reinstalled: run it after changing "
        "TIME_ZONE)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--target", type=int, action="append", help="只处理该指标（可重复）")
        parser.add_argument("--check", action="store_true", help="只核对，不修改；不一致时退出码 1")
        parser.add_argument("--database", default="default", help="数据库别名（默认 default）")

    def handle(self, *args, target, check, database, **options):
        if not rollup_store.supported(database):
            raise CommandError("填报汇总仅在 PostgreSQL 上维护；当前数据库直接读取原始报送。")
        started = time.monotonic()
        if check:
            differences = rollup_store.rollups_match_raw(target, using=database)
            differences += tally_store.tally_matches_reports(using=database)
            for difference in differences[:20]:
                self.stdout.write(str(difference))
            if differences:
                many = "至少 " if len(differences) >= 1000 else ""
                raise CommandError(
                    f"填报汇总与原始报送不一致：{many}{len(differences)} 行；"
                    "请运行 manage.py rebuild_rollups"
                )
            self.stdout.write(f"填报汇总与原始报送一致（{time.monotonic() - started:.1f} 秒）")
            return
        rows = rollup_store.rebuild_rollups(target, using=database)
        tally_store.install_triggers(database)
        plans = None
        if target:
            plans = (
                Target.objects.using(database)
                .filter(pk__in=target)
                .values_list("plan_id", flat=True)
            )
        tallies = tally_store.rebuild_tally(plans, using=database)
        self.stdout.write(
            f"已重建填报汇总 {rows} 行、填报情况汇总 {tallies} 行"
            f"（{time.monotonic() - started:.1f} 秒）"
        )
