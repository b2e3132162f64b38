"""REST API of the SLA (``/api/v1/``): metrics push, the records, advice and the scorecard.

Thin views: parse with a serializer, call a scoped selector or a service, serialize. Workflow
steps are explicit POST endpoints (unnamed, like the ticket actions; their refusals are tested
in ``tests/sla/test_api.py``). Errors come out as ``{"message", "extra"}``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import ParseError
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from govcloud.api_schema import ERRORS
from sla import selectors
from sla.models import (
    Deliverable,
    DeliverableSubmission,
    ImprovementNotice,
    Outage,
    OutageSignoff,
    Penalty,
    RightsizingAdvice,
    RightsizingReport,
    SatisfactionSurvey,
    SecurityIncident,
    SecurityMechanismItem,
    TrainingSession,
    UtilizationSample,
)
from sla.services import (
    deliverables,
    incidents,
    metrics,
    notices,
    outages,
    penalties,
    rightsizing,
    surveys,
)
from sla.services import scorecard as scorecard_services
from sla.services.common import contract_years

TAG = "服务水平"
TAG_METRICS = "资源使用率"


class _ApiView(APIView):
    # Token first: an anonymous vendor system gets 401 with ``WWW-Authenticate: Token``.
    authentication_classes: ClassVar[list] = [TokenAuthentication, SessionAuthentication]


class DecimalJSONParser(JSONParser):
    """JSON whose numbers become ``Decimal`` (never float) — percentages are Decimal."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(stream.read().decode(encoding), parse_float=Decimal)
        except ValueError as exc:
            raise ParseError(f"JSON 格式错误：{exc}") from exc


def _parse(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _contract(request: Request, pk: Any):
    return selectors.party_contract_get(user=request.user, pk=pk)


# ================================================================ metrics


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


class MetricsPushApi(_ApiView):
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
class SampleListApi(_ApiView, ListAPIView):
    serializer_class = SampleSerializer
    queryset = UtilizationSample.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return UtilizationSample.objects.none()
        qs = selectors.sample_list_for_user(user=self.request.user).order_by("resource_id", "day")
        params = self.request.query_params
        for key, lookup in (
            ("resource", "resource_id"),
            ("contract", "resource__contract_id"),
            ("day_from", "day__gte"),
            ("day_to", "day__lte"),
        ):
            if params.get(key):
                qs = qs.filter(**{lookup: params[key]})
        return qs


# ================================================================ records (read)


# Choice sets shared with other apps (party roles, "kind") are plain strings in the schema:
# their enum names would collide with the ticket API's and drf-spectacular warns on that.
PARTY_ROLE_HELP = "合同角色：bureau 甲方 / vendor 乙方 / supervisor 监理 / auditor 审计。"


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
            "excluded_as_maintenance",
            "backup_restore_failed",
            "vendor_caused",
            "status",
            "confirmed_at",
            "signoffs",
        ]
        read_only_fields = fields


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


class SecurityItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = SecurityMechanismItem
        fields = [
            "id",
            "contract",
            "service_year",
            "item",
            "status",
            "note",
            "submitted_at",
            "reviewed_at",
            "review_comment",
        ]
        read_only_fields = fields


class TrainingSessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrainingSession
        fields = ["id", "contract", "service_year", "held_on", "topic", "attendees", "status"]
        read_only_fields = fields


class SubmissionSerializer(serializers.ModelSerializer):
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
            "deployment 部署方案及报告 / other 其他。"
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
            "submissions",
        ]
        read_only_fields = fields


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


class PenaltySerializer(serializers.ModelSerializer):
    class Meta:
        model = Penalty
        fields = [
            "id",
            "contract",
            "service_year",
            "occurred_on",
            "reason",
            "clause",
            "amount",
            "points",
            "area",
            "status",
            "acknowledged_at",
        ]
        read_only_fields = fields


class SurveySerializer(serializers.ModelSerializer):
    class Meta:
        model = SatisfactionSurvey
        fields = ["id", "contract", "service_year", "title", "status", "closes_on", "closed_at"]
        read_only_fields = fields


