"""Utilization metrics: the vendor's daily push, and the samples a user may read."""

from __future__ import annotations

from typing import ClassVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from govcloud.api import ERRORS, ApiView, DecimalJSONParser
from govcloud.api_query import query_date, query_int
from sla import selectors
from sla.apis.common import TAG_METRICS
from sla.models import UtilizationSample
from sla.services import metrics


class SampleInSerializer(serializers.Serializer):
    resource = serializers.IntegerField()
    day = serializers.DateField()
    cpu_pct = serializers.DecimalField(max_digits=5, decimal_places=2)
    mem_pct = serializers.DecimalField(max_digits=5, decimal_places=2)
    disk_pct = serializers.DecimalField(max_digits=5, decimal_places=2)
    disk_used_gb = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True
    )


class PushResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class MetricsPushApi(ApiView):
    """The vendor pushes daily utilization: all rows or none, idempotent per (resource, day)."""

    parser_classes: ClassVar[list] = [DecimalJSONParser]

    @extend_schema(
        tags=[TAG_METRICS],
        summary="推送资源使用率（乙方，按日平均值）",
        request=SampleInSerializer(many=True),
        responses={200: PushResultSerializer, **ERRORS},
        description=(
            "请求体为数据行列表 [{resource, day, cpu_pct, mem_pct, disk_pct, disk_used_gb}]。"
            "任何一行有误返回 400，extra.errors 按行号列出错误，且不保存任何数据；"
            "同一资源同一天重复推送将覆盖原值。"
        ),
    )
    def post(self, request: Request) -> Response:
        rows = request.data
        if not isinstance(rows, list):
            rows = rows.get("rows") if isinstance(rows, dict) else None
        if not isinstance(rows, list):
            raise ParseError("请求体必须是数据行的列表。")
        result = metrics.metrics_push(actor=request.user, rows=rows)
        return Response({"created": result.created, "updated": result.updated})


class SampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = UtilizationSample
        fields = ["resource", "day", "cpu_pct", "mem_pct", "disk_pct", "disk_used_gb", "pushed_at"]
        read_only_fields = fields


@extend_schema_view(
    get=extend_schema(
        tags=[TAG_METRICS],
        summary="资源使用率（按日）",
        parameters=[
            OpenApiParameter("resource", OpenApiTypes.INT),
            OpenApiParameter("contract", OpenApiTypes.INT),
            OpenApiParameter("day_from", OpenApiTypes.DATE),
            OpenApiParameter("day_to", OpenApiTypes.DATE),
        ],
    )
)
class SampleListApi(ApiView, ListAPIView):
    serializer_class = SampleSerializer
    queryset = UtilizationSample.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return UtilizationSample.objects.none()
        qs = selectors.sample_list_for_user(user=self.request.user).order_by("resource_id", "day")
        params = self.request.query_params
        for key, lookup, parse in (
            ("resource", "resource_id", query_int),
            ("contract", "resource__contract_id", query_int),
            ("day_from", "day__gte", query_date),
            ("day_to", "day__lte", query_date),
        ):
            value = parse(params, key)
            if value is not None:
                qs = qs.filter(**{lookup: value})
        return qs
