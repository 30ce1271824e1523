from django import forms

from core.forms import BootstrapFormMixin, MultipleFileField
from core.once import OnceFormMixin


class ReportForm(BootstrapFormMixin, OnceFormMixin):
    # Text, not a number field: the service parses what people type and says what is wrong.
    value = forms.CharField(label="数值", required=False, max_length=40)
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
