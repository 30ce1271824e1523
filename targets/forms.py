"""The report forms (they parse; targets.services validates and writes) and the edit forms
for targets, milestones and target adjustments (they parse only; targets.upkeep validates
and writes)."""

import json
import unicodedata
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from core.editing import DATE_WIDGET, ServiceModelForm
from core.forms import BootstrapFormMixin, MultipleFileField, NumberBoundField, NumberField
from core.models import Region
from core.numbers import plain, understood
from core.once import OnceFormMixin
from core.scope import CHANGE, VIEW
from core.services import REASON_LIMIT, InvalidInput, ServiceError
from planning.forms import TEXTAREA
from planning.models import Section, Task
from targets.choices import EvaluationKind
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


def _parent_targets(user, target: Target):
    """Targets ``target`` may implement (指标分解): visible to the user, of another plan, set for
    the target's region or one above it — and the one it has now (kept on save)."""
    region = target.region if target.region_id else (target.plan.region if target.plan_id else None)
    if region is None:
        return Target.objects.none()
    regions = [region.pk, *(r.pk for r in region.ancestors())]
    queryset = (
        Target.objects.for_user(user, VIEW)
        .filter(region_id__in=regions)
        .exclude(plan_id=target.plan_id)
    )
    if target.parent_target_id:
        queryset = queryset | Target.objects.filter(pk=target.parent_target_id)
    return queryset.select_related("region", "plan").order_by("region__level", "plan", "order")


class Reading:
    """A number whose text was read as something else than it says (3万 → 30000)."""

    def __init__(self, name: str, label: str, raw: str, value: str):
        self.name, self.label, self.raw, self.value = name, label, raw, value

    def __str__(self) -> str:
        return gettext_now("%(label)s“%(raw)s”已识别为 %(value)s") % {
            "label": self.label,
            "raw": self.raw,
            "value": self.value,
        }


def _only_written_differently(raw: str, value: Decimal) -> bool:
    """Full-width digits, spaces and thousands separators change how a number is written,
    not what it is (１，２００ is 1200); 万, 亿, a % or a unit change what the digits mean."""
    text = "".join(ch for ch in unicodedata.normalize("NFKC", raw) if not ch.isspace())
    try:
        return Decimal(text.replace(",", "")) == value
    except InvalidOperation:
        return False


class UpkeepFormMixin:
    """What the target and milestone forms add to the edit form: the reason kept in the
    history row (修改原因), and the numbers to confirm before saving.

    A number typed so that its digits mean something else (3万, 95%, 12个) is read by
    ``core.numbers`` and shown back before anything is saved: the form asks once
    (``readings_to_confirm``), remembering in a hidden field the texts it showed; sending the
    same texts again saves them. A changed text is asked about again."""

    SEEN = "numbers_seen"

    def add_upkeep_fields(self) -> None:
        self.fields["reason"] = forms.CharField(
            label=_("修改原因"),
            required=False,
            max_length=REASON_LIMIT,
            help_text=_("选填，最多 100 个字，记入修改记录"),
            error_messages={"max_length": _("修改原因最多 100 个字（现为 %(show_value)s 个字）")},
            widget=forms.TextInput(attrs={"class": "form-control"}),
        )
        self.fields[self.SEEN] = forms.CharField(widget=forms.HiddenInput, required=False)

    def readings(self) -> list[Reading]:
        """The numbers whose text was not a plain number, as read (after ``is_valid``)."""
        found = []
        for name, field in self.fields.items():
            if not isinstance(field, NumberField) or name not in self.cleaned_data:
                continue
            raw = str(self.data.get(self.add_prefix(name)) or "").strip()
            value = self.cleaned_data[name]
            if understood(raw, value) is not None:
                found.append(Reading(name, str(field.label), raw, plain(value)))
        return found

    def readings_to_confirm(self) -> list[Reading]:
        """The readings not yet shown to the user; empty when the form may be saved. When
        some are, the hidden field now holds them, so that sending the form again confirms."""
        asked = [
            r for r in self.readings() if not _only_written_differently(r.raw, Decimal(r.value))
        ]
        seen = json.dumps([[r.name, r.raw] for r in asked], ensure_ascii=False)
        if not asked or self.cleaned_data.get(self.SEEN, "") == seen:
            return []
        # The hidden field is rendered from the form's data: what was shown goes back with it.
        self.data = self.data.copy()
        self.data[self.add_prefix(self.SEEN)] = seen
        return asked

    def reason(self) -> str:
        return self.cleaned_data.get("reason", "")


