"""REST API of resource request tickets and the resource inventory (``/api/v1/``).

Thin views: parse with a serializer, call a scoped selector or a service, serialize the ticket
again. Workflow steps are explicit POST endpoints; nothing here assigns ``status``. Services
raise ApplicationError / ActionForbidden / InvalidTransition, which the project's exception
handler turns into ``{"message", "extra"}`` with 400 / 403 / 409.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from billing.models import Resource, ResourceChange
from govcloud import workdays
from govcloud.api import ERRORS, ApiView, ErrorSerializer, parse_body
from govcloud.joint import joint_for
from govcloud.models import Contract, JointSubject, User
from govcloud.selectors import contract_list_for_user
from govcloud.terms import cite
from requests_app import selectors, services
from requests_app.actions import request_available_actions
from requests_app.clocks import delivery_days, ticket_elapsed
from requests_app.delivery_integrity import delivery_available_actions
from requests_app.filters import RequestFilter, ResourceFilter
from requests_app.models import (
    AttachmentPurpose,
    ExtensionRequest,
    ReceiptProblem,
    RequestAttachment,
    RequestKind,
    RequestLine,
    ResourceRequest,
    Review,
)

TAG_TICKETS = "工单"
TAG_RESOURCES = "资源"


# ---------------------------------------------------------------- output serializers


class RequestLineSerializer(serializers.ModelSerializer):
    item_code = serializers.CharField(source="catalog_item.code", read_only=True)
    item_name = serializers.CharField(source="catalog_item.name", read_only=True)
    unit = serializers.CharField(source="catalog_item.unit", read_only=True)

    class Meta:
        model = RequestLine
        fields = [
            "id",
            "catalog_item",
            "item_code",
            "item_name",
            "unit",
            "quantity",
            "resource",
            "note",
            "delivered_resource",
            "vendor_ref",
        ]
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.StringRelatedField()

    class Meta:
        model = Review
        fields = ["step", "party_role", "reviewer", "decision", "comment", "decided_at"]
        read_only_fields = fields


class ExtensionSerializer(serializers.ModelSerializer):
    requested_by = serializers.StringRelatedField()
    decided_by = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = ExtensionRequest
        fields = [
            "id",
            "requested_by",
            "requested_at",
            "reason",
            "expected_completion",
            "status",
            "decided_by",
            "decided_at",
            "decision_comment",
        ]
        read_only_fields = fields


class RequestTermCitationSerializer(serializers.Serializer):
    """The contract term a value rests on (``govcloud.terms.cite``)."""

    term = serializers.CharField(source="key", help_text=_("条款项（合同条款页的锚点）。"))
    label = serializers.CharField()
    clause = serializers.CharField(help_text=_("合同条款号，如“附件2 §2”；未载明时为空。"))
    quote = serializers.CharField(help_text=_("条款原文摘录。"))
    url = serializers.CharField(help_text=_("合同条款页中该条款的链接。"))


class RequestDeadlineSerializer(serializers.Serializer):
    """A ticket's delivery deadline and the term it comes from."""

    due_at = serializers.DateTimeField()
    working_days = serializers.IntegerField(
        help_text=_("自批准次日起的工作日数（已延期为延期时限）。")
    )
    extended = serializers.BooleanField()
    provisional = serializers.BooleanField(
        help_text=_("所需年度的法定节假日尚未载入，暂按仅周末休息计算。")
    )
    citation = RequestTermCitationSerializer()


