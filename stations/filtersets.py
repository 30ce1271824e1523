"""One FilterSet per resource, serving the HTML register and the API alike."""

import django_filters
from django import forms
from django.db.models import Q

from core.filters import RegionTreeFilter, ScopedFilterSet, YearFilter
from core.models import Region
from planning.models import Plan
from stations.choices import BuildType, ForceType, StationClass, StationStatus
from stations.models import Station


class StationFilterSet(ScopedFilterSet):
    search = django_filters.CharFilter(method="filter_search", label="搜索")
    station_class = django_filters.ChoiceFilter(choices=StationClass.choices, label="站级")
    status = django_filters.ChoiceFilter(choices=StationStatus.choices, label="状态")
    region = RegionTreeFilter(field_name="region_id", queryset=Region.objects.none(), label="区划")
    force_type = django_filters.ChoiceFilter(choices=ForceType.choices, label="队伍性质")
    build_type = django_filters.ChoiceFilter(choices=BuildType.choices, label="建设方式")
    plan = django_filters.ModelChoiceFilter(queryset=Plan.objects.none(), label="来源规划")
    year = YearFilter(method="filter_year", label="计划或建成年度")
    has_coordinates = django_filters.BooleanFilter(
        method="filter_has_coordinates",
        label="坐标",
        widget=forms.Select(choices=[("", "全部"), ("true", "有坐标"), ("false", "无坐标")]),
    )

    # Column sorting on the register page (``?sort=-planned_year``). Named ``sort`` because the
    # API's DRF OrderingFilter already owns ``ordering``; both accept the same column names.
    sort = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("region__name", "region"),
            ("station_class", "station_class"),
            ("force_type", "force_type"),
            ("status", "status"),
            ("build_type", "build_type"),
            ("planned_year", "planned_year"),
            ("completed_year", "completed_year"),
            ("floor_area_m2", "floor_area"),
        ),
        label="排序",
    )

    class Meta:
        model = Station
        fields = [
            "search", "station_class", "status", "region", "force_type", "build_type", "plan",
            "year", "has_coordinates",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["has_coordinates"].widget.attrs["class"] = "form-select form-select-sm"

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(address__icontains=value)
            | Q(code__iexact=value)
            | Q(source_text__icontains=value)
        )

    def filter_year(self, queryset, name, value):
        return queryset.filter(Q(planned_year=value) | Q(completed_year=value))

    def filter_has_coordinates(self, queryset, name, value):
        """Both longitude and latitude given (true), or either missing (false)."""
        located = Q(lat__isnull=False, lon__isnull=False)
        return queryset.filter(located if value else ~located)
