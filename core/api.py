"""What every API endpoint shares: pagination, the error format, permissions by role and
scope, ETag / If-Match handling, throttling.

Error bodies always look like ``{"code": "...", "message": "中文说明", "errors": {...}}``:
``code`` is stable English for programs, ``message`` is for people, ``errors`` maps fields to
``[{"code", "message"}]`` for validation errors. No input produces a 500: services raise
ServiceError, DRF raises its own exceptions, and both are turned into 4xx here.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.core.paginator import Paginator as DjangoPaginator
from django.db import models
from django.db.models import IntegerField, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.query import ModelIterable, ValuesIterable
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import render
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.defaults import page_not_found, permission_denied, server_error
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core import db_errors
from core.numbers import NumberError, parse_number
from core.services import ServiceError, StaleEdit
from core.text import clean_text, cleaned

MESSAGES = {
    "not_authenticated": gettext_lazy("请先登录或提供有效的访问令牌"),
    "authentication_failed": gettext_lazy("访问令牌无效或已被撤销"),
    "permission_denied": gettext_lazy("您的角色无权执行此操作"),
    "not_found": gettext_lazy("对象不存在或不在您的范围内"),
    "method_not_allowed": gettext_lazy("不支持该请求方法"),
    "parse_error": gettext_lazy("请求内容无法解析（应为合法的 JSON 或表单）"),
    "throttled": gettext_lazy("请求过于频繁，请稍后再试"),
    "unsupported_media_type": gettext_lazy("不支持的内容类型"),
    "not_acceptable": gettext_lazy("无法提供所请求的格式"),
    "request_too_large": gettext_lazy("请求内容过大，请减少一次提交的数据（文件请用上传接口）"),
    "bad_request": gettext_lazy("请求无法处理（格式或字段数量不符合要求）"),
}


class RequestTooLarge(exceptions.APIException):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE (Django's RequestDataTooBig), as JSON 413."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = MESSAGES["request_too_large"]


class BadRequest(exceptions.APIException):
    """Django's other refusals of a body (too many fields …), as JSON 400."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
    default_detail = MESSAGES["bad_request"]


class CappedCountPaginator(DjangoPaginator):
    """Counts at most ``limit`` + 1 rows (``SELECT COUNT(*) FROM (… LIMIT n)``), so a list of
    millions of reports never pays for an exact COUNT(*) in a request.

    The count rides along with the page's rows: one query, the capped count an uncorrelated
    sub-select that PostgreSQL evaluates once (issue 9: a list page in ≤ 4 queries). Only an
    empty page after the first, which is refused anyway, counts on its own."""

    limit = 10_000
    total_column = "capped_total_"

    @cached_property
    def count(self) -> int:
        counted = self.object_list[: self.limit + 1].count()
        self.capped = counted > self.limit
        return counted

    def _counted(self, counted: int) -> None:
        self.__dict__["count"] = counted  # what the cached property would hold
        self.capped = counted > self.limit

    def _capped_count(self) -> RawSQL:
        capped = self.object_list.order_by().values("pk")[: self.limit + 1]
        # elide_empty=False: a filter that can match nothing (pk__in=[]) counts 0, not raises
        compiler = capped.query.get_compiler(using=self.object_list.db, elide_empty=False)
        sql, params = compiler.as_sql()
        return RawSQL(
            f"SELECT COUNT(*) FROM ({sql}) AS capped_rows", params, output_field=IntegerField()
        )

    def _page_number(self, number) -> int:
        """Django's checks of the number that need no count (the rest: validate_number)."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if (number - 1) * self.per_page > self.limit:
            # Pages past the capped count are not served (walk them with cursors); refused
            # before the query, as an offset past PostgreSQL's bigint would fail it (a 500).
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def page(self, number):
        rows_of_models = isinstance(self.object_list, QuerySet) and (
            self.object_list._iterable_class in (ModelIterable, ValuesIterable)
        )
        if "count" in self.__dict__ or not rows_of_models:
            return super().page(number)
        dicts = self.object_list._iterable_class is ValuesIterable
        number = self._page_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(
            self.object_list.annotate(**{self.total_column: self._capped_count()})[
                bottom : bottom + self.per_page + self.orphans
            ]
        )
        if rows and dicts:  # values() rows (core.api_views.LeanListMixin): the count leaves
            self._counted(rows[0][self.total_column])
            for row in rows:
                del row[self.total_column]
        elif rows:
            self._counted(getattr(rows[0], self.total_column))
        elif number == 1:
            self._counted(0)
        number = self.validate_number(number)  # the count is known: beyond the last → 404
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(rows[: top - bottom], number, self)


class CursorByKey(CursorPagination):
    """Cursor pages in primary-key order (``cursor_ordering`` on the view to change it):
    constant time at any depth, no count. ``?ordering=`` does not apply in this mode."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_ordering(self, request, queryset, view):
        return tuple(getattr(view, "cursor_ordering", ("pk",)))


