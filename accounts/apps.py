from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("用户与权限")

    def ready(self):
        # Who may see and change our models; API tokens end on password change, deactivation.
        from accounts import scope_rules, signals  # noqa: F401
