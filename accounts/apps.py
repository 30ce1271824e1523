from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("用户与权限")

    def ready(self):
        # Connects the login-time receiver (session time-outs) before any login, also the
        # test client's force_login before the first request has loaded the middleware.
        from fireplan import security  # noqa: F401
