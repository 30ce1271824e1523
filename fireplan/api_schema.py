"""OpenAPI post-processing: document the error responses every operation can give, with the
shared error body (code, message, errors), so clients and schemathesis know them."""

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
    "401": "未登录或访问令牌无效",
    "403": "角色无权执行此操作",
    "404": "对象不存在或不在您的范围内",
    "405": "不支持该请求方法",
    "406": "无法提供所请求的格式",
    "415": "不支持的内容类型",
    "429": "请求过于频繁",
}
WRITES = {"412": "版本冲突：该记录已被他人修改（If-Match 或 version 过期）"}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            wanted = dict(COMMON)
            if method in ("post", "put", "patch"):
                wanted |= WRITES
            for status, description in wanted.items():
                operation["responses"].setdefault(
                    status, {"description": description, "content": reference}
                )
    return result
