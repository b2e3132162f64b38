"""Security incidents: list, detail, report (JSON or multipart with evidence), assess."""

from __future__ import annotations

from typing import ClassVar

from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from govcloud.api import parse_body
from sla import selectors
from sla.apis.common import (
    ActionApi,
    AwareDateTimeField,
    action_schema,
    contract_of,
    create_schema,
    record_apis,
)
from sla.models import SecurityIncident
from sla.services import incidents


class IncidentSerializer(serializers.ModelSerializer):
    class Meta:
        model = SecurityIncident
        fields = [
            "id",
            "contract",
            "service_year",
            "level",
            "title",
            "description",
            "affected_systems",
            "occurred_at",
            "reported_at",
            "resolved_at",
            "status",
            "fully_reported",
            "vendor_caused",
            "assessment_comment",
            "assessed_at",
        ]
        read_only_fields = fields


class IncidentInSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    level = serializers.IntegerField(min_value=1, max_value=4)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    occurred_at = AwareDateTimeField()
    reported_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    resolved_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    affected_systems = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = serializers.FileField(required=False, allow_null=True, default=None)


class AssessInSerializer(serializers.Serializer):
    fully_reported = serializers.BooleanField()
    vendor_caused = serializers.BooleanField(default=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


IncidentListApi, IncidentDetailApi = record_apis(
    "安全事件", IncidentSerializer, selectors.incident_list_for_user, SecurityIncident
)


class IncidentCreateApi(IncidentListApi):
    parser_classes: ClassVar[list] = [JSONParser, MultiPartParser, FormParser]

    @create_schema("报告安全事件", IncidentInSerializer, IncidentSerializer)
    def post(self, request: Request) -> Response:
        data = parse_body(IncidentInSerializer, request)
        incident = incidents.incident_report(
            actor=request.user,
            contract=contract_of(request, data["contract"]),
            level=data["level"],
            title=data["title"],
            description=data["description"],
            occurred_at=data["occurred_at"],
            reported_at=data["reported_at"],
            resolved_at=data["resolved_at"],
            affected_systems=data["affected_systems"],
            evidence=data["evidence"],
        )
        return Response(IncidentSerializer(incident).data, status=status.HTTP_201_CREATED)


@action_schema("认定安全事件（甲方、监理）", AssessInSerializer, IncidentSerializer)
class IncidentAssessApi(ActionApi):
    selector = staticmethod(selectors.incident_list_for_user)
    output = IncidentSerializer
    input_serializer = AssessInSerializer

    def perform(self, request, obj, data):
        incidents.incident_assess(
            actor=request.user,
            incident=obj,
            fully_reported=data["fully_reported"],
            vendor_caused=data["vendor_caused"],
            comment=data["comment"],
        )
