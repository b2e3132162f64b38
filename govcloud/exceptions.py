"""Errors that services raise, and how the API turns any error into one JSON shape."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A refusal a user can act on: the message says what is wrong, nothing was changed."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        self.extra = extra or {}


class ActionForbidden(ApplicationError, DjangoPermissionDenied):
    """The actor's role or organisation may not do this (the object itself is visible).

    Also a Django ``PermissionDenied``: raised from a portal view it renders the 403 page with
    its message, raised from the API the handler below answers the JSON error shape.
    """

    status_code = status.HTTP_403_FORBIDDEN


class InvalidTransition(ApplicationError):
    """The object's current state does not allow the requested step."""

    status_code = status.HTTP_409_CONFLICT


def _validation_messages(exc: DjangoValidationError) -> tuple[str, dict[str, Any]]:
    if hasattr(exc, "error_dict"):
        fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        first = next(iter(fields.values()))[0]
        return first, {"fields": fields}
    messages = [str(m) for m in exc.messages]
    return "；".join(messages), {}


def _first_message(detail: Any) -> str:
    """The first human-readable text inside DRF's nested error structure."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            text = _first_message(value)
            if text:
                return text if key in ("non_field_errors", "detail") else f"{key}：{text}"
        return ""
    if isinstance(detail, list | tuple):
        for value in detail:
            text = _first_message(value)
            if text:
                return text
        return ""
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error as ``{"message": …, "extra": {…}}`` with the right status code."""
    if isinstance(exc, ApplicationError):
        response = Response({"message": exc.message, "extra": exc.extra}, status=exc.status_code)
        if exc.status_code == status.HTTP_429_TOO_MANY_REQUESTS and "retry_after" in exc.extra:
            response["Retry-After"] = str(exc.extra["retry_after"])
        return response
    if isinstance(exc, DjangoValidationError):
        message, extra = _validation_messages(exc)
        return Response({"message": message, "extra": extra}, status=400)
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        exc = exceptions.Throttled(wait=wait, detail=f"请求过于频繁，请 {wait} 秒后再试。")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("对象不存在。")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = response.data
        message = _first_message(detail) or "输入有误。"
        extra = {"fields": detail} if isinstance(detail, dict) else {"errors": detail}
        response.data = {"message": message, "extra": extra}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        response.data = {"message": str(detail), "extra": {}}
    return response
