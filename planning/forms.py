"""Edit forms for plans, sections and tasks, and the task progress form. They parse only; the
services in planning.services validate and write."""

from django import forms
from django.db.models import Q

from core.editing import DATE_WIDGET, ServiceModelForm
from core.forms import BootstrapFormMixin, MultipleFileField
from core.models import Region, Unit
from core.once import OnceFormMixin
from core.scope import CHANGE, VIEW
from core.services import REASON_LIMIT
from planning.choices import AssignmentRole
from planning.models import Plan, Section, Stage, Task, TaskAssignment

TEXTAREA = forms.Textarea(attrs={"rows": 3})
CODE_HELP = "本规划内唯一；留空则自动生成"


class ReasonFormMixin(forms.Form):
    """修改原因: optional, kept as the history record's reason (the service checks its length
    too, for the API)."""

    reason = forms.CharField(
        label="修改原因",
        required=False,
        max_length=REASON_LIMIT,
        help_text="可不填；记入修改记录，不超过 100 字",
    )


class PlanForm(ReasonFormMixin, ServiceModelForm):
    class Meta:
        model = Plan
        fields = [
            "title", "kind", "status", "issuer", "doc_number", "issued_on", "start_year",
            "end_year", "parent", "source_file", "source_text",
        ]  # fmt: skip
        widgets = {"issued_on": DATE_WIDGET, "source_text": TEXTAREA}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Plan.objects.for_user(self.user, VIEW).order_by("title")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents


class PlanCreateForm(OnceFormMixin, PlanForm):
    """新建规划: the edit form plus the code and the region (fixed once created)."""

    class Meta(PlanForm.Meta):
        fields = ["code", "region", *PlanForm.Meta.fields]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        regions = Region.objects.for_user(self.user, CHANGE).order_by("level", "name")
        self.fields["region"].queryset = regions
        self.fields["code"].help_text = "英文字母、数字、连字符，全系统唯一，如 nanyang-2026-2030"


class StageForm(ReasonFormMixin, ServiceModelForm):
    class Meta:
        model = Stage
        fields = ["name", "starts_on", "ends_on", "order", "source_text"]
        widgets = {"starts_on": DATE_WIDGET, "ends_on": DATE_WIDGET, "source_text": TEXTAREA}


class StageCreateForm(OnceFormMixin, StageForm):
    """新增阶段: it comes after the plan's last stage (the service numbers the order)."""

    class Meta(StageForm.Meta):
        fields = ["name", "starts_on", "ends_on", "source_text"]


class SectionForm(ReasonFormMixin, ServiceModelForm):
    class Meta:
        model = Section
        fields = ["parent", "number", "title", "kind", "order", "source_text"]
        widgets = {"source_text": TEXTAREA}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Section.objects.filter(
            plan_id=self.instance.plan_id
        ).exclude(pk=self.instance.pk)


class SectionCreateForm(OnceFormMixin, SectionForm):
    """新增章节 / 新增子节: it comes last under its parent (the service numbers the order)."""

    class Meta(SectionForm.Meta):
        fields = ["code", "parent", "number", "title", "kind", "source_text"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False
        self.fields["code"].help_text = CODE_HELP


class TaskForm(ReasonFormMixin, ServiceModelForm):
    lead_units = forms.ModelMultipleChoiceField(
        label="牵头单位", queryset=Unit.objects.none(), required=False
    )
    support_units = forms.ModelMultipleChoiceField(
        label="配合单位", queryset=Unit.objects.none(), required=False
    )

    class Meta:
        model = Task
        fields = [
            "section", "number", "title", "description", "due_on", "status", "order",
            "source_text",
        ]  # fmt: skip
        widgets = {"due_on": DATE_WIDGET, "description": TEXTAREA, "source_text": TEXTAREA}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["section"].queryset = Section.objects.filter(plan_id=self.instance.plan_id)
        # Units the user may see, and those already assigned (kept when the form is saved).
        # (A new task has no units yet: ``assignments__task_id=None`` would match every unit
        # without any assignment, other regions' too.)
        wanted = Q(pk__in=Unit.objects.for_user(self.user, VIEW).values("pk"))
        if self.instance.pk:
            wanted |= Q(assignments__task_id=self.instance.pk)
        units = Unit.objects.filter(wanted).distinct().select_related("region")
        for name in ("lead_units", "support_units"):
            self.fields[name].queryset = units
            self.fields[name].widget.attrs["size"] = 8
            self.fields[name].label_from_instance = lambda u: f"{u.name}（{u.region.name}）"
        if self.instance.pk and not self.is_bound:
            assignments = TaskAssignment.objects.filter(task=self.instance).order_by("order")
            by_role = {AssignmentRole.LEAD: [], AssignmentRole.SUPPORT: []}
            for assignment in assignments:
                by_role.setdefault(assignment.role, []).append(assignment.unit_id)
            self.initial["lead_units"] = by_role[AssignmentRole.LEAD]
            self.initial["support_units"] = by_role[AssignmentRole.SUPPORT]


class TaskCreateForm(OnceFormMixin, TaskForm):
    """新增任务: it comes after the plan's last task (the service numbers the order)."""

    class Meta(TaskForm.Meta):
        fields = [
            "code", "section", "number", "title", "description", "due_on", "status",
            "source_text",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False
        self.fields["code"].help_text = CODE_HELP


class TaskUpdateForm(BootstrapFormMixin, OnceFormMixin):
    text = forms.CharField(label="进展情况", widget=forms.Textarea(attrs={"rows": 3}))
    # Text, not a number field: the service parses it and says what is expected.
    percent = forms.CharField(
        label="完成百分比", required=False, max_length=8, help_text="0 到 100 之间的整数，可不填"
    )
    evidence = MultipleFileField(
        label="佐证材料", help_text="PDF、图片、Word、Excel、OFD、ZIP，单个不超过 20 MB"
    )
