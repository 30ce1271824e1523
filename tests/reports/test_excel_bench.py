"""The Excel benchmark at a tiny scale: it runs every stage on synthetic data, prints rows per
second and peak memory, and leaves the database as it was (the full run is manual:
``python manage.py bench_excel``)."""

import io

import pytest
from django.core.management import call_command

from planning.models import Plan, Task
from targets.models import ProgressReport, Target

pytestmark = pytest.mark.django_db


def test_bench_excel_runs_every_stage_and_rolls_back(seeded):
    before = (Plan.objects.count(), Task.objects.count(), Target.objects.count(),
              ProgressReport.objects.count())  # fmt: skip
    out = io.StringIO()
    call_command("bench_excel", scale=0.0001, districts=2, stdout=out)
    text = out.getvalue()
    for stage in ("任务台账导出", "考核表", "填报模板生成", "导入预览", "导入提交"):
        line = next(line for line in text.splitlines() if line.startswith(stage))
        assert "行/秒" in line and "峰值新增内存" in line
    assert "合成数据已回滚" in text
    after = (Plan.objects.count(), Task.objects.count(), Target.objects.count(),
             ProgressReport.objects.count())  # fmt: skip
    assert after == before
