from django.contrib import admin

from core.admin import HistoryAdmin, SourceTextMixin
from stations.models import Station


@admin.register(Station)
class StationAdmin(SourceTextMixin, HistoryAdmin):
    list_display = [
        "name",
        "region",
        "station_class",
        "force_type",
        "status",
        "build_type",
        "completed_year",
        "floor_area_m2",
        "source_excerpt",
    ]
    list_filter = ["status", "station_class", "force_type", "build_type", "region"]
    search_fields = ["name", "address", "code", "source_text"]
    list_select_related = ["region"]
    autocomplete_fields = ["region", "plan"]
    readonly_fields = ["version"]