class RequestListSerializer(serializers.ModelSerializer):
    contract_code = serializers.CharField(source="contract.code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    system_name = serializers.CharField(source="system.name", read_only=True)
    is_overdue = serializers.SerializerMethodField()
    deadline = serializers.SerializerMethodField(
        help_text=_(
            "交付截止及其合同条款；合同未约定交付时限（及时交付）或尚未批准时为空，"
            "此时不计超时、不可延期。"
        )
    )
    elapsed_working_days = serializers.SerializerMethodField(
        help_text=_(
            "批准后已用的工作日数（批准当日不计，按法定节假日安排）：已交付的到交付时，"
            "待交付的到当前；尚未批准时为空。"
        )
    )

    class Meta:
        model = ResourceRequest
        fields = [
            "id",
            "number",
            "contract",
            "contract_code",
            "department",
            "department_name",
            "system",
            "system_name",
            "kind",
            "status",
            "created_at",
            "submitted_at",
            "review_step",
            "approved_at",
            "due_at",
            "due_provisional",
            "extended",
            "delivered_at",
            "delivery_recorded_at",
            "delivery_claimed_at",
            "delivery_claim_status",
            "breached",
            "exempted",
            "receipt_status",
            "is_overdue",
            "deadline",
            "elapsed_working_days",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "delivered_at": {
                "help_text": _(
                    "生效的交付时间：超时、用时与计费均以此为准。申报的较早时间经会签确认前，"
                    "为登记时刻。"
                )
            },
            "delivery_recorded_at": {"help_text": _("乙方在平台上登记交付的时刻。")},
            "delivery_claimed_at": {
                "help_text": _(
                    "早于登记时刻减合同容差（delivery_time_tolerance_hours）的申报交付时间；"
                    "无申报时为空。"
                )
            },
            "delivery_claim_status": {
                "help_text": _(
                    "申报状态：空=无申报，pending 待确认，confirmed 已确认，objected 有异议。"
                )
            },
            "receipt_status": {
                "help_text": _(
                    "使用单位签收：空=未交付，pending 待签收，received 已签收，problem 有问题。"
                )
            },
        }

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_overdue(self, ticket: ResourceRequest) -> bool:
        return ticket.is_overdue(self.context.get("now"))

    @extend_schema_field(RequestDeadlineSerializer(allow_null=True))
    def get_deadline(self, ticket: ResourceRequest) -> dict[str, Any] | None:
        if not ticket.has_delivery_clock or ticket.due_at is None:
            return None
        key = "extended_delivery_working_days" if ticket.extended else "delivery_working_days"
        value = {
            "due_at": ticket.due_at,
            "working_days": delivery_days(ticket.contract, extended=ticket.extended),
            "extended": ticket.extended,
            "provisional": ticket.due_provisional,
            "citation": cite(ticket.contract, key),
        }
        return RequestDeadlineSerializer(value).data

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_elapsed_working_days(self, ticket: ResourceRequest) -> int | None:
        days, _provisional = ticket_elapsed(ticket, self.context.get("now") or timezone.now())
        return days


class RequestDeliveryTermSerializer(serializers.Serializer):
    """The contract's delivery clock, or its absence, with the clauses."""

    working_days = serializers.IntegerField(allow_null=True)
    extended_working_days = serializers.IntegerField(allow_null=True)
    text = serializers.CharField()
    citation = RequestTermCitationSerializer()
    extended_citation = RequestTermCitationSerializer(allow_null=True)


def _delivery_term_text(contract: Contract) -> str:
    if contract.delivery_working_days is None:
        return str(_("本合同未约定交付时限（及时交付）"))
    text = str(_("批准后 %(n)s 个工作日内交付") % {"n": contract.delivery_working_days})
    if contract.extended_delivery_working_days is not None:
        text += str(
            _("，经甲方批准可延长至 %(n)s 个工作日")
            % {"n": contract.extended_delivery_working_days}
        )
    return text


class EvidenceSerializer(serializers.ModelSerializer):
    """A file the vendor attached to prove a claimed delivery time."""

    uploaded_by = serializers.StringRelatedField()
    url = serializers.SerializerMethodField(help_text=_("门户中下载该文件的地址。"))

    class Meta:
        model = RequestAttachment
        fields = ["id", "name", "uploaded_by", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, attachment: RequestAttachment) -> str:
        return reverse("request_attachment", args=[attachment.request_id, attachment.pk])


class RequestDetailSerializer(RequestListSerializer):
    created_by = serializers.StringRelatedField()
    exempted_by = serializers.StringRelatedField(allow_null=True)
    receipt_by = serializers.StringRelatedField(allow_null=True)
    delivery_evidence = serializers.SerializerMethodField(
        help_text=_("申报交付时间所附的证明材料。")
    )
    delivery_time_confirmation = serializers.SerializerMethodField(
        help_text=_(
            "申报交付时间的会签记录编号（/api/v1/joint-confirmations/{id}/）；无申报时为空。"
        )
    )
    lines = RequestLineSerializer(many=True, read_only=True)
    reviews = ReviewSerializer(many=True, read_only=True)
    extensions = ExtensionSerializer(many=True, read_only=True)
    working_days_remaining = serializers.SerializerMethodField(
        help_text=_("交付截止前剩余的工作日（今天不计）；未在交付中或合同未约定时限时为空。")
    )
    delivery_term = serializers.SerializerMethodField(
        help_text=_(
            "合同的交付时限条款：working_days 为空表示未约定时限（及时交付），"
            "extended_working_days 为空表示不可延期。"
        )
    )
    estimated_monthly_cost = serializers.SerializerMethodField(
        help_text=_("该工单每月增加（负数为减少）的费用估算，已含折扣，单位元。")
    )
    available_actions = serializers.SerializerMethodField(
        help_text=_("当前用户此刻可以办理的操作（如 approve、deliver），与服务的检查一致。")
    )
    exemption_confirmation = serializers.SerializerMethodField(
        help_text=_(
            "超时免责的会签记录编号（/api/v1/joint-confirmations/{id}/）；合同未约定会签或"
            "尚未提请时为空。"
        )
    )
    # "" unless the department reported a problem on receipt.
    receipt_problem = serializers.ChoiceField(
        choices=ReceiptProblem.choices, allow_blank=True, read_only=True
    )

    class Meta(RequestListSerializer.Meta):
        fields = [
            *RequestListSerializer.Meta.fields,
            "reason",
            "created_by",
            "last_comment",
            "exemption_reason",
            "exempted_by",
            "exemption_confirmation",
            "delivery_claim_reason",
            "delivery_evidence",
            "delivery_time_confirmation",
            "receipt_by",
            "receipt_at",
            "receipt_problem",
            "receipt_note",
            "working_days_remaining",
            "delivery_term",
            "estimated_monthly_cost",
            "available_actions",
            "lines",
            "reviews",
            "extensions",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_exemption_confirmation(self, ticket: ResourceRequest) -> int | None:
        confirmation = joint_for(ticket, JointSubject.LATE_DELIVERY_EXEMPTION)
        return confirmation.pk if confirmation else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_delivery_time_confirmation(self, ticket: ResourceRequest) -> int | None:
        if not ticket.delivery_claim_status:
            return None
        confirmation = joint_for(ticket, JointSubject.DELIVERY_TIME)
        return confirmation.pk if confirmation else None

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_delivery_evidence(self, ticket: ResourceRequest) -> list[dict[str, Any]]:
        evidence = [
            a for a in ticket.attachments.all() if a.purpose == AttachmentPurpose.DELIVERY_EVIDENCE
        ]
        return list(EvidenceSerializer(evidence, many=True).data)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_working_days_remaining(self, ticket: ResourceRequest) -> int | None:
        if not ticket.is_open_for_delivery or not ticket.has_delivery_clock or not ticket.due_at:
            return None
        now = self.context.get("now") or timezone.now()
        try:
            return workdays.working_days_remaining(now, ticket.due_at)
        except workdays.CalendarYearMissing:
            return workdays.working_days_remaining(now, ticket.due_at, provisional=True)

    @extend_schema_field(RequestDeliveryTermSerializer)
    def get_delivery_term(self, ticket: ResourceRequest) -> dict[str, Any]:
        contract = ticket.contract
        value = {
            "working_days": contract.delivery_working_days,
            "extended_working_days": (
                contract.extended_delivery_working_days
                if contract.delivery_working_days is not None
                else None
            ),
            "text": _delivery_term_text(contract),
            "citation": cite(contract, "delivery_working_days"),
            "extended_citation": (
                cite(contract, "extended_delivery_working_days")
                if contract.delivery_working_days is not None
                and contract.extended_delivery_working_days is not None
                else None
            ),
        }
        return RequestDeliveryTermSerializer(value).data

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=2))
    def get_estimated_monthly_cost(self, ticket: ResourceRequest) -> str:
        cost: Decimal = services.estimate_monthly_cost(
            contract=ticket.contract, kind=ticket.kind, lines=list(ticket.lines.all())
        )
        return f"{cost:.2f}"

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_actions(self, ticket: ResourceRequest) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return sorted(
            request_available_actions(user=request.user, obj=ticket)
            | delivery_available_actions(user=request.user, obj=ticket)
        )


