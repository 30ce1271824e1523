"""Forms of the reporting pages (/reporting/): they parse what staff typed; the services decide.

Plan and region choices come from the user's scope (``for_user``), so a form never offers
an object the user may not act on.
"""

import datetime

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.forms import BootstrapFormMixin
from core.models import Region
from core.once import OnceFormMixin
from core.periods import is_valid_period
from core.scope import CHANGE, VIEW
from planning.choices import PlanStatus
from planning.models import Plan
from reports.completeness import BY_REGION, BY_UNIT
from targets.services import default_yearly_deadlines

DATE_INPUT = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
DATE_ERROR = {"invalid": gettext_lazy("日期格式应为 2025-01-31")}
EXCEPTION_DAYS = 14  # default length of a lock exception


def _plans(user, action: str):
    return (
        Plan.objects.for_user(user, action)
        .exclude(status=PlanStatus.REFERENCE)
        .order_by("region__name", "-start_year", "title")
    )


class PlanField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Plan) -> str:
        return f"{obj.title}（{obj.start_year}—{obj.end_year}）"


class PeriodOpenForm(BootstrapFormMixin, forms.Form):
    plan = PlanField(label="规划", queryset=Plan.objects.none(), empty_label="请选择规划")
    period = forms.CharField(
        label="填报期间",
        max_length=6,
        help_text="年度填 2024，半年填 2024H1，季度填 2024Q3",
        widget=forms.TextInput(attrs={"placeholder": "2024"}),
    )
    due_on = forms.DateField(
        label="报送截止日期",
        required=False,
        error_messages=DATE_ERROR,
        help_text="年度期间可留空：默认次年 1 月 31 日截止、3 月 31 日锁定",
        **DATE_INPUT,
    )
    locks_on = forms.DateField(
        label="锁定日期",
        required=False,
        error_messages=DATE_ERROR,
        help_text="此日之后不再接受填报，除非为个别区划另行开放",
        **DATE_INPUT,
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = _plans(actor, CHANGE)

    def clean_period(self) -> str:
        period = self.cleaned_data["period"].strip().upper()
        if not is_valid_period(period):
            raise forms.ValidationError(
                _("“%(period)s”不是有效期间，应为 2024、2024H1 或 2024Q3") % {"period": period}
            )
        return period

    def clean(self):
        data = super().clean()
        period, due_on, locks_on = data.get("period"), data.get("due_on"), data.get("locks_on")
        if period is None or "due_on" in self.errors or "locks_on" in self.errors:
            return data
        if due_on is None and locks_on is None:
            if len(period) != 4:
                self.add_error("due_on", _("半年、季度期间请填写截止日期和锁定日期"))
                return data
            data["due_on"], data["locks_on"] = default_yearly_deadlines(int(period))
        elif due_on is None:
            self.add_error("due_on", _("请填写截止日期（或两个日期都留空，使用默认日期）"))
        elif locks_on is None:
            self.add_error("locks_on", _("请填写锁定日期（或两个日期都留空，使用默认日期）"))
        return data


class LockExceptionForm(BootstrapFormMixin, forms.Form):
    region = forms.ModelChoiceField(
        label="开放区划",
        queryset=Region.objects.none(),
        empty_label="请选择区划",
        error_messages={
            "required": gettext_lazy("请选择区划"),
            "invalid_choice": gettext_lazy(
                "所选区划不存在，或不承担该规划的指标，或不在您的管理范围内"
            ),
        },
        help_text="只为这一个区划（及其下级）重新开放填报",
    )
    until = forms.DateField(label="开放至", error_messages=DATE_ERROR, **DATE_INPUT)
    reason = forms.CharField(
        label="理由",
        max_length=255,
        error_messages={"required": gettext_lazy("请填写理由")},
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="例如：县政府延期上报，经委员会办公室同意补报",
    )

    def __init__(self, *args, actor, reporting_period, **kwargs):
        kwargs.setdefault(
            "initial",
            {"until": timezone.localdate() + datetime.timedelta(days=EXCEPTION_DAYS)},
        )
        super().__init__(*args, **kwargs)
        plan_id = reporting_period.plan_id
        # Regions that owe figures on this plan (targets set for them or allocated to them),
        # inside the user's scope.
        self.fields["region"].queryset = (
            Region.objects.for_user(actor, CHANGE)
            .filter(Q(targets__plan_id=plan_id) | Q(allocations__target__plan_id=plan_id))
            .distinct()
            .order_by("level", "name")
        )


class CompletenessFilterForm(BootstrapFormMixin, forms.Form):
    plan = PlanField(label="规划", queryset=Plan.objects.none(), required=False, empty_label=None)
    period = forms.CharField(label="期间", required=False, max_length=6)
    by = forms.ChoiceField(
        label="按",
        required=False,
        choices=[(BY_REGION, "区划"), (BY_UNIT, "牵头单位")],
        error_messages={"invalid_choice": gettext_lazy("分组方式应为“区划”或“牵头单位”")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = _plans(user, VIEW)
        self.fields["plan"].error_messages["invalid_choice"] = _("所选规划不存在或不在您的范围内")
        for field in self.fields.values():
            css = field.widget.attrs["class"]
            field.widget.attrs["class"] = f"{css} {css.split()[-1]}-sm"

    def clean_period(self) -> str:
        return self.cleaned_data["period"].strip().upper()

    def clean_by(self) -> str:
        return self.cleaned_data["by"] or BY_REGION


class SuccessorForm(BootstrapFormMixin, OnceFormMixin):
    """「编制下一期规划」 on the plan page: the years (targets.successor checks them)."""

    start_year = forms.IntegerField(label=gettext_lazy("起始年度"))
    end_year = forms.IntegerField(label=gettext_lazy("终止年度"))
