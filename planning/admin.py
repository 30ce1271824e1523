from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from .models import Evidence, Plan, Region, Section, Stage, Task, TaskAssignment, TaskUpdate, Unit


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
            raise PermissionDenied("历史记录只读，不能恢复或修改")
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


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = ["order", "name", "starts_on", "ends_on", "source_text"]


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0
    fields = ["order", "code", "number", "title", "kind", "parent"]
    show_change_link = True

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = Section.objects.select_related("plan")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    fields = ["order", "code", "number", "title", "section", "due_on", "status"]
    show_change_link = True
    autocomplete_fields = ["section"]


@admin.register(Plan)
class PlanAdmin(SourceTextMixin, HistoryAdmin):
    list_display = ["title", "kind", "status", "region", "start_year", "end_year", "issued_on"]
    list_filter = ["kind", "status", "start_year"]
    search_fields = ["title", "code", "doc_number", "issuer"]
    list_select_related = ["region"]
    autocomplete_fields = ["region", "parent"]
    readonly_fields = ["version"]
    inlines = [StageInline, SectionInline, TaskInline]


@admin.register(Section)
class SectionAdmin(SourceTextMixin, HistoryAdmin):
    list_display = ["__str__", "kind", "plan", "parent", "code"]
    list_filter = ["kind", "plan"]
    search_fields = ["title", "number", "code"]
    list_select_related = ["plan", "parent"]
    autocomplete_fields = ["plan", "parent"]


class TaskAssignmentInline(admin.TabularInline):
    model = TaskAssignment
    extra = 0
    fields = ["order", "unit", "role"]
    autocomplete_fields = ["unit"]


class TaskUpdateInline(admin.TabularInline):
    model = TaskUpdate
    extra = 0
    fields = ["created_at", "author", "text", "percent"]
    readonly_fields = ["created_at", "author"]


@admin.register(Task)
class TaskAdmin(SourceTextMixin, HistoryAdmin):
    list_display = ["__str__", "plan", "section", "due_on", "status", "source_excerpt"]
    list_filter = ["status", "plan"]
    search_fields = ["title", "description", "code", "source_text"]
    list_select_related = ["plan", "section"]
    autocomplete_fields = ["plan", "section"]
    readonly_fields = ["version"]
    inlines = [TaskAssignmentInline, TaskUpdateInline]


@admin.register(TaskAssignment)
class TaskAssignmentAdmin(HistoryAdmin):
    list_display = ["task", "unit", "role"]
    list_filter = ["role"]
    search_fields = ["task__title", "unit__name"]
    list_select_related = ["task", "unit"]
    autocomplete_fields = ["task", "unit"]


@admin.register(TaskUpdate)
class TaskUpdateAdmin(admin.ModelAdmin):
    list_display = ["task", "author", "created_at", "percent"]
    search_fields = ["task__title", "text"]
    list_select_related = ["task", "author"]
    autocomplete_fields = ["task"]
    filter_horizontal = ["evidence"]


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
        url = reverse("evidence_download", args=[obj.pk])
        return format_html('<a href="{}">下载 {}</a>', url, obj.original_name)


@admin.register(Stage)
class StageAdmin(SourceTextMixin, HistoryAdmin):
    list_display = ["name", "plan", "starts_on", "ends_on", "source_excerpt"]
    list_filter = ["plan"]
    search_fields = ["name", "plan__title"]
    list_select_related = ["plan"]
    autocomplete_fields = ["plan"]
