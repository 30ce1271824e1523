import datetime
import json
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from planning.models import Plan
from targets.rollups import StatusBoard


def _number(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value:,.{places}f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


class Command(BaseCommand):
    help = "打印规划每个指标的实际值、序时进度、完成率、状态与趋势 / Plan status at a date."

    def add_arguments(self, parser):
        parser.add_argument("plan", help="规划编码，如 lianzhou-2021-2025")
        parser.add_argument("--date", help="截至日期 YYYY-MM-DD（默认今天）")
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, plan, date, format, **options):
        try:
            on = datetime.date.fromisoformat(date) if date else None
        except ValueError:
            raise CommandError(f"日期格式应为 YYYY-MM-DD：{date}") from None
        plans = list(Plan.objects.filter(code=plan))
        if not plans:
            raise CommandError(f"没有编码为 {plan} 的规划")
        board = StatusBoard(plans, on=on)
        summary = board.plan_summary(plans[0])
        if format == "json":
            self._json(board, summary, plans[0])
        else:
            self._table(board, summary)

    def _json(self, board, summary, plan) -> None:
        targets = [
            {"code": t.code, "name": t.name, **board.target_progress[t.pk].as_dict()}
            for t in board.targets
        ]
        tasks = [
            {"code": t.code, "title": t.title, "status": board.task_progress[t.pk].status}
            for t in board.tasks
        ]
        data = {
            "plan": plan.code,
            "on": board.on.isoformat(),
            "summary": {key: part.as_dict() for key, part in summary.items()},
            "targets": targets,
            "tasks": tasks,
        }
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str))

    def _table(self, board, summary) -> None:
        self.stdout.write(f"截至 {board.on}")
        header = f"{'编码':<24}{'实际':>10}{'序时':>10}{'目标':>10}{'完成率':>8}{'预计':>10}  状态"
        self.stdout.write(header)
        for target in board.targets:
            p = board.target_progress[target.pk]
            flag = " ⚑约束性" if p.escalate else ""
            demo = " [演示数据]" if p.is_demo else ""
            self.stdout.write(
                f"{target.code:<24}{_number(p.actual):>10}{_number(p.expected):>10}"
                f"{_number(p.target_value):>10}{_percent(p.completion):>8}"
                f"{_number(p.projection):>10}  {p.status_label}{flag}{demo}  {target.name}"
            )
            if p.adjustment is not None:
                # 目标 is the value in force on the date; say where it comes from.
                self.stdout.write(
                    f"{'':<24}  调整：原目标 {_number(p.original_value)} → "
                    f"{_number(p.target_value)}（{p.adjustment.doc_number}，"
                    f"{p.adjustment.adopted_on:%Y-%m-%d} 起）"
                )
            for missing in p.missing:
                self.stdout.write(f"{'':<24}  ! {missing}")
        for key, label in [("targets", "指标"), ("tasks", "任务")]:
            part = summary[key]
            counts = "，".join(f"{s}: {part.counts[s]}" for s in part.counts)
            share = _percent(part.share_on_track)
            self.stdout.write(f"{label}：共 {part.total}（{counts}）；正常或完成占比 {share}")
        self.stdout.write(f"约束性指标滞后：{len(summary['targets'].binding_lagging)} 项")
