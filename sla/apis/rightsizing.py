"""Monthly right-sizing: the reports and their advice per resource, submit, accept, decline."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from govcloud.api import ERRORS, ApiView, parse_body
from govcloud.api_query import query_int
from sla import selectors
from sla.apis.common import TAG, ActionApi, ReasonInSerializer, action_schema, record_apis
from sla.models import RightsizingAdvice, RightsizingReport
from sla.services import rightsizing


class AdviceSerializer(serializers.ModelSerializer):
    month = serializers.DateField(source="report.month", read_only=True)
    current_item_code = serializers.CharField(source="current_item.code", read_only=True)
    advised_item_code = serializers.CharField(
        source="advised_item.code", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = RightsizingAdvice
        fields = [
            "id",
            "report",
            "month",
            "resource",
            "department",
            "system",
            "resource_class",
            "current_item",
            "current_item_code",
            "current_quantity",
            "advised_item",
            "advised_item_code",
            "advised_quantity",
            "action",
            "explanation",
            "sample_days",
            "cpu_avg",
            "mem_avg",
            "disk_avg",
            "disk_used_avg_gb",
            "status",
            "decided_at",
            "decline_reason",
            "change_request",
        ]
        read_only_fields = fields


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = RightsizingReport
        fields = [
            "id",
            "contract",
            "month",
            "service_year",
            "due_date",
            "due_at",
            "due_provisional",
            "status",
            "avg_cpu_pct",
            "avg_mem_pct",
            "submitted_at",
            "marked_wrong",
            "wrong_reason",
        ]
        read_only_fields = fields


ReportListApi, ReportDetailApi = record_apis(
    "月度资源调整建议", ReportSerializer, selectors.report_list_for_user, RightsizingReport
)


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        summary="资源调整建议明细",
        parameters=[
            OpenApiParameter("report", OpenApiTypes.INT),
            OpenApiParameter("status", OpenApiTypes.STR),
            OpenApiParameter("action", OpenApiTypes.STR),
        ],
    )
)
class AdviceListApi(ApiView, ListAPIView):
    serializer_class = AdviceSerializer
    queryset = RightsizingAdvice.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RightsizingAdvice.objects.none()
        qs = selectors.advice_list_for_user(user=self.request.user).order_by("-report__month", "pk")
        params = self.request.query_params
        report = query_int(params, "report")
        if report is not None:
            qs = qs.filter(report_id=report)
        for key in ("status", "action"):
            if params.get(key):
                qs = qs.filter(**{key: params[key]})
        return qs


class AdviceDetailApi(ApiView):
    @extend_schema(
        tags=[TAG], summary="资源调整建议明细详情", responses={200: AdviceSerializer, **ERRORS}
    )
    def get(self, request: Request, pk: int) -> Response:
        advice = selectors.get_for_user(selectors.advice_list_for_user(user=request.user), pk)
        return Response(AdviceSerializer(advice).data)


@action_schema("提交月度资源调整建议（乙方）", None, ReportSerializer)
class ReportSubmitApi(ActionApi):
    selector = staticmethod(selectors.report_list_for_user)
    output = ReportSerializer

    def perform(self, request, obj, data):
        rightsizing.rightsizing_submit(actor=request.user, report=obj)


@action_schema("接受资源调整建议（使用单位，生成变更工单草稿）", None, AdviceSerializer)
class AdviceAcceptApi(ActionApi):
    selector = staticmethod(selectors.advice_list_for_user)
    output = AdviceSerializer

    def perform(self, request, obj, data):
        rightsizing.rightsizing_accept(actor=request.user, advice=obj)


@action_schema("拒绝资源调整建议（使用单位，须说明理由）", ReasonInSerializer, AdviceSerializer)
class AdviceDeclineApi(ActionApi):
    selector = staticmethod(selectors.advice_list_for_user)
    output = AdviceSerializer
    input_serializer = ReasonInSerializer

    def perform(self, request, obj, data):
        rightsizing.rightsizing_decline(actor=request.user, advice=obj, reason=data["reason"])


class AdviceBulkInSerializer(serializers.Serializer):
    advice = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=False,
        max_length=rightsizing.BULK_LIMIT,
        help_text="要确认的调整建议编号（本单位的、待确认的）。",
    )
    decision = serializers.ChoiceField(choices=["accept", "decline"])
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="拒绝时必填（对每条一并生效）；接受时可选，写入变更工单的申请理由。",
    )


class AdviceBulkOutSerializer(serializers.Serializer):
    answered = AdviceSerializer(many=True)


class AdviceBulkApi(ApiView):
    """Accept or decline several advice with one reason: all or nothing, audited per advice."""

    @extend_schema(
        tags=[TAG],
        summary="批量确认资源调整建议（使用单位，全部接受或全部拒绝）",
        request=AdviceBulkInSerializer,
        responses={200: AdviceBulkOutSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = parse_body(AdviceBulkInSerializer, request)
        answered = rightsizing.rightsizing_answer_bulk(
            actor=request.user,
            advice_ids=data["advice"],
            decision=data["decision"],
            reason=data["reason"],
        )
        fresh = selectors.advice_list_for_user(user=request.user).filter(
            pk__in=[a.pk for a in answered]
        )
        return Response({"answered": AdviceSerializer(fresh.order_by("pk"), many=True).data})
