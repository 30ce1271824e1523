"""One FilterSet per resource, serving the HTML lists and (later) the API alike."""

import django_filters
from django.db.models import Q

from core.choices import Attribute
from core.filters import RegionTreeFilter, ScopedFilterSet, YearFilter
from core.models import Region, Unit
from planning.choices import AssignmentRole
from planning.models import Plan
from targets.choices import Feed, Measure, ProgressStatus, ReportStatus
from targets.models import Allocation, BaseFigure, FireStatistic, Milestone, ProgressReport, Target


class ProgressReportFilterSet(ScopedFilterSet):
    plan = django_filters.ModelChoiceFilter(
        field_name="target__plan", queryset=Plan.objects.none(), label="规划"
    )
    region = RegionTreeFilter(field_name="region_id", queryset=Region.objects.none(), label="区划")
    period = django_filters.CharFilter(label="期间")
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices, label="状态")
    search = django_filters.CharFilter(method="filter_search", label="搜索")

    year = YearFilter(method="filter_year", label="年度")

    class Meta:
        model = ProgressReport
        fields = ["plan", "region", "period", "status", "search"]

    def filter_year(self, queryset, name, value):
        return queryset.filter(period__startswith=str(int(value)))

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(target__name__icontains=value) | Q(note__icontains=value) | Q(region__name=value)
        )


class TargetFilterSet(ScopedFilterSet):
    plan = django_filters.ModelChoiceFilter(queryset=Plan.objects.none(), label="规划")
    section = django_filters.NumberFilter(field_name="section_id", label="章节")
    task = django_filters.NumberFilter(field_name="task_id", label="任务")
    region = RegionTreeFilter(field_name="region_id", queryset=Region.objects.none(), label="区划")
    unit = django_filters.ModelChoiceFilter(
        field_name="task__assignments__unit", queryset=Unit.objects.none(), label="责任单位"
    )
    role = django_filters.ChoiceFilter(
        choices=AssignmentRole.choices, method="filter_role", label="职责"
    )
    attribute = django_filters.ChoiceFilter(choices=Attribute.choices, label="指标属性")
    measure = django_filters.ChoiceFilter(choices=Measure.choices, label="计量方式")
    feed = django_filters.ChoiceFilter(choices=Feed.choices, label="数据来源")
    year = YearFilter(field_name="target_year", label="目标年度")
    status = django_filters.ChoiceFilter(
        choices=ProgressStatus.choices, method="filter_status", label="进度状态"
    )
    search = django_filters.CharFilter(method="filter_search", label="搜索")

    class Meta:
        model = Target
        fields = ["plan", "section", "task", "region", "unit", "role", "attribute", "year"]

    def filter_role(self, queryset, name, value):
        """With a unit, the role is that unit's role (one join, not two independent ones)."""
        unit = self.form.cleaned_data.get("unit")
        if unit is not None:
            return queryset.filter(task__assignments__unit=unit, task__assignments__role=value)
        return queryset.filter(task__assignments__role=value)

    def filter_queryset(self, queryset):
        # unit/role join through assignments; keep each target once.
        return super().filter_queryset(queryset).distinct()

    @classmethod
    def unfiltered(cls, queryset):
        return queryset.distinct()

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(code__iexact=value) | Q(source_text__icontains=value)
        )

    def filter_status(self, queryset, name, value):
        """Status is computed, not stored: judge the candidates once (fixed queries)."""
        from targets.status import compute_status, load_status_inputs

        candidates = list(queryset.select_related("plan"))
        inputs = load_status_inputs(candidates, allocation_regions=())  # the targets' own
        keep = [t.pk for t in candidates if compute_status(t, inputs).status == value]
        return queryset.filter(pk__in=keep)


class MilestoneFilterSet(ScopedFilterSet):
    plan = django_filters.ModelChoiceFilter(queryset=Plan.objects.none(), label="规划")
    target = django_filters.NumberFilter(field_name="target_id", label="目标指标")
    task = django_filters.NumberFilter(field_name="task_id", label="任务")
    region = RegionTreeFilter(field_name="region_id", queryset=Region.objects.none(), label="区划")
    year = YearFilter(field_name="due_on__year", label="年度")
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", label="截止不晚于"
    )
    due_after = django_filters.DateFilter(
        field_name="due_on", lookup_expr="gte", label="截止不早于"
    )
    search = django_filters.CharFilter(field_name="text", lookup_expr="icontains", label="搜索")

    class Meta:
        model = Milestone
        fields = ["plan", "target", "task", "region", "year", "due_before", "due_after"]


class AllocationFilterSet(ScopedFilterSet):
    plan = django_filters.ModelChoiceFilter(
        field_name="target__plan", queryset=Plan.objects.none(), label="规划"
    )
    target = django_filters.NumberFilter(field_name="target_id", label="目标指标")
    region = RegionTreeFilter(field_name="region_id", queryset=Region.objects.none(), label="区划")
    search = django_filters.CharFilter(
        field_name="target__name", lookup_expr="icontains", label="搜索"
    )

    class Meta:
        model = Allocation
        fields = ["plan", "target", "region"]


class FireStatisticFilterSet(ScopedFilterSet):
    region = RegionTreeFilter(field_name="region_id", queryset=Region.objects.none(), label="区划")
    year = YearFilter(label="年度")
    search = django_filters.CharFilter(
        field_name="region__name", lookup_expr="icontains", label="搜索"
    )

    class Meta:
        model = FireStatistic
        fields = ["region", "year"]


class BaseFigureFilterSet(ScopedFilterSet):
    region = RegionTreeFilter(field_name="region_id", queryset=Region.objects.none(), label="区划")
    year = YearFilter(label="年度")
    key = django_filters.CharFilter(label="公式变量名")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="搜索")

    class Meta:
        model = BaseFigure
        fields = ["region", "year", "key"]
