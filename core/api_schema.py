"""OpenAPI post-processing: document the error responses every operation can give, with the
shared error body (code, message, errors), so clients and schemathesis know them; and the
optimistic-locking precondition (If-Match) of every PUT / PATCH / DELETE, and of the POSTs
that declare it (``IF_MATCH_REQUIRED``)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

ERROR_SCHEMA = {
    "type": "object",
    "description": "错误：code 为稳定的英文代码，message 为中文说明，errors 为各字段的错误",
    "properties": {
        "code": {"type": "string", "description": "稳定的错误代码，如 invalid、not_found"},
        "message": {"type": "string", "description": "中文说明"},
        "errors": {
            "type": "object",
            "description": "字段 → 错误列表",
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    },
    "required": ["code", "message"],
}

COMMON = {
    "400": "请求有误（字段、过滤条件或格式），见 errors",
    "401": "未登录或访问令牌无效（authentication_failed）、已过期（token_expired）",
    "403": "角色无权执行此操作",
    "404": "对象不存在或不在您的范围内",
    "405": "不支持该请求方法",
    "406": "无法提供所请求的格式",
    "415": "不支持的内容类型",
    "429": "请求过于频繁",
}
WRITES = {"412": "版本冲突：该记录已被他人修改（If-Match 或 version 过期）"}
PRECONDITION_METHODS = ("put", "patch", "delete")
PRECONDITIONS = {
    "428": "缺少版本前提：修改须带 If-Match 请求头（先 GET 取得 ETag），或在请求体中给出 version"
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": (
        '乐观锁：先 GET 该记录取得响应头 ETag（如 "12-3"），修改时原样放入 If-Match。'
        "与当前版本不符 → 412（该记录已被他人修改）；既无 If-Match 也无请求体 version → 428"
        "（precondition_required）。请求体中的 version 字段与 If-Match 等效，二者都给时须一致。"
        "If-Match: * 表示明确覆盖当前版本。"
    ),
}

# A POST that changes the object it is posted to (a target adjustment) names its precondition
# in ``extend_schema(parameters=[IF_MATCH_REQUIRED])``; 428 is then documented too.
IF_MATCH_REQUIRED = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description=IF_MATCH["description"],
)


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            wanted = dict(COMMON)
            if method in ("post", "put", "patch", "delete"):
                wanted |= WRITES
            declared = any(p.get("name") == "If-Match" for p in operation.get("parameters", []))
            if method in PRECONDITION_METHODS or declared:  # declared: a POST that needs it
                wanted |= PRECONDITIONS
                if not declared:
                    operation.setdefault("parameters", []).append(dict(IF_MATCH))
            for status, description in wanted.items():
                operation["responses"].setdefault(
                    status, {"description": description, "content": reference}
                )
    return result
