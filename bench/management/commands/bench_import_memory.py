"""The memory one figures import needs, measured in a process of its own (``bench`` runs this
once per size): on synthetic data in a transaction rolled back at the end, the file is built,
then the process's peak resident size is reset (Linux: ``/proc/self/clear_refs``, after
``gc.collect`` and ``malloc_trim``) and the import runs — the product's (preview, then commit)
or the raw baseline's (calamine + COPY). Prints one line of JSON: the resident size before
the import, its peak during it, and the difference (MiB).
"""

from __future__ import annotations

import ctypes
import gc
import json
import tempfile

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import Profile
from bench import excel
from bench.measure import rolled_back
from bench.synthetic import MARK
from core.models import Region
from planning.models import Plan


def _status(field: str) -> float:
    """A line of /proc/self/status in MiB (VmRSS: resident now, VmHWM: its peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def _reset_peak() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc
        pass
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM to the current resident size


class Command(BaseCommand):
    help = "一次填报导入的内存（独立进程）/ Memory of one figures import, in its own process."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, required=True)
        parser.add_argument("--raw", action="store_true", help="基线：calamine + COPY")

    def handle(self, *args, rows, raw, **options):
        with (
            tempfile.TemporaryDirectory() as media,
            override_settings(MEDIA_ROOT=media, DEBUG=False),
            rolled_back(),
        ):
            stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
            city = Region.objects.create(name=f"{MARK}基准市{stamp}", level="city")
            actor = get_user_model().objects.create_user(f"bench_memory_{stamp}")
            Profile.objects.create(user=actor, role="staff", region=city)
            plan = Plan.objects.create(
                code=f"bench-memory-{stamp}",
                title=f"{MARK}导入内存基准",
                kind="five_year",
                start_year=2021,
                end_year=2025,
                region=city,
                source_text="bench 生成的合成数据，不是真实规划",
            )
            period = excel.make_import_targets(plan, city, rows)
            filled = excel.fill_template(excel.template_bytes(actor, plan, city, period), rows)
            _reset_peak()
            before = _status("VmRSS")
            if raw:
                excel.raw_import(filled, actor, city)
            else:
                excel.import_figures(filled, actor, plan, city, rows)
            peak = _status("VmHWM")
        self.stdout.write(
            json.dumps(
                {
                    "rows": rows,
                    "raw": raw,
                    "rss_before_mib": round(before, 1),
                    "peak_mib": round(peak, 1),
                    "added_mib": round(peak - before, 1),
                }
            )
        )
