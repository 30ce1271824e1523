"""One FilterSet per resource, serving the HTML lists and (later) the API alike."""

import django_filters
from django.db.models import Q

from planning.models import Plan, Region
from planning.regions import RegionTree

from .choices import ReportStatus
from .models import ProgressReport


class RegionTreeFilter(django_filters.ModelChoiceFilter):
    """A region and every region below it."""

    def filter(self, qs, value):
        if not value:
            return qs
        ids = RegionTree.load().subtree(value.pk)
        return qs.filter(**{f"{self.field_name}__in": ids})


class ProgressReportFilterSet(django_filters.FilterSet):
    plan = django_filters.ModelChoiceFilter(
        field_name="target__plan", queryset=Plan.objects.none(), label="规划"
    )
    region = RegionTreeFilter(field_name="region_id", queryset=Region.objects.none(), label="区划")
    period = django_filters.CharFilter(label="期间")
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices, label="状态")
    search = django_filters.CharFilter(method="filter_search", label="搜索")

    class Meta:
        model = ProgressReport
        fields = ["plan", "region", "period", "status", "search"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        self.filters["plan"].queryset = Plan.objects.for_user(user).order_by("title")
        self.filters["region"].queryset = Region.objects.for_user(user).order_by("level", "name")
        for field in self.form.fields.values():
            css = "form-select" if hasattr(field, "choices") else "form-control"
            field.widget.attrs["class"] = f"{css} form-select-sm" if css == "form-select" else css

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(target__name__icontains=value) | Q(note__icontains=value) | Q(region__name=value)
        )
