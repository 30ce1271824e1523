"""Clearly synthetic data at a given scale, for the benchmarks (``manage.py seed_scale``).

A region tree 合成全国 → 合成省NN → 合成市NNNN → 合成县NNNN, one plan (code ``SYN-…``, title
starting with 【合成数据】), M targets allocated to every county, P quarterly reporting periods
from 2021Q1, and one APPROVED figure per county × target × period written with COPY, with
deterministic pseudo-random values. Two users for the load run (national staff, county
liaison). History rows are not written for generated data (11 M history rows would double the
load for nothing the benchmarks read); the figures are marked ``is_demo`` so every page labels
them 演示数据.

How it stays fast (11.2 M figures): one transaction; the allocation and report tables, empty,
lose their keys, indexes and foreign keys for the COPY and get them back afterwards, one sort
per index and one validating query per foreign key (``bulkload``), instead of a foreign-key
check per row (≈ 20 µs each, 2 010 s for the figures at national scale); the lines are
streamed into COPY while they are generated (Python formats, PostgreSQL inserts, two cores);
the roll-up triggers are off and the roll-ups rebuilt set-based at the end (into an empty
table, the same way). The tables are never UNLOGGED, and the schema ends exactly as the
migrations made it (``tests/bench/test_seed_scale.py`` compares it).

It refuses a database that holds any plan that is not synthetic, so real data is never mixed
with it: run it against a database of its own (``DATABASE_URL=…/fireplan_scale_province``).
"""

from __future__ import annotations

import datetime
import itertools
import math
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.utils import timezone

from accounts.models import Profile
from core import bulkload
from core.models import Region
from core.periods import period_bounds
from planning.models import Plan
from targets import rollup_store
from targets.models import Allocation, ProgressReport, ReportingPeriod, Target

MARK = "【合成数据】"
PLAN_CODE_PREFIX = "SYN-"
START_YEAR = 2021
COUNTIES_PER_CITY = 9
CITIES_PER_PROVINCE = 10
STAFF_USERNAME = "bench_staff"
LIAISON_USERNAME = "bench_liaison"
COPY_ROWS = 1_000_000  # per COPY statement (each streamed; bounds the trigger's transition table)
COPY_BLOCK = 1 << 18  # bytes handed to the driver at a time
ROLLUP_TABLE = "targets_reportrollup"

# name: (counties, targets, periods)
SCALES = {
    "small": (12, 5, 4),
    "province": (100, 200, 20),
    "national": (2_800, 200, 20),
}


class RealDataPresent(Exception):
    """The database holds plans that are not synthetic."""


class AlreadySeeded(Exception):
    """The database already holds a synthetic plan (seed a fresh database instead)."""


@dataclass
class SeedResult:
    plan: Plan
    regions: int
    counties: list[int]
    targets: int
    periods: list[str]
    allocations: int
    reports: int
    seconds: float
    rows_per_second: float
    passwords: dict[str, str]
    rollups: str = ""
    steps: list[tuple[str, float]] = field(default_factory=list)


def password_for(username: str, seed: int) -> str:
    """Known, printed passwords: synthetic databases hold no real data and listen on loopback."""
    return f"Synthetic-{username}-{seed}!"


def quarter_codes(count: int) -> list[str]:
    return [f"{START_YEAR + n // 4}Q{n % 4 + 1}" for n in range(count)]


def real_plans(using: str) -> list[str]:
    """Codes of plans that are not synthetic (neither SYN-… nor titled 【合成数据】)."""
    return list(
        Plan.objects.using(using)
        .exclude(code__startswith=PLAN_CODE_PREFIX)
        .exclude(title__startswith=MARK)
        .order_by("code")
        .values_list("code", flat=True)
    )


def figure(county: int, target: int, period: int, seed: int) -> int:
    """A deterministic pseudo-random figure 0–9 (a multiplicative hash, no RNG state)."""
    mixed = (county * 2_654_435_761 + target * 40_503 + period * 97 + seed * 7_919) & 0xFFFFFFFF
    return (mixed >> 7) % 10


