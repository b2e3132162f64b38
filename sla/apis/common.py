"""What the SLA endpoints share: tags, the record filters, the list/detail factory, actions.

Thin views: parse with a serializer, call a scoped selector or a service, serialize. Workflow
steps are explicit POST endpoints (unnamed, like the ticket actions; their refusals are tested
in ``tests/sla/test_api.py``). Errors come out as ``{"message", "extra"}``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from govcloud.api import ERRORS, ApiView, parse_body
from govcloud.api_query import query_int
from govcloud.models import Contract
from sla import selectors

__all__ = [
    "FILTER_PARAMS",
    "PARTY_ROLE_HELP",
    "TAG",
    "TAG_METRICS",
    "ActionApi",
    "AwareDateTimeField",
    "CommentInSerializer",
    "ReasonInSerializer",
    "ReviewInSerializer",
    "action_schema",
    "contract_of",
    "create_schema",
    "record_apis",
]

TAG = "服务水平"
TAG_METRICS = "资源使用率"

# Choice sets shared with other apps (party roles, "kind") are plain strings in the schema:
# their enum names would collide with the ticket API's and drf-spectacular warns on that.
PARTY_ROLE_HELP = "合同角色：bureau 甲方 / vendor 乙方 / supervisor 监理 / auditor 审计。"


def contract_of(request: Request, pk: Any) -> Contract:
    """The contract ``pk`` if the user is one of its parties (404 otherwise)."""
    return selectors.party_contract_get(user=request.user, pk=pk)


# ---------------------------------------------------------------- reading records


def _filtered(request: Request, qs):
    params = request.query_params
    for key, lookup in (("contract", "contract_id"), ("service_year", "service_year")):
        value = query_int(params, key)
        if value is not None:
            qs = qs.filter(**{lookup: value})
    if params.get("status"):
        qs = qs.filter(status=params["status"])
    return qs


FILTER_PARAMS = [
    OpenApiParameter("contract", OpenApiTypes.INT),
    OpenApiParameter("service_year", OpenApiTypes.INT),
    OpenApiParameter("status", OpenApiTypes.STR),
]


def record_apis(
    name: str,
    serializer: type[serializers.Serializer],
    selector: Any,
    model: Any,
    *,
    prefetch: tuple[str, ...] = (),
) -> tuple[type, type]:
    """A list and a detail endpoint of one record type, scoped by its selector.

    ``prefetch`` names the relations the serializer reads per row, so a page of records costs
    the same number of queries whatever its length.
    """

    @extend_schema_view(
        get=extend_schema(tags=[TAG], summary=f"{name}列表", parameters=FILTER_PARAMS)
    )
    class ListApi(ApiView, ListAPIView):
        serializer_class = serializer
        queryset = model.objects.none()

        def get_queryset(self):
            if getattr(self, "swagger_fake_view", False):
                return model.objects.none()
            qs = _filtered(self.request, selector(user=self.request.user)).order_by("-pk")
            return qs.prefetch_related(*prefetch) if prefetch else qs

    class DetailApi(ApiView):
        @extend_schema(tags=[TAG], summary=f"{name}详情", responses={200: serializer, **ERRORS})
        def get(self, request: Request, pk: int) -> Response:
            scoped = selector(user=request.user)
            obj = selectors.get_for_user(scoped.prefetch_related(*prefetch), pk)
            return Response(serializer(obj, context={"request": request}).data)

    ListApi.__name__ = f"{model.__name__}ListApi"
    DetailApi.__name__ = f"{model.__name__}DetailApi"
    return ListApi, DetailApi


# ---------------------------------------------------------------- writing


class AwareDateTimeField(serializers.DateTimeField):
    default_error_messages = {"naive": "时间必须带时区，例如 2026-10-12T18:00:00+08:00。"}

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class CommentInSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonInSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ReviewInSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


def create_schema(summary: str, request_serializer, response_serializer):
    """The schema of a POST that creates a record (201 with the record)."""
    return extend_schema(
        tags=[TAG],
        summary=summary,
        request=request_serializer,
        responses={201: response_serializer, **ERRORS},
    )


class ActionApi(ApiView):
    """POST an action on one object found through ``selector``; answers with the object."""

    selector: ClassVar[Any] = None
    output: ClassVar[type[serializers.Serializer]] = serializers.Serializer
    input_serializer: ClassVar[type[serializers.Serializer] | None] = None

    def post(self, request: Request, pk: int) -> Response:
        obj = selectors.get_for_user(type(self).selector(user=request.user), pk)
        data = parse_body(self.input_serializer, request) if self.input_serializer else {}
        self.perform(request, obj, data)
        obj = selectors.get_for_user(type(self).selector(user=request.user), pk)
        return Response(self.output(obj).data)

    def perform(self, request: Request, obj: Any, data: dict[str, Any]) -> None:
        raise NotImplementedError


def action_schema(summary: str, request_serializer, response_serializer):
    """The schema of a workflow action (200 with the object after the action)."""
    return extend_schema_view(
        post=extend_schema(
            tags=[TAG],
            summary=summary,
            request=request_serializer,
            responses={200: response_serializer, **ERRORS},
        )
    )
