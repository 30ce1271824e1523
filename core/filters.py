"""Pieces every FilterSet shares: scoped choices, region sub-trees, Bootstrap widgets."""

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend

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

    @classmethod
    def unfiltered(cls, queryset):
        """What this FilterSet makes of ``queryset`` when no parameter names one of its
        filters (every filter then leaves it alone): the API's shortcut below.
        ``tests/core/test_filter_shortcut.py`` checks it against the FilterSet for every API
        list. A FilterSet whose ``filter_queryset`` does more overrides this too."""
        return queryset

    @classmethod
    def named_in(cls, params) -> bool:
        """Whether a query parameter names one of the filters (``year``, or a range widget's
        ``year_min`` …)."""
        names = cls.base_filters.keys()
        return any(
            key in names or any(key.startswith(f"{name}_") for name in names) for key in params
        )


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend (settings.REST_FRAMEWORK), with one shortcut (issue 19): a
    list request none of whose parameters names a filter (``?page_size=100``, ``?page=3``)
    skips building the FilterSet and its form — copying every filter, a scoped queryset per
    model choice, the widgets — and gets the FilterSet's ``unfiltered`` queryset, the same
    SQL. Any filter parameter, valid or not, goes through the FilterSet as before."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if (
            filterset_class is not None
            and issubclass(filterset_class, ScopedFilterSet)
            and not filterset_class.named_in(request.query_params)
        ):
            return filterset_class.unfiltered(queryset)
        return super().filter_queryset(request, queryset, view)