class StandardPagination(PageNumberPagination):
    """Page numbers by default (``?page=``, ``?page_size=`` up to 500), with ``count`` exact
    up to 10 000 rows; beyond that ``count`` is 10 000 and ``count_capped`` is true (a lower
    bound: an exact count of millions of rows is not done in a request) and pages past the
    10 000th row are not served — walk them with cursors. Cursor pages on request:
    ``?pagination=cursor`` (or any ``?cursor=`` from a ``next``/``previous`` link) answers
    ``{"next", "previous", "results"}`` in primary-key order, at constant cost at any depth.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = CappedCountPaginator

    def _cursor(self, request) -> CursorByKey | None:
        params = request.query_params
        if params.get("pagination") == "cursor" or "cursor" in params:
            return CursorByKey()
        return None

    def paginate_queryset(self, queryset, request, view=None):
        self.cursor_mode = self._cursor(request)
        if self.cursor_mode is not None:
            return self.cursor_mode.paginate_queryset(queryset, request, view)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        if getattr(self, "cursor_mode", None) is not None:
            return self.cursor_mode.get_paginated_response(data)
        paginator = self.page.paginator
        capped = getattr(paginator, "capped", False)
        return Response(
            {
                "count": paginator.limit if capped else paginator.count,
                "count_capped": capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["required"] = ["results"]
        described["properties"]["count"]["description"] = (
            "行数；count_capped 为 true 时为下限 10000。游标分页（pagination=cursor）时不返回"
        )
        described["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "行数超过 10000，未精确计数（页码只到第 10000 行，之后请用游标分页）",
        }
        return described

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": "pagination",
                "required": False,
                "in": "query",
                "description": "cursor：游标分页（按主键顺序，任意深度恒定耗时，不计总数）",
                "schema": {"type": "string", "enum": ["page", "cursor"]},
            },
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "游标分页的位置（取自上一页的 next / previous 链接）",
                "schema": {"type": "string"},
            },
        ]


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
        body = {"code": "not_found", "message": str(MESSAGES["not_found"])}
        return JsonResponse(body, status=404)
    return page_not_found(request, exception)


def json_bad_request(request, exception=None):
    """400 (413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE) outside DRF's handler: JSON for
    /api/ paths, a Chinese page elsewhere."""
    too_large = isinstance(exception, RequestDataTooBig)
    code = "request_too_large" if too_large else "bad_request"
    status_code = 413 if too_large else 400
    if request.path_info.startswith("/api/"):
        return JsonResponse({"code": code, "message": str(MESSAGES[code])}, status=status_code)
    context = {"message": MESSAGES[code], "status": status_code}
    return render(request, "400.html", context, status=status_code)


def json_permission_denied(request, exception=None):
    """403 outside DRF's handler: JSON for /api/ paths, the Chinese page elsewhere."""
    message = str(exception or "") or str(MESSAGES["permission_denied"])
    if request.path_info.startswith("/api/"):
        return JsonResponse({"code": "permission_denied", "message": message}, status=403)
    return permission_denied(request, exception)


def json_server_error(request):
    # A database failure outside any view (the session or user loaded by middleware while
    # PostgreSQL is down) arrives here; it is the database's state, not a bug → 409/503.
    clean = db_errors.response_for(request, sys.exc_info()[1])
    if clean is not None:
        return clean
    if request.path_info.startswith("/api/"):
        body = {"code": "server_error", "message": _("服务器内部错误，已记录，请稍后再试")}
        return JsonResponse(body, status=500)
    return server_error(request)


def exception_handler(exc, context):
    refusal = db_errors.classify(exc)
    if refusal is not None:
        # Lock/statement timeout, deadlock, lost database: the transaction rolled back.
        body = {"code": refusal.code, "message": str(refusal.message)}
        return Response(body, status=refusal.status, headers=refusal.headers())
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
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, SuspiciousOperation):  # too many fields, a bad multipart boundary …
        exc = BadRequest()
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
            "message": _("提交的数据有误，请按字段说明修改"),
            "errors": _field_errors(exc.detail),
        }
        return response
    code = getattr(exc, "default_code", "error")
    detail = getattr(exc, "detail", "")
    message = str(MESSAGES.get(code) or detail)
    if (
        code == "permission_denied"
        and str(detail)
        and str(detail) != str(exceptions.PermissionDenied.default_detail)
    ):
        message = str(detail)
    response.data = {"code": code, "message": message}
    return response


