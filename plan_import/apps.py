from django.apps import AppConfig


class PlanImportConfig(AppConfig):
    """Turns a plan document (.txt, .docx, .pdf, .xlsx 任务分解表) into a reviewed draft and
    publishes it through the planning, targets and stations services. No models of its own."""

    name = "plan_import"
    verbose_name = "规划文件导入"

    def ready(self):
        from plan_import.jobs import register_jobs

        register_jobs()  # 「发布」 of a large draft runs as a background job (core.jobs)
