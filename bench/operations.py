"""What ``manage.py bench`` measures: each operation of the product next to a raw baseline
doing the same work as directly as possible, on the synthetic data of ``seed_scale``.

Everything runs in one transaction rolled back at the end (uploads under a temporary
MEDIA_ROOT), so the scale database is left as it was. Server time is measured in process
(Django's test Client: middleware, view, template, no network); queries with
CaptureQueriesContext on one separate run.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import django
import orjson
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import ApiToken, Profile
from accounts.services import issue_api_token
from bench import excel
from bench.measure import Timing, peak_memory, rolled_back, timed
from bench.synthetic import LIAISON_USERNAME, MARK, PLAN_CODE_PREFIX, STAFF_USERNAME, seed_scale
from core import api_cache
from core.choices import UnitKind
from core.models import Region, Unit
from core.scope import VIEW
from planning.choices import AssignmentRole
from planning.models import Plan, Task, TaskAssignment
from targets import services
from targets.models import Allocation, ProgressReport, ReportingPeriod, Target

MiB = 1024 * 1024
# Sizes per scale: ledger export rows, import rows, memory check sizes (export, import).
SIZES = {
    "small": {"ledger": 200, "import": 20, "memory_export": (100, 200), "memory_import": (20, 40)},
    "province": {
        "ledger": 100_000,
        "import": 10_000,
        "memory_export": (10_000, 200_000),
        # reports.excel.importers refuses files over MAX_ROWS (20 000 rows).
        "memory_import": (10_000, 20_000),
    },
}
SIZES["national"] = SIZES["province"]
REPEAT = {"small": 2, "province": 7, "national": 7}
# --only: the parts in the order they run.
PARTS = {
    "dashboards": "_dashboards",
    "list": "_lists",
    "save": "_save_report",
    "export": "_export",
    "import": "_import",
}


@dataclass
class Comparison:
    key: str
    label: str
    operation: Timing
    baseline: Timing
    baseline_label: str
    target: str = ""
    met: bool | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.operation.median_ms / self.baseline.median_ms

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "operation": self.operation.as_dict(),
            "baseline": {"label": self.baseline_label, **self.baseline.as_dict()},
            "ratio": round(self.ratio, 2),
            "target": self.target,
            "met": self.met,
            **self.extra,
        }

    def line(self) -> str:
        op, base = self.operation, self.baseline
        queries = f"，{op.queries} 次查询 queries" if op.queries is not None else ""
        verdict = {True: "达标 met", False: "未达标 MISSED", None: ""}[self.met]
        return (
            f"{self.label}: 系统 system {op.median_ms:.1f} ms (min {op.min_ms:.1f}{queries}"
            f"{cpu(op)}) | "
            f"基线 baseline {base.median_ms:.1f} ms (min {base.min_ms:.1f}; {self.baseline_label})"
            f" | 比值 ratio {self.ratio:.2f}× | 目标 target {self.target} {verdict}"
        )


def cpu(timing: Timing) -> str:
    median = timing.as_dict()["cpu_median_ms"]
    return f"，CPU {median:.1f} ms" if median is not None else ""


def judgement_table() -> str | None:
    """The stored judgement's table (issue 19), once its model exists."""
    try:
        return apps.get_model("targets", "TargetJudgement")._meta.db_table
    except LookupError:
        return None


def rollup_table() -> str | None:
    """B1's rollup table, once its model exists."""
    try:
        return apps.get_model("targets", "ReportRollup")._meta.db_table
    except LookupError:
        return None


def versions() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=settings.BASE_DIR,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": postgres,
        "git_commit": commit,
        "machine": platform.machine(),
    }


def synthetic_plan() -> Plan | None:
    return Plan.objects.filter(code__startswith=PLAN_CODE_PREFIX).first()


