from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StationsConfig(AppConfig):
    name = "stations"
    verbose_name = _("消防站")

    def ready(self):
        from stations import scope_rules  # noqa: F401  (registers who may see and change our models)
