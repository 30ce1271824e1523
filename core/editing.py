"""What every edit page shares (plans, tasks, targets, milestones, stations): a ModelForm that
only parses, the object look-up that gives 404 outside the scope and 403 without the right to
change, and the call of the service with its refusals turned into form errors.

The form does not run the model's validation itself: the service does (``full_clean`` and its
own rules), so a rule is written once and the API and importers get the same answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.forms import BootstrapFormMixin, NumberField
from core.scope import CHANGE, VIEW, allows, can, require, scope_of
from core.services import InvalidInput, NotAllowed, ServiceError, StaleEdit

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
STALE_STATUS = 409  # Conflict: the page reloads the record, the user's input stays on the form


def typed_numbers(model_field: models.Field, **kwargs) -> forms.Field | None:
    """``Meta.formfield_callback`` of the edit forms: a decimal column becomes a
    ``NumberField`` (numbers as people type them, the one parser of every door)."""
    if isinstance(model_field, models.DecimalField):
        kwargs.setdefault("form_class", NumberField)
    return model_field.formfield(**kwargs)


class ServiceModelForm(BootstrapFormMixin, forms.ModelForm):
    """A ModelForm whose values go to a service; ``version`` is the row version the user saw.
    A subclass's ``Meta`` inherits ``ServiceModelForm.Meta`` so its numbers are typed as people
    type them (``typed_numbers``)."""

    class Meta:
        formfield_callback = typed_numbers

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=0,
        error_messages={"required": gettext_lazy("缺少版本号，请刷新页面后重试")},
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if self.instance.pk is None:
            del self.fields["version"]
        else:
            self.fields["version"].initial = self.instance.version

    def _post_clean(self):
        """No model validation here: the service validates (see the module docstring)."""

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields if name in self.fields}

    def add_service_error(self, error: ServiceError) -> None:
        errors = error.errors if isinstance(error, InvalidInput) else {error.field: [error.message]}
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


def visible_or_404(request, queryset: QuerySet, pk: int) -> models.Model:
    return get_object_or_404(queryset.for_user(request.user, VIEW), pk=pk)


def editable_or_404(request, queryset: QuerySet, pk: int) -> models.Model:
    """The object to edit: 403 for a role that cannot change anything, 404 outside the scope,
    403 for an object the user may see but not change (a plan of the city above)."""
    require(request.user, CHANGE)
    obj = visible_or_404(request, queryset, pk)
    if not allows(request.user, obj, CHANGE):
        raise PermissionDenied(_("该记录在您的管理范围之外，只能查看"))
    return obj


def may_change_region(user, region_id: int | None) -> bool:
    """Whether ``user`` may change objects located in this region — the rule of
    core.scope for located objects, answered from the cached scope without a query (for
    showing edit links on list rows)."""
    if not can(user, CHANGE):
        return False
    return scope_of(user).covers(region_id)


def run_service(form: ServiceModelForm, call: Callable[[dict, int | None], Any]):
    """Parse the form and call the service; return ``(object, status)``.

    ``object`` is None when the input or the service refused; the refusal is on the form and
    ``status`` is the HTTP status to render it with (400 bad input, 409 stale edit).
    A scope refusal is a 403.
    """
    if not form.is_valid():
        return None, 400
    try:
        obj = call(form.changes(), form.cleaned_data.get("version"))
    except NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except StaleEdit as error:
        form.add_error(None, error.message)
        return None, STALE_STATUS
    except ServiceError as error:
        form.add_service_error(error)
        return None, 400
    return obj, 200


def export_redirect(request, url_name: str):
    """A list page's ``?export=xlsx`` answered by the export view of the same filters (the
    export lives in the reports layer, which the list's app does not import)."""
    query = request.GET.copy()
    query.pop("export", None)
    encoded = query.urlencode()
    return redirect(reverse(url_name) + (f"?{encoded}" if encoded else ""))
