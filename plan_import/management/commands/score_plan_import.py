from django.core.management.base import BaseCommand

from plan_import.scoring import score_seeds, table


class Command(BaseCommand):
    help = "导入器在五个种子规划原文上的召回率与准确率（对照 fixtures/plans 的人工标注）"

    def handle(self, *args, **options):
        self.stdout.write(table(score_seeds()))
