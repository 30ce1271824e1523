"""Pieces every FilterSet shares: scoped choices, region sub-trees, Bootstrap widgets."""

import django_filters
from django import forms

from core.regions import RegionTree


class YearFilter(django_filters.NumberFilter):
    """A year: a whole number from 1900 to 2100 (anything else is a 400, not a crash)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1900)
        kwargs.setdefault("max_value", 2100)
        super().__init__(*args, **kwargs)


class RegionTreeFilter(django_filters.ModelChoiceFilter):
    """A region and every region below it (南阳市 matches its counties' rows too)."""

    def filter(self, qs, value):
        if not value:
            return qs
        ids = RegionTree.load().subtree(value.pk)
        return qs.filter(**{f"{self.field_name}__in": ids})


class ScopedFilterSet(django_filters.FilterSet):
    """Choices of model filters are limited to what the requesting user may see, so a filter
    never reveals an object outside the user's scope; widgets get Bootstrap classes."""

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        user = getattr(request, "user", None)
        for filter_ in self.filters.values():
            if isinstance(
                filter_, django_filters.ModelChoiceFilter | django_filters.ModelMultipleChoiceFilter
            ):
                model = filter_.queryset.model
                filter_.queryset = model.objects.for_user(user)
        for field in self.form.fields.values():
            css = "form-select" if hasattr(field, "choices") else "form-control"
            field.widget.attrs["class"] = f"{css} {css}-sm"
