"""API for the station register; writes through stations.services."""

from rest_framework import serializers
from rest_framework.routers import DefaultRouter

from core.api import TypedNumbers
from core.api_views import ServiceWriteViewSet
from stations import services
from stations.filtersets import StationFilterSet
from stations.models import Station

FIELDS = ["id", *services.STATION_FIELDS, "version"]


class StationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Station
        fields = FIELDS
        read_only_fields = ["version"]


class StationWriteSerializer(TypedNumbers, StationSerializer):
    version = serializers.IntegerField(required=False, allow_null=True, help_text="乐观锁版本号")

    class Meta(StationSerializer.Meta):
        read_only_fields = []
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        # The unit may follow the number, as on the station form (1200㎡, 3万元 → 3).
        fields["floor_area_m2"].measure_unit = "㎡"
        fields["land_area_m2"].measure_unit = "㎡"
        fields["investment_10k_yuan"].measure_unit = "万元"
        return fields


class StationViewSet(ServiceWriteViewSet):
    """消防站台账：现有、在建、规划中的消防站。"""

    model = Station
    serializer_class = StationSerializer
    write_serializer_class = StationWriteSerializer
    filterset_class = StationFilterSet
    lean_values = True  # every field a column: values() rows (issue 19)
    ordering = ("region_id", "name", "pk")
    ordering_fields = ["name", "completed_year", "planned_year", "floor_area_m2"]

    def create_with_service(self, values):
        return services.create_station(actor=self.request.user, values=values)

    def update_with_service(self, obj, values, version):
        return services.update_station(
            obj, actor=self.request.user, version=version, changes=values
        )


router = DefaultRouter(trailing_slash=True)
router.register("stations", StationViewSet, basename="station")
