"""Filters of the pages that read across apps: the plan page's task filter, which adds the
status engine's light to planning's TaskFilterSet."""

import django_filters

from planning.choices import TaskStatus
from planning.filtersets import TaskFilterSet, section_depths
from targets.choices import ProgressStatus


class PlanTaskFilterSet(TaskFilterSet):
    """The task filters of one plan's page: ``TaskFilterSet`` with the section (and the
    sections below it) and the unit chosen among the plan's own, and the status engine's
    light, which the page has computed (``StatusBoard``) and the database does not hold.
    Choices come from what the page already loaded, so the form costs no query."""

    plan = region = year = due_before = due_after = None
    section = django_filters.ChoiceFilter(method="filter_section", label="章节")
    unit = django_filters.ChoiceFilter(field_name="assignments__unit_id", label="责任单位")
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices, label="任务状态")
    progress = django_filters.ChoiceFilter(
        choices=ProgressStatus.choices, method="filter_progress", label="进度"
    )

    class Meta(TaskFilterSet.Meta):
        fields = ["section", "unit", "role", "progress", "attribute", "status", "search"]

    def __init__(self, data=None, queryset=None, *, request=None, sections=(), board=None):
        super().__init__(data, queryset, request=request)
        self.sections = list(sections)
        self.task_progress = board.task_progress if board is not None else {}
        depth = section_depths(self.sections)
        self.form.fields["section"].choices = [
            (str(s.pk), "　" * depth[s.pk] + f"{s.number} {s.title}"[:40]) for s in self.sections
        ]
        units = {a.unit_id: a.unit for a in board.assignments} if board is not None else {}
        self.form.fields["unit"].choices = [
            (str(u.pk), u.name) for u in sorted(units.values(), key=lambda u: u.name)
        ]

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return bool(self.chosen())

    def chosen(self) -> dict:
        """The filters set to a valid value (an invalid one is shown on the form, ignored)."""
        if not self.is_bound:
            return {}
        self.form.is_valid()  # fills cleaned_data
        return {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "")}

    def section_ids(self) -> set[int] | None:
        """The chosen section and every section below it; None when none is chosen."""
        chosen = self.chosen().get("section")
        if not chosen:
            return None
        children: dict[int | None, list[int]] = {}
        for section in self.sections:
            children.setdefault(section.parent_id, []).append(section.pk)
        ids, stack = set(), [int(chosen)]
        while stack:
            pk = stack.pop()
            ids.add(pk)
            stack.extend(children.get(pk, []))
        return ids

    def filter_section(self, queryset, name, value):
        return queryset.filter(section_id__in=self.section_ids())

    def filter_progress(self, queryset, name, value):
        ids = [pk for pk, progress in self.task_progress.items() if progress.status == value]
        return queryset.filter(pk__in=ids)
