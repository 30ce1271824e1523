from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlanningConfig(AppConfig):
    name = "planning"
    verbose_name = _("规划与任务")

    def ready(self):
        from planning import scope_rules  # noqa: F401  (registers who may see and change our models)
