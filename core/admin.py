"""Admin pieces every app shares (read-only history, read-only models, deletion refused while
the workflow holds an object, the source-text column) and the admin of the core models.

The admin is for upkeep, never a back door around the services: what a workflow owns (a
reported figure and its status, its evidence, an append-only note) is read-only here, and
what it still holds (a plan or a target with figures) cannot be deleted here."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin

from core.models import Evidence, Region, Unit


class SourceTextMixin:
    """Every seeded row shows the plan text it came from."""

    def source_excerpt(self, obj) -> str:
        text = obj.source_text or ""
        return text if len(text) <= 60 else text[:60] + "…"

    source_excerpt.short_description = "原文依据"


class HistoryAdmin(SimpleHistoryAdmin):
    """An object's history in the admin, read-only: the list of changes and each old version
    can be viewed, never reverted. A revert would save the old values past the services (no
    version check, no rules, e.g. an approved figure changed without a reopening), and history
    is append-only (the database refuses UPDATE / DELETE on history tables, see
    planning/migrations/0005_history_append_only.py). To undo a change, edit the object again
    through its page or the API; the undo then has its own history row."""

    def revert_disabled(self, request, obj=None):
        return True

    def has_change_history_permission(self, request, obj=None):
        return False

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied(_("历史记录只读，不能恢复或修改"))
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdminMixin:
    """Viewable, never added, changed or deleted here: the services own these rows (a POST to
    the change page is refused with 403, like any change without the permission)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class GuardedDeletionMixin:
    """Deletion refused, with a message saying why, while ``deletion_refusal`` finds a reason
    in the objects to delete — on the delete page (back to the object, with the message), in
    the bulk “delete selected” action (the reason listed as what protects them), and in
    ``delete_model`` / ``delete_queryset`` themselves. Nothing is deleted or changed."""

    def deletion_refusal(self, queryset: QuerySet) -> str | None:
        """Why these objects must not be deleted, or None."""
        return None

    def _refusal_for(self, obj) -> str | None:
        return self.deletion_refusal(self.model._default_manager.filter(pk=obj.pk))

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        # Without the button on the change page; the delete page itself says why.
        return allowed and (obj is None or self._refusal_for(obj) is None)

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and super().has_delete_permission(request, obj):
            refusal = self._refusal_for(obj)
            if refusal is not None:
                self.message_user(request, refusal, messages.ERROR)
                opts = self.opts
                return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", obj.pk)
        return super().delete_view(request, object_id, extra_context)

    def get_deleted_objects(self, objs, request):
        """The confirmation pages (the bulk “delete selected” action's included) show the
        refusal as the one thing that protects the objects, so Django deletes nothing."""
        if isinstance(objs, QuerySet):
            queryset = objs
        else:
            queryset = self.model._default_manager.filter(pk__in=[obj.pk for obj in objs])
        refusal = self.deletion_refusal(queryset)
        if refusal is not None:
            return [], {}, set(), [refusal]
        return super().get_deleted_objects(objs, request)

    def delete_model(self, request, obj):
        refusal = self._refusal_for(obj)
        if refusal is not None:
            raise PermissionDenied(refusal)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        refusal = self.deletion_refusal(queryset)
        if refusal is not None:
            raise PermissionDenied(refusal)
        super().delete_queryset(request, queryset)


@admin.register(Region)
class RegionAdmin(SourceTextMixin, HistoryAdmin):
    list_display = ["name", "level", "parent", "code"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]


@admin.register(Unit)
class UnitAdmin(SourceTextMixin, HistoryAdmin):
    list_display = ["name", "kind", "region", "source_excerpt"]
    list_filter = ["kind", "region"]
    search_fields = ["name"]
    list_select_related = ["region"]
    autocomplete_fields = ["region"]


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "content_type",
        "size_bytes",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    ]
    search_fields = ["original_name", "sha256"]
    list_select_related = ["uploaded_by"]
    # Files live outside the web root (no /media/ URL) and arrive only through the services'
    # type and size checks: the admin links to the scoped download view and adds none.
    exclude = ["file"]
    readonly_fields = ["download_link", "sha256", "size_bytes", "uploaded_by", "uploaded_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # A stored file is a record: what was uploaded, by whom, with its hash.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting it would silently drop it from the figures it supports (an approved
        # figure's evidence is locked with the figure).
        return False

    @admin.display(description="文件")
    def download_link(self, obj) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("core:evidence_download", args=[obj.pk])
        return format_html('<a href="{}">下载 {}</a>', url, obj.original_name)