class AdviceSerializer(serializers.ModelSerializer):
    month = serializers.DateField(source="report.month", read_only=True)
    current_item_code = serializers.CharField(source="current_item.code", read_only=True)
    advised_item_code = serializers.CharField(
        source="advised_item.code", read_only=True, default=None
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


def _filtered(request: Request, qs):
    params = request.query_params
    for key, lookup in (("contract", "contract_id"), ("service_year", "service_year")):
        if params.get(key):
            if not params[key].isdigit():
                return qs.none()
            qs = qs.filter(**{lookup: int(params[key])})
    if params.get("status"):
        qs = qs.filter(status=params["status"])
    return qs


FILTER_PARAMS = [
    OpenApiParameter("contract", OpenApiTypes.INT),
    OpenApiParameter("service_year", OpenApiTypes.INT),
    OpenApiParameter("status", OpenApiTypes.STR),
]


def record_apis(
    name: str, serializer: type[serializers.Serializer], selector: Any, model: Any
) -> tuple[type, type]:
    """A list and a detail endpoint of one record type, scoped by its selector."""

    @extend_schema_view(
        get=extend_schema(tags=[TAG], summary=f"{name}列表", parameters=FILTER_PARAMS)
    )
    class ListApi(_ApiView, ListAPIView):
        serializer_class = serializer
        queryset = model.objects.none()

        def get_queryset(self):
            if getattr(self, "swagger_fake_view", False):
                return model.objects.none()
            return _filtered(self.request, selector(user=self.request.user)).order_by("-pk")

    class DetailApi(_ApiView):
        @extend_schema(tags=[TAG], summary=f"{name}详情", responses={200: serializer, **ERRORS})
        def get(self, request: Request, pk: int) -> Response:
            obj = selectors.get_for_user(selector(user=request.user), pk)
            return Response(serializer(obj, context={"request": request}).data)

    ListApi.__name__ = f"{model.__name__}ListApi"
    DetailApi.__name__ = f"{model.__name__}DetailApi"
    return ListApi, DetailApi


OutageListApi, OutageDetailApi = record_apis(
    "服务中断", OutageSerializer, selectors.outage_list_for_user, Outage
)
IncidentListApi, IncidentDetailApi = record_apis(
    "安全事件", IncidentSerializer, selectors.incident_list_for_user, SecurityIncident
)
SecurityItemListApi, SecurityItemDetailApi = record_apis(
    "安全机制考核项",
    SecurityItemSerializer,
    selectors.security_item_list_for_user,
    SecurityMechanismItem,
)
TrainingListApi, TrainingDetailApi = record_apis(
    "培训记录",
    TrainingSessionSerializer,
    selectors.training_session_list_for_user,
    TrainingSession,
)
DeliverableListApi, DeliverableDetailApi = record_apis(
    "交付物", DeliverableSerializer, selectors.deliverable_list_for_user, Deliverable
)
NoticeListApi, NoticeDetailApi = record_apis(
    "整改通知", NoticeSerializer, selectors.notice_list_for_user, ImprovementNotice
)
PenaltyListApi, PenaltyDetailApi = record_apis(
    "罚则记录", PenaltySerializer, selectors.penalty_list_for_user, Penalty
)
SurveyListApi, SurveyDetailApi = record_apis(
    "满意度调查", SurveySerializer, selectors.survey_list_for_user, SatisfactionSurvey
)
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
class AdviceListApi(_ApiView, ListAPIView):
    serializer_class = AdviceSerializer
    queryset = RightsizingAdvice.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RightsizingAdvice.objects.none()
        qs = selectors.advice_list_for_user(user=self.request.user).order_by("-report__month", "pk")
        params = self.request.query_params
        if params.get("report", "").isdigit():
            qs = qs.filter(report_id=int(params["report"]))
        for key in ("status", "action"):
            if params.get(key):
                qs = qs.filter(**{key: params[key]})
        return qs


class AdviceDetailApi(_ApiView):
    @extend_schema(
        tags=[TAG], summary="资源调整建议明细详情", responses={200: AdviceSerializer, **ERRORS}
    )
    def get(self, request: Request, pk: int) -> Response:
        advice = selectors.get_for_user(selectors.advice_list_for_user(user=request.user), pk)
        return Response(AdviceSerializer(advice).data)


# ================================================================ writes


class AwareDateTimeField(serializers.DateTimeField):
    default_error_messages = {"naive": "时间必须带时区，例如 2026-10-12T18:00:00+08:00。"}

    def enforce_timezone(self, value):
        from django.utils import timezone

        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


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


class CommentInSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonInSerializer(serializers.Serializer):
    reason = serializers.CharField()


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


class DeliverableInSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField(required=False, allow_blank=True, default="")
    period_month = serializers.DateField(required=False, allow_null=True, default=None)
    due_date = serializers.DateField(required=False, allow_null=True, default=None)


class UploadInSerializer(serializers.Serializer):
    document = serializers.FileField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReviewInSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class NoticeInSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()


class FixInSerializer(serializers.Serializer):
    report = serializers.CharField()
    document = serializers.FileField(required=False, allow_null=True, default=None)


class ScoreInSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=0, max_value=100)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


