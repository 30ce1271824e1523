"""The report forms (they parse; targets.services validates and writes) and the edit forms
for targets and milestones (they parse only; targets.upkeep validates and writes)."""

from django import forms

from core.editing import DATE_WIDGET, ServiceModelForm
from core.forms import BootstrapFormMixin, MultipleFileField, NumberBoundField
from core.models import Region
from core.once import OnceFormMixin
from core.scope import CHANGE
from planning.forms import TEXTAREA
from planning.models import Section, Task
from targets.models import Milestone, Target


class ReportForm(BootstrapFormMixin, OnceFormMixin):
    # Text, not a number field: the service parses what people type (core.numbers, through
    # targets.services.parse_value) and says what is wrong; the view puts what it understood
    # in ``understood`` for the page to show next to the field.
    value = forms.CharField(
        label="数值", required=False, max_length=40, bound_field_class=NumberBoundField
    )
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    confirm_note = forms.CharField(
        label="异常值说明",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="数值与上期差异较大或远超目标时需填写",
    )
    evidence = MultipleFileField(
        label="佐证材料", help_text="PDF、图片、Word、Excel，单个不超过 20 MB"
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ReasonForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label="理由", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


# ------------------------------------------------------------ targets and milestones


def _regions(user, current_id: int | None):
    """Regions the user may set a target for, and the one it has now (kept on save)."""
    allowed = Region.objects.for_user(user, CHANGE).values("pk")
    queryset = Region.objects.filter(pk__in=allowed)
    if current_id:
        queryset = queryset | Region.objects.filter(pk=current_id)
    return queryset.order_by("level", "name")


class TargetForm(ServiceModelForm):
    class Meta(ServiceModelForm.Meta):
        model = Target
        fields = [
            "name", "task", "section", "measure", "measure_unit", "comparator", "target_value",
            "target_year", "baseline_value", "baseline_year", "attribute", "region", "feed",
            "formula", "order", "source_text",
        ]  # fmt: skip
        widgets = {"source_text": TEXTAREA}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        plan_id = self.instance.plan_id
        self.fields["task"].queryset = Task.objects.filter(plan_id=plan_id)
        self.fields["section"].queryset = Section.objects.filter(plan_id=plan_id)
        self.fields["region"].queryset = _regions(self.user, self.instance.region_id)
        # The values are in the target's unit: the one typed on this form, else the saved one.
        unit = self.instance.measure_unit
        if self.is_bound and "measure_unit" in self.data:
            unit = str(self.data.get("measure_unit") or "").strip()
        for name in ("target_value", "baseline_value"):
            self.fields[name].measure_unit = unit


class MilestoneForm(ServiceModelForm):
    class Meta(ServiceModelForm.Meta):
        model = Milestone
        fields = [
            "due_on", "planned_value", "is_cumulative", "text", "completed_on", "region",
            "order", "source_text",
        ]  # fmt: skip
        widgets = {
            "due_on": DATE_WIDGET,
            "completed_on": DATE_WIDGET,
            "text": TEXTAREA,
            "source_text": TEXTAREA,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.task_id:
            # A task's milestone is qualitative: it is done on a date, it has no value.
            del self.fields["planned_value"]
            del self.fields["is_cumulative"]
        elif self.instance.target_id:
            self.fields["planned_value"].measure_unit = self.instance.target.measure_unit
        self.fields["region"].queryset = _regions(self.user, self.instance.region_id)
