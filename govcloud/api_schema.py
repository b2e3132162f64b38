"""Schema pieces every app's API shares (one error shape for the whole API)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API: ``{"message": …, "extra": {…}}``."""

    message = serializers.CharField()
    extra = serializers.DictField()


ERRORS: dict[int, Any] = {code: ErrorSerializer for code in (400, 401, 403, 404, 409)}
