from django.core.management.base import BaseCommand, CommandError

from planning.models import Plan
from targets.integrity import ERROR, check_plan_integrity

LEVEL_LABEL = {"error": "错误", "warning": "提示"}


class Command(BaseCommand):
    help = "检查规划数据的内在一致性：节点合计、分解合计、基数+增量、重复表述、日期"

    def add_arguments(self, parser):
        parser.add_argument("--plan", action="append", metavar="CODE", help="只检查该编码的规划")
        parser.add_argument(
            "--errors-only", action="store_true", help="只列出错误级别的问题（不列提示）"
        )

    def handle(self, *args, plan, errors_only, **options):
        plans = Plan.objects.all()
        if plan:
            plans = plans.filter(code__in=plan)
            missing = set(plan) - set(plans.values_list("code", flat=True))
            if missing:
                raise CommandError(f"没有编码为 {', '.join(sorted(missing))} 的规划")
        findings = check_plan_integrity(plans)
        shown = [f for f in findings if f.level == ERROR or not errors_only]
        current = None
        for finding in shown:
            if finding.plan != current:
                current = finding.plan
                self.stdout.write(self.style.MIGRATE_HEADING(f"\n== {current}"))
            style = self.style.ERROR if finding.level == ERROR else self.style.WARNING
            self.stdout.write(
                style(f"[{LEVEL_LABEL[finding.level]}] {finding.code}: {finding.message}")
            )
            for item in finding.items:
                source = " ".join(item.source_text.split())
                if len(source) > 120:
                    source = source[:120] + "…"
                self.stdout.write(f"    - {item.kind} {item.code}: {source or '（无原文）'}")
        errors = sum(1 for f in findings if f.level == ERROR)
        warnings = len(findings) - errors
        self.stdout.write(
            f"\n共 {errors} 个错误，{warnings} 个提示 ({errors} errors, {warnings} warnings)"
        )
        if errors:
            raise SystemExit(1)
