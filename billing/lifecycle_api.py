"""REST API of the end of a contract that touches the inventory (``/api/v1/``, the bureau's).

``GET contracts/{id}/cutover/?successor=…&cutover_on=…`` previews a successor's cutover (what
carries over, every reason it would be refused); ``POST contracts/{id}/cutover/``
(``{"successor", "cutover_on"}``) runs it; ``GET contracts/{id}/terminate/?notice_given_on=…
&terminates_on=…`` previews an early termination and ``POST contracts/{id}/terminate/``
(``{"notice_given_on", "terminates_on", "reason"}``) records it — through
``billing.services.succession`` / ``billing.services.termination``. A contract the user cannot
see is 404; anyone but its bureau's staff 403; a refusal 400 (or 409 for the wrong state) in
the one error shape.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from billing.services import succession, termination
from govcloud import lifecycle
from govcloud.api import ERRORS, ApiView, parse_body
from govcloud.api_query import INT64_MAX, BusinessDateField
from govcloud.apis import ContractSerializer
from govcloud.models import Contract
from govcloud.selectors import contract_get_for_user

TAG = "合同生命周期"


class CutoverInputSerializer(serializers.Serializer):
    successor = serializers.IntegerField(
        min_value=1, max_value=INT64_MAX, help_text=_("后续合同的 id（同一甲方）。")
    )
    cutover_on = BusinessDateField(help_text=_("切换日：自该日00:00（北京时间）起由后续合同计费。"))


class TerminateInputSerializer(serializers.Serializer):
    notice_given_on = BusinessDateField(help_text=_("书面通知日。"))
    terminates_on = BusinessDateField(help_text=_("终止日（最后服务日，计费至其24:00）。"))
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class _PlanSerializer(serializers.Serializer):
    resource = serializers.IntegerField(source="resource.pk")
    item_code = serializers.CharField(source="code")
    quantity = serializers.IntegerField()
    successor_item = serializers.IntegerField(source="item.pk", allow_null=True, default=None)
    billing_starts_at = serializers.DateTimeField()


class CutoverPreviewSerializer(serializers.Serializer):
    predecessor = serializers.CharField(source="predecessor.code")
    successor = serializers.CharField(source="successor.code", allow_null=True, default=None)
    cutover_on = serializers.DateField()
    at = serializers.DateTimeField(help_text=_("切换时刻（切换日00:00，北京时间）。"))
    carried = serializers.IntegerField(help_text=_("将承接的在用资源数。"))
    ok = serializers.BooleanField(help_text=_("可以办理（problems 为空）。"))
    problems = serializers.ListField(child=serializers.CharField())
    missing_codes = serializers.ListField(child=serializers.CharField())
    resources = _PlanSerializer(many=True, source="plans")


class TerminationPreviewSerializer(serializers.Serializer):
    contract = serializers.CharField(source="contract.code")
    notice_given_on = serializers.DateField()
    terminates_on = serializers.DateField()
    earliest = serializers.DateField(help_text=_("该通知按合同条款最早可终止的日期。"))
    at = serializers.DateTimeField(help_text=_("终止时刻（终止日次日00:00，北京时间）。"))
    closes = serializers.SerializerMethodField(help_text=_("将关闭的在用资源数。"))
    ok = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())

    def get_closes(self, obj: termination.TerminationPreview) -> int:
        return len(obj.resources)


def _contract(request: Request, pk: int, action: str) -> Contract:
    contract = contract_get_for_user(user=request.user, pk=pk)
    lifecycle.LIFECYCLE_ACTIONS.require(action, request.user, contract)
    return contract


def _successor(request: Request, pk: Any) -> Contract:
    return contract_get_for_user(user=request.user, pk=pk)


class ContractCutoverApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="预览后续合同承接资源（甲方）",
        parameters=[CutoverInputSerializer],
        responses={200: CutoverPreviewSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        contract = _contract(request, pk, "cutover")
        data = CutoverInputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        preview = succession.cutover_preview(
            predecessor=contract,
            successor=_successor(request, data.validated_data["successor"]),
            cutover_on=data.validated_data["cutover_on"],
        )
        return Response(CutoverPreviewSerializer(preview).data)

    @extend_schema(
        tags=[TAG],
        summary="后续合同承接资源（甲方）",
        request=CutoverInputSerializer,
        responses={200: ContractSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        contract = _contract(request, pk, "cutover")
        data = parse_body(CutoverInputSerializer, request)
        successor = _successor(request, data["successor"])
        succession.contract_cutover(
            actor=request.user,
            predecessor=contract,
            successor=successor,
            cutover_on=data["cutover_on"],
        )
        return Response(ContractSerializer(_successor(request, successor.pk)).data)


class ContractTerminateApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="预览提前终止（甲方）",
        parameters=[TerminateInputSerializer],
        responses={200: TerminationPreviewSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        contract = _contract(request, pk, "terminate")
        data = TerminateInputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        preview = termination.termination_preview(contract=contract, **data.validated_data)
        return Response(TerminationPreviewSerializer(preview).data)

    @extend_schema(
        tags=[TAG],
        summary="登记提前终止（甲方）",
        request=TerminateInputSerializer,
        responses={200: ContractSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        contract = _contract(request, pk, "terminate")
        data = parse_body(TerminateInputSerializer, request)
        termination.contract_terminate(actor=request.user, contract=contract, **data)
        return Response(ContractSerializer(contract_get_for_user(user=request.user, pk=pk)).data)
