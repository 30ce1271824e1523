"""Scoring rules in the admin: a scheme with its item points, grade bands, deductions and
veto items inline (every change kept in history); import batches read-only."""

from django.contrib import admin

from core.admin import HistoryAdmin
from reports.models import AssessmentScheme, Deduction, GradeBand, ImportBatch, ItemWeight, VetoItem


class ItemWeightInline(admin.TabularInline):
    model = ItemWeight
    extra = 0
    autocomplete_fields = ["target", "task"]


class GradeBandInline(admin.TabularInline):
    model = GradeBand
    extra = 0


class DeductionInline(admin.TabularInline):
    model = Deduction
    extra = 0
    fields = ["region", "unit", "reason", "points"]
    autocomplete_fields = ["region", "unit"]


class VetoItemInline(admin.TabularInline):
    model = VetoItem
    extra = 0
    fields = ["region", "unit", "title", "occurred_on", "note"]
    autocomplete_fields = ["region", "unit"]


@admin.register(AssessmentScheme)
class AssessmentSchemeAdmin(HistoryAdmin):
    list_display = ["plan", "year", "full_marks", "binding_points", "expected_points", "basis"]
    list_filter = ["year", "basis"]
    list_select_related = ["plan"]
    search_fields = ["plan__title", "title"]
    autocomplete_fields = ["plan"]
    readonly_fields = ["updated_by", "version"]
    inlines = [ItemWeightInline, GradeBandInline, DeductionInline, VetoItemInline]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["original_name", "plan", "region", "period", "state", "uploaded_by"]
    list_filter = ["state", "period"]
    list_select_related = ["plan", "region", "uploaded_by"]
    readonly_fields = [f.name for f in ImportBatch._meta.fields]

    def has_add_permission(self, request):
        return False
