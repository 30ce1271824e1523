"""One FilterSet per resource, serving the HTML lists and the API alike."""

import django_filters
from django.db.models import Q

from fireplan.filters import RegionTreeFilter, ScopedFilterSet

from .choices import PlanKind, PlanStatus
from .models import Plan, Region


class PlanFilterSet(ScopedFilterSet):
    region = RegionTreeFilter(field_name="region_id", queryset=Region.objects.none(), label="区划")
    kind = django_filters.ChoiceFilter(choices=PlanKind.choices, label="类型")
    status = django_filters.ChoiceFilter(choices=PlanStatus.choices, label="状态")
    year = django_filters.NumberFilter(method="filter_year", label="年度")
    search = django_filters.CharFilter(method="filter_search", label="搜索")

    class Meta:
        model = Plan
        fields = ["region", "kind", "status", "year", "search"]

    def filter_year(self, queryset, name, value):
        """Plans in force in that year."""
        return queryset.filter(start_year__lte=value, end_year__gte=value)

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(title__icontains=value)
            | Q(doc_number__icontains=value)
            | Q(issuer__icontains=value)
            | Q(code__iexact=value)
        )
