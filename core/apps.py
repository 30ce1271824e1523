from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The bottom layer: regions, units, evidence, scope, history, errors, the API base."""

    name = "core"
    verbose_name = _("基础数据")

    def ready(self):
        # Connects the login-time receiver (session time-outs) before any login, also the
        # test client's force_login before the first request has loaded the middleware.
        from core import checks, lookups, scope_rules, security  # noqa: F401

        lookups.register()
