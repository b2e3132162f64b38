"""Schema pieces every app's API shares: the one error shape, and the error answers every
operation documents (issue 13 item 1: the API holds its published contract).

Views declare their successful answers; ``postprocess_error_responses`` (a drf-spectacular
post-processing hook, ``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``) adds, in one place, the
errors any operation can answer — all in the shape ``{"message": …, "extra": {…}}`` that
``govcloud.exceptions.api_exception_handler`` and ``govcloud.middleware.ApiErrorsMiddleware``
produce — so no view can forget them.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API: ``{"message": …, "extra": {…}}``."""

    message = serializers.CharField()
    extra = serializers.DictField()


ERRORS: dict[int, Any] = {code: ErrorSerializer for code in (400, 401, 403, 404, 409)}

ERROR_COMPONENT = "Error"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
ERROR_SCHEMA = {
    "type": "object",
    "description": "API 的统一错误格式：message 为可直接展示的中文说明，extra 为补充信息。",
    "properties": {
        "message": {"type": "string"},
        "extra": {"type": "object", "additionalProperties": {}},
    },
    "required": ["message", "extra"],
}

#: Why each error is answered (the description of the documented response).
ERROR_DESCRIPTIONS = {
    400: "请求有误：查询参数、路径参数或请求体未通过校验（extra 指出字段）。",
    401: "未登录或访问令牌无效、已过期、已吊销。",
    403: "无权执行：角色、单位或令牌范围不允许，或会话缺少 CSRF 令牌。",
    404: "对象不存在，或不属于调用方可见的范围。",
    409: "对象当前状态不允许此操作。",
    415: "请求体的媒体类型不受支持，或无法按声明的类型解析。",
    429: "请求过于频繁（响应头 Retry-After 给出等待秒数）。",
}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


def _error_codes(method: str, operation: dict[str, Any]) -> list[int]:
    """The errors this operation can answer.

    - 400: it takes parameters or a body (malformed or out of range: refused, never a 500);
    - 401/403: it needs a caller (every operation the schema marks with ``security``);
    - 404: a path parameter names an object (missing and foreign look the same);
    - 409: it writes (a workflow step the object's state may not allow);
    - 415: it reads a body (sent as a media type it does not parse);
    - 429: always (per-user and per-address throttles).
    """
    parameters = operation.get("parameters", [])
    codes = []
    if parameters or "requestBody" in operation:
        codes.append(400)
    if operation.get("security"):
        codes += [401, 403]
    if any(p.get("in") == "path" for p in parameters):
        codes.append(404)
    if method in WRITE_METHODS:
        codes.append(409)
    if "requestBody" in operation:
        codes.append(415)
    codes.append(429)
    return codes


def postprocess_error_responses(result: dict[str, Any], generator, request, public) -> dict:
    """drf-spectacular hook: every operation documents its error answers in the one shape."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_COMPONENT] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code in _error_codes(method, operation):
                responses[str(code)] = {
                    "description": ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": ERROR_REF}},
                }
            operation["responses"] = dict(sorted(responses.items()))
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter["schema"].get("type") == "array":
                    # django-filter reads a list as one comma-separated value (``a,b``); a
                    # repeated parameter is refused (ApiErrorsMiddleware).
                    parameter["explode"] = False
    return result
