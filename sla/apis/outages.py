"""Outages and planned maintenance: list, detail, report, confirm, approve maintenance."""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from govcloud.api import parse_body
from sla import selectors
from sla.apis.common import (
    PARTY_ROLE_HELP,
    ActionApi,
    AwareDateTimeField,
    CommentInSerializer,
    action_schema,
    contract_of,
    create_schema,
    record_apis,
)
from sla.models import Outage, OutageSignoff
from sla.services import outages


class SignoffSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.__str__", read_only=True)
    party_role = serializers.CharField(read_only=True, help_text=PARTY_ROLE_HELP)

    class Meta:
        model = OutageSignoff
        fields = ["stage", "party_role", "user", "at", "vendor_caused", "comment"]
        read_only_fields = fields


class OutageSerializer(serializers.ModelSerializer):
    minutes = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    excluded_as_maintenance = serializers.BooleanField(read_only=True)
    notice_in_time = serializers.BooleanField(
        read_only=True, help_text="计划内停机是否按合同约定的期限提前通知（合同未约定时为真）。"
    )
    signoffs = SignoffSerializer(many=True, read_only=True)

    class Meta:
        model = Outage
        fields = [
            "id",
            "contract",
            "service_year",
            "title",
            "started_at",
            "ended_at",
            "minutes",
            "scope",
            "systems",
            "cause",
            "planned",
            "notified_at",
            "maintenance_approved_at",
            "notice_in_time",
            "excluded_as_maintenance",
            "backup_restore_failed",
            "vendor_caused",
            "status",
            "confirmed_at",
            "signoffs",
        ]
        read_only_fields = fields


class OutageInSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    started_at = AwareDateTimeField()
    ended_at = AwareDateTimeField()
    cause = serializers.CharField()
    scope = serializers.ChoiceField(choices=["platform", "systems"], default="systems")
    systems = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    planned = serializers.BooleanField(default=False)
    backup_restore_failed = serializers.BooleanField(default=False)


class ConfirmInSerializer(serializers.Serializer):
    vendor_caused = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")


OutageListApi, OutageDetailApi = record_apis(
    "服务中断",
    OutageSerializer,
    selectors.outage_list_for_user,
    Outage,
    prefetch=("signoffs__user", "systems"),
)


class OutageCreateApi(OutageListApi):
    @create_schema("报告服务中断 / 计划内停机（乙方）", OutageInSerializer, OutageSerializer)
    def post(self, request: Request) -> Response:
        data = parse_body(OutageInSerializer, request)
        outage = outages.outage_report(
            actor=request.user,
            contract=contract_of(request, data["contract"]),
            title=data["title"],
            started_at=data["started_at"],
            ended_at=data["ended_at"],
            cause=data["cause"],
            scope=data["scope"],
            system_ids=data["systems"],
            planned=data["planned"],
            backup_restore_failed=data["backup_restore_failed"],
        )
        return Response(OutageSerializer(outage).data, status=status.HTTP_201_CREATED)


@action_schema("确认服务中断并认定责任（甲方、监理）", ConfirmInSerializer, OutageSerializer)
class OutageConfirmApi(ActionApi):
    selector = staticmethod(selectors.outage_list_for_user)
    output = OutageSerializer
    input_serializer = ConfirmInSerializer

    def perform(self, request, obj, data):
        outages.outage_confirm(
            actor=request.user,
            outage=obj,
            vendor_caused=data["vendor_caused"],
            comment=data["comment"],
        )


@action_schema("同意计划内停机（甲方、监理，开始前）", CommentInSerializer, OutageSerializer)
class OutageApproveApi(ActionApi):
    selector = staticmethod(selectors.outage_list_for_user)
    output = OutageSerializer
    input_serializer = CommentInSerializer

    def perform(self, request, obj, data):
        outages.outage_approve_maintenance(actor=request.user, outage=obj, comment=data["comment"])
