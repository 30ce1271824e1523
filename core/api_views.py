"""Base viewsets: scoped querysets, and writes through service functions with If-Match."""

from __future__ import annotations

from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from core.api import ETagMixin
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


class ReadOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
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