def seed_scale(
    *,
    counties: int,
    targets: int,
    periods: int,
    seed: int = 1,
    using: str = "default",
    log=None,
    check_real: bool = True,
) -> SeedResult:
    """``check_real=False`` only for callers that roll everything back (``bench``)."""
    if counties < 1 or targets < 1 or periods < 1:
        raise ValueError("counties, targets and periods must be at least 1")
    found = real_plans(using) if check_real else []
    if found:
        raise RealDataPresent(found)
    if Plan.objects.using(using).filter(code__startswith=PLAN_CODE_PREFIX).exists():
        raise AlreadySeeded
    log = log or (lambda text: None)
    started = time.perf_counter()
    steps: list[tuple[str, float]] = []

    def step(label: str, since: float, rows: int = 0) -> float:
        now = time.perf_counter()
        seconds = now - since
        steps.append((label, seconds))
        rate = f"，{rows / seconds:,.0f} 行/秒 rows/s" if rows and seconds > 0 else ""
        log(f"  {label}: {seconds:.1f} s{rate}")
        return now

    with _bulk_load(using):
        with connections[using].cursor() as cursor:
            # A bulk load runs for minutes: no statement timeout (settings set 30 s for
            # requests). Its COMMIT need not wait for the WAL flush (synthetic data, loaded
            # again if the server stops). Django's foreign keys are DEFERRABLE INITIALLY
            # DEFERRED: checks queued for the rows written before the COPY would block the
            # ALTER TABLEs of the load ("pending trigger events"); check those at once.
            cursor.execute("SET LOCAL statement_timeout = 0")
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        now = time.perf_counter()
        root, county_ids, region_count = _regions(counties, using)
        codes = quarter_codes(periods)
        end_year = int(codes[-1][:4]) + 1  # one more year: the benchmark opens a next period
        plan = Plan.objects.using(using).create(
            code=f"{PLAN_CODE_PREFIX}{counties}x{targets}x{periods}-s{seed}",
            title=f"{MARK}规模测试规划（{counties} 个县 × {targets} 项指标 × {periods} 期）",
            kind="five_year",
            start_year=START_YEAR,
            end_year=end_year,
            region=root,
            source_text="seed_scale 生成的合成数据，不是真实规划",
        )
        target_rows = _targets(plan, root, targets, counties, end_year, using)
        today = timezone.localdate()
        ReportingPeriod.objects.using(using).bulk_create(
            [
                ReportingPeriod(
                    plan=plan,
                    period=code,
                    due_on=min(period_bounds(code)[1] + datetime.timedelta(days=15), today),
                    locks_on=min(period_bounds(code)[1] + datetime.timedelta(days=45), today),
                )
                for code in codes
            ]
        )
        staff, _liaison, passwords = _users(root, county_ids[0], seed, using)
        now = step("区划、规划、指标、期间、用户 regions, plan, targets, periods, users", now)
        loaded_tables = [Allocation._meta.db_table, ProgressReport._meta.db_table]
        with (
            connections[using].cursor() as cursor,
            bulkload.loading(cursor, loaded_tables) as emptied,
        ):
            allocations = _copy_allocations(target_rows, county_ids, using)
            now = step(f"目标分解 allocations (COPY {allocations} 行)", now, allocations)
            reports = _copy_reports(target_rows, county_ids, codes, staff.pk, seed, using)
            now = step(f"进度填报 approved reports (COPY {reports} 行)", now, reports)
        if emptied:
            now = step(
                f"重建键、索引并校验外键 keys, indexes, foreign keys of {', '.join(emptied)}",
                now,
                allocations + reports,
            )
        with connections[using].cursor() as cursor:
            for table in loaded_tables:  # the rebuilds below read them
                cursor.execute(f"ANALYZE {table}")
            now = step("ANALYZE 填报、目标分解 reports, allocations", now)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        loaded = now
    rollups, rollup_rows = _rollup_state(using)
    now = step(f"汇总表 rollups, tallies, COMMIT ({rollups})", loaded, rollup_rows)
    with connections[using].cursor() as cursor:
        tables = [m._meta.db_table for m in (Target, Region)]
        for table in [*tables, *([ROLLUP_TABLE] if rollups.startswith("rebuild") else [])]:
            cursor.execute(f"ANALYZE {table}")
    step("ANALYZE", now)
    seconds = time.perf_counter() - started
    rows = region_count + len(target_rows) + len(codes) + allocations + reports
    return SeedResult(
        plan=plan,
        regions=region_count,
        counties=county_ids,
        targets=len(target_rows),
        periods=codes,
        allocations=allocations,
        reports=reports,
        seconds=seconds,
        rows_per_second=rows / seconds if seconds else 0.0,
        passwords=passwords,
        rollups=rollups,
        steps=steps,
    )


