"""Users in the admin: Django's own page, without deletion; API tokens: list and revoke.

Whoever changed something is named in the history rows (history_user), and history is
append-only (the database refuses to set those names to NULL, which deleting the user would
do). A user who leaves is deactivated (停用) on the user page, never deleted."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from accounts.models import ApiToken


class KeptUserAdmin(UserAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, KeptUserAdmin)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Committee staff revoke anyone's API token here (delete). Tokens are made only by their
    owner (the token page, POST /api/v1/auth/token/): the key is shown once, to the owner."""

    list_display = ["prefix", "user", "created", "expires", "last_used"]
    list_select_related = ["user"]
    search_fields = ["user__username", "prefix"]
    readonly_fields = ["user", "prefix", "created", "expires", "last_used"]
    exclude = ["digest"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
