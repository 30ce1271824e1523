from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from targets.signals import derived_rebuilt  # a Signal only: safe before the apps load


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("统计与导出")

    def ready(self):
        from reports import scope_rules  # noqa: F401  (registers who may see and change our models)
        from reports.excel.jobs import register_jobs
        from reports.page_clock import tick_everything

        register_jobs()  # the exports and the import that run as background jobs (core.jobs)
        # A rebuild of the roll-ups or tallies makes every cached page's key new.
        derived_rebuilt.connect(tick_everything, dispatch_uid="reports.page_clock.tick_everything")