def _detail(request: Request, pk: object, *, status_code: int = 200) -> Response:
    """Re-read the ticket through the scoped selector and serialize it in full."""
    ticket = selectors.request_get_for_user(user=request.user, pk=pk)
    prefetch_related_objects(
        [ticket],
        Prefetch(
            "lines",
            queryset=RequestLine.objects.select_related(
                "catalog_item", "previous_item", "resource__catalog_item"
            ).order_by("id"),
        ),
        Prefetch("reviews", queryset=Review.objects.select_related("reviewer")),
        Prefetch(
            "extensions",
            queryset=ExtensionRequest.objects.select_related("requested_by", "decided_by"),
        ),
        "exempted_by",
        "receipt_by",
        Prefetch("attachments", queryset=RequestAttachment.objects.select_related("uploaded_by")),
        "contract__clauses",
    )
    serializer = RequestDetailSerializer(ticket, context={"request": request})
    return Response(serializer.data, status=status_code)


# ---------------------------------------------------------------- input serializers


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant that must carry its UTC offset (no guessing of the time zone)."""

    default_error_messages = {"naive": _("时间必须带时区，例如 2026-10-12T18:00:00+08:00。")}

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class LineInputSerializer(serializers.Serializer):
    catalog_item = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("目录项 ID（开通；变更时为新规格）。")
    )
    quantity = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text=_("开通或变更后的数量。")
    )
    resource = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("现有资源 ID（变更、释放）。")
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class RequestCreateSerializer(serializers.Serializer):
    contract = serializers.PrimaryKeyRelatedField(queryset=Contract.objects.none())
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    reason = serializers.CharField()
    system = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("本单位已有业务系统的 ID。")
    )
    system_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=120,
        default="",
        help_text=_("新业务系统的名称（未给 system 时）。"),
    )
    lines = LineInputSerializer(many=True, allow_empty=False)
    submit = serializers.BooleanField(default=False, help_text=_("创建后立即提交审核。"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Only contracts the user may see can be named; others do not exist for them.
            self.fields["contract"].queryset = contract_list_for_user(user=request.user)


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ExtensionRequestSerializer(serializers.Serializer):
    reason = serializers.CharField()
    expected_completion = AwareDateTimeField(help_text=_("ISO 8601，带时区。"))


class ExtensionDecideSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class DeliveryItemSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text=_("工单明细 ID。"))
    vendor_ref = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


def _multipart(data: Any, *, json_fields: tuple[str, ...] = (), file_lists: tuple[str, ...] = ()):
    """A multipart body as the serializer reads JSON: nested lists as JSON strings, repeated
    file fields as lists."""
    if not hasattr(data, "getlist"):
        return data
    plain: dict[str, Any] = {k: data.get(k) for k in data if k not in (*json_fields, *file_lists)}
    for name in json_fields:
        if data.get(name) in (None, ""):
            continue
        try:
            plain[name] = json.loads(data.get(name))
        except ValueError:
            raise serializers.ValidationError({name: [_("须为 JSON 数组。")]}) from None
    for name in file_lists:
        plain[name] = data.getlist(name)
    return plain


class DeliverSerializer(serializers.Serializer):
    """JSON, or multipart/form-data when evidence files come with a claimed time (then
    ``items`` is a JSON string and ``evidence`` is repeated)."""

    items = DeliveryItemSerializer(many=True, required=False, default=list)
    delivered_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "默认为当前时间。早于当前时间减合同容差（delivery_time_tolerance_hours）的为申报"
            "时间：须给 claim_reason 和至少一个 evidence 文件，经审核方会签确认后生效。"
        ),
    )
    claim_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text=_("补录理由。")
    )
    evidence = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text=_("证明材料（multipart，可多个）。"),
    )

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(
            _multipart(data, json_fields=("items",), file_lists=("evidence",))
        )


class ClaimReviseSerializer(serializers.Serializer):
    claim_reason = serializers.CharField(max_length=2000)
    evidence = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text=_("补充证明材料（multipart，可多个）。"),
    )

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(_multipart(data, file_lists=("evidence",)))


class ReceiptSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReceiptProblemSerializer(serializers.Serializer):
    problem = serializers.ChoiceField(choices=ReceiptProblem.choices)
    reason = serializers.CharField(max_length=2000)


class ExemptSerializer(serializers.Serializer):
    reason = serializers.CharField()


# ---------------------------------------------------------------- tickets


class RequestListCreateApi(ApiView, ListAPIView):
    """Tickets the user may see; departments create new ones here."""

    serializer_class = RequestListSerializer
    filterset_class = RequestFilter
    queryset = ResourceRequest.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ResourceRequest.objects.none()
        return selectors.request_list_for_user(user=self.request.user).prefetch_related(
            "contract__clauses"
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(tags=[TAG_TICKETS], summary="工单列表")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=[TAG_TICKETS],
        summary="新建工单（使用单位）",
        request=RequestCreateSerializer,
        responses={201: RequestDetailSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = parse_body(RequestCreateSerializer, request)
        ticket = services.request_create(
            actor=request.user,
            contract=data["contract"],
            kind=data["kind"],
            reason=data["reason"],
            system_id=data.get("system"),
            system_name=data["system_name"],
            lines=[
                services.LineInput(
                    catalog_item_id=line.get("catalog_item"),
                    quantity=line.get("quantity"),
                    resource_id=line.get("resource"),
                    note=line["note"],
                )
                for line in data["lines"]
            ],
            submit=data["submit"],
        )
        return _detail(request, ticket.pk, status_code=status.HTTP_201_CREATED)


class RequestDetailApi(ApiView):
    @extend_schema(
        tags=[TAG_TICKETS],
        summary="工单详情",
        responses={200: RequestDetailSerializer, 401: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)


class _TicketActionApi(ApiView):
    """POST an action on one ticket; answers with the updated ticket."""

    input_serializer: ClassVar[type[serializers.Serializer] | None] = None

    def post(self, request: Request, pk: int, **kwargs: Any) -> Response:
        ticket = selectors.request_get_for_user(user=request.user, pk=pk)
        data = parse_body(self.input_serializer, request) if self.input_serializer else {}
        self.perform(request.user, ticket, data, **kwargs)
        return _detail(request, pk)

    def perform(
        self, actor: User, ticket: ResourceRequest, data: dict[str, Any], **kwargs: Any
    ) -> None:
        raise NotImplementedError


def _action_schema(summary: str, request: Any) -> Any:
    return extend_schema_view(
        post=extend_schema(
            tags=[TAG_TICKETS],
            summary=summary,
            request=request,
            responses={200: RequestDetailSerializer, **ERRORS},
        )
    )


@_action_schema("提交审核（使用单位）", None)
class RequestSubmitApi(_TicketActionApi):
    def perform(self, actor, ticket, data, **kwargs):
        services.request_submit(actor=actor, ticket=ticket)


@_action_schema("审核通过（当前审核方）", CommentSerializer)
class RequestApproveApi(_TicketActionApi):
    input_serializer = CommentSerializer

    def perform(self, actor, ticket, data, **kwargs):
        services.request_approve(actor=actor, ticket=ticket, comment=data["comment"])


@_action_schema("退回修改（当前审核方）", CommentSerializer)
class RequestReturnApi(_TicketActionApi):
    input_serializer = CommentSerializer

    def perform(self, actor, ticket, data, **kwargs):
        services.request_return(actor=actor, ticket=ticket, comment=data["comment"])


@_action_schema("驳回（当前审核方）", CommentSerializer)
class RequestRejectApi(_TicketActionApi):
    input_serializer = CommentSerializer

    def perform(self, actor, ticket, data, **kwargs):
        services.request_reject(actor=actor, ticket=ticket, comment=data["comment"])


@_action_schema("撤销（使用单位，批准前）", CommentSerializer)
class RequestCancelApi(_TicketActionApi):
    input_serializer = CommentSerializer

    def perform(self, actor, ticket, data, **kwargs):
        services.request_cancel(actor=actor, ticket=ticket, comment=data["comment"])


@_action_schema("申请延期交付（乙方，截止前）", ExtensionRequestSerializer)
class RequestExtensionApi(_TicketActionApi):
    input_serializer = ExtensionRequestSerializer

    def perform(self, actor, ticket, data, **kwargs):
        services.extension_request(
            actor=actor,
            ticket=ticket,
            reason=data["reason"],
            expected_completion=data["expected_completion"],
        )


@_action_schema("审批延期申请（甲方）", ExtensionDecideSerializer)
class ExtensionDecideApi(_TicketActionApi):
    input_serializer = ExtensionDecideSerializer

    def perform(self, actor, ticket, data, **kwargs):
        extension = ticket.extensions.filter(pk=kwargs["ext_id"]).first()
        if extension is None:
            raise Http404
        services.extension_decide(
            actor=actor, extension=extension, approve=data["approve"], comment=data["comment"]
        )


@_action_schema(
    "交付（乙方；早于容差的交付时间须附理由和证明，经会签确认后生效）",
    {"application/json": DeliverSerializer, "multipart/form-data": DeliverSerializer},
)
class RequestDeliverApi(_TicketActionApi):
    input_serializer = DeliverSerializer
    parser_classes: ClassVar[list] = [JSONParser, MultiPartParser, FormParser]

    def perform(self, actor, ticket, data, **kwargs):
        services.request_deliver(
            actor=actor,
            ticket=ticket,
            items=[
                services.DeliveryInput(line_id=item["line"], vendor_ref=item["vendor_ref"])
                for item in data["items"]
            ],
            delivered_at=data["delivered_at"],
            claim_reason=data["claim_reason"],
            evidence=data["evidence"],
        )


@_action_schema(
    "修改被异议的交付时间申报并重新提请会签（乙方）",
    {"application/json": ClaimReviseSerializer, "multipart/form-data": ClaimReviseSerializer},
)
class RequestDeliveryClaimReviseApi(_TicketActionApi):
    input_serializer = ClaimReviseSerializer
    parser_classes: ClassVar[list] = [JSONParser, MultiPartParser, FormParser]

    def perform(self, actor, ticket, data, **kwargs):
        services.delivery_claim_revise(
            actor=actor, ticket=ticket, reason=data["claim_reason"], evidence=data["evidence"]
        )


@_action_schema("签收（申请单位）", ReceiptSerializer)
class RequestReceiptApi(_TicketActionApi):
    input_serializer = ReceiptSerializer

    def perform(self, actor, ticket, data, **kwargs):
        services.request_receipt_confirm(actor=actor, ticket=ticket, note=data["note"])


@_action_schema("反馈交付问题：未收到 / 与申请不符（申请单位）", ReceiptProblemSerializer)
class RequestReceiptProblemApi(_TicketActionApi):
    input_serializer = ReceiptProblemSerializer

    def perform(self, actor, ticket, data, **kwargs):
        services.request_receipt_problem(
            actor=actor, ticket=ticket, problem=data["problem"], reason=data["reason"]
        )


@_action_schema(
    "认定超时非乙方原因（监理；合同约定会签的，由甲方或监理提请，各方会签后生效）", ExemptSerializer
)
class RequestExemptApi(_TicketActionApi):
    input_serializer = ExemptSerializer

    def perform(self, actor, ticket, data, **kwargs):
        services.request_exempt(actor=actor, ticket=ticket, reason=data["reason"])


class _QueueApi(ApiView, ListAPIView):
    serializer_class = RequestListSerializer
    queryset = ResourceRequest.objects.none()  # for the schema; requests use get_queryset

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}


@extend_schema_view(get=extend_schema(tags=[TAG_TICKETS], summary="待我审核的工单"))
class ReviewQueueApi(_QueueApi):
    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ResourceRequest.objects.none()
        return selectors.review_queue_for_user(user=self.request.user).prefetch_related(
            "contract__clauses"
        )


@extend_schema_view(get=extend_schema(tags=[TAG_TICKETS], summary="待交付的工单（乙方）"))
class DeliveryQueueApi(_QueueApi):
    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ResourceRequest.objects.none()
        return selectors.delivery_queue_for_user(user=self.request.user).prefetch_related(
            "contract__clauses"
        )


# ---------------------------------------------------------------- resources


class ResourceSerializer(serializers.ModelSerializer):
    contract_code = serializers.CharField(source="contract.code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    system_name = serializers.CharField(source="system.name", read_only=True)
    item_code = serializers.CharField(source="catalog_item.code", read_only=True)
    item_name = serializers.CharField(source="catalog_item.name", read_only=True)
    unit = serializers.CharField(source="catalog_item.unit", read_only=True)

    class Meta:
        model = Resource
        fields = [
            "id",
            "contract",
            "contract_code",
            "department",
            "department_name",
            "system",
            "system_name",
            "catalog_item",
            "item_code",
            "item_name",
            "unit",
            "quantity",
            "vendor_ref",
            "status",
            "online_at",
            "billing_starts_at",
            "offline_at",
        ]
        read_only_fields = fields


class ResourceChangeSerializer(serializers.ModelSerializer):
    item_code = serializers.CharField(source="catalog_item.code", read_only=True)
    request = serializers.IntegerField(
        source="request_line.request_id", read_only=True, allow_null=True, default=None
    )
    request_number = serializers.CharField(
        source="request_line.request.number", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = ResourceChange
        fields = [
            "id",
            "catalog_item",
            "item_code",
            "quantity",
            "delivered_at",
            "request",
            "request_number",
            "note",
        ]
        read_only_fields = fields


class ResourceDetailSerializer(ResourceSerializer):
    changes = ResourceChangeSerializer(many=True, read_only=True)

    class Meta(ResourceSerializer.Meta):
        fields = [*ResourceSerializer.Meta.fields, "changes"]
        read_only_fields = fields


@extend_schema_view(get=extend_schema(tags=[TAG_RESOURCES], summary="云资源清单"))
class ResourceListApi(ApiView, ListAPIView):
    serializer_class = ResourceSerializer
    filterset_class = ResourceFilter
    queryset = Resource.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Resource.objects.none()
        return selectors.resource_list_for_user(user=self.request.user)


class ResourceDetailApi(ApiView):
    @extend_schema(
        tags=[TAG_RESOURCES],
        summary="云资源详情（含数量变更历史）",
        responses={200: ResourceDetailSerializer, 401: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        resource = selectors.resource_get_for_user(user=request.user, pk=pk)
        prefetch_related_objects(
            [resource],
            Prefetch(
                "changes",
                queryset=ResourceChange.objects.select_related(
                    "catalog_item", "request_line__request"
                ),
            ),
        )
        return Response(ResourceDetailSerializer(resource, context={"request": request}).data)