class Bench:
    def __init__(
        self,
        scale: str,
        *,
        write: Callable[[str], None],
        repeat: int | None = None,
        parts: list[str] | None = None,
    ):
        self.scale = scale
        self.parts = [p for p in PARTS if parts is None or p in parts]
        self.sizes = SIZES[scale]
        self.repeat = repeat or REPEAT[scale]
        self.write = write
        self.comparisons: list[Comparison] = []
        self.memory: dict = {}
        self.data: dict = {}

    # ------------------------------------------------------------------ driver

    def run(self) -> dict:
        started = time.perf_counter()
        load_before = os.getloadavg()
        with (
            tempfile.TemporaryDirectory() as media,
            override_settings(
                MEDIA_ROOT=media,
                DEBUG=False,
                ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
            ),
        ):
            # Lists read committed data outside the rolled-back transaction, as a server
            # does: the list cache (core.api_cache) never serves inside a transaction that
            # wrote. Only when the synthetic data is committed (not small scale in CI).
            outside = "list" in self.parts and synthetic_plan() is not None
            with rolled_back():
                self._locate()
                for part in self.parts:
                    if not (part == "list" and outside):
                        getattr(self, PARTS[part])()
            if outside:
                self._lists_outside_transaction()
        if "import" in self.parts:
            # After the rolled-back transaction: its rollup and tally triggers hold table
            # locks that a process of its own would wait for.
            self._import_memories()
        return {
            "scale": self.scale,
            "date": timezone.localtime().isoformat(timespec="seconds"),
            **versions(),
            "rollup_table": self.data["rollups"],
            "data": {k: v for k, v in self.data.items() if k != "rollups"},
            "repeat": self.repeat,
            "parts": self.parts,
            "operations": {c.key: c.as_dict() for c in self.comparisons},
            "memory": self.memory,
            "seconds": round(time.perf_counter() - started, 1),
            # Other processes on the machine: figures taken at a load above the core count
            # include waiting for a core.
            "load_average_1m": {"before": load_before[0], "after": os.getloadavg()[0]},
        }

    def _add(self, comparison: Comparison) -> None:
        self.comparisons.append(comparison)
        self.write(comparison.line())

    def _locate(self) -> None:
        plan = synthetic_plan()
        if plan is None:
            if self.scale != "small":
                raise LookupError(
                    f"没有合成数据：请先在此数据库运行 seed_scale --scale {self.scale}"
                )
            # CI: generate the small scale inside the rolled-back transaction.
            seed_scale(counties=12, targets=5, periods=4, check_real=False)
            plan = Plan.objects.get(code__startswith=PLAN_CODE_PREFIX)
        users = get_user_model().objects.select_related("profile__region")
        self.plan = plan
        self.staff = users.get(username=STAFF_USERNAME)
        self.liaison = users.get(username=LIAISON_USERNAME)
        self.county = self.liaison.profile.region
        self.root = plan.region
        self.data = {
            "plan": plan.code,
            "counties": Region.objects.filter(level="district", allocations__target__plan=plan)
            .distinct()
            .count(),
            "targets": plan.targets.count(),
            "periods": plan.reporting_periods.count(),
            "reports": ProgressReport.objects.filter(target__plan=plan).count(),
            "rollups": rollup_table() is not None,
        }
        self.write(
            f"数据 data: {self.data['counties']} 个区县 × {self.data['targets']} 项指标 × "
            f"{self.data['periods']} 期，{self.data['reports']:,} 条填报；"
            f"汇总表 rollup table: {'有 present' if self.data['rollups'] else '无 absent'}"
        )
        self.client = Client()
        self.client.force_login(self.staff)
        self.token = issue_api_token(self.staff).key

    def _get(self, path: str, **headers) -> Callable[[], None]:
        def run() -> None:
            response = self.client.get(path, secure=True, **headers)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path} → {response.status_code}")

        return run

    def _timed(self, run, **kwargs) -> Timing:
        kwargs.setdefault("repeat", self.repeat)
        return timed(run, **kwargs)

    # ------------------------------------------------------------------ operations

    def _rollup_rows(self, region_id: int) -> tuple[Callable[[], None], str]:
        table = rollup_table()
        if table:
            sql = f"SELECT * FROM {table} WHERE region_id = %s"
            label = "一条 SQL 读汇总行 one SQL over the rollup rows"
            params = [region_id]
        else:
            # Before the rollup table exists: the same figures aggregated from raw reports.
            sql = (
                "SELECT r.target_id, r.period, sum(r.value) FROM targets_progressreport r "
                "JOIN targets_target t ON t.id = r.target_id "
                "WHERE t.plan_id = %s AND r.status = 'approved' AND r.region_id IN ("
                "  WITH RECURSIVE tree(id) AS (SELECT %s::bigint UNION ALL "
                "  SELECT g.id FROM planning_region g JOIN tree ON g.parent_id = tree.id) "
                "  SELECT id FROM tree) GROUP BY 1, 2"
            )
            label = "一条 SQL 聚合原始填报（尚无汇总表）one SQL GROUP BY over raw reports"
            params = [self.plan.pk, region_id]

        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()

        return run, label

    def _open_period(self) -> str:
        """The quarter after the generated ones, open now (due in 10 days): every county owes
        every target's figure in it and none has come in — the dashboards' "not reported yet"
        list at its longest, and the period the save benchmark reports for."""
        if not hasattr(self, "open_code"):
            last = self.plan.reporting_periods.order_by("-period").first()
            year, quarter = int(last.period[:4]), int(last.period[-1])
            self.open_code = f"{year + quarter // 4}Q{quarter % 4 + 1}"
            today = timezone.localdate()
            ReportingPeriod.objects.create(
                plan=self.plan,
                period=self.open_code,
                due_on=today + datetime.timedelta(days=10),
                locks_on=today + datetime.timedelta(days=30),
            )
        return self.open_code

    def _unit_with_targets(self) -> Unit:
        """A unit of the synthetic plan's region leading one task that holds every target, so
        the unit page shows what the plan page does (the generator makes no units)."""
        if not hasattr(self, "unit"):
            self.unit = Unit.objects.create(
                name="【合成数据】合成单位", kind=UnitKind.FIRE_RESCUE, region=self.root
            )
            task = Task.objects.create(plan=self.plan, code="syn-t1", title="【合成数据】合成任务")
            TaskAssignment.objects.create(task=task, unit=self.unit, role=AssignmentRole.LEAD)
            self.plan.targets.update(task=task)
        return self.unit

    def _dashboards(self) -> None:
        """The pages that judge targets, each next to one SQL over the roll-up rows they show.
        With the stored judgement (targets.judgement) the median is a read of the store; the
        first read of a day judges again, measured apart ("cold": the store emptied first)."""
        self._open_period()
        unit = self._unit_with_targets()
        for key, label, path, region in (
            ("overview", "总览 overview dashboard", "/", self.root),
            (
                "county_dashboard",
                "区县页 county dashboard",
                f"/regions/{self.county.pk}/",
                self.county,
            ),
            ("plan_page", "规划页 plan page", f"/plans/{self.plan.pk}/", self.root),
            ("unit_page", "单位页 unit page", f"/units/{unit.pk}/", self.root),
        ):
            cold = self._cold(self._get(path))
            operation = self._timed(self._get(path), budget_s=30)
            baseline_run, baseline_label = self._rollup_rows(region.pk)
            baseline = self._timed(baseline_run)
            comparison = Comparison(
                key,
                label,
                operation,
                baseline,
                baseline_label,
                target="≤ 25 ms, ≤ 2× baseline",
                extra={"cold_ms": cold},
            )
            comparison.met = operation.median_ms <= 25 and comparison.ratio <= 2
            self._add(comparison)
            if cold is not None:
                self.write(f"  首次读取（当日未研判）cold, first read of the day: {cold:.1f} ms")

    def _cold(self, run: Callable[[], None]) -> float | None:
        """One run with the stored judgement emptied (the first read of a new day)."""
        table = judgement_table()
        if table is None:
            return None
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")
        started = time.perf_counter()
        run()
        return round((time.perf_counter() - started) * 1000, 1)

    def _lists_outside_transaction(self) -> None:
        """``_lists`` on committed data with a token of its own, deleted afterwards."""
        token = issue_api_token(self.staff)
        inside = self.token
        self.token = token.key
        try:
            self._lists()
        finally:
            ApiToken.objects.filter(pk=token.pk).delete()
            self.token = inside

    def _first_reads(self, run: Callable[[], None]) -> Timing:
        """A list's first read: the shared cache emptied before each run, so the list is
        rendered, its tables recorded and the entry stored (a miss)."""
        timing = Timing()
        for _ in range(min(self.repeat, 15)):
            caches["shared"].clear()
            started, cpu = time.perf_counter(), time.process_time()
            run()
            timing.runs_ms.append((time.perf_counter() - started) * 1000)
            timing.cpu_ms.append((time.process_time() - cpu) * 1000)
        return timing

    def _lists(self) -> None:
        """API list pages of 100 rows (token auth, middleware, scope, filters, the capped
        count, serialisation, rendering) against reading the same 100 rows with ``values()``
        and encoding them with the fastest JSON encoder at hand (orjson); the ratio to
        ``values()`` + ``json.dumps`` (the baseline before issue 19) is kept beside it."""
        plan_targets = Target.objects.filter(plan=self.plan).values_list("pk", flat=True)
        lists = (
            (
                "reports_list",
                "填报列表 reports list (100 rows)",
                "/api/v1/reports/?page_size=100",
                ProgressReport.objects.for_user(self.staff, VIEW).order_by(
                    "target_id", "region_id", "period"
                ),
            ),
            (
                "targets_list",
                "指标列表 targets list (100 rows, status included)",
                f"/api/v1/targets/?page_size=100&plan={self.plan.pk}",
                Target.objects.for_user(self.staff, VIEW)
                .filter(pk__in=plan_targets)
                .order_by("plan_id", "order", "pk"),
            ),
            (
                "allocations_list",
                "目标分解列表 allocations list (100 rows)",
                "/api/v1/allocations/?page_size=100",
                Allocation.objects.for_user(self.staff, VIEW).order_by(
                    "target_id", "region__name", "pk"
                ),
            ),
        )
        for key, label, path, rows in lists:
            get = self._get(path, HTTP_AUTHORIZATION=f"Token {self.token}")
            # Warm reads (the cache's hits, when it serves here: outside a transaction that
            # wrote); the first read and the render without the cache are kept beside them.
            operation = self._timed(get)
            first = self._first_reads(get)
            with override_settings(API_LIST_CACHE=False):
                uncached = self._timed(get)
            names = [f.attname for f in rows.model._meta.concrete_fields]

            def raw(rows=rows, names=names) -> None:
                orjson.dumps(list(rows[:100].values(*names)), default=str)

            def raw_json(rows=rows, names=names) -> None:
                json.dumps(list(rows[:100].values(*names)), default=str)

            baseline = self._timed(raw)
            stdlib = self._timed(raw_json, count_queries=False)
            comparison = Comparison(
                key,
                label,
                operation,
                baseline,
                "values() + orjson",
                target="≤ 2× baseline",
                extra={
                    "baseline_json_dumps_ms": round(stdlib.median_ms, 2),
                    "ratio_to_json_dumps": round(operation.median_ms / stdlib.median_ms, 2),
                    "first_read": first.as_dict(),
                    "uncached": uncached.as_dict(),
                    "list_cache_served": api_cache.enabled(connection.alias)
                    and not connection.in_atomic_block,
                },
            )
            comparison.met = comparison.ratio <= 2
            self._add(comparison)
            self.write(
                f"  （首次读取 first read {first.median_ms:.1f} ms，CPU "
                f"{statistics.median(first.cpu_ms):.1f} ms；不用缓存 without the cache "
                f"{uncached.median_ms:.1f} ms，{uncached.queries} 次查询 queries）"
            )
            self.write(
                f"  （values() + json.dumps {stdlib.median_ms:.1f} ms，"
                f"比值 ratio {comparison.extra['ratio_to_json_dumps']:.2f}×）"
            )

    def _save_report(self) -> None:
        """A liaison saves and submits one figure for the next quarter (validation, scope,
        plausibility, history); staff approves it (rollup upkeep)."""
        code = self._open_period()
        target = self.plan.targets.filter(measure="increment").order_by("order").first()
        previous = (
            ProgressReport.objects.filter(target=target, region=self.county, status="approved")
            .order_by("-period")
            .values_list("value", flat=True)
            .first()
        )
        value = previous or Decimal(5)

        def save() -> ProgressReport:
            return services.save_report(
                actor=self.liaison,
                target=target,
                region=self.county,
                period=code,
                value=value,
                submit=True,
            )

        operation = self._timed(save, isolate=True, repeat=self.repeat * 3)
        now = timezone.now()

        def insert() -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO targets_progressreport (target_id, region_id, period, value, "
                    "note, status, submitted_by_id, submitted_at, return_reason, confirm_note, "
                    "created_at, updated_at, is_demo, version) VALUES "
                    "(%s, %s, %s, %s, '', 'submitted', %s, %s, '', '', %s, %s, false, 1)",
                    [target.pk, self.county.pk, code, value, self.liaison.pk, now, now, now],
                )

        baseline = self._timed(insert, isolate=True, repeat=self.repeat * 3)
        comparison = Comparison(
            "report_save",
            "保存一条填报 save one report (submit)",
            operation,
            baseline,
            "一条 INSERT bare INSERT",
            target="≤ 30 ms",
        )
        comparison.met = operation.median_ms <= 30
        self._add(comparison)

        def approve() -> None:
            report = save()
            started = time.perf_counter()
            services.approve_report(report, actor=self.staff)
            approve.elapsed += time.perf_counter() - started

        def update() -> None:
            report = save()
            started = time.perf_counter()
            ProgressReport.objects.filter(pk=report.pk).update(status="approved")
            update.elapsed += time.perf_counter() - started

        self._add(
            Comparison(
                "report_approve",
                "审核通过一条填报 approve one report (history, rollup)",
                self._part(approve),
                self._part(update),
                "一条 UPDATE bare UPDATE",
                target="(参考 reference)",
            )
        )

    def _part(self, run) -> Timing:
        """Time only the part of ``run`` it measures itself (``run.elapsed``)."""
        timing = Timing()
        run.elapsed = 0.0
        with rolled_back():
            run()  # warm-up
        for _ in range(self.repeat * 3):
            run.elapsed = 0.0
            with rolled_back():
                run()
            timing.runs_ms.append(run.elapsed * 1000)
        return timing

    def _excel_setup(self) -> None:
        if hasattr(self, "city"):
            return
        stamp = timezone.now().strftime("%Y%m%d%H%M%S")
        self.city = Region.objects.create(name=f"{MARK}基准市{stamp}", level="city")
        self.units = Unit.objects.bulk_create(
            [
                Unit(name=f"{MARK}责任单位{n}", kind="department", region=self.city)
                for n in range(10)
            ]
        )
        self.rng = random.Random(2021)
        # The Excel plans live in the synthetic city; staff of 合成全国 cannot see it, so the
        # import runs as a staff member of that city.
        self.excel_actor = get_user_model().objects.create_user(f"bench_excel_{stamp}")
        Profile.objects.create(user=self.excel_actor, role="staff", region=self.city)

    def _plan(self, label: str) -> Plan:
        return Plan.objects.create(
            code=f"{PLAN_CODE_PREFIX}bench-{label}-{timezone.now():%H%M%S%f}",
            title=f"{MARK}基准测试规划（{label}）",
            kind="five_year",
            start_year=2021,
            end_year=2025,
            region=self.city,
            source_text="bench 生成的合成数据，不是真实规划",
        )

    def _export(self) -> None:
        self._excel_setup()
        rows = self.sizes["ledger"]
        started = time.perf_counter()
        plan = self._plan("ledger")
        excel.make_ledger(plan, self.units, rows, self.rng)
        self.write(f"  （生成 {rows} 行台账数据 {time.perf_counter() - started:.1f} s）")
        repeat = max(2, self.repeat // 2)
        operation = self._timed(lambda: excel.export_ledger(plan), repeat=repeat, budget_s=120)
        baseline = self._timed(lambda: excel.raw_export_ledger(plan), repeat=repeat)
        comparison = Comparison(
            "ledger_export",
            f"任务台账导出 ledger export ({rows} rows)",
            operation,
            baseline,
            "一条 SQL + XlsxWriter constant_memory",
            target="≤ 1.3× baseline",
        )
        comparison.met = comparison.ratio <= 1.3
        self._add(comparison)
        memory = {}
        for size in self.sizes["memory_export"]:
            sized = plan if size == rows else self._plan(f"ledger{size}")
            if sized is not plan:
                excel.make_ledger(sized, self.units, size, self.rng)
            memory[size] = {
                "system_mib": round(peak_memory(lambda p=sized: excel.export_ledger(p)) / MiB, 1),
                "baseline_mib": round(
                    peak_memory(lambda p=sized: excel.raw_export_ledger(p)) / MiB, 1
                ),
            }
        self._memory("ledger_export", "台账导出 export", memory)

    def _memory(self, key: str, label: str, memory: dict) -> None:
        small, big = sorted(memory)
        growth = memory[big]["system_mib"] - memory[small]["system_mib"]
        met = growth < 16
        self.memory[key] = {
            "rows": {str(k): v for k, v in memory.items()},
            "growth_mib": round(growth, 1),
            "target": "< 16 MiB",
            "met": met,
        }
        self.write(
            f"内存 memory {label}: {small} 行 {memory[small]['system_mib']} MiB → {big} 行 "
            f"{memory[big]['system_mib']} MiB（基线 baseline {memory[small]['baseline_mib']} → "
            f"{memory[big]['baseline_mib']} MiB；{memory[big].get('measure', 'tracemalloc')}）；"
            f"增长 growth {growth:.1f} MiB，目标 < 16 MiB "
            f"{'达标 met' if met else '未达标 MISSED'}"
        )

    def _import_memory(self, rows: int) -> dict:
        """The memory one import of ``rows`` adds at its peak, the product's and the raw
        baseline's, each in a fresh process (``bench_import_memory``): what an earlier run
        left allocated in this one would hide or inflate it."""
        found = {}
        # The database this process uses (under pytest: the test database).
        db = connection.settings_dict
        credentials = quote(db["USER"] or "", safe="") + (
            ":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else ""
        )
        url = f"postgres://{credentials}@{db['HOST'] or ''}:{db['PORT'] or 5432}/{db['NAME']}"
        for key, flags in (("system_mib", []), ("baseline_mib", ["--raw"])):
            done = subprocess.run(
                [sys.executable, "manage.py", "bench_import_memory", "--rows", str(rows), *flags],
                capture_output=True,
                text=True,
                check=False,
                cwd=settings.BASE_DIR,
                env={**os.environ, "DATABASE_URL": url},
            )
            if done.returncode:
                raise RuntimeError(f"bench_import_memory failed: {done.stderr[-2000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            found[key] = result["added_mib"]
            found[key.replace("_mib", "_peak_mib")] = result["peak_mib"]
        return {**found, "measure": "peak RSS added, fresh process"}

    def _import_data(self, rows: int) -> tuple[Plan, bytes]:
        plan = self._plan(f"import{rows}")
        period = excel.make_import_targets(plan, self.city, rows)
        filled = excel.fill_template(
            excel.template_bytes(self.excel_actor, plan, self.city, period), rows
        )
        return plan, filled

    def _import(self) -> None:
        self._excel_setup()
        rows = self.sizes["import"]
        started = time.perf_counter()
        plan, filled = self._import_data(rows)
        self.write(f"  （生成 {rows} 行填报文件 {time.perf_counter() - started:.1f} s）")

        def product(p=plan, f=filled, n=rows) -> None:
            excel.import_figures(f, self.excel_actor, p, self.city, n)

        def raw(f=filled, n=rows) -> None:
            if excel.raw_import(f, self.excel_actor, self.city) != n:
                raise RuntimeError("raw import read a different number of rows")

        repeat = max(1, self.repeat // 3)
        operation = self._timed(product, isolate=True, repeat=repeat, warmup=0, budget_s=60)
        baseline = self._timed(raw, isolate=True, repeat=repeat)
        comparison = Comparison(
            "figures_import",
            f"填报导入 figures import, preview + commit ({rows} rows)",
            operation,
            baseline,
            "calamine + COPY",
            target="≤ 2× baseline",
        )
        comparison.met = comparison.ratio <= 2
        self._add(comparison)

    def _import_memories(self) -> None:
        """Import memory at both sizes, each in a fresh process — or, inside a transaction
        that is not ours (a test's: its locks would block the process), in this one."""
        if connection.in_atomic_block:
            measure = self._import_memory_here
        else:
            measure = self._import_memory
        memory = {size: measure(size) for size in self.sizes["memory_import"]}
        self._memory("figures_import", "填报导入 import", memory)

    def _import_memory_here(self, rows: int) -> dict:
        found = {}
        for key, raw in (("system_mib", False), ("baseline_mib", True)):
            out = io.StringIO()
            call_command("bench_import_memory", rows=rows, raw=raw, stdout=out)
            result = json.loads(out.getvalue().strip().splitlines()[-1])
            found[key] = result["added_mib"]
            found[key.replace("_mib", "_peak_mib")] = result["peak_mib"]
        return {**found, "measure": "peak RSS added, in process"}


def write_json(result: dict, path: str | None) -> Path:
    if path is None:
        folder = Path(settings.BASE_DIR) / "bench" / "results"
        suffix = "" if result["parts"] == list(PARTS) else "-" + "-".join(result["parts"])
        path = folder / f"{result['scale']}-{timezone.localdate():%Y-%m-%d}{suffix}.json"
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return target
