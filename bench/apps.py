from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Tooling, not runtime: the synthetic-scale generator (seed_scale) and the benchmark
    harness (bench, bench_excel). No runtime app imports it."""

    name = "bench"
    verbose_name = "性能基准"