class TargetForm(ServiceModelForm):
    class Meta(ServiceModelForm.Meta):
        model = Target
        fields = [
            "name", "task", "section", "measure", "measure_unit", "comparator", "target_value",
            "target_year", "baseline_value", "baseline_year", "baseline_source", "attribute",
            "region", "feed", "formula", "order", "source_text", "parent_target",
        ]  # fmt: skip
        widgets = {"source_text": TEXTAREA}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        plan_id = self.instance.plan_id
        self.fields["parent_target"].queryset = _parent_targets(self.user, self.instance)
        self.fields["parent_target"].label_from_instance = lambda t: (
            f"{t.region.name} · {t.plan.title} · {t.name}"
        )
        self.fields["task"].queryset = Task.objects.filter(plan_id=plan_id)
        self.fields["section"].queryset = Section.objects.filter(plan_id=plan_id)
        self.fields["region"].queryset = _regions(self.user, self.instance.region_id)
        # The values are in the target's unit: the one typed on this form, else the saved one.
        unit = self.instance.measure_unit
        if self.is_bound and "measure_unit" in self.data:
            unit = str(self.data.get("measure_unit") or "").strip()
        for name in ("target_value", "baseline_value"):
            self.fields[name].measure_unit = unit


class TargetUpkeepForm(UpkeepFormMixin, TargetForm):
    """The target edit page's form: the target's fields, the reason, the numbers confirmed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_upkeep_fields()


class TargetCreateForm(UpkeepFormMixin, TargetForm):
    """A new target (「新增指标」) of a plan, of one of its tasks or of the plan as a whole; the
    code may be left blank (``targets.upkeep.create_target`` gives one)."""

    class Meta(TargetForm.Meta):
        fields = ["code", *TargetForm.Meta.fields]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        code = self.fields["code"]
        code.required = False
        code.help_text = _("规划内唯一；不填则自动编号")
        self.fields["task"].help_text = _("不选则为规划总体指标")
        self.add_upkeep_fields()


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


class MilestoneUpkeepForm(UpkeepFormMixin, MilestoneForm):
    """The milestone edit page's form: the fields, the reason, the numbers confirmed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_upkeep_fields()


class MilestoneCreateForm(UpkeepFormMixin, MilestoneForm):
    """A new milestone (「新增节点」) of a target; the code may be left blank."""

    class Meta(MilestoneForm.Meta):
        fields = ["code", *MilestoneForm.Meta.fields]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        code = self.fields["code"]
        code.required = False
        code.help_text = _("规划内唯一；不填则自动编号")
        del self.fields["completed_on"]  # a planned step is not done yet when it is added
        self.add_upkeep_fields()


class AdjustmentForm(BootstrapFormMixin, forms.Form):
    """指标调整: the document that changes a target, and the value (and year) it sets."""

    new_value = forms.DecimalField(
        label=_("调整后目标值"),
        min_value=0,
        max_digits=18,
        decimal_places=4,
        error_messages={"required": _("请填写调整后的目标值"), "invalid": _("请填写数字")},
    )
    new_year = forms.IntegerField(
        label=_("调整后目标年度"),
        required=False,
        min_value=1949,
        max_value=2100,
        help_text=_("不填则沿用现行的目标年度"),
        error_messages={"invalid": _("请填写四位数的年份")},
    )
    doc_number = forms.CharField(
        label=_("文号"),
        max_length=128,
        help_text=_("调整文件的文号，如 穗消委〔2023〕5号"),
        error_messages={"required": _("请填写调整文件的文号")},
    )
    adopted_on = forms.DateField(
        label=_("印发日期"),
        widget=DATE_WIDGET,
        help_text=_("自该日起按调整后的目标判断"),
        error_messages={
            "required": _("请填写调整文件的印发日期"),
            "invalid": _("日期格式应为 YYYY-MM-DD"),
        },
    )
    reason = forms.CharField(
        label=_("调整理由"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写调整理由")},
    )
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=0,
        error_messages={"required": _("缺少版本号，请刷新页面后重试")},
    )

    def add_service_error(self, error: ServiceError) -> None:
        errors = error.errors if isinstance(error, InvalidInput) else {error.field: [error.message]}
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


