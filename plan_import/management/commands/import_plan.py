import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.services import ServiceError
from plan_import.extract import extract
from plan_import.readers import read_document


class Command(BaseCommand):
    help = "读取规划文件（.docx/.pdf/.txt/.xlsx），打印抽取出的规划草稿（不写数据库）"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--dry-run", action="store_true", help="只打印草稿（本命令从不写库，保留以便脚本统一）"
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        try:
            draft = extract(read_document(path.name, data))
        except ServiceError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(draft.as_json(), ensure_ascii=False, indent=2))
            return
        plan = draft.plan
        self.stdout.write(f"{plan.title}  {plan.issuer} {plan.doc_number} {plan.issued_on or ''}")
        self.stdout.write(f"{plan.start_year}—{plan.end_year}")
        titles = {section.ref: section for section in draft.sections}
        for task in draft.tasks:
            section = titles.get(task.section_ref)
            units = "、".join(task.lead_units) + (
                " / " + "、".join(task.support_units) if task.support_units else ""
            )
            self.stdout.write(
                f"[{section.number if section else ''}] {task.number} {task.title}"
                + (f"（{units}）" if units else "")
                + (f" 至 {task.due_on}" if task.due_on else "")
            )
            for target in (t for t in draft.targets if t.task_ref == task.ref):
                self.stdout.write(
                    f"    · {target.name} {target.comparator} {target.value:g}{target.unit}"
                    + (f"（{target.year}年）" if target.year else "")
                )
        loose = [t for t in draft.targets if t.task_ref is None]
        self.stdout.write(f"targets outside tasks: {len(loose)}")
        for target in loose:
            self.stdout.write(
                f"    · {target.name} {target.comparator} {target.value:g}{target.unit}"
                + (f"（{target.year}年）" if target.year else "")
            )
        self.stdout.write(f"stations: {len(draft.stations)}")
        for finding in draft.findings:
            self.stdout.write(f"! {finding.code}: {finding.message}")
