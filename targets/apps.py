from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TargetsConfig(AppConfig):
    name = "targets"
    verbose_name = _("目标与填报")

    def ready(self):
        from targets import scope_rules  # noqa: F401  (registers who may see and change our models)
