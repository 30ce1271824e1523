"""Admin pieces every app shares (read-only history, the source-text column) and the admin
of the core models."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
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

    @admin.display(description="文件")
    def download_link(self, obj) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("core:evidence_download", args=[obj.pk])
        return format_html('<a href="{}">下载 {}</a>', url, obj.original_name)
