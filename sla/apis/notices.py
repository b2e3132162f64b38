"""Improvement notices: list, detail, issue, report the fix, confirm it."""

from __future__ import annotations

from typing import ClassVar

from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from govcloud.api import parse_body
from sla import selectors
from sla.apis.common import (
    PARTY_ROLE_HELP,
    ActionApi,
    ReviewInSerializer,
    action_schema,
    contract_of,
    create_schema,
    record_apis,
)
from sla.models import ImprovementNotice
from sla.services import notices


class NoticeSerializer(serializers.ModelSerializer):
    issuer_role = serializers.CharField(read_only=True, help_text=PARTY_ROLE_HELP)

    class Meta:
        model = ImprovementNotice
        fields = [
            "id",
            "contract",
            "service_year",
            "title",
            "description",
            "issuer_role",
            "issued_at",
            "due_at",
            "due_provisional",
            "status",
            "fix_report",
            "fixed_at",
            "confirmed_at",
            "last_comment",
        ]
        read_only_fields = fields


class NoticeInSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()


class FixInSerializer(serializers.Serializer):
    report = serializers.CharField()
    document = serializers.FileField(required=False, allow_null=True, default=None)


NoticeListApi, NoticeDetailApi = record_apis(
    "整改通知", NoticeSerializer, selectors.notice_list_for_user, ImprovementNotice
)


class NoticeCreateApi(NoticeListApi):
    @create_schema("发出整改通知（甲方、监理、审计）", NoticeInSerializer, NoticeSerializer)
    def post(self, request: Request) -> Response:
        data = parse_body(NoticeInSerializer, request)
        notice = notices.notice_issue(
            actor=request.user,
            contract=contract_of(request, data["contract"]),
            title=data["title"],
            description=data["description"],
        )
        return Response(NoticeSerializer(notice).data, status=status.HTTP_201_CREATED)


@action_schema("提交整改报告（乙方）", FixInSerializer, NoticeSerializer)
class NoticeFixApi(ActionApi):
    selector = staticmethod(selectors.notice_list_for_user)
    output = NoticeSerializer
    input_serializer = FixInSerializer
    parser_classes: ClassVar[list] = [JSONParser, MultiPartParser, FormParser]

    def perform(self, request, obj, data):
        notices.notice_fix(
            actor=request.user, notice=obj, report=data["report"], document=data["document"]
        )


@action_schema("确认整改（发出方）", ReviewInSerializer, NoticeSerializer)
class NoticeConfirmApi(ActionApi):
    selector = staticmethod(selectors.notice_list_for_user)
    output = NoticeSerializer
    input_serializer = ReviewInSerializer

    def perform(self, request, obj, data):
        notices.notice_confirm(
            actor=request.user, notice=obj, accept=data["accept"], comment=data["reason"]
        )
