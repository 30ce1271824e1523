"""Benchmark the Excel paths on clearly synthetic data: a task ledger export (100 000 rows at
scale 1), a full assessment sheet (考核表) and a figures import (10 000 rows: template,
preview, commit). Prints rows per second and the peak Python memory of each stage
(tracemalloc) and the process's peak resident size.

By default everything runs inside one transaction that is rolled back at the end, with
uploaded files under a temporary MEDIA_ROOT, so the current database is left as it was.
``--keep`` commits the synthetic data instead (plan code ``bench-synthetic-…``, titles
marked 【合成数据】).
"""

from __future__ import annotations

import gc
import random
import resource
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.http import QueryDict
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import Profile
from bench.excel import (
    export_ledger,
    fill_template,
    import_preview,
    make_import_targets,
    make_ledger,
    template_bytes,
)
from bench.measure import Rollback
from bench.synthetic import MARK
from core import jobs
from core.models import Region, Unit
from planning.models import Plan
from reports.excel import exporters, importers, scoring
from reports.excel import jobs as excel_jobs
from targets.models import Allocation, ProgressReport, Target


class Command(BaseCommand):
    help = "Excel 导入导出基准测试（合成数据）/ Benchmark Excel exports and imports."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="规模系数，1 = 全量")
        parser.add_argument("--ledger-rows", type=int, default=100_000)
        parser.add_argument("--import-rows", type=int, default=10_000)
        parser.add_argument("--assessment-targets", type=int, default=1_000)
        parser.add_argument("--districts", type=int, default=20)
        parser.add_argument("--keep", action="store_true", help="保留合成数据（默认回滚）")
        parser.add_argument("--seed", type=int, default=2021)

    def handle(self, *args, scale, ledger_rows, import_rows, assessment_targets, districts,
               keep, seed, **options):  # fmt: skip
        if scale <= 0:
            raise CommandError("--scale 必须大于 0")
        self.sizes = {
            "ledger": max(int(ledger_rows * scale), 5),
            "import": max(int(import_rows * scale), 5),
            "assessment": max(int(assessment_targets * scale), 3),
            "districts": max(min(districts, 50), 1),
        }
        self.random = random.Random(seed)
        self.results: list[tuple[str, int, float, int]] = []
        tracemalloc.start()
        # DEBUG would keep every query's SQL in memory and skew the measurements.
        with (
            tempfile.TemporaryDirectory() as media,
            override_settings(MEDIA_ROOT=media, DEBUG=False),
        ):
            try:
                with transaction.atomic():
                    self._run()
                    if not keep:
                        raise Rollback
            except Rollback:
                self.stdout.write("合成数据已回滚 (synthetic data rolled back)")
        tracemalloc.stop()
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"进程峰值常驻内存 peak RSS: {peak_rss:.0f} MB")

    # ------------------------------------------------------------------ stages

    @contextmanager
    def stage(self, label: str, rows: int):
        """Time a stage and the memory it adds at its peak over what was allocated before
        (the synthetic data the command itself holds is not the stage's)."""
        gc.collect()
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] - baseline
        rate = rows / elapsed if elapsed else float("inf")
        self.results.append((label, rows, elapsed, peak))
        self.stdout.write(
            f"{label}: {rows} 行 rows, {elapsed:.2f} s, {rate:,.0f} 行/秒 rows/s, "
            f"峰值新增内存 peak added {peak / 1048576:.1f} MB"
        )

    def _run(self) -> None:
        stamp = timezone.now().strftime("%Y%m%d%H%M%S")
        self.city = Region.objects.create(name=f"{MARK}基准市{stamp}", level="city")
        self.counties = Region.objects.bulk_create(
            [
                Region(name=f"{MARK}区县{n:02d}", level="district", parent=self.city)
                for n in range(self.sizes["districts"])
            ]
        )
        self.plans = {
            stage: Plan.objects.create(
                code=f"bench-synthetic-{stage}-{stamp}",
                title=f"{MARK}Excel 基准测试规划（{label}）",
                kind="five_year",
                start_year=2021,
                end_year=2025,
                region=self.city,
                source_text="bench_excel 生成的合成数据，不是真实规划",
            )
            for stage, label in (("ledger", "台账"), ("assessment", "考核"), ("import", "导入"))
        }
        self.units = Unit.objects.bulk_create(
            [
                Unit(name=f"{MARK}责任单位{n}", kind="department", region=self.city)
                for n in range(10)
            ]
        )
        user_model = get_user_model()
        self.actor = user_model.objects.create_user(f"bench_excel_{stamp}")
        Profile.objects.create(user=self.actor, role="staff", region=self.city)
        self.stdout.write(
            f"规模 scale: 台账 {self.sizes['ledger']} 行，"
            f"考核表 {self.sizes['assessment']} 个指标 × "
            f"{self.sizes['districts']} 个区县，导入 {self.sizes['import']} 行"
        )
        self._ledger()
        self._assessment()
        self._import()

    def _ledger(self) -> None:
        count = self.sizes["ledger"]
        started = time.perf_counter()
        make_ledger(self.plans["ledger"], self.units, count, self.random)
        self.stdout.write(f"  （生成台账数据 {time.perf_counter() - started:.1f} s）")
        with self.stage("任务台账导出 task ledger export", count):
            export_ledger(self.plans["ledger"])
        self._ledger_job(count)

    def _ledger_job(self, count: int) -> None:
        """The same ledger as a background job (issue 21): what the request waits for (count,
        job row, enqueue) and the worker's run with its progress hook, each printed next to
        the plain export above (the raw baseline of both)."""
        plain = self.results[-1][2]
        ledger = excel_jobs.LEDGERS["tasks"]
        query = QueryDict(f"plan={self.plans['ledger'].pk}")
        rows, _filterset = excel_jobs.ledger_rows(ledger, self.actor, query)
        with (
            override_settings(JOB_EXPORT_THRESHOLD=0),
            self.stage("任务台账导出·请求内入队 ledger export, request part (queued)", count),
        ):
            job = excel_jobs.export_ledger_in_background(ledger, rows, user=self.actor, query=query)
        self.stdout.write(f"  （同步导出 plain export in the request: {plain:.2f} s）")
        with self.stage("任务台账导出·工作进程内 ledger export in the worker (progress)", count):
            state = jobs.execute(job.pk)
        self.stdout.write(
            f"  （{state}；同步导出 plain export: {plain:.2f} s，"
            f"比值 ratio {self.results[-1][2] / plain:.2f}×）"
        )

    def _assessment(self) -> None:
        count, year = self.sizes["assessment"], 2023
        plan = self.plans["assessment"]
        targets = Target.objects.bulk_create(
            [
                Target(
                    plan=plan,
                    code=f"A{n}",
                    name=f"{MARK}考核指标 {n + 1}",
                    measure="increment",
                    measure_unit="个",
                    target_value=Decimal(10 * len(self.counties)),
                    target_year=2025,
                    attribute="binding" if n % 4 == 0 else "expected",
                    region=self.city,
                    order=n,
                )
                for n in range(count)
            ],
            batch_size=5000,
        )
        Allocation.objects.bulk_create(
            [
                Allocation(target=t, region=c, value=Decimal(10))
                for t in targets
                for c in self.counties
            ],
            batch_size=5000,
        )
        reports = []
        for target in targets:
            for county in self.counties:
                for period in ("2021", "2022", "2023"):
                    value = Decimal(self.random.randint(0, 4))
                    reports.append(
                        ProgressReport(
                            target=target, region=county, period=period, value=value,
                            status="approved", is_demo=True, note=MARK,
                        )
                    )  # fmt: skip
        ProgressReport.objects.bulk_create(reports, batch_size=5000)
        del reports, targets
        rows = count * (1 + len(self.counties))
        with self.stage("考核表 assessment sheet (build + write)", rows):
            assessment = scoring.build_assessment(plan, year, user=self.actor)
            exporters.save_workbook(exporters.assessment_workbook(assessment)).close()

    def _import(self) -> None:
        count, plan = self.sizes["import"], self.plans["import"]
        period = make_import_targets(plan, self.city, count)
        with self.stage("填报模板生成 template", count):
            data = template_bytes(self.actor, plan, self.city, period)
        filled = fill_template(data, count)
        try:
            with self.stage("导入预览 import preview", count):
                preview = import_preview(filled, self.actor, plan, self.city)
        except ValueError as error:
            raise CommandError(str(error)) from None
        batch = importers.create_batch(preview, filled, "bench.xlsx", actor=self.actor)
        with self.stage("导入提交 import commit", count):
            result = importers.commit_batch(batch.pk, actor=self.actor, confirm_note=MARK)
        if len(result.written) != count:
            raise CommandError(f"应写入 {count} 行，实际 {len(result.written)} 行")
