"""Form helpers shared by every app: Bootstrap classes on widgets, optimistic-lock field, the
number field that reads numbers as people type them."""

from django import forms
from django.forms.boundfield import BoundField

from core.numbers import PLACES, NumberError, parse_number, understood
from core.text import clean_text


class BootstrapFormMixin:
    """Give every widget the Bootstrap class it needs, so templates stay plain."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def _clean_fields(self):
        # Every text value, whatever its field, without control and bidi-override characters
        # (core.text), before the form's clean() and the model see it.
        super()._clean_fields()
        for name, value in self.cleaned_data.items():
            if isinstance(value, str):
                self.cleaned_data[name] = clean_text(value)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several evidence files in one input; checked by core.evidence in the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class NumberBoundField(BoundField):
    @property
    def understood(self) -> str | None:
        """What the typed text was read as, when it was not a plain number (3万 → 30000), for
        the page to show next to the field (``includes/form_fields.html``). A form whose
        service parses the number itself puts it in ``form.understood``."""
        given = getattr(self.form, "understood", None) or {}
        if self.name in given:
            return given[self.name]
        if not self.form.is_bound or self.name not in getattr(self.form, "cleaned_data", {}):
            return None
        return understood(self.data, self.form.cleaned_data[self.name])


class NumberField(forms.DecimalField):
    """A number typed as people type it (``core.numbers``: １，２００, 3万, 95% …), in a text box
    (a number box would refuse 3万 in the browser). ``measure_unit`` is the figure's unit when
    it is known (a % or the unit may follow the number). What the text was read as, when it
    was not a plain number, is the bound field's ``understood``, which the page shows."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
    bound_field_class = NumberBoundField

    def __init__(self, *args, measure_unit: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.measure_unit = measure_unit

    def to_python(self, value):
        places = self.decimal_places if self.decimal_places is not None else PLACES
        digits = (self.max_digits or places + 14) - places
        try:
            return parse_number(
                value, measure_unit=self.measure_unit, places=places, integer_digits=digits
            )
        except NumberError as error:
            raise forms.ValidationError(error.message, code=error.code) from None
