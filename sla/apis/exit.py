"""The exit: the staff-with-access register and the data return and deletion records.

Scoped like the portal: the register is the contract parties' (a department gets 404), a
department reads the signed records of its own systems. Writes go through
``sla.services.exit``; the certificate PDF is downloaded from the portal URL in
``certificate_url`` (the same scoping).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from govcloud.api import ERRORS, ApiView, parse_body
from govcloud.api_query import query_int
from govcloud.pdf.signing import SigningSecret
from sla import selectors
from sla.apis.common import (
    TAG,
    ActionApi,
    ReasonInSerializer,
    action_schema,
    contract_of,
    create_schema,
)
from sla.apis.deliverables import DeliverableSerializer
from sla.models import (
    ExitKind,
    ExitMethod,
    ExitRecord,
    ExitWitness,
    MediaMethod,
    StaffAccessEntry,
    StaffDuty,
    WitnessParty,
)
from sla.services import exit as services
from sla.services.deliverables import handover_plan_ensure

# ---------------------------------------------------------------- the staff register


class StaffEntrySerializer(serializers.ModelSerializer):
    duty = serializers.ChoiceField(choices=StaffDuty.choices, read_only=True)
    filing = serializers.SerializerMethodField(
        help_text="备案状态：pending 待提交 / submitted 待甲方备案 / accepted 已备案 / "
        "rejected 名单被退回。"
    )

    class Meta:
        model = StaffAccessEntry
        fields = [
            "id",
            "contract",
            "person_name",
            "employer",
            "duty",
            "position",
            "access_scope",
            "access_from",
            "access_to",
            "end_reason",
            "undertaking_signed_on",
            "register",
            "filing",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_filing(self, obj: StaffAccessEntry) -> str:
        return services.entry_filing(obj)[0]


class StaffEntryInSerializer(serializers.Serializer):
    person_name = serializers.CharField()
    employer = serializers.CharField()
    duty = serializers.ChoiceField(choices=StaffDuty.choices)
    position = serializers.CharField(required=False, allow_blank=True, default="")
    access_scope = serializers.CharField()
    access_from = serializers.DateField()
    undertaking_signed_on = serializers.DateField()


class StaffCreateInSerializer(StaffEntryInSerializer):
    contract = serializers.IntegerField()
    undertaking_file = serializers.FileField(help_text="《人员信息保密协议》签字扫描件。")


class StaffUpdateInSerializer(StaffEntryInSerializer):
    undertaking_file = serializers.FileField(required=False, allow_null=True, default=None)


class StaffEndInSerializer(serializers.Serializer):
    ended_on = serializers.DateField(help_text="访问权限取消之日。")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RegisterSubmitInSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


def _staff_data(data: dict[str, Any]) -> services.StaffEntryData:
    return services.StaffEntryData(
        person_name=data["person_name"],
        employer=data["employer"],
        duty=data["duty"],
        position=data["position"],
        access_scope=data["access_scope"],
        access_from=data["access_from"],
        undertaking_signed_on=data["undertaking_signed_on"],
    )


CONTRACT_PARAM = [OpenApiParameter("contract", OpenApiTypes.INT)]


def _by_contract(request: Request, qs):
    contract = query_int(request.query_params, "contract")
    if contract is not None:
        qs = qs.filter(contract_id=contract)
    return qs


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        summary="接触甲方信息人员名单",
        parameters=[
            *CONTRACT_PARAM,
            OpenApiParameter("active", OpenApiTypes.BOOL, description="只列仍在接触的人员"),
        ],
    )
)
class StaffListApi(ApiView, ListAPIView):
    serializer_class = StaffEntrySerializer
    queryset = StaffAccessEntry.objects.none()
    parser_classes: ClassVar[list] = [MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StaffAccessEntry.objects.none()
        qs = _by_contract(self.request, services.staff_list_for_user(user=self.request.user))
        if self.request.query_params.get("active") in ("1", "true"):
            qs = qs.filter(access_to__isnull=True)
        return qs.order_by("pk")

    @create_schema(
        "登记接触甲方信息人员（乙方，multipart）", StaffCreateInSerializer, StaffEntrySerializer
    )
    def post(self, request: Request) -> Response:
        data = parse_body(StaffCreateInSerializer, request)
        entry = services.staff_entry_create(
            actor=request.user,
            contract=contract_of(request, data["contract"]),
            data=_staff_data(data),
            undertaking_file=data["undertaking_file"],
        )
        return Response(StaffEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class StaffDetailApi(ApiView):
    parser_classes: ClassVar[list] = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        tags=[TAG], summary="接触甲方信息人员详情", responses={200: StaffEntrySerializer, **ERRORS}
    )
    def get(self, request: Request, pk: int) -> Response:
        entry = selectors.get_for_user(services.staff_list_for_user(user=request.user), pk)
        return Response(StaffEntrySerializer(entry).data)

    @extend_schema(
        tags=[TAG],
        summary="修改登记（乙方；修改后须重新提交名单备案）",
        request=StaffUpdateInSerializer,
        responses={200: StaffEntrySerializer, **ERRORS},
    )
    def put(self, request: Request, pk: int) -> Response:
        entry = selectors.get_for_user(services.staff_list_for_user(user=request.user), pk)
        data = parse_body(StaffUpdateInSerializer, request)
        entry = services.staff_entry_update(
            actor=request.user,
            entry=entry,
            data=_staff_data(data),
            undertaking_file=data["undertaking_file"],
        )
        return Response(StaffEntrySerializer(entry).data)


@action_schema("登记取消接触权限（乙方或甲方）", StaffEndInSerializer, StaffEntrySerializer)
class StaffEndApi(ActionApi):
    selector = staticmethod(services.staff_list_for_user)
    output = StaffEntrySerializer
    input_serializer = StaffEndInSerializer

    def perform(self, request, obj, data):
        services.staff_entry_end(
            actor=request.user, entry=obj, ended_on=data["ended_on"], reason=data["reason"]
        )


class RegisterSubmitApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="提交接触甲方信息人员名单（乙方；生成 PDF 作为交付物提交甲方备案）",
        request=RegisterSubmitInSerializer,
        responses={201: DeliverableSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = parse_body(RegisterSubmitInSerializer, request)
        deliverable = services.staff_register_submit(
            actor=request.user, contract=contract_of(request, data["contract"]), note=data["note"]
        )
        return Response(DeliverableSerializer(deliverable).data, status=status.HTTP_201_CREATED)


class HandoverPlanInSerializer(serializers.Serializer):
    contract = serializers.IntegerField()


class HandoverPlanApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="登记交接计划交付物（甲方；截止日期按合同约定：服务期满前 N 日）",
        request=HandoverPlanInSerializer,
        responses={201: DeliverableSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = parse_body(HandoverPlanInSerializer, request)
        contract = contract_of(request, data["contract"])
        services.EXIT_CONTRACT_ACTIONS.require("handover_plan_create", request.user, contract)
        plan = handover_plan_ensure(contract=contract, actor=request.user)
        return Response(DeliverableSerializer(plan).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- return and deletion records


class WitnessSerializer(serializers.ModelSerializer):
    party = serializers.ChoiceField(
        choices=WitnessParty.choices,
        help_text="bureau 甲方（管理方）/ vendor 乙方 / supervisor 监理方 / auditor 审计方 / "
        "department 使用单位。",
    )
    name = serializers.CharField(max_length=60)

    class Meta:
        model = ExitWitness
        fields = ["party", "name"]


class ExitRecordSerializer(serializers.ModelSerializer):
    witnesses = WitnessSerializer(many=True, read_only=True)
    kind = serializers.ChoiceField(choices=ExitKind.choices, read_only=True)
    method = serializers.ChoiceField(choices=ExitMethod.choices, read_only=True)
    media_method = serializers.ChoiceField(choices=MediaMethod.choices, read_only=True)
    certificate_url = serializers.SerializerMethodField()
    confirming_roles = serializers.SerializerMethodField(
        help_text="确认方：合同约定的共同确认方（data_deletion），未约定时为甲方。"
    )
    joint_confirmation = serializers.SerializerMethodField(help_text="会签编号（如有）。")

    class Meta:
        model = ExitRecord
        fields = [
            "id",
            "contract",
            "system",
            "kind",
            "method",
            "method_detail",
            "media_method",
            "performed_on",
            "scope_data",
            "scope_backups",
            "scope_media",
            "scope_note",
            "authorisation_ref",
            "witnesses",
            "status",
            "round",
            "certificate_sha256",
            "certificate_url",
            "signed_at",
            "confirmed_at",
            "objection",
            "objected_at",
            "confirming_roles",
            "joint_confirmation",
        ]
        read_only_fields = fields

    def get_certificate_url(self, obj: ExitRecord) -> str | None:
        if not obj.certificate:
            return None
        return reverse("sla_exit_record_certificate", args=[obj.pk])

    def get_confirming_roles(self, obj: ExitRecord) -> list[str]:
        return services.confirming_roles(obj.contract)

    def get_joint_confirmation(self, obj: ExitRecord) -> int | None:
        confirmation = services.record_confirmation(obj)
        return confirmation.pk if confirmation else None


class ExitRecordInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ExitKind.choices)
    method = serializers.ChoiceField(choices=ExitMethod.choices)
    method_detail = serializers.CharField(required=False, allow_blank=True, default="")
    performed_on = serializers.DateField()
    scope_data = serializers.BooleanField(default=False)
    scope_backups = serializers.BooleanField(default=False)
    scope_media = serializers.BooleanField(default=False)
    media_method = serializers.ChoiceField(
        choices=MediaMethod.choices, required=False, allow_blank=True, default=""
    )
    scope_note = serializers.CharField()
    authorisation_ref = serializers.CharField(required=False, allow_blank=True, default="")
    witnesses = WitnessSerializer(many=True, required=False, default=list)


class ExitRecordCreateInSerializer(ExitRecordInSerializer):
    contract = serializers.IntegerField()
    system = serializers.IntegerField()


class SignInSerializer(serializers.Serializer):
    signing_passphrase = serializers.CharField(
        trim_whitespace=False, help_text="乙方本单位签名密钥的口令（不保存）。"
    )


def _record_data(data: dict[str, Any]) -> services.ExitRecordData:
    return services.ExitRecordData(
        kind=data["kind"],
        method=data["method"],
        performed_on=data["performed_on"],
        scope_data=data["scope_data"],
        scope_backups=data["scope_backups"],
        scope_media=data["scope_media"],
        scope_note=data["scope_note"],
        media_method=data["media_method"],
        method_detail=data["method_detail"],
        authorisation_ref=data["authorisation_ref"],
        witnesses=tuple((w["party"], w["name"]) for w in data["witnesses"]),
    )


def _records(*, user):
    return services.exit_record_list_for_user(user=user).prefetch_related("witnesses")


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        summary="数据返还与删除记录",
        parameters=[
            *CONTRACT_PARAM,
            OpenApiParameter("system", OpenApiTypes.INT),
            OpenApiParameter("kind", OpenApiTypes.STR, description="return / deletion"),
            OpenApiParameter("status", OpenApiTypes.STR),
        ],
    )
)
class ExitRecordListApi(ApiView, ListAPIView):
    serializer_class = ExitRecordSerializer
    queryset = ExitRecord.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExitRecord.objects.none()
        qs = _by_contract(self.request, _records(user=self.request.user))
        params = self.request.query_params
        system = query_int(params, "system")
        if system is not None:
            qs = qs.filter(system_id=system)
        for key in ("kind", "status"):
            if params.get(key):
                qs = qs.filter(**{key: params[key]})
        return qs.order_by("-pk")

    @create_schema(
        "登记数据返还或删除（乙方，草稿）", ExitRecordCreateInSerializer, ExitRecordSerializer
    )
    def post(self, request: Request) -> Response:
        data = parse_body(ExitRecordCreateInSerializer, request)
        record = services.exit_record_create(
            actor=request.user,
            contract=contract_of(request, data["contract"]),
            system=data["system"],
            data=_record_data(data),
        )
        return Response(ExitRecordSerializer(record).data, status=status.HTTP_201_CREATED)


class ExitRecordDetailApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="数据返还与删除记录详情",
        responses={200: ExitRecordSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            ExitRecordSerializer(selectors.get_for_user(_records(user=request.user), pk)).data
        )

    @extend_schema(
        tags=[TAG],
        summary="修改记录（乙方；草稿或有异议时）",
        request=ExitRecordInSerializer,
        responses={200: ExitRecordSerializer, **ERRORS},
    )
    def put(self, request: Request, pk: int) -> Response:
        record = selectors.get_for_user(_records(user=request.user), pk)
        data = parse_body(ExitRecordInSerializer, request)
        record = services.exit_record_update(
            actor=request.user, record=record, data=_record_data(data)
        )
        return Response(ExitRecordSerializer(record).data)


@action_schema(
    "签署证明（乙方；以本单位签名密钥签署 PDF 并提交确认）", SignInSerializer, ExitRecordSerializer
)
class ExitRecordSignApi(ActionApi):
    selector = staticmethod(_records)
    output = ExitRecordSerializer
    input_serializer = SignInSerializer

    def perform(self, request, obj, data):
        services.exit_record_sign(
            actor=request.user,
            record=obj,
            signing_passphrase=SigningSecret(data["signing_passphrase"]),
        )


@action_schema("确认记录（合同未约定共同确认时由甲方确认）", None, ExitRecordSerializer)
class ExitRecordConfirmApi(ActionApi):
    selector = staticmethod(_records)
    output = ExitRecordSerializer

    def perform(self, request, obj, data):
        services.exit_record_confirm(actor=request.user, record=obj)


@action_schema("对记录提出异议（甲方，须填写理由）", ReasonInSerializer, ExitRecordSerializer)
class ExitRecordObjectApi(ActionApi):
    selector = staticmethod(_records)
    output = ExitRecordSerializer
    input_serializer = ReasonInSerializer

    def perform(self, request, obj, data):
        services.exit_record_object(actor=request.user, record=obj, reason=data["reason"])
