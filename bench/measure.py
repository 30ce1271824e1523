"""Timing and memory helpers: median and minimum of several runs, the queries of one run, the
memory a stage adds at its peak (tracemalloc)."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext


class Rollback(Exception):
    """Raised to leave an atomic block without committing."""


@contextmanager
def rolled_back(using: str = "default"):
    """Run a block in a transaction (or savepoint) that is always rolled back."""
    try:
        with transaction.atomic(using=using):
            yield
            raise Rollback
    except Rollback:
        pass


@dataclass
class Timing:
    runs_ms: list[float] = field(default_factory=list)
    queries: int | None = None
    # This process's CPU time per run: on a shared, oversubscribed machine wall time also
    # counts waiting for a core; CPU time does not (PostgreSQL's own work is not in it).
    cpu_ms: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def min_ms(self) -> float:
        return min(self.runs_ms)

    def as_dict(self) -> dict:
        return {
            "median_ms": round(self.median_ms, 2),
            "min_ms": round(self.min_ms, 2),
            "runs": len(self.runs_ms),
            "queries": self.queries,
            "cpu_median_ms": round(statistics.median(self.cpu_ms), 2) if self.cpu_ms else None,
        }


def timed(
    run: Callable[[], object],
    *,
    repeat: int,
    warmup: int = 1,
    count_queries: bool = True,
    budget_s: float = 60.0,
    isolate: bool = False,
) -> Timing:
    """Run ``run`` ``warmup`` times untimed, then up to ``repeat`` times timed (fewer once
    the timed runs have used ``budget_s``; a first warm-up slower than ``budget_s`` is the
    only sample). Queries are counted on one extra run, so the capturing does not weigh on
    the timings (on the warm-up when time ran out). ``isolate`` rolls every run back."""

    def once():
        if isolate:
            with rolled_back():
                run()
        else:
            run()

    timing = Timing()
    for n in range(warmup):
        started, cpu = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as captured:
            once()
        elapsed = time.perf_counter() - started
        timing.queries = len(captured.captured_queries)
        if n == 0 and elapsed > budget_s:
            # Too slow to repeat (minutes at national scale): this run is the only sample.
            timing.runs_ms.append(elapsed * 1000)
            timing.cpu_ms.append((time.process_time() - cpu) * 1000)
            return timing
    spent = 0.0
    for _ in range(repeat):
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        once()
        elapsed = time.perf_counter() - started
        timing.runs_ms.append(elapsed * 1000)
        timing.cpu_ms.append((time.process_time() - cpu) * 1000)
        spent += elapsed
        if spent > budget_s:
            break
    if count_queries and spent <= budget_s:
        # Steady state (the warm-up may include one-off queries), on a run not timed.
        with CaptureQueriesContext(connection) as captured:
            once()
        timing.queries = len(captured.captured_queries)
    return timing


def peak_memory(run: Callable[[], object]) -> int:
    """Bytes ``run`` adds at its peak over what was allocated before it (tracemalloc)."""
    gc.collect()
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    try:
        run()
        return tracemalloc.get_traced_memory()[1] - baseline
    finally:
        if started:
            tracemalloc.stop()
