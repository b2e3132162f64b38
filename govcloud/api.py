"""The API's shared base: authentication order, body parsing, the one error shape.

Every app's DRF views derive from ``ApiView``; errors come out of
``govcloud.exceptions.api_exception_handler`` as ``{"message": …, "extra": …}``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.views import APIView

from govcloud.api_auth import ApiTokenAuthentication
from govcloud.api_schema import ERRORS, ErrorSerializer

__all__ = ["ERRORS", "ApiView", "DecimalJSONParser", "ErrorSerializer", "parse_body"]


class ApiView(APIView):
    # Token first: an anonymous caller gets 401 with ``WWW-Authenticate: Token`` (what vendor
    # systems expect) instead of the 403 that SessionAuthentication alone would give.
    authentication_classes: ClassVar[list] = [ApiTokenAuthentication, SessionAuthentication]


class DecimalJSONParser(JSONParser):
    """JSON whose numbers become ``Decimal`` (never float): amounts and percentages."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(stream.read().decode(encoding), parse_float=Decimal)
        except ValueError as exc:
            raise ParseError(f"JSON 格式错误：{exc}") from exc


def parse_body(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The request body validated by ``serializer_class`` (400 in the one error shape)."""
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
