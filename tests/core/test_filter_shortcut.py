"""The filter backend's shortcut (core.filters.FilterBackend, issue 19): a list request none
of whose parameters names a filter skips building the FilterSet. For every API list with a
FilterSet, the shortcut's queryset must be the FilterSet's own with no filter given — the
same SQL — and any filter parameter, valid or not, must still go through the FilterSet."""

from unittest import mock

import pytest
from django.http import QueryDict
from rest_framework.test import APIRequestFactory

from core.filters import FilterBackend, ScopedFilterSet
from fireplan.api_urls import router
from targets.filtersets import ProgressReportFilterSet, TargetFilterSet
from tests.api import client_for

pytestmark = pytest.mark.django_db

NO_FILTER = ("", "page_size=100", "page=2&page_size=5", "pagination=cursor&page_size=50")


def filtered_viewsets():
    for prefix, viewset, _basename in router.registry:
        filterset_class = getattr(viewset, "filterset_class", None)
        if filterset_class is not None:
            yield prefix, viewset, filterset_class


def test_every_api_filterset_takes_the_shortcut():
    found = list(filtered_viewsets())
    assert len(found) >= 10
    for prefix, _viewset, filterset_class in found:
        assert issubclass(filterset_class, ScopedFilterSet), prefix


@pytest.mark.parametrize("query", NO_FILTER)
def test_shortcut_is_the_filtersets_own_sql(seeded, staff_nanyang, query):
    params = QueryDict(query)
    request = APIRequestFactory().get("/api/v1/x/", params)
    request.user = staff_nanyang
    for prefix, viewset, filterset_class in filtered_viewsets():
        queryset = viewset.model.objects.for_user(staff_nanyang)
        assert not filterset_class.named_in(params), prefix
        full = filterset_class(params, queryset, request=request)
        assert full.is_valid(), (prefix, full.errors)
        assert str(filterset_class.unfiltered(queryset).query) == str(full.qs.query), prefix


@pytest.mark.parametrize(
    "query",
    ["plan=1", "region=1", "year=2024", "year_min=3", "search=消防", "plan=abc", "status=x"],
)
def test_a_filter_parameter_goes_through_the_filterset(query):
    assert ProgressReportFilterSet.named_in(QueryDict(query))
    assert TargetFilterSet.named_in(QueryDict(query))


def test_lists_answer_the_same_with_and_without_the_shortcut(seeded, staff_nanyang):
    client = client_for(staff_nanyang)
    for prefix, _viewset, _filterset_class in filtered_viewsets():
        url = f"/api/v1/{prefix}/?page_size=500"
        short = client.get(url)
        assert short.status_code == 200, (prefix, short.content[:300])
        with mock.patch.object(
            FilterBackend, "filter_queryset", FilterBackend.__base__.filter_queryset
        ):
            full = client.get(url)
        assert short.json() == full.json(), prefix


def test_the_shortcut_builds_no_filterset(seeded, staff_nanyang):
    client = client_for(staff_nanyang)
    with mock.patch.object(ProgressReportFilterSet, "__init__", side_effect=AssertionError):
        assert client.get("/api/v1/reports/?page_size=10").status_code == 200


def test_a_bad_filter_value_is_still_refused(seeded, staff_nanyang):
    client = client_for(staff_nanyang)
    response = client.get("/api/v1/reports/?plan=abc")
    assert response.status_code == 400
    assert "plan" in response.content.decode()