def _regions(counties: int, using: str) -> tuple[Region, list[int], int]:
    cities = math.ceil(counties / COUNTIES_PER_CITY)
    provinces = math.ceil(cities / CITIES_PER_PROVINCE)
    manager = Region.objects.using(using)
    # RegionLevel has no "nation"; the root is the top of the tree whatever its label.
    root = manager.create(name="合成全国", level="province", source_text=MARK)
    province_rows = manager.bulk_create(
        [
            Region(name=f"合成省{n + 1:02d}", level="province", parent=root, source_text=MARK)
            for n in range(provinces)
        ]
    )
    city_rows = manager.bulk_create(
        [
            Region(
                name=f"合成市{n + 1:04d}",
                level="city",
                parent=province_rows[n // CITIES_PER_PROVINCE],
                source_text=MARK,
            )
            for n in range(cities)
        ]
    )
    county_rows = manager.bulk_create(
        [
            Region(
                name=f"合成县{n + 1:04d}",
                level="district",
                parent=city_rows[n // COUNTIES_PER_CITY],
                source_text=MARK,
            )
            for n in range(counties)
        ],
        batch_size=2000,
    )
    return root, [r.pk for r in county_rows], 1 + provinces + cities + counties


def _targets(plan, root, count, counties, end_year, using) -> list[Target]:
    """Increments (新增) and levels (总量) in turn; goals near the pace the figures give,
    some a little above and some below, so the lights are mixed."""
    rows = []
    for n in range(count):
        measure = "increment" if n % 3 else "level"
        # Figures average 4.5 per county and quarter; increments sum over 4 × years quarters.
        quarters = 4 * (end_year - START_YEAR + 1)
        per_county = Decimal("4.5") * (quarters if measure == "increment" else 1)
        factor = Decimal(80 + (n * 37) % 50) / 100  # 0.80 … 1.29
        rows.append(
            Target(
                plan=plan,
                code=f"SYN-T{n + 1:04d}",
                name=f"{MARK}合成指标{n + 1:04d}",
                measure=measure,
                measure_unit="个",
                target_value=(per_county * counties * factor).quantize(Decimal(1)),
                target_year=end_year,
                attribute="binding" if n % 4 == 0 else "expected",
                region=root,
                order=n,
                source_text=MARK,
            )
        )
    return Target.objects.using(using).bulk_create(rows, batch_size=2000)


def _users(root, county_id: int, seed: int, using: str):
    users = get_user_model().objects.db_manager(using)
    passwords = {}
    made = []
    for username, role, region_id, name in (
        (STAFF_USERNAME, "staff", root.pk, "合成全国委员会办公室"),
        (LIAISON_USERNAME, "liaison", county_id, "合成县0001联络员"),
    ):
        passwords[username] = password_for(username, seed)
        user = users.filter(username=username).first() or users.model(username=username)
        user.first_name = name
        user.set_password(passwords[username])
        user.save(using=using)
        Profile.objects.using(using).update_or_create(
            user=user, defaults={"role": role, "region_id": region_id}
        )
        made.append(user)
    return made[0], made[1], passwords


class _Stream:
    """A generator of text lines as a file for ``COPY … FROM STDIN``: the driver reads it a
    block at a time while the lines are still being made, so PostgreSQL inserts while Python
    formats (two processes at work) and memory stays flat."""

    def __init__(self, lines):
        self._lines = lines
        self._pending = b""
        self.rows = 0

    def read(self, size: int = -1) -> bytes:
        parts, length = [self._pending], len(self._pending)
        for line in self._lines:
            data = line.encode()
            parts.append(data)
            length += len(data)
            self.rows += 1
            if 0 <= size <= length:
                break
        data = b"".join(parts)
        if size < 0:
            size = len(data)
        self._pending = data[size:]
        return data[:size]

    def readline(self) -> bytes:  # the driver's interface; COPY FROM only calls read()
        return self.read(-1)


def _copy(using: str, table: str, columns: list[str], lines) -> int:
    """COPY text lines into ``table``, streamed, COPY_ROWS rows per statement."""
    total = 0
    lines = iter(lines)
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connections[using].cursor() as cursor:
        while True:
            stream = _Stream(itertools.islice(lines, COPY_ROWS))
            cursor.copy_expert(sql, stream, COPY_BLOCK)
            total += stream.rows
            if stream.rows < COPY_ROWS:
                return total


def _copy_allocations(targets: list[Target], county_ids: list[int], using: str) -> int:
    def lines():
        for target in targets:
            share = (target.target_value / len(county_ids)).quantize(Decimal("0.0001"))
            for county_id in county_ids:
                yield f"{target.pk}\t{county_id}\t{share}\t\n"

    return _copy(
        using,
        Allocation._meta.db_table,
        ["target_id", "region_id", "value", "source_text"],
        lines(),
    )


def _copy_reports(targets, county_ids, codes, reviewer_id, seed, using) -> int:
    stamps = []
    for code in codes:
        ends = period_bounds(code)[1]
        submitted = datetime.datetime.combine(ends + datetime.timedelta(days=10), datetime.time(9))
        reviewed = submitted + datetime.timedelta(days=2)
        stamps.append((submitted.isoformat() + "+08", reviewed.isoformat() + "+08"))

    def lines():
        for t_index, target in enumerate(targets):
            level = target.measure == "level"
            for c_index, county_id in enumerate(county_ids):
                running = 0
                for p_index, code in enumerate(codes):
                    value = figure(c_index, t_index, p_index, seed)
                    if level:  # a total that grows: the running sum of the increments
                        running += value
                        value = running
                    submitted, reviewed = stamps[p_index]
                    yield (
                        f"{target.pk}\t{county_id}\t{code}\t{value}\t{MARK}\tapproved\t"
                        f"{submitted}\t{reviewer_id}\t{reviewed}\t\t\t{submitted}\t{reviewed}\t"
                        "t\t1\n"
                    )

    return _copy(
        using,
        ProgressReport._meta.db_table,
        [
            "target_id", "region_id", "period", "value", "note", "status",
            "submitted_at", "reviewed_by_id", "reviewed_at", "return_reason", "confirm_note",
            "created_at", "updated_at", "is_demo", "version",
        ],
        lines(),
    )  # fmt: skip


def _bulk_load(using: str):
    """One transaction for the load. With B1's rollup triggers present, they are switched off
    for it (``deferred_rollups``) and the rollups rebuilt set-based at the end, which is far
    cheaper than 11 M trigger deltas; without them, a plain transaction."""
    return rollup_store.deferred_rollups(using=using)


def _rollup_state(using: str) -> tuple[str, int]:
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute(f"SELECT count(*) FROM {ROLLUP_TABLE}")
        count = cursor.fetchone()[0]
        return f"rebuild_rollups 已重建 rebuilt: {count} 行", count
