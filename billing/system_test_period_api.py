"""REST API of the test periods of new systems (``/api/v1/``), the bureau's to manage.

``GET contracts/{id}/test-periods/`` lists a contract's test periods, ``GET test-periods/{id}/``
shows one, ``POST test-periods/{id}/end-early/`` (``{"cutover", "reason"}``) and
``POST test-periods/{id}/extend/`` (``{"ends_at", "reason"}``) change it through
``billing.services.system_test_periods``. Only the contract's bureau staff see them; everyone
else gets 404. Refusals leave as ``{"message", "extra"}`` (400 bad input, 403 not the bureau,
409 a signed month would change).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from billing import selectors
from billing.models import Resource, SystemTestPeriod, SystemTestPeriodChange
from billing.services import system_test_periods as services
from govcloud.api import ERRORS, ApiView, ErrorSerializer, parse_body
from govcloud.terms import cite

TAG = "新系统测试期"


class _ResourceSerializer(serializers.ModelSerializer):
    item_code = serializers.CharField(source="catalog_item.code", read_only=True)
    status = serializers.CharField(read_only=True, help_text=_("active 或 released。"))

    class Meta:
        model = Resource
        fields = [
            "id",
            "item_code",
            "quantity",
            "vendor_ref",
            "status",
            "online_at",
            "billing_starts_at",
            "offline_at",
        ]
        read_only_fields = fields


class _ChangeSerializer(serializers.ModelSerializer):
    actor = serializers.StringRelatedField()
    kind = serializers.CharField(
        read_only=True, help_text=_("end_early（提前结束）或 extend（延长）。")
    )

    class Meta:
        model = SystemTestPeriodChange
        fields = ["id", "kind", "old_ends_at", "new_ends_at", "reason", "actor", "at", "resources"]
        read_only_fields = fields


class _CitationSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    clause = serializers.CharField()
    quote = serializers.CharField()
    url = serializers.CharField()


class SystemTestPeriodSerializer(serializers.ModelSerializer):
    contract_code = serializers.CharField(source="contract.code", read_only=True)
    system_name = serializers.CharField(source="system.name", read_only=True)
    department = serializers.IntegerField(source="system.department_id", read_only=True)
    department_name = serializers.CharField(source="system.department.name", read_only=True)
    changed_by = serializers.StringRelatedField(allow_null=True)
    changes = _ChangeSerializer(many=True, read_only=True, source="change_list")
    resources = _ResourceSerializer(many=True, read_only=True, source="resource_list")
    term = _CitationSerializer(
        read_only=True, help_text=_("测试期所依据的合同条款（test_period_months）。")
    )
    available_actions = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=_("当前用户现在可以办理的操作：end_early、extend。"),
    )

    class Meta:
        model = SystemTestPeriod
        fields = [
            "id",
            "contract",
            "contract_code",
            "system",
            "system_name",
            "department",
            "department_name",
            "started_at",
            "contract_ends_at",
            "ends_at",
            "changed_at",
            "changed_by",
            "change_reason",
            "term",
            "changes",
            "resources",
            "available_actions",
        ]
        read_only_fields = fields


class EndEarlySerializer(serializers.Serializer):
    cutover = serializers.DateTimeField(help_text=_("切换上线时间（含时区），自该时刻起计费。"))
    reason = serializers.CharField(allow_blank=True, help_text=_("原因（必填）。"))


class ExtendSerializer(serializers.Serializer):
    ends_at = serializers.DateTimeField(help_text=_("新的结束时间（含时区），自该时刻起计费。"))
    reason = serializers.CharField(allow_blank=True, help_text=_("原因（必填）。"))


def _decorate(user: Any, period: SystemTestPeriod) -> SystemTestPeriod:
    period.change_list = list(period.changes.select_related("actor").order_by("at", "id"))
    period.resource_list = list(services.covered_resources(period).select_related("catalog_item"))
    period.term = asdict(cite(period.contract, "test_period_months"))
    period.available_actions = sorted(
        services.system_test_period_available_actions(user=user, obj=period)
    )
    return period


def _detail(request: Request, pk: object) -> Response:
    period = selectors.system_test_period_get_for_user(user=request.user, pk=pk)
    return Response(SystemTestPeriodSerializer(_decorate(request.user, period)).data)


class ContractSystemTestPeriodListApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="合同的新系统测试期（甲方）",
        responses={200: SystemTestPeriodSerializer(many=True), 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        contract = selectors.system_test_period_contract_for_user(user=request.user, pk=pk)
        periods = [
            _decorate(request.user, period)
            for period in selectors.system_test_period_list_for_user(user=request.user)
            .filter(contract=contract)
            .order_by("-started_at", "-pk")
        ]
        return Response(SystemTestPeriodSerializer(periods, many=True).data)


class SystemTestPeriodDetailApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="新系统测试期详情（甲方）",
        responses={200: SystemTestPeriodSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)


class _ActionApi(ApiView):
    input_serializer: ClassVar[type[serializers.Serializer]]

    def post(self, request: Request, pk: int) -> Response:
        period = selectors.system_test_period_get_for_user(user=request.user, pk=pk)
        data = parse_body(self.input_serializer, request)
        self.perform(request.user, period, data)
        return _detail(request, period.pk)

    def perform(self, actor: Any, period: SystemTestPeriod, data: dict[str, Any]) -> Any:
        raise NotImplementedError


class SystemTestPeriodEndEarlyApi(_ActionApi):
    input_serializer = EndEarlySerializer

    @extend_schema(
        tags=[TAG],
        summary="提前结束测试期（甲方，按切换上线时间）",
        request=EndEarlySerializer,
        responses={200: SystemTestPeriodSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, actor: Any, period: SystemTestPeriod, data: dict[str, Any]) -> Any:
        return services.system_test_period_end_early(
            actor=actor, period=period, cutover=data["cutover"], reason=data["reason"]
        )


class SystemTestPeriodExtendApi(_ActionApi):
    input_serializer = ExtendSerializer

    @extend_schema(
        tags=[TAG],
        summary="延长测试期（甲方）",
        request=ExtendSerializer,
        responses={200: SystemTestPeriodSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, actor: Any, period: SystemTestPeriod, data: dict[str, Any]) -> Any:
        return services.system_test_period_extend(
            actor=actor, period=period, ends_at=data["ends_at"], reason=data["reason"]
        )
