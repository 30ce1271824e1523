"""One FilterSet per resource, serving the HTML lists and the API alike."""

import django_filters
from django.db.models import Q

from core.choices import Attribute, RegionLevel, UnitKind
from core.filters import RegionTreeFilter, ScopedFilterSet, YearFilter
from core.models import Region, Unit
from planning.choices import AssignmentRole, PlanKind, PlanStatus, SectionKind, TaskStatus
from planning.models import Plan, Section, Task, TaskUpdate


class PlanFilterSet(ScopedFilterSet):
    region = RegionTreeFilter(field_name="region_id", queryset=Region.objects.none(), label="区划")
    kind = django_filters.ChoiceFilter(choices=PlanKind.choices, label="类型")
    status = django_filters.ChoiceFilter(choices=PlanStatus.choices, label="状态")
    year = YearFilter(method="filter_year", label="年度")
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


class RegionFilterSet(ScopedFilterSet):
    parent = django_filters.NumberFilter(field_name="parent_id", label="上级区划")
    within = RegionTreeFilter(field_name="id", queryset=Region.objects.none(), label="属于区划")
    level = django_filters.ChoiceFilter(choices=RegionLevel.choices, label="层级")
    search = django_filters.CharFilter(method="filter_search", label="搜索")

    class Meta:
        model = Region
        fields = ["parent", "within", "level", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(code=value))


class UnitFilterSet(ScopedFilterSet):
    region = RegionTreeFilter(field_name="region_id", queryset=Region.objects.none(), label="区划")
    kind = django_filters.ChoiceFilter(choices=UnitKind.choices, label="类别")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="搜索")

    class Meta:
        model = Unit
        fields = ["region", "kind", "search"]


class SectionFilterSet(ScopedFilterSet):
    plan = django_filters.ModelChoiceFilter(queryset=Plan.objects.none(), label="规划")
    parent = django_filters.NumberFilter(field_name="parent_id", label="上级章节")
    kind = django_filters.ChoiceFilter(choices=SectionKind.choices, label="类别")
    search = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label="搜索")

    class Meta:
        model = Section
        fields = ["plan", "parent", "kind", "search"]


class TaskFilterSet(ScopedFilterSet):
    plan = django_filters.ModelChoiceFilter(queryset=Plan.objects.none(), label="规划")
    section = django_filters.NumberFilter(field_name="section_id", label="章节")
    region = RegionTreeFilter(
        field_name="plan__region_id", queryset=Region.objects.none(), label="区划"
    )
    unit = django_filters.ModelChoiceFilter(
        field_name="assignments__unit", queryset=Unit.objects.none(), label="责任单位"
    )
    role = django_filters.ChoiceFilter(
        choices=AssignmentRole.choices, method="filter_role", label="职责"
    )
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices, label="状态")
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", label="截止不晚于"
    )
    due_after = django_filters.DateFilter(
        field_name="due_on", lookup_expr="gte", label="截止不早于"
    )
    year = YearFilter(field_name="due_on__year", label="完成年度")
    attribute = django_filters.ChoiceFilter(
        field_name="targets__attribute", choices=Attribute.choices, label="指标属性"
    )
    search = django_filters.CharFilter(method="filter_search", label="搜索")

    class Meta:
        model = Task
        fields = [
            "plan", "section", "region", "unit", "role", "status", "year", "attribute", "search",
        ]  # fmt: skip

    def filter_role(self, queryset, name, value):
        """With a unit, the role is that unit's role (one join, not two independent ones)."""
        unit = self.form.cleaned_data.get("unit")
        if unit:
            return queryset.filter(assignments__unit=unit, assignments__role=value)
        return queryset.filter(assignments__role=value)

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset).distinct()

    @classmethod
    def unfiltered(cls, queryset):
        return queryset.distinct()

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(title__icontains=value) | Q(description__icontains=value) | Q(code__iexact=value)
        )


def section_depths(sections: list[Section]) -> dict[int, int]:
    """Each section's depth in its plan's tree (0 for a chapter), from the loaded list."""
    parents = {s.pk: s.parent_id for s in sections}
    depths: dict[int, int] = {}
    for section in sections:
        depth, parent = 0, parents.get(section.pk)
        while parent in parents and depth < len(parents):
            depth, parent = depth + 1, parents[parent]
        depths[section.pk] = depth
    return depths


class TaskUpdateFilterSet(ScopedFilterSet):
    task = django_filters.NumberFilter(field_name="task_id", label="任务")
    plan = django_filters.ModelChoiceFilter(
        field_name="task__plan", queryset=Plan.objects.none(), label="规划"
    )
    search = django_filters.CharFilter(field_name="text", lookup_expr="icontains", label="搜索")

    class Meta:
        model = TaskUpdate
        fields = ["task", "plan", "search"]
