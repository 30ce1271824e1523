"""Users in the admin: Django's own page, without deletion.

Whoever changed something is named in the history rows (history_user), and history is
append-only (the database refuses to set those names to NULL, which deleting the user would
do). A user who leaves is deactivated (停用) on the user page, never deleted."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User


class KeptUserAdmin(UserAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, KeptUserAdmin)
