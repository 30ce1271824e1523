"""The station form: parses only; stations.services validates and writes."""

from core.editing import DATE_WIDGET, ServiceModelForm
from core.models import Region
from core.scope import CHANGE, VIEW
from planning.forms import TEXTAREA
from planning.models import Plan
from stations.models import Station


class StationForm(ServiceModelForm):
    class Meta(ServiceModelForm.Meta):
        model = Station
        fields = [
            "name", "region", "address", "station_class", "force_type", "status", "build_type",
            "planned_year", "completed_year", "in_service_on", "floor_area_m2", "land_area_m2",
            "investment_10k_yuan", "lat", "lon", "plan", "code", "source_text",
        ]  # fmt: skip
        widgets = {"in_service_on": DATE_WIDGET, "source_text": TEXTAREA}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.for_user(self.user, CHANGE).order_by(
            "level", "name"
        )
        self.fields["plan"].queryset = Plan.objects.for_user(self.user, VIEW).order_by("title")
        # The unit may follow the number (1200㎡, 3万元 → 3).
        self.fields["floor_area_m2"].measure_unit = "㎡"
        self.fields["land_area_m2"].measure_unit = "㎡"
        self.fields["investment_10k_yuan"].measure_unit = "万元"