# ------------------------------------------------------------ base figures (基础数据)


class BaseFiguresForm(BootstrapFormMixin, OnceFormMixin):
    """The figures of a region and year (targets.bases.load_sheet): one text field per item
    (the service parses what people type and says what is wrong), the version each row had
    when the page was shown, and the reason kept in the history rows."""

    reason = forms.CharField(
        label=_("理由"),
        required=False,
        max_length=100,
        help_text=_("修改已录入的数值时必填，记入修改记录"),
    )

    def __init__(self, *args, sheet, **kwargs):
        super().__init__(*args, **kwargs)
        reason = self.fields.pop("reason")
        for item in sheet.items:
            current = sheet.current(item)
            self.fields[item.key] = forms.CharField(
                label=item.title,
                required=False,
                max_length=40,
                widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "decimal"}),
                initial="" if current is None else f"{current.normalize():f}",
                help_text=_used_by(item),
            )
        for token, version in sheet.versions.items():
            self.fields[version_field(token)] = forms.IntegerField(
                widget=forms.HiddenInput,
                min_value=0,
                initial=version,
                error_messages={"required": _("缺少版本号，请刷新页面后重试")},
            )
        self.fields["reason"] = reason
        self.items = sheet.items

    def values(self) -> dict:
        return {item.key: self.cleaned_data.get(item.key, "") for item in self.items}

    def versions(self) -> dict:
        return {
            token: self.cleaned_data[name]
            for name in self.fields
            if (token := token_of(name)) is not None and name in self.cleaned_data
        }

    def add_service_error(self, error) -> None:
        found = getattr(error, "errors", None) or {error.field: [error.message]}
        for name, messages in found.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


VERSION_PREFIX = "version__"


def version_field(token: str) -> str:
    return f"{VERSION_PREFIX}{token}"


def token_of(name: str) -> str | None:
    return name[len(VERSION_PREFIX) :] if name.startswith(VERSION_PREFIX) else None


def _used_by(item) -> str:
    if not item.used_by:
        return ""
    names = "、".join(target.name for target in item.used_by)
    return _("用于计算：%(targets)s") % {"targets": names}


class AllocationSplitForm(BootstrapFormMixin, forms.Form):
    """「分解」: one number per region below the whole (blank removes that part), and why.
    Parses only; ``targets.allocations.split_allocation`` checks and writes (the sum too)."""

    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, parts=(), measure_unit: str = "", **kwargs):
        """``parts``: (region id, name, current value or None) in display order."""
        super().__init__(*args, **kwargs)
        reason = self.fields.pop("reason")
        for region_id, name, value in parts:
            self.fields[f"region_{region_id}"] = NumberField(
                label=name,
                required=False,
                min_value=0,
                max_digits=18,
                decimal_places=4,
                measure_unit=measure_unit,
                initial=value.normalize() if value is not None else None,
                widget=forms.TextInput(
                    attrs={
                        "inputmode": "decimal",
                        "autocomplete": "off",
                        "class": "form-control split-part",
                        "data-region": region_id,
                    }
                ),
            )
        self.fields["reason"] = reason
        reason.widget.attrs["class"] = "form-control"

    def add_service_error(self, error: ServiceError) -> None:
        """The service's refusal on the form: a wrong value or the sum under the numbers."""
        errors = error.errors if isinstance(error, InvalidInput) else {error.field: [error.message]}
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)

    def values(self) -> dict[int, object]:
        return {
            int(name.removeprefix("region_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("region_")
        }


class EvaluationNoteForm(BootstrapFormMixin, forms.Form):
    """未完成原因: why a target was not met, for the mid-term or final evaluation report."""

    kind = forms.ChoiceField(label=_("评估类型"), choices=EvaluationKind.choices)
    reason = forms.CharField(
        label=_("未完成原因"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("写入评估报告“未完成指标及原因”；留空保存即删除"),
    )
