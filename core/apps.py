from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The bottom layer: regions, units, evidence, scope, history, errors, the API base."""

    name = "core"
    verbose_name = _("基础数据")

    def ready(self):
        # Connects the login-time receiver (session time-outs) before any login, also the
        # test client's force_login before the first request has loaded the middleware.
        from django.db.models.signals import post_migrate

        from core import (  # noqa: F401
            api_cache,
            checks,
            lookups,
            regions,
            scope_rules,
            security,
            table_clock,
        )

        lookups.register()
        # Table clocks' triggers on every model table, a table added later included.
        post_migrate.connect(
            table_clock.on_post_migrate, sender=self, dispatch_uid="core_table_clock"
        )
        post_migrate.connect(regions.forget, sender=self, dispatch_uid="core_region_tree")
        post_migrate.connect(api_cache.forget, sender=self, dispatch_uid="core_api_list_copies")
