"""Generate clearly synthetic data at a given scale (bench.synthetic).

    DATABASE_URL=postgres://…/fireplan_scale_province manage.py migrate
    DATABASE_URL=postgres://…/fireplan_scale_province manage.py seed_scale \\
        --regions 100 --targets 200 --periods 20

Refuses a database holding any real plan. ``--database-url`` migrates and fills another
database without changing DATABASE_URL (an extra connection named ``scale``).
"""

from __future__ import annotations

import dj_database_url
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from bench.synthetic import SCALES, AlreadySeeded, RealDataPresent, seed_scale

EXTRA_ALIAS = "scale"


def add_database_url(url: str, alias: str = EXTRA_ALIAS) -> str:
    """Register ``url`` as connection ``alias`` for this process only."""
    config = dj_database_url.parse(url)
    configured = connections.configure_settings({"default": connections.settings["default"],
                                                 alias: config})  # fmt: skip
    connections.settings[alias] = configured[alias]
    return alias


class Command(BaseCommand):
    help = "生成规模测试用的合成数据 / Generate synthetic data at scale (COPY)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), help="预设规模（可被下列参数覆盖）")
        parser.add_argument("--regions", type=int, help="区县数 counties")
        parser.add_argument("--targets", type=int, help="指标数")
        parser.add_argument("--periods", type=int, help="季度期数（自 2021Q1 起）")
        parser.add_argument("--seed", type=int, default=1)
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--database", default="default", help="DATABASES 中的别名")
        where.add_argument("--database-url", help="另一个数据库（先执行 migrate）")

    def handle(self, *args, scale, regions, targets, periods, seed, database, database_url,
               **options):  # fmt: skip
        preset = SCALES.get(scale or "small")
        if scale is None and None in (regions, targets, periods):
            raise CommandError("请给出 --scale，或同时给出 --regions、--targets、--periods")
        counties, target_count, period_count = (
            regions or preset[0],
            targets or preset[1],
            periods or preset[2],
        )
        if database_url:
            database = add_database_url(database_url)
            call_command("migrate", database=database, verbosity=0)
        if connections[database].vendor != "postgresql":
            raise CommandError("seed_scale 需要 PostgreSQL（COPY）")
        self.stdout.write(
            f"生成合成数据 seeding: {counties} 个区县 × {target_count} 项指标 × "
            f"{period_count} 期 = {counties * target_count * period_count:,} 条填报"
        )
        try:
            result = seed_scale(
                counties=counties,
                targets=target_count,
                periods=period_count,
                seed=seed,
                using=database,
                log=self.stdout.write,
            )
        except RealDataPresent as refused:
            codes = "、".join(refused.args[0][:5])
            raise CommandError(
                f"数据库中已有非合成规划（{codes}），拒绝混入合成数据；请使用单独的数据库"
            ) from None
        except AlreadySeeded:
            raise CommandError("该数据库已有合成数据（SYN-… 规划）；请先删除并新建数据库") from None
        except ValueError as bad:
            raise CommandError(str(bad)) from None
        self.stdout.write(
            f"完成 done: 规划 {result.plan.code}，区划 {result.regions}，指标 {result.targets}，"
            f"期间 {len(result.periods)}，目标分解 {result.allocations:,}，"
            f"填报 {result.reports:,}；{result.seconds:.1f} s，"
            f"{result.rows_per_second:,.0f} 行/秒 rows/s"
        )
        self.stdout.write(f"汇总表 rollups: {result.rollups}")
        self.stdout.write("未写历史记录 (no history rows for generated data)")
        for username, password in result.passwords.items():
            self.stdout.write(f"用户 user {username} / 密码 password {password}")
