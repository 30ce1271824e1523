"""Forms of the Excel pages: they parse what the user chose; the builders and services decide.

Plan and region choices come from the user's scope, so a form never offers what the user
may not act on (a choice outside it is refused like a choice that does not exist).
"""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.forms import BootstrapFormMixin, NumberField
from core.models import Region, Unit
from core.once import OnceFormMixin
from core.periods import is_valid_period
from core.scope import CHANGE, REPORT, VIEW
from planning.choices import PlanStatus
from planning.models import Plan
from reports.excel.importers import DRAFT, SUBMIT
from reports.excel.scoring import GROUP_BY_REGION, GROUP_BY_UNIT


class PlanField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Plan) -> str:
        return f"{obj.title}（{obj.start_year}—{obj.end_year}）"


def _plans(user, action: str = VIEW):
    return (
        Plan.objects.for_user(user, action)
        .exclude(status=PlanStatus.REFERENCE)
        .select_related("region")
        .order_by("region__name", "-start_year", "title")
    )


PLAN_ERRORS = {
    "required": gettext_lazy("请选择规划"),
    "invalid_choice": gettext_lazy("所选规划不存在或不在您的范围内"),
}
REGION_ERRORS = {
    "required": gettext_lazy("请选择区划"),
    "invalid_choice": gettext_lazy("所选区划不存在或不在您的填报范围内"),
}


class FiguresTemplateForm(BootstrapFormMixin, forms.Form):
    plan = PlanField(label="规划", queryset=Plan.objects.none(), error_messages=PLAN_ERRORS)
    region = forms.ModelChoiceField(
        label="填报区划", queryset=Region.objects.none(), error_messages=REGION_ERRORS
    )
    period = forms.CharField(
        label="填报期间",
        max_length=6,
        help_text="年度填 2024，半年填 2024H1，季度填 2024Q3",
        error_messages={"required": gettext_lazy("请填写期间")},
        widget=forms.TextInput(attrs={"list": "open-periods", "placeholder": "2024"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = _plans(user)
        self.fields["region"].queryset = Region.objects.for_user(user, REPORT).order_by(
            "level", "name"
        )

    def clean_period(self) -> str:
        period = self.cleaned_data["period"].strip().upper()
        if not is_valid_period(period):
            raise forms.ValidationError(
                _("“%(period)s”不是有效期间，应为 2024、2024H1 或 2024Q3") % {"period": period}
            )
        return period


class FiguresUploadForm(FiguresTemplateForm):
    mode = forms.ChoiceField(
        label="导入后",
        choices=[(SUBMIT, "直接提交审核"), (DRAFT, "保存为草稿")],
        initial=SUBMIT,
        error_messages={"invalid_choice": gettext_lazy("请选择“直接提交审核”或“保存为草稿”")},
    )
    file = forms.FileField(
        label="填好的模板（.xlsx）",
        error_messages={
            "required": gettext_lazy("请选择要上传的文件"),
            "empty": gettext_lazy("上传的文件是空的"),
        },
    )


class CommitForm(BootstrapFormMixin, OnceFormMixin):
    confirm_note = forms.CharField(
        label="异常值说明",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="标注“需说明”的行如未在文件中填写异常值说明，请在此统一说明原因",
    )


class AssessmentForm(BootstrapFormMixin, forms.Form):
    plan = PlanField(label="规划", queryset=Plan.objects.none(), error_messages=PLAN_ERRORS)
    year = forms.IntegerField(
        label="考核年度",
        min_value=1949,
        max_value=2100,
        error_messages={
            "required": gettext_lazy("请填写考核年度"),
            "invalid": gettext_lazy("年度应为四位数字，如 2024"),
        },
    )
    by = forms.ChoiceField(
        label="分表方式",
        required=False,
        choices=[(GROUP_BY_REGION, "按区县（每个区县一张表）"), (GROUP_BY_UNIT, "按牵头单位")],
        error_messages={"invalid_choice": gettext_lazy("分表方式应为“按区县”或“按牵头单位”")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = _plans(user)
        self.fields["year"].initial = timezone.localdate().year - 1

    def clean_by(self) -> str:
        return self.cleaned_data["by"] or GROUP_BY_REGION

    def clean(self):
        data = super().clean()
        plan, year = data.get("plan"), data.get("year")
        if plan is not None and year is not None and not plan.start_year <= year <= plan.end_year:
            self.add_error(
                "year",
                _("%(year)s 年不在该规划的规划期 %(start)s—%(end)s 内")
                % {"year": year, "start": plan.start_year, "end": plan.end_year},
            )
        return data


class EvaluationForm(BootstrapFormMixin, forms.Form):
    plan = PlanField(label="规划", queryset=Plan.objects.none(), error_messages=PLAN_ERRORS)
    on = forms.DateField(
        label="评估日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("日期格式应为 2023-12-31")},
        help_text="留空为今天；中期评估一般取规划期第三年年底",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = _plans(user)


class SchemeForm(BootstrapFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    title = forms.CharField(label="考核表标题", required=False, max_length=255)
    full_marks = NumberField(label="满分", min_value=1, max_value=1000, decimal_places=2)
    binding_points = NumberField(
        label="约束性指标分值", min_value=0, max_value=1000, decimal_places=2
    )
    expected_points = NumberField(
        label="预期性指标分值", min_value=0, max_value=1000, decimal_places=2
    )
    task_points = NumberField(label="任务分值", min_value=0, max_value=1000, decimal_places=2)
    basis = forms.ChoiceField(label="计分依据", choices=[])
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        from reports.models import ScoreBasis

        super().__init__(*args, **kwargs)
        self.fields["basis"].choices = ScoreBasis.choices


class PenaltyForm(BootstrapFormMixin, forms.Form):
    """A deduction (with points) or a veto item (without), against a region or a unit."""

    region = forms.ModelChoiceField(
        label="被考核区划", queryset=Region.objects.none(), required=False
    )
    unit = forms.ModelChoiceField(
        label="或被考核单位", queryset=Unit.objects.none(), required=False
    )
    text = forms.CharField(
        label="事由", max_length=255, error_messages={"required": gettext_lazy("请填写事由")}
    )
    points = NumberField(
        label="扣分", required=False, min_value=0.01, max_value=1000, decimal_places=2
    )
    occurred_on = forms.DateField(
        label="发生日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, user, plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.for_user(user, CHANGE).order_by(
            "level", "name"
        )
        self.fields["unit"].queryset = (
            Unit.objects.for_user(user, CHANGE)
            .filter(assignments__task__plan=plan)
            .distinct()
            .order_by("name")
        )

    def clean(self):
        data = super().clean()
        if bool(data.get("region")) == bool(data.get("unit")):
            raise forms.ValidationError(_("请选择一个被考核区划或一个被考核单位（二选一）"))
        return data
