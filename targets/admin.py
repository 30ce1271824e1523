"""Targets in the admin. Reported figures are read-only here (they change only through the
reporting workflow of targets.services: save, submit, approve, return, reopen — each with its
version and history reason), and a target or plan with figures cannot be deleted here (the
Plan admin of planning.admin is registered again below with that guard: planning does not
know about figures)."""

from django.contrib import admin
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.admin import GuardedDeletionMixin, HistoryAdmin, ReadOnlyAdminMixin, SourceTextMixin
from planning.admin import PartDeletionGuard, PlanAdmin
from planning.models import Plan
from targets import retire
from targets.models import (
    Allocation,
    BaseFigure,
    FireStatistic,
    Milestone,
    ProgressReport,
    ReportContribution,
    Target,
    TargetAdjustment,
)

ADJUSTMENT_FIELDS = [
    "target", "adopted_on", "doc_number", "old_value", "new_value", "old_year", "new_year",
    "reason", "actor", "created_at",
]  # fmt: skip


class ReadOnlyAdjustments:
    """Adjustments are recorded through ``targets.upkeep.adjust_target`` (the target page or
    the API) and never edited or deleted: the admin only shows them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def figures_refusal(
    queryset: QuerySet, *, reports: QuerySet, contributions: QuerySet
) -> str | None:
    """Why objects holding reported figures cannot be deleted in the admin, or None."""
    report_count, contribution_count = reports.count(), contributions.count()
    if not report_count and not contribution_count:
        return None
    names = "、".join(f"“{obj}”" for obj in queryset[:5])
    if queryset.count() > 5:
        names += _("等")
    return _(
        "%(names)s 已有填报数据（%(reports)s 条填报、%(contributions)s 条配合单位报送），"
        "不能在后台删除，未删除任何对象。填报数据只能通过填报、审核流程处理。"
    ) % {"names": names, "reports": report_count, "contributions": contribution_count}


class MilestoneInline(admin.TabularInline):
    model = Milestone
    fk_name = "target"
    extra = 0
    can_delete = False  # deleted through its own page, under the deletion rule
    fields = ["order", "code", "due_on", "planned_value", "is_cumulative", "text", "region"]
    autocomplete_fields = ["region"]


class AllocationInline(admin.TabularInline):
    model = Allocation
    extra = 0
    can_delete = False  # deleted through its own page, under the deletion rule
    fields = ["region", "value", "source_text"]
    autocomplete_fields = ["region"]


class AdjustmentInline(ReadOnlyAdjustments, admin.TabularInline):
    model = TargetAdjustment
    extra = 0
    fields = ADJUSTMENT_FIELDS[1:]
    readonly_fields = ADJUSTMENT_FIELDS[1:]


@admin.register(Target)
class TargetAdmin(PartDeletionGuard, SourceTextMixin, HistoryAdmin):
    list_display = [
        "name",
        "plan",
        "comparator",
        "target_value",
        "measure_unit",
        "target_year",
        "attribute",
        "region",
        "source_excerpt",
    ]
    list_filter = ["attribute", "measure", "comparator", "plan"]
    search_fields = ["name", "code", "source_text"]
    list_select_related = ["plan", "region"]
    autocomplete_fields = ["plan", "task", "section", "region"]
    readonly_fields = ["version"]
    inlines = [MilestoneInline, AllocationInline, AdjustmentInline]

    def deletion_refusal(self, queryset):
        return figures_refusal(
            queryset,
            reports=ProgressReport.objects.filter(target__in=queryset),
            contributions=ReportContribution.objects.filter(target__in=queryset),
        ) or super().deletion_refusal(queryset)


@admin.register(TargetAdjustment)
class TargetAdjustmentAdmin(ReadOnlyAdjustments, admin.ModelAdmin):
    list_display = ["target", "doc_number", "adopted_on", "old_value", "new_value", "actor"]
    list_filter = ["adopted_on"]
    search_fields = ["doc_number", "reason", "target__name", "target__code"]
    list_select_related = ["target", "actor"]
    fields = ADJUSTMENT_FIELDS
    readonly_fields = ADJUSTMENT_FIELDS
    date_hierarchy = "adopted_on"


class GuardedPlanAdmin(GuardedDeletionMixin, PlanAdmin):
    def deletion_refusal(self, queryset):
        return figures_refusal(
            queryset,
            reports=ProgressReport.objects.filter(target__plan__in=queryset),
            contributions=ReportContribution.objects.filter(target__plan__in=queryset),
        )


admin.site.unregister(Plan)
admin.site.register(Plan, GuardedPlanAdmin)


@admin.register(Milestone)
class MilestoneAdmin(PartDeletionGuard, SourceTextMixin, HistoryAdmin):
    list_display = ["due_on", "__str__", "target", "task", "planned_value", "region", "plan"]
    list_filter = ["plan", "is_cumulative"]
    search_fields = ["text", "code", "source_text"]
    date_hierarchy = "due_on"
    list_select_related = ["target", "task", "region", "plan"]
    autocomplete_fields = ["plan", "target", "task", "region"]
    readonly_fields = ["version"]


@admin.register(Allocation)
class AllocationAdmin(PartDeletionGuard, SourceTextMixin, HistoryAdmin):
    list_display = ["target", "region", "value", "source_excerpt"]

    def refusal_for(self, obj) -> str | None:
        return super().refusal_for(obj) or retire.deletion_refusal(obj)

    search_fields = ["target__name", "region__name"]
    list_select_related = ["target", "region"]
    autocomplete_fields = ["target", "region"]


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    """Read-only: a figure's value, status and evidence change only through the workflow
    (the report page, the API, the Excel import, the review inbox), never here."""

    list_display = [
        "target",
        "region",
        "period",
        "value",
        "status",
        "is_demo",
        "submitted_by",
        "reviewed_by",
    ]
    list_filter = ["status", "is_demo", "period"]
    search_fields = ["target__name", "region__name", "note"]
    list_select_related = ["target", "region", "submitted_by", "reviewed_by"]
    readonly_fields = [f.name for f in ProgressReport._meta.fields if f.name != "id"] + ["evidence"]


@admin.register(FireStatistic)
class FireStatisticAdmin(SourceTextMixin, HistoryAdmin):
    list_display = ["region", "year", "fires", "deaths", "injuries", "direct_loss_10k_yuan"]
    list_filter = ["year"]
    search_fields = ["region__name"]
    list_select_related = ["region"]
    autocomplete_fields = ["region", "plan"]


@admin.register(BaseFigure)
class BaseFigureAdmin(SourceTextMixin, HistoryAdmin):
    list_display = ["region", "year", "name", "value", "measure_unit", "source_excerpt"]
    list_filter = ["year", "name"]
    search_fields = ["name", "region__name", "source_text"]
    list_select_related = ["region"]
    autocomplete_fields = ["region", "plan"]
