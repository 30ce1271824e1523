"""Scale benchmark (issue 9): each operation next to its raw baseline, on the synthetic data of
``seed_scale``; prints both figures and their ratio and writes them as JSON
(``bench/results/<scale>-<date>.json``). See bench.operations and the README's
「性能基准 Benchmarks」.

    DATABASE_URL=postgres://…/fireplan_scale_province manage.py bench --scale province
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from bench.operations import PARTS, SIZES, Bench, write_json


class Command(BaseCommand):
    help = "规模基准测试 / Benchmark operations against raw baselines at scale."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SIZES), default="small")
        parser.add_argument("--json", dest="json_path", help="结果文件（默认 bench/results/）")
        parser.add_argument("--repeat", type=int, help="每项计时次数（默认按规模）")
        parser.add_argument(
            "--only",
            type=lambda text: text.split(","),
            help=f"只运行其中几项，逗号分隔：{','.join(PARTS)}",
        )

    def handle(self, *args, scale, json_path, repeat, only, **options):
        unknown = set(only or []) - set(PARTS)
        if unknown:
            raise CommandError(f"未知的 --only 项：{'、'.join(sorted(unknown))}")
        bench = Bench(scale, write=self.stdout.write, repeat=repeat, parts=only)
        try:
            result = bench.run()
        except LookupError as missing:
            raise CommandError(str(missing)) from None
        path = write_json(result, json_path)
        self.stdout.write(f"结果已写入 results written to {path}（{result['seconds']} s）")