class PreconditionRequired(ServiceError):
    """A change without the version the client saw (RFC 6585 428): it could overwrite an edit
    the client never read, so it is refused before anything is written."""

    status_code = 428

    def __init__(self):
        super().__init__(
            "precondition_required",
            _(
                "缺少版本前提：请先读取该记录，在 If-Match 请求头中带上它的 ETag"
                "（或在请求体中给出 version）后再修改"
            ),
        )


PRECONDITION_METHODS = ("PUT", "PATCH", "DELETE")


class ETagMixin:
    """ETag on detail responses (the row's version); If-Match with another version → 412;
    PUT / PATCH / DELETE without If-Match (or a ``version`` field) → 428."""

    def etag_of(self, obj) -> str:
        return f'"{obj.pk}-{getattr(obj, "version", 0)}"'

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        response = Response(self.get_serializer(obj).data)
        response["ETag"] = self.etag_of(obj)
        return response

    def check_if_match(self, request, obj, *, required: bool = False) -> int | None:
        """The version the client saw: from If-Match, else from a ``version`` body field (the
        write serializers publish it, and it is what the pages' forms send). PUT, PATCH and
        DELETE must give one of them, and so must a POST that changes ``obj`` (``required``:
        a target adjustment); the workflow actions (POST …/submit/ etc.) may omit it.
        When both are given they must agree."""
        raw = request.data.get("version") if hasattr(request.data, "get") else None
        try:
            body_version = int(raw) if raw not in (None, "") else None
        except (TypeError, ValueError):
            raise ServiceError("invalid", _("version 应为整数"), field="version") from None
        header = (request.headers.get("If-Match") or "").strip()
        if header:
            tags = {tag.strip() for tag in header.split(",")}
            if "*" not in tags and self.etag_of(obj) not in tags:
                raise StaleEdit(obj)
            if body_version is not None and body_version != obj.version:
                raise StaleEdit(obj)
            return obj.version
        if body_version is None and (required or request.method in PRECONDITION_METHODS):
            raise PreconditionRequired()
        return body_version


# ------------------------------------------------------------------------------ numbers


class NumberField(serializers.DecimalField):
    """A number field that reads what people type (``core.numbers``: １，２００, 3万, 95% …)
    and refuses what the pages refuse (1,5 with 是否为 1.5？, 3e-5, 1_000), each with the
    parser's stable code. JSON numbers are read as numbers. ``measure_unit`` is the figure's
    unit when it is known (a % or the unit may follow the number)."""

    def __init__(self, *args, measure_unit: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.measure_unit = measure_unit

    def run_validation(self, data=serializers.empty):
        if data is not serializers.empty and data is not None:
            places = self.decimal_places if self.decimal_places is not None else 4
            digits = (self.max_digits or places + 14) - places
            try:
                data = parse_number(
                    data, measure_unit=self.measure_unit, places=places, integer_digits=digits
                )
            except NumberError as error:
                raise serializers.ValidationError(error.message, code=error.code) from None
        return super().run_validation(data)


class TypedNumbers:
    """For a write ModelSerializer: its model's decimal fields become ``NumberField``s."""

    serializer_field_mapping = serializers.ModelSerializer.serializer_field_mapping | {
        models.DecimalField: NumberField
    }


# ------------------------------------------------------------------------------ parsers
# Every string of every API body without control and bidi-override characters (core.text),
# whatever the serializer: the parsers are the one door all request bodies pass.


def _cleaned_query_dict(data: QueryDict) -> QueryDict:
    result = QueryDict(mutable=True)
    for key, values in data.lists():
        result.setlist(key, [clean_text(v) if isinstance(v, str) else v for v in values])
    result._mutable = False
    return result


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        # Django checks DATA_UPLOAD_MAX_MEMORY_SIZE for form bodies only; a JSON body is read
        # as a stream, so the same limit is applied here.
        request = (parser_context or {}).get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request is not None and limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                raise RequestTooLarge()
        return cleaned(super().parse(stream, media_type, parser_context))


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return _cleaned_query_dict(super().parse(stream, media_type, parser_context))


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        return parsers.DataAndFiles(_cleaned_query_dict(parsed.data), parsed.files)


PARSERS = [JSONParser, FormParser, MultiPartParser]
