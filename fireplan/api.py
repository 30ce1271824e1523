"""What every API endpoint shares: pagination, the error format, permissions by role and
scope, ETag / If-Match handling, throttling.

Error bodies always look like ``{"code": "...", "message": "中文说明", "errors": {...}}``:
``code`` is stable English for programs, ``message`` is for people, ``errors`` maps fields to
``[{"code", "message"}]`` for validation errors. No input produces a 500: services raise
ServiceError, DRF raises its own exceptions, and both are turned into 4xx here.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from fireplan.services import ServiceError, StaleEdit

MESSAGES = {
    "not_authenticated": "请先登录或提供有效的访问令牌",
    "authentication_failed": "访问令牌无效或已被撤销",
    "permission_denied": "您的角色无权执行此操作",
    "not_found": "对象不存在或不在您的范围内",
    "method_not_allowed": "不支持该请求方法",
    "parse_error": "请求内容无法解析（应为合法的 JSON 或表单）",
    "throttled": "请求过于频繁，请稍后再试",
    "unsupported_media_type": "不支持的内容类型",
    "not_acceptable": "无法提供所请求的格式",
}


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _field_errors(detail, prefix: str = "") -> dict:
    """DRF's nested error detail as a flat {"field" or "field.0.sub": [{code, message}]}."""
    flat: dict[str, list[dict]] = {}
    if isinstance(detail, dict):
        for field, errors in detail.items():
            flat |= _field_errors(errors, f"{prefix}.{field}" if prefix else str(field))
    elif isinstance(detail, list) and all(not isinstance(e, dict | list) for e in detail):
        key = prefix or "non_field_errors"
        flat[key] = [{"code": getattr(e, "code", "invalid"), "message": str(e)} for e in detail]
    elif isinstance(detail, list):
        for index, errors in enumerate(detail):
            if errors:
                flat |= _field_errors(errors, f"{prefix}.{index}" if prefix else str(index))
    else:
        key = prefix or "non_field_errors"
        flat[key] = [{"code": getattr(detail, "code", "invalid"), "message": str(detail)}]
    return flat


def json_not_found(request, exception=None):
    """404 for /api/ paths that match no route (e.g. /api/v1/plans/0.5/): JSON, not HTML."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": MESSAGES["not_found"]}, status=404)
    return page_not_found(request, exception)


def json_server_error(request):
    if request.path_info.startswith("/api/"):
        body = {"code": "server_error", "message": "服务器内部错误，已记录，请稍后再试"}
        return JsonResponse(body, status=500)
    return server_error(request)


def exception_handler(exc, context):
    if isinstance(exc, StaleEdit):
        body = {"code": exc.code, "message": exc.message}
        return Response(body, status=status.HTTP_412_PRECONDITION_FAILED)
    if isinstance(exc, ServiceError):
        body = {"code": exc.code, "message": exc.message}
        errors = getattr(exc, "errors", None)  # planning.services.InvalidInput: every field
        if isinstance(errors, dict) and errors:
            body["errors"] = {
                field or "non_field_errors": [{"code": exc.code, "message": m} for m in messages]
                for field, messages in errors.items()
            }
        elif exc.field:
            body["errors"] = {exc.field: [{"code": exc.code, "message": exc.message}]}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": "invalid",
            "message": "提交的数据有误，请按字段说明修改",
            "errors": _field_errors(exc.detail),
        }
        return response
    code = getattr(exc, "default_code", "error")
    detail = getattr(exc, "detail", "")
    message = MESSAGES.get(code) or str(detail)
    if (
        code == "permission_denied"
        and str(detail)
        and str(detail) != str(exceptions.PermissionDenied.default_detail)
    ):
        message = str(detail)
    response.data = {"code": code, "message": message}
    return response


class ETagMixin:
    """ETag on detail responses (the row's version); If-Match with another version → 412."""

    def etag_of(self, obj) -> str:
        return f'"{obj.pk}-{getattr(obj, "version", 0)}"'

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        response = Response(self.get_serializer(obj).data)
        response["ETag"] = self.etag_of(obj)
        return response

    def check_if_match(self, request, obj) -> int | None:
        """The version the client saw: from If-Match, else from a ``version`` field."""
        header = request.headers.get("If-Match")
        if header:
            if header.strip() != "*" and header.strip() != self.etag_of(obj):
                raise StaleEdit(obj)
            return obj.version
        raw = request.data.get("version") if hasattr(request.data, "get") else None
        try:
            return int(raw) if raw not in (None, "") else None
        except (TypeError, ValueError):
            raise ServiceError("invalid", "version 应为整数", field="version") from None
