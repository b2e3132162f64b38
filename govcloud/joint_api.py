"""REST API of joint confirmations (会签): list, detail, confirm, object.

Scoped like every read (``joint_list_for_user``): the parties' staff of the contract; a
confirmation of another tenant answers 404. The confirm / object endpoints call the services,
which check the party against the roles the confirmation snapshotted from the terms.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from govcloud.api import ERRORS, ApiView, parse_body
from govcloud.apis import PartyRoleField
from govcloud.joint import (
    joint_available_actions,
    joint_confirm,
    joint_get_for_user,
    joint_list_for_user,
    joint_object,
)
from govcloud.models import JointConfirmation, JointConfirmationEntry, JointStatus, JointSubject

TAG = "共同确认"


class JointEntrySerializer(serializers.ModelSerializer):
    role = PartyRoleField()
    organization = serializers.CharField(source="organization.name")
    user = serializers.CharField(source="user.username")

    class Meta:
        model = JointConfirmationEntry
        fields = ["round", "role", "organization", "user", "decision", "reason", "at"]


class JointConfirmationSerializer(serializers.ModelSerializer):
    contract = serializers.CharField(source="contract.code")
    object_type = serializers.SerializerMethodField()
    required_roles = serializers.ListField(child=PartyRoleField())
    entries = JointEntrySerializer(many=True)
    available_actions = serializers.SerializerMethodField()

    class Meta:
        model = JointConfirmation
        fields = [
            "id",
            "contract",
            "subject",
            "object_type",
            "object_id",
            "title",
            "required_roles",
            "status",
            "round",
            "opened_at",
            "confirmed_at",
            "entries",
            "available_actions",
        ]

    def get_object_type(self, obj: JointConfirmation) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"

    def get_available_actions(self, obj: JointConfirmation) -> list[str]:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return sorted(joint_available_actions(user=user, obj=obj))


class ObjectInSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="异议理由")


@extend_schema(tags=[TAG], summary="共同确认事项（本人所在当事方的合同）")
class JointListApi(ListAPIView, ApiView):
    serializer_class = JointConfirmationSerializer

    def get_queryset(self):
        qs = joint_list_for_user(user=self.request.user).select_related("content_type")
        params = self.request.query_params
        if params.get("status") in JointStatus.values:
            qs = qs.filter(status=params["status"])
        if params.get("subject") in JointSubject.values:
            qs = qs.filter(subject=params["subject"])
        return qs


class JointDetailApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="共同确认事项详情",
        responses={200: JointConfirmationSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        obj = joint_get_for_user(user=request.user, pk=pk)
        return Response(JointConfirmationSerializer(obj, context={"request": request}).data)


class JointConfirmApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="确认（须为条款列明的当事方，每方每轮一次）",
        request=None,
        responses={200: JointConfirmationSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        obj = joint_get_for_user(user=request.user, pk=pk)
        joint_confirm(actor=request.user, confirmation=obj)
        obj = joint_get_for_user(user=request.user, pk=pk)
        return Response(JointConfirmationSerializer(obj, context={"request": request}).data)


class JointObjectApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="提出异议（须填写理由）",
        request=ObjectInSerializer,
        responses={200: JointConfirmationSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        obj = joint_get_for_user(user=request.user, pk=pk)
        data = parse_body(ObjectInSerializer, request)
        joint_object(actor=request.user, confirmation=obj, reason=data["reason"])
        obj = joint_get_for_user(user=request.user, pk=pk)
        return Response(JointConfirmationSerializer(obj, context={"request": request}).data)
