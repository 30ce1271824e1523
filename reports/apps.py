from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("统计与导出")

    def ready(self):
        from reports import scope_rules  # noqa: F401  (registers who may see and change our models)
        from reports.excel.jobs import register_jobs

        register_jobs()  # the exports and the import that run as background jobs (core.jobs)