def _post_create(summary: str, request_serializer, response_serializer):
    return extend_schema(
        tags=[TAG],
        summary=summary,
        request=request_serializer,
        responses={201: response_serializer, **ERRORS},
    )


class OutageCreateApi(OutageListApi):
    @_post_create("报告服务中断 / 计划内停机（乙方）", OutageInSerializer, OutageSerializer)
    def post(self, request: Request) -> Response:
        data = _parse(OutageInSerializer, request)
        outage = outages.outage_report(
            actor=request.user,
            contract=_contract(request, data["contract"]),
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


class IncidentCreateApi(IncidentListApi):
    parser_classes: ClassVar[list] = [JSONParser, MultiPartParser, FormParser]

    @_post_create("报告安全事件", IncidentInSerializer, IncidentSerializer)
    def post(self, request: Request) -> Response:
        data = _parse(IncidentInSerializer, request)
        incident = incidents.incident_report(
            actor=request.user,
            contract=_contract(request, data["contract"]),
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


class DeliverableCreateApi(DeliverableListApi):
    @_post_create("登记交付物（甲方或乙方）", DeliverableInSerializer, DeliverableSerializer)
    def post(self, request: Request) -> Response:
        data = _parse(DeliverableInSerializer, request)
        deliverable = deliverables.deliverable_create(
            actor=request.user,
            contract=_contract(request, data["contract"]),
            kind=data["kind"],
            title=data["title"],
            period_month=data["period_month"],
            due_date=data["due_date"],
        )
        return Response(DeliverableSerializer(deliverable).data, status=status.HTTP_201_CREATED)


class NoticeCreateApi(NoticeListApi):
    @_post_create("发出整改通知（甲方、监理、审计）", NoticeInSerializer, NoticeSerializer)
    def post(self, request: Request) -> Response:
        data = _parse(NoticeInSerializer, request)
        notice = notices.notice_issue(
            actor=request.user,
            contract=_contract(request, data["contract"]),
            title=data["title"],
            description=data["description"],
        )
        return Response(NoticeSerializer(notice).data, status=status.HTTP_201_CREATED)


class _ActionApi(_ApiView):
    """POST an action on one object found through ``selector``; answers with the object."""

    selector: ClassVar[Any] = None
    output: ClassVar[type[serializers.Serializer]] = serializers.Serializer
    input_serializer: ClassVar[type[serializers.Serializer] | None] = None

    def post(self, request: Request, pk: int) -> Response:
        obj = selectors.get_for_user(type(self).selector(user=request.user), pk)
        data = _parse(self.input_serializer, request) if self.input_serializer else {}
        self.perform(request, obj, data)
        obj = selectors.get_for_user(type(self).selector(user=request.user), pk)
        return Response(self.output(obj).data)

    def perform(self, request: Request, obj: Any, data: dict[str, Any]) -> None:
        raise NotImplementedError


def _action(summary: str, request_serializer, response_serializer):
    return extend_schema_view(
        post=extend_schema(
            tags=[TAG],
            summary=summary,
            request=request_serializer,
            responses={200: response_serializer, **ERRORS},
        )
    )


@_action("确认服务中断并认定责任（甲方、监理）", ConfirmInSerializer, OutageSerializer)
class OutageConfirmApi(_ActionApi):
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


@_action("同意计划内停机（甲方、监理，开始前）", CommentInSerializer, OutageSerializer)
class OutageApproveApi(_ActionApi):
    selector = staticmethod(selectors.outage_list_for_user)
    output = OutageSerializer
    input_serializer = CommentInSerializer

    def perform(self, request, obj, data):
        outages.outage_approve_maintenance(actor=request.user, outage=obj, comment=data["comment"])


@_action("认定安全事件（甲方、监理）", AssessInSerializer, IncidentSerializer)
class IncidentAssessApi(_ActionApi):
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


@_action("提交交付物文件（乙方，multipart）", UploadInSerializer, DeliverableSerializer)
class DeliverableSubmitApi(_ActionApi):
    selector = staticmethod(selectors.deliverable_list_for_user)
    output = DeliverableSerializer
    input_serializer = UploadInSerializer
    parser_classes: ClassVar[list] = [MultiPartParser, FormParser]

    def perform(self, request, obj, data):
        deliverables.deliverable_submit(
            actor=request.user, deliverable=obj, document=data["document"], note=data["note"]
        )


@_action("审核交付物（甲方）", ReviewInSerializer, DeliverableSerializer)
class DeliverableReviewApi(_ActionApi):
    selector = staticmethod(selectors.deliverable_list_for_user)
    output = DeliverableSerializer
    input_serializer = ReviewInSerializer

    def perform(self, request, obj, data):
        deliverables.deliverable_review(
            actor=request.user, deliverable=obj, accept=data["accept"], reason=data["reason"]
        )


@_action("提交整改报告（乙方）", FixInSerializer, NoticeSerializer)
class NoticeFixApi(_ActionApi):
    selector = staticmethod(selectors.notice_list_for_user)
    output = NoticeSerializer
    input_serializer = FixInSerializer
    parser_classes: ClassVar[list] = [JSONParser, MultiPartParser, FormParser]

    def perform(self, request, obj, data):
        notices.notice_fix(
            actor=request.user, notice=obj, report=data["report"], document=data["document"]
        )


@_action("确认整改（发出方）", ReviewInSerializer, NoticeSerializer)
class NoticeConfirmApi(_ActionApi):
    selector = staticmethod(selectors.notice_list_for_user)
    output = NoticeSerializer
    input_serializer = ReviewInSerializer

    def perform(self, request, obj, data):
        notices.notice_confirm(
            actor=request.user, notice=obj, accept=data["accept"], comment=data["reason"]
        )


@_action("签认罚则记录（乙方）", None, PenaltySerializer)
class PenaltyAcknowledgeApi(_ActionApi):
    selector = staticmethod(selectors.penalty_list_for_user)
    output = PenaltySerializer

    def perform(self, request, obj, data):
        penalties.penalty_acknowledge(actor=request.user, penalty=obj)


@_action("填写满意度调查（使用单位）", ScoreInSerializer, SurveySerializer)
class SurveyRespondApi(_ActionApi):
    selector = staticmethod(selectors.survey_list_for_user)
    output = SurveySerializer
    input_serializer = ScoreInSerializer

    def perform(self, request, obj, data):
        surveys.survey_respond(
            actor=request.user, survey=obj, score=data["score"], comment=data["comment"]
        )


@_action("提交月度资源调整建议（乙方）", None, ReportSerializer)
class ReportSubmitApi(_ActionApi):
    selector = staticmethod(selectors.report_list_for_user)
    output = ReportSerializer

    def perform(self, request, obj, data):
        rightsizing.rightsizing_submit(actor=request.user, report=obj)


@_action("接受资源调整建议（使用单位，生成变更工单草稿）", None, AdviceSerializer)
class AdviceAcceptApi(_ActionApi):
    selector = staticmethod(selectors.advice_list_for_user)
    output = AdviceSerializer

    def perform(self, request, obj, data):
        rightsizing.rightsizing_accept(actor=request.user, advice=obj)


@_action("拒绝资源调整建议（使用单位，须说明理由）", ReasonInSerializer, AdviceSerializer)
class AdviceDeclineApi(_ActionApi):
    selector = staticmethod(selectors.advice_list_for_user)
    output = AdviceSerializer
    input_serializer = ReasonInSerializer

    def perform(self, request, obj, data):
        rightsizing.rightsizing_decline(actor=request.user, advice=obj, reason=data["reason"])


# ================================================================ scorecard


class ScorecardApi(_ApiView):
    @extend_schema(
        tags=[TAG],
        summary="服务年度考核表（未定稿时为实时计算）",
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request, contract_pk: int, year: int) -> Response:
        contract = _contract(request, contract_pk)
        if year not in {y.label for y in contract_years(contract)}:
            raise Http404
        card = scorecard_services.scorecard_for(contract=contract, year=year)
        data = scorecard_services.scorecard_data(card)
        return Response({**data, "status": card.status, "finalised_at": card.finalised_at})
