"""Deliverables: list, detail, register, submit a file (multipart), review."""

from __future__ import annotations

from typing import ClassVar

from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from govcloud.api import parse_body
from sla import selectors
from sla.apis.common import (
    ActionApi,
    ReviewInSerializer,
    action_schema,
    contract_of,
    create_schema,
    record_apis,
)
from sla.models import Decision, Deliverable, DeliverableSubmission
from sla.services import deliverables


class SubmissionSerializer(serializers.ModelSerializer):
    # "" until the submission is reviewed.
    decision = serializers.ChoiceField(choices=Decision.choices, allow_blank=True, read_only=True)

    class Meta:
        model = DeliverableSubmission
        fields = ["id", "number", "submitted_at", "note", "decision", "reason", "reviewed_at"]
        read_only_fields = fields


class DeliverableSerializer(serializers.ModelSerializer):
    submissions = SubmissionSerializer(many=True, read_only=True)
    kind = serializers.CharField(
        read_only=True,
        help_text=(
            "monthly_report 运维服务月报 / inspection 巡检记录报告 / quarterly 季度报告 / "
            "sla_document 运维服务SLA / rules 管理制度和规范 / "
            "deployment 部署方案及报告 / other 其他 / "
            "statement 月度服务资源统计表（合同约定按交付物考核时自动记录） / "
            "handover_plan 服务交接计划 / handover_report 服务交接报告 / "
            "staff_register 接触甲方信息人员名单。"
        ),
    )

    class Meta:
        model = Deliverable
        fields = [
            "id",
            "contract",
            "service_year",
            "kind",
            "title",
            "period_month",
            "due_date",
            "due_at",
            "due_provisional",
            "status",
            "first_submitted_at",
            "accepted_at",
            "statement",
            "found_wrong_at",
            "found_wrong_reason",
            "submissions",
        ]
        read_only_fields = fields


class DeliverableInSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField(required=False, allow_blank=True, default="")
    period_month = serializers.DateField(required=False, allow_null=True, default=None)
    due_date = serializers.DateField(required=False, allow_null=True, default=None)


class UploadInSerializer(serializers.Serializer):
    document = serializers.FileField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


DeliverableListApi, DeliverableDetailApi = record_apis(
    "交付物",
    DeliverableSerializer,
    selectors.deliverable_list_for_user,
    Deliverable,
    prefetch=("submissions",),
)


class DeliverableCreateApi(DeliverableListApi):
    @create_schema("登记交付物（甲方或乙方）", DeliverableInSerializer, DeliverableSerializer)
    def post(self, request: Request) -> Response:
        data = parse_body(DeliverableInSerializer, request)
        deliverable = deliverables.deliverable_create(
            actor=request.user,
            contract=contract_of(request, data["contract"]),
            kind=data["kind"],
            title=data["title"],
            period_month=data["period_month"],
            due_date=data["due_date"],
        )
        return Response(DeliverableSerializer(deliverable).data, status=status.HTTP_201_CREATED)


@action_schema("提交交付物文件（乙方，multipart）", UploadInSerializer, DeliverableSerializer)
class DeliverableSubmitApi(ActionApi):
    selector = staticmethod(selectors.deliverable_list_for_user)
    output = DeliverableSerializer
    input_serializer = UploadInSerializer
    parser_classes: ClassVar[list] = [MultiPartParser, FormParser]

    def perform(self, request, obj, data):
        deliverables.deliverable_submit(
            actor=request.user, deliverable=obj, document=data["document"], note=data["note"]
        )


@action_schema("审核交付物（甲方）", ReviewInSerializer, DeliverableSerializer)
class DeliverableReviewApi(ActionApi):
    selector = staticmethod(selectors.deliverable_list_for_user)
    output = DeliverableSerializer
    input_serializer = ReviewInSerializer

    def perform(self, request, obj, data):
        deliverables.deliverable_review(
            actor=request.user, deliverable=obj, accept=data["accept"], reason=data["reason"]
        )
