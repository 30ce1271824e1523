from django.contrib import admin
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.admin import GuardedDeletionMixin, HistoryAdmin, ReadOnlyAdminMixin, SourceTextMixin
from planning.models import Plan, Section, Stage, Task, TaskAssignment, TaskUpdate
from planning.services import attachments, has_attachments_error


class PartDeletionGuard(GuardedDeletionMixin):
    """The services' rule in the admin (``planning.services.delete_part``): a section, task,
    target, milestone or allocation anything points at is not deleted here either — the
    message offers 停用 on its page; a part of an archived plan is not deleted at all.
    ``refusal_for`` is the rule for one object (targets' admins add the figures)."""

    parts: tuple = ()

    def refusal_for(self, obj) -> str | None:
        plan = obj.plan if hasattr(obj, "plan") else obj.target.plan
        if plan.archived_on is not None:
            return _("规划“%(plan)s”已归档，只能查看，不能删除。") % {"plan": plan}
        found = attachments(obj, parts=self.parts)
        return has_attachments_error(obj, found).message if found else None

    def deletion_refusal(self, queryset: QuerySet) -> str | None:
        for obj in queryset:
            refusal = self.refusal_for(obj)
            if refusal is not None:
                return refusal
        return None


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = ["order", "name", "starts_on", "ends_on", "source_text"]


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0
    fields = ["order", "code", "number", "title", "kind", "parent"]
    show_change_link = True
    can_delete = False  # deleted through its own page, under the deletion rule

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = Section.objects.select_related("plan")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    fields = ["order", "code", "number", "title", "section", "due_on", "status"]
    show_change_link = True
    can_delete = False  # deleted through its own page, under the deletion rule
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
class SectionAdmin(PartDeletionGuard, SourceTextMixin, HistoryAdmin):
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


class TaskUpdateInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Progress notes are append-only (planning.services.post_task_update): shown, not edited."""

    model = TaskUpdate
    extra = 0
    fields = ["created_at", "author", "text", "percent"]
    readonly_fields = ["created_at", "author"]


@admin.register(Task)
class TaskAdmin(PartDeletionGuard, SourceTextMixin, HistoryAdmin):
    parts = ("assignments",)

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
class TaskUpdateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Append-only progress notes: viewable here, written only by their authors' service."""

    list_display = ["task", "author", "created_at", "percent"]
    search_fields = ["task__title", "text"]
    list_select_related = ["task", "author"]
    autocomplete_fields = ["task"]
    filter_horizontal = ["evidence"]


@admin.register(Stage)
class StageAdmin(SourceTextMixin, HistoryAdmin):
    list_display = ["name", "plan", "starts_on", "ends_on", "source_excerpt"]
    list_filter = ["plan"]
    search_fields = ["name", "plan__title"]
    list_select_related = ["plan"]
    autocomplete_fields = ["plan"]
