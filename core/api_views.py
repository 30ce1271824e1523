"""Base viewsets: scoped querysets, and writes through service functions with If-Match."""

from __future__ import annotations

from django.conf import settings
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from core.api import ETagMixin
from core.api_cache import cached_list
from core.api_rows import row_writer
from core.scope import VIEW


class ScopedViewSet(viewsets.GenericViewSet):
    """The model's queryset for the request's user (outside the scope → 404)."""

    model = None
    related: tuple = ()
    prefetch: tuple = ()
    ordering: tuple = ()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        queryset = self.model.objects.for_user(self.request.user, VIEW)
        if self.related:
            queryset = queryset.select_related(*self.related)
        if self.prefetch:
            queryset = queryset.prefetch_related(*self.prefetch)
        return queryset.order_by(*self.ordering) if self.ordering else queryset


def lean_lists() -> bool:
    """Lists through core.api_rows (the default); API_LEAN_LISTS=False gives DRF's own
    serialisation, which the tests compare against."""
    return getattr(settings, "API_LEAN_LISTS", True)


class LeanListMixin:
    """``list`` writes its rows with ``core.api_rows.row_writer`` over the read serializer:
    the same JSON as ``ListModelMixin`` at a fraction of the cost (issue 19).

    ``lean_values``: read the page as ``values()`` rows (no model instances, no prefetches);
    every field must then be a column, a key of ``lean_lookups`` or an override.
    ``lean_overrides(rows)`` returns name → function of a row, built once for the page (one
    query for what the page's rows have in common, never one per row).

    The rendered response is kept in the shared cache (``core.api_cache.cached_list``) and
    served while no table it was read from has changed; a viewset overriding ``list`` calls
    ``super().list`` (cached) or overrides ``render_list`` (what a miss renders)."""

    lean_values = False
    lean_lookups: tuple[str, ...] = ()

    def lean_overrides(self, rows: list) -> dict:
        return {}

    def lean_queryset(self, queryset):
        if not self.lean_values:
            return queryset
        names = [f.attname for f in queryset.model._meta.concrete_fields]
        # "pk" too: cursor pages read the position from the row (core.api.CursorByKey).
        return queryset.prefetch_related(None).values(*names, *self.lean_lookups, "pk")

    def list(self, request, *args, **kwargs):
        # The whole response from the shared cache while the tables it read are unchanged
        # (core.api_cache; API_LIST_CACHE=False turns it off).
        return cached_list(request, self, lambda: self.render_list(request, *args, **kwargs))

    def render_list(self, request, *args, **kwargs):
        if not lean_lists():
            return super().list(request, *args, **kwargs)
        queryset = self.lean_queryset(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        write = row_writer(
            self.get_serializer(), overrides=self.lean_overrides(rows), mapping=self.lean_values
        )
        data = [write(row) for row in rows]
        return self.get_paginated_response(data) if page is not None else Response(data)


class ReadOnly(LeanListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    pass


class ServiceWriteViewSet(ETagMixin, ReadOnly):
    """Create and update through the app's service functions (same rules and history as the
    pages). ``write_serializer_class`` validates types and ids; the services do the rest.
    There is no delete: plans and their parts are closed or cancelled, not erased."""

    write_serializer_class = None
    write_action = "change"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def create_with_service(self, values: dict):
        raise NotImplementedError

    def update_with_service(self, obj, values: dict, version: int | None):
        raise NotImplementedError

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update") and self.write_serializer_class:
            return self.write_serializer_class
        return self.serializer_class

    def _respond(self, obj, code=status.HTTP_200_OK):
        obj = self.get_queryset().get(pk=obj.pk)
        response = Response(
            self.serializer_class(obj, context=self.get_serializer_context()).data, status=code
        )
        response["ETag"] = self.etag_of(obj)
        return response

    def create(self, request, *args, **kwargs):
        serializer = self.write_serializer_class(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        values = {k: v for k, v in serializer.validated_data.items() if k != "version"}
        return self._respond(self.create_with_service(values), status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        obj = self.get_object()
        partial = kwargs.get("partial", False)
        serializer = self.write_serializer_class(
            obj, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        version = self.check_if_match(request, obj)
        values = {k: v for k, v in serializer.validated_data.items() if k != "version"}
        return self._respond(self.update_with_service(obj, values, version))
