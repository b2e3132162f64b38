"""REST API of monthly statements and department bills (``/api/v1/``).

Thin views: parse with a serializer, call a scoped selector or a service, serialize the
statement again. The workflow steps are explicit POST endpoints; acts with legal weight
(submit, confirm, dispute, the auditor's decision) carry ``reauth: {method, value}`` — a
current TOTP code or the password — which the service verifies (403 "身份验证失败" otherwise,
nothing changed). Those that sign the statement PDF (submit, confirm, the auditor's
``uphold_vendor`` decision) also carry ``signing_passphrase``, the passphrase of the signer's
organisation's signing key: the service opens the key with it for this request only and signs
the PDF before answering (403 with ``extra.field == "signing_passphrase"`` when wrong; 409
"统计表 PDF 正在生成，请稍后再签认" while the PDF is not rendered yet); it is never stored.
Services raise ApplicationError / ActionForbidden / InvalidTransition, which the project's
exception handler turns into ``{"message", "extra"}`` with 400 / 403 / 409.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from billing import selectors
from billing.filters import (
    BillFilter,
    InventoryCorrectionFilter,
    StatementFilter,
    StatementLineFilter,
)
from billing.models import (
    DepartmentBill,
    DisputeComment,
    DisputeEscalation,
    EscalationDecision,
    InventoryCorrection,
    ReauthMethod,
    Statement,
    StatementDocument,
    StatementLine,
    StatementSignoff,
)
from billing.services import corrections
from billing.services import statements as services
from billing.services.reauth import Reauth, SigningSecret
from govcloud.api import ERRORS, ApiView, ErrorSerializer, parse_body
from govcloud.api_query import ApiPagination
from govcloud.exceptions import ApplicationError, InvalidTransition
from govcloud.models import Contract, User
from govcloud.selectors import contract_list_for_user
from govcloud.terms import cite

TAG_STATEMENTS = "月度统计表"
#: The contract terms a statement's deadlines and dispute route come from.
STATEMENT_TERMS = ("statement_due_working_day", "dispute_escalation_working_days")
TAG_BILLS = "账单"


class LinePagination(ApiPagination):
    """A statement can have 18,000 lines: 200 a page, up to 1,000 on request."""

    page_size = 200
    page_size_query_param = "page_size"
    max_page_size = 1000


# ---------------------------------------------------------------- output serializers


class StatementListSerializer(serializers.ModelSerializer):
    contract_code = serializers.CharField(source="contract.code", read_only=True)
    discount_applies_to = serializers.CharField(
        read_only=True,
        help_text=_("subtotal：结算金额 = 小计 × 折扣；line：各明细已含折扣，结算金额 = 小计。"),
    )
    period = serializers.CharField(read_only=True, help_text=_("统计月份，YYYY-MM。"))

    class Meta:
        model = Statement
        fields = [
            "id",
            "contract",
            "contract_code",
            "year",
            "month",
            "period",
            "version",
            "status",
            "supersedes",
            "supersede_reason",
            "due_date",
            "due_provisional",
            "is_late",
            "discount",
            "discount_applies_to",
            "vat_rate",
            "subtotal",
            "total",
            "vat",
            "generated_at",
            "submitted_at",
            "disputed_at",
            "signed_at",
            "superseded_at",
        ]
        read_only_fields = fields


class StatementSignoffSerializer(serializers.ModelSerializer):
    party_role = serializers.CharField(source="party.role", read_only=True)
    organization = serializers.CharField(source="party.organization.name", read_only=True)
    on_behalf_of_organization = serializers.CharField(
        source="on_behalf_of.organization.name", read_only=True, allow_null=True, default=None
    )
    user = serializers.StringRelatedField()

    class Meta:
        model = StatementSignoff
        fields = [
            "id",
            "party",
            "party_role",
            "organization",
            "action",
            "on_behalf_of",
            "on_behalf_of_organization",
            "user",
            "comment",
            "at",
            "reauth_method",
        ]
        read_only_fields = fields


SIGNOFF_STATES = [
    ("done", _("已确认")),
    ("determined", _("审计确定")),
    ("disputed", _("有异议")),
    ("next", _("下一签认方")),
    ("pending", _("等待")),
]


class SignoffStepSerializer(serializers.Serializer):
    """A required party in sign-off order and where it stands on this version."""

    party = serializers.IntegerField(source="party.pk")
    role = serializers.CharField(source="party.role")
    organization = serializers.CharField(source="party.organization.name")
    state = serializers.ChoiceField(choices=SIGNOFF_STATES)
    by = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField(allow_null=True)


class VersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Statement
        fields = ["id", "version", "status", "total", "submitted_at", "signed_at", "supersedes"]
        read_only_fields = fields


class SystemSubtotalSerializer(serializers.Serializer):
    system = serializers.IntegerField(source="system_id")
    system_name = serializers.CharField(source="system")
    lines = serializers.IntegerField()
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)


class DepartmentSubtotalSerializer(serializers.Serializer):
    department = serializers.IntegerField(source="department_id")
    department_name = serializers.CharField(source="department")
    lines = serializers.IntegerField()
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)
    systems = SystemSubtotalSerializer(many=True)


class StatementCommentSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField()
    line_position = serializers.IntegerField(
        source="line.position", read_only=True, allow_null=True, default=None
    )
    is_dispute = serializers.SerializerMethodField()

    class Meta:
        model = DisputeComment
        fields = ["id", "author", "line", "line_position", "text", "at", "is_dispute"]
        read_only_fields = fields

    def get_is_dispute(self, comment: DisputeComment) -> bool:
        return comment.signoff_id is not None


class EscalationSerializer(serializers.ModelSerializer):
    disputing_organization = serializers.CharField(
        source="disputing_party.organization.name", read_only=True
    )
    decided_by = serializers.StringRelatedField(allow_null=True)
    # "" until the auditor decides.
    decision = serializers.ChoiceField(
        choices=EscalationDecision.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = DisputeEscalation
        fields = [
            "id",
            "disputing_party",
            "disputing_organization",
            "opened_at",
            "escalated_at",
            "decision",
            "decided_by",
            "decided_at",
            "comment",
        ]
        read_only_fields = fields


class DocumentSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text=_("statement 或 department_bill。"))
    url = serializers.SerializerMethodField(help_text=_("门户中下载 PDF 的地址。"))

    class Meta:
        model = StatementDocument
        fields = ["kind", "sha256", "signatures", "rendered_at", "url"]
        read_only_fields = fields

    def get_url(self, document: StatementDocument) -> str:
        if document.department_id is not None:
            return self.context.get("bill_pdf_url", "")
        return reverse("statement_pdf", kwargs={"pk": document.statement_id})


class BillBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = DepartmentBill
        fields = ["id", "department", "department_name", "lines_count", "subtotal", "total", "vat"]
        read_only_fields = fields


class TermCitationSerializer(serializers.Serializer):
    """A contract term a deadline or route comes from, with its clause (``govcloud.terms``)."""

    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    clause = serializers.CharField()
    quote = serializers.CharField()
    url = serializers.CharField()


class StatementDetailSerializer(StatementListSerializer):
    lines_count = serializers.IntegerField(read_only=True)
    terms = TermCitationSerializer(
        many=True,
        read_only=True,
        help_text=_(
            "提交期限（statement_due_working_day）与争议提交审计（"
            "dispute_escalation_working_days）所依据的合同条款；value 为 null 表示合同未约定。"
        ),
    )
    signoff_steps = SignoffStepSerializer(many=True, read_only=True)
    next_party = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("下一签认方（合同当事方 ID）。")
    )
    signoffs = StatementSignoffSerializer(many=True, read_only=True, source="signoff_list")
    versions = VersionSerializer(many=True, read_only=True)
    subtotals = DepartmentSubtotalSerializer(many=True, read_only=True)
    comments = StatementCommentSerializer(many=True, read_only=True, source="comment_list")
    escalations = EscalationSerializer(many=True, read_only=True, source="escalation_list")
    document = DocumentSerializer(read_only=True, allow_null=True)
    department_bills = BillBriefSerializer(many=True, read_only=True, source="bill_list")
    available_actions = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=_(
            "当前用户现在可以办理的操作（与服务的校验相同）：regenerate、new_version、submit、"
            "confirm、dispute、comment、decide、supersede。"
        ),
    )

    class Meta(StatementListSerializer.Meta):
        fields = [
            *StatementListSerializer.Meta.fields,
            "lines_count",
            "terms",
            "signoff_steps",
            "next_party",
            "signoffs",
            "versions",
            "subtotals",
            "comments",
            "escalations",
            "document",
            "department_bills",
            "available_actions",
        ]
        read_only_fields = fields


def _statement_detail(request: Request, pk: object, *, status_code: int = 200) -> Response:
    """Re-read the statement through the scoped selector and serialize it in full."""
    statement = selectors.statement_get_for_user(user=request.user, pk=pk)
    contract = statement.contract
    # The contract's parties are read once (sign-off order, organisations).
    statement.contract = Contract.objects.prefetch_related("parties__organization", "clauses").get(
        pk=contract.pk
    )
    statement.terms = [
        {**asdict(cite(statement.contract, key)), "value": getattr(statement.contract, key)}
        for key in STATEMENT_TERMS
    ]
    signoffs = list(
        statement.signoffs.select_related(
            "party__organization", "on_behalf_of__organization", "user"
        ).order_by("at", "id")
    )
    steps = selectors.signoff_steps(statement, signoffs)
    for step in steps:
        step.by = str(step.by) if step.by else None
    groups = selectors.subtotals(statement.lines.all())
    nxt = selectors.next_party(steps)
    statement.signoff_steps = steps
    statement.next_party = nxt.pk if nxt else None
    statement.signoff_list = signoffs
    statement.lines_count = sum(d.lines for d in groups)
    statement.versions = list(selectors.month_versions(statement))
    statement.subtotals = groups
    statement.comment_list = list(
        statement.comments.select_related("author", "line").order_by("at", "id")
    )
    statement.escalation_list = list(
        statement.escalations.select_related("disputing_party__organization", "decided_by")
    )
    statement.document = selectors.statement_document(statement)
    statement.bill_list = list(statement.department_bills.all())
    statement.available_actions = sorted(
        services.statement_available_actions(user=request.user, obj=statement)
    )
    serializer = StatementDetailSerializer(statement, context={"request": request})
    return Response(serializer.data, status=status_code)


class StatementLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementLine
        fields = [
            "id",
            "position",
            "department",
            "department_name",
            "system",
            "system_name",
            "catalog_item",
            "item_code",
            "item_name",
            "unit",
            "resource",
            "quantity",
            "unit_price",
            "price_period",
            "divisor",
            "service_days",
            "amount",
            "segment_start",
            "segment_end",
        ]
        read_only_fields = fields


class BillListSerializer(serializers.ModelSerializer):
    contract = serializers.IntegerField(source="statement.contract_id", read_only=True)
    contract_code = serializers.CharField(source="statement.contract.code", read_only=True)
    year = serializers.IntegerField(source="statement.year", read_only=True)
    month = serializers.IntegerField(source="statement.month", read_only=True)
    period = serializers.CharField(source="statement.period", read_only=True)
    version = serializers.IntegerField(source="statement.version", read_only=True)
    statement_status = serializers.CharField(source="statement.status", read_only=True)

    class Meta:
        model = DepartmentBill
        fields = [
            "id",
            "statement",
            "contract",
            "contract_code",
            "year",
            "month",
            "period",
            "version",
            "statement_status",
            "department",
            "department_name",
            "lines_count",
            "subtotal",
            "total",
            "vat",
            "created_at",
        ]
        read_only_fields = fields


class BillDetailSerializer(BillListSerializer):
    discount = serializers.DecimalField(
        source="statement.discount", max_digits=6, decimal_places=4, read_only=True
    )
    vat_rate = serializers.DecimalField(
        source="statement.vat_rate", max_digits=5, decimal_places=4, read_only=True
    )
    statement_total = serializers.DecimalField(
        source="statement.total", max_digits=14, decimal_places=2, read_only=True
    )
    statement_vat = serializers.DecimalField(
        source="statement.vat", max_digits=14, decimal_places=2, read_only=True
    )
    systems = SystemSubtotalSerializer(many=True, read_only=True)
    document = DocumentSerializer(read_only=True, allow_null=True)

    class Meta(BillListSerializer.Meta):
        fields = [
            *BillListSerializer.Meta.fields,
            "discount",
            "vat_rate",
            "statement_total",
            "statement_vat",
            "systems",
            "document",
        ]
        read_only_fields = fields


# ---------------------------------------------------------------- input serializers


class ReauthSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=ReauthMethod.choices)
    value = serializers.CharField(
        trim_whitespace=False,
        write_only=True,
        help_text=_("当前的动态验证码（6 位）或登录密码。"),
    )


class GenerateSerializer(serializers.Serializer):
    contract = serializers.PrimaryKeyRelatedField(queryset=Contract.objects.none())
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    month = serializers.IntegerField(min_value=1, max_value=12)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Only contracts the user may see can be named; others do not exist for them.
            self.fields["contract"].queryset = contract_list_for_user(user=request.user)


def _signing_passphrase(required: bool = True) -> serializers.CharField:
    return serializers.CharField(
        required=required,
        allow_blank=not required,
        default="" if not required else serializers.empty,
        trim_whitespace=False,
        write_only=True,
        max_length=256,
        style={"input_type": "password"},
        help_text=_(
            "本单位签名密钥的口令（签名密钥口令）：当即以本单位密钥在统计表 PDF 上签名，"
            "平台不保存。"
        )
        if required
        else _("维持乙方统计结果（uphold_vendor）时必填：审计单位签名密钥的口令，平台不保存。"),
    )


class SubmitSerializer(serializers.Serializer):
    reauth = ReauthSerializer()
    signing_passphrase = _signing_passphrase()


class ConfirmSerializer(serializers.Serializer):
    reauth = ReauthSerializer()
    signing_passphrase = _signing_passphrase()
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class DisputeSerializer(serializers.Serializer):
    reauth = ReauthSerializer()
    comment = serializers.CharField(allow_blank=True, help_text=_("异议意见（必填）。"))
    line_ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        default=list,
        help_text=_("有异议的明细 ID（可选）。"),
    )


class CommentInputSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)
    line = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text=_("关联的明细 ID（可选）。")
    )


class DecideSerializer(serializers.Serializer):
    reauth = ReauthSerializer()
    signing_passphrase = _signing_passphrase(required=False)
    decision = serializers.ChoiceField(choices=EscalationDecision.choices)
    comment = serializers.CharField(allow_blank=True, help_text=_("审计意见（必填）。"))


class SupersedeSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text=_("更正原因（必填）。"))


def _reauth(data: dict[str, Any]) -> Reauth:
    return Reauth(method=data["reauth"]["method"], value=data["reauth"]["value"])


def _signing_secret(data: dict[str, Any]) -> SigningSecret:
    # Taken out of the parsed body: nothing that could be logged keeps it.
    return SigningSecret(data.pop("signing_passphrase", ""))


# ---------------------------------------------------------------- statements


@extend_schema_view(get=extend_schema(tags=[TAG_STATEMENTS], summary="统计表列表（各版本）"))
class StatementListApi(ApiView, ListAPIView):
    serializer_class = StatementListSerializer
    filterset_class = StatementFilter
    queryset = Statement.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self) -> QuerySet[Statement]:
        if getattr(self, "swagger_fake_view", False):
            return Statement.objects.none()
        return selectors.statement_list_for_user(user=self.request.user).order_by(
            "-year", "-month", "contract__code", "-version"
        )


class StatementDetailApi(ApiView):
    @extend_schema(
        tags=[TAG_STATEMENTS],
        summary="统计表详情（合计、签认进度、各版本、汇总）",
        responses={200: StatementDetailSerializer, 401: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        return _statement_detail(request, pk)


@extend_schema_view(get=extend_schema(tags=[TAG_STATEMENTS], summary="统计表明细（分页）"))
class StatementLineListApi(ApiView, ListAPIView):
    serializer_class = StatementLineSerializer
    filterset_class = StatementLineFilter
    pagination_class = LinePagination
    queryset = StatementLine.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self) -> QuerySet[StatementLine]:
        if getattr(self, "swagger_fake_view", False):
            return StatementLine.objects.none()
        statement = selectors.statement_get_for_user(user=self.request.user, pk=self.kwargs["pk"])
        return StatementLine.objects.filter(statement=statement).order_by("position")


class StatementGenerateApi(ApiView):
    @extend_schema(
        tags=[TAG_STATEMENTS],
        summary="生成统计表（乙方）：首版、重算草稿或答复异议的新版本",
        request=GenerateSerializer,
        responses={201: StatementDetailSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = parse_body(GenerateSerializer, request)
        statement = services.statement_generate(
            actor=request.user, contract=data["contract"], year=data["year"], month=data["month"]
        )
        return _statement_detail(request, statement.pk, status_code=status.HTTP_201_CREATED)


class _StatementActionApi(ApiView):
    """POST an action on one statement; answers with the statement (or the new version)."""

    input_serializer: ClassVar[type[serializers.Serializer]]
    created: ClassVar[bool] = False

    def post(self, request: Request, pk: int) -> Response:
        statement = selectors.statement_get_for_user(user=request.user, pk=pk)
        data = parse_body(self.input_serializer, request)
        try:
            result = self.perform(request.user, statement, data)
        except InvalidTransition as exc:
            refusal = selectors.explain_refusal(statement, exc)
            if refusal is exc:
                raise
            raise refusal from exc
        target = result.pk if isinstance(result, Statement) else statement.pk
        code = status.HTTP_201_CREATED if self.created else status.HTTP_200_OK
        return _statement_detail(request, target, status_code=code)

    def perform(self, actor: User, statement: Statement, data: dict[str, Any]) -> Any:
        raise NotImplementedError


def _action_schema(summary: str, request: type[serializers.Serializer], code: int = 200) -> Any:
    return extend_schema_view(
        post=extend_schema(
            tags=[TAG_STATEMENTS],
            summary=summary,
            request=request,
            responses={code: StatementDetailSerializer, **ERRORS},
        )
    )


@_action_schema("提交（乙方，需再次验证身份并输入签名密钥口令）", SubmitSerializer)
class StatementSubmitApi(_StatementActionApi):
    input_serializer = SubmitSerializer

    def perform(self, actor, statement, data):
        return services.statement_submit(
            actor=actor,
            statement=statement,
            reauth=_reauth(data),
            signing_passphrase=_signing_secret(data),
        )


@_action_schema("确认（按签认顺序，需再次验证身份并输入签名密钥口令）", ConfirmSerializer)
class StatementConfirmApi(_StatementActionApi):
    input_serializer = ConfirmSerializer

    def perform(self, actor, statement, data):
        return services.statement_confirm(
            actor=actor,
            statement=statement,
            reauth=_reauth(data),
            signing_passphrase=_signing_secret(data),
            comment=data["comment"],
        )


@_action_schema("提出异议（可针对明细，需再次验证身份）", DisputeSerializer)
class StatementDisputeApi(_StatementActionApi):
    input_serializer = DisputeSerializer

    def perform(self, actor, statement, data):
        return services.statement_dispute(
            actor=actor,
            statement=statement,
            reauth=_reauth(data),
            comment=data["comment"],
            line_ids=data["line_ids"],
        )


@_action_schema("留言（可关联明细）", CommentInputSerializer)
class StatementCommentApi(_StatementActionApi):
    input_serializer = CommentInputSerializer

    def perform(self, actor, statement, data):
        services.statement_comment(
            actor=actor, statement=statement, text=data["text"], line_id=data["line"]
        )


@_action_schema("审计结论（审计单位，需再次验证身份）", DecideSerializer)
class StatementDecideApi(_StatementActionApi):
    input_serializer = DecideSerializer

    def perform(self, actor, statement, data):
        return services.statement_decide_escalation(
            actor=actor,
            statement=statement,
            decision=data["decision"],
            comment=data["comment"],
            reauth=_reauth(data),
            signing_passphrase=_signing_secret(data),
        )


@_action_schema("出具更正版本（乙方，针对已签认版本）", SupersedeSerializer, 201)
class StatementSupersedeApi(_StatementActionApi):
    input_serializer = SupersedeSerializer
    created = True

    def perform(self, actor, statement, data):
        return services.statement_supersede(
            actor=actor, signed_statement=statement, reason=data["reason"]
        )


# ---------------------------------------------------------------- bills


@extend_schema_view(get=extend_schema(tags=[TAG_BILLS], summary="使用单位账单列表"))
class BillListApi(ApiView, ListAPIView):
    serializer_class = BillListSerializer
    filterset_class = BillFilter
    queryset = DepartmentBill.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self) -> QuerySet[DepartmentBill]:
        if getattr(self, "swagger_fake_view", False):
            return DepartmentBill.objects.none()
        return selectors.bill_list_for_user(user=self.request.user).order_by(
            "-statement__year", "-statement__month", "statement__contract__code", "department_name"
        )


class BillDetailApi(ApiView):
    @extend_schema(
        tags=[TAG_BILLS],
        summary="账单详情（按业务系统小计、应付金额与增值税）",
        responses={200: BillDetailSerializer, 401: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        bill = selectors.bill_get_for_user(user=request.user, pk=pk)
        groups = selectors.subtotals(selectors.bill_lines(bill))
        bill.systems = groups[0].systems if groups else []
        bill.document = selectors.bill_document(bill)
        context = {
            "request": request,
            "bill_pdf_url": reverse("bill_pdf", kwargs={"pk": bill.pk}),
        }
        return Response(BillDetailSerializer(bill, context=context).data)


@extend_schema_view(get=extend_schema(tags=[TAG_BILLS], summary="账单明细（分页）"))
class BillLineListApi(ApiView, ListAPIView):
    serializer_class = StatementLineSerializer
    filterset_class = StatementLineFilter
    pagination_class = LinePagination
    queryset = StatementLine.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self) -> QuerySet[StatementLine]:
        if getattr(self, "swagger_fake_view", False):
            return StatementLine.objects.none()
        bill = selectors.bill_get_for_user(user=self.request.user, pk=self.kwargs["pk"])
        return selectors.bill_lines(bill)


# ------------------------------------------------------------------ inventory corrections

TAG_CORRECTIONS = "资源清单更正"


class _DiffRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


class _EvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    url = serializers.CharField(help_text=_("下载地址（门户）。"))


class _CitingStatementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    period = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)


class _JointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text=_("open / confirmed / objected。"))
    required_roles = serializers.ListField(child=serializers.CharField())
    round = serializers.IntegerField()


class InventoryCorrectionSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True, help_text=_("更正编号，GZ-合同编号-序号。"))
    contract_code = serializers.CharField(source="contract.code", read_only=True)
    proposed_by = serializers.StringRelatedField()
    diff = _DiffRowSerializer(many=True, read_only=True, help_text=_("更正前 → 更正为。"))
    evidence_files = _EvidenceSerializer(many=True, read_only=True)
    citing_statements = _CitingStatementSerializer(
        many=True, read_only=True, help_text=_("引用本更正的统计表版本。")
    )
    joint_confirmation = _JointSerializer(
        read_only=True,
        allow_null=True,
        help_text=_("会签：确认、异议经 joint-confirmations 接口办理。"),
    )
    available_actions = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=_("当前用户现在可以办理：withdraw。"),
    )

    class Meta:
        model = InventoryCorrection
        fields = [
            "id",
            "number",
            "contract",
            "contract_code",
            "resource",
            "change",
            "adds_change",
            "status",
            "old_values",
            "new_values",
            "diff",
            "reason",
            "months",
            "proposed_by",
            "proposer_role",
            "proposed_at",
            "objected_at",
            "objection",
            "applied_at",
            "withdrawn_at",
            "withdraw_reason",
            "evidence_files",
            "citing_statements",
            "joint_confirmation",
            "available_actions",
        ]
        read_only_fields = fields


class InventoryCorrectionCreateSerializer(serializers.Serializer):
    resource = serializers.IntegerField(help_text=_("要更正的资源 ID（本合同）。"))
    reason = serializers.CharField(allow_blank=True, help_text=_("更正原因（必填）。"))
    evidence = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text=_("证明材料（multipart，可多个，至少一个）。"),
    )
    online_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    billing_starts_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    offline_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    change = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text=_("要更正的配置记录 ID。")
    )
    add_change = serializers.BooleanField(
        required=False, default=False, help_text=_("补录一条漏记的配置变更。")
    )
    change_delivered_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    change_quantity = serializers.IntegerField(required=False, allow_null=True, default=None)
    change_catalog_item = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text=_("目录项 ID。")
    )


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


def _decorate_correction(user: User, correction: InventoryCorrection) -> InventoryCorrection:
    correction.diff = [asdict(row) for row in corrections.correction_diff(correction)]
    correction.evidence_files = [
        {
            "id": f.pk,
            "name": f.name,
            "uploaded_at": f.uploaded_at,
            "url": reverse("inventory_correction_evidence", args=[correction.pk, f.pk]),
        }
        for f in correction.evidence.all()
    ]
    correction.citing_statements = [
        {"id": s.pk, "period": s.period, "version": s.version, "status": s.status, "total": s.total}
        for s in correction.statements.order_by("year", "month", "version")
    ]
    joint = corrections.correction_confirmation(correction)
    correction.joint_confirmation = (
        {
            "id": joint.pk,
            "status": joint.status,
            "required_roles": joint.required_roles,
            "round": joint.round,
        }
        if joint
        else None
    )
    correction.available_actions = sorted(
        corrections.inventory_correction_available_actions(user=user, obj=correction)
    )
    return correction


def _correction_response(request: Request, pk: object, code: int = 200) -> Response:
    correction = selectors.correction_get_for_user(user=request.user, pk=pk)
    data = InventoryCorrectionSerializer(_decorate_correction(request.user, correction)).data
    return Response(data, status=code)


@extend_schema_view(
    get=extend_schema(
        tags=[TAG_CORRECTIONS],
        summary="合同的资源清单更正（分页、可筛选）",
        responses={200: InventoryCorrectionSerializer(many=True), 404: ErrorSerializer},
    )
)
class ContractInventoryCorrectionListApi(ApiView, ListAPIView):
    serializer_class = InventoryCorrectionSerializer
    filterset_class = InventoryCorrectionFilter
    queryset = InventoryCorrection.objects.none()  # for the schema; requests use get_queryset
    parser_classes: ClassVar[list] = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[InventoryCorrection]:
        if getattr(self, "swagger_fake_view", False):
            return InventoryCorrection.objects.none()
        contract = selectors.correction_contract_for_user(
            user=self.request.user, pk=self.kwargs["pk"]
        )
        return (
            selectors.correction_list_for_user(user=self.request.user)
            .filter(contract=contract)
            .prefetch_related("evidence")
            .order_by("-proposed_at", "-pk")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = [_decorate_correction(request.user, c) for c in page]
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    @extend_schema(
        tags=[TAG_CORRECTIONS],
        summary="提出资源清单更正（甲方或乙方，multipart 附证明材料）",
        request={"multipart/form-data": InventoryCorrectionCreateSerializer},
        responses={201: InventoryCorrectionSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        contract = selectors.correction_contract_for_user(user=request.user, pk=pk)
        data = parse_body(InventoryCorrectionCreateSerializer, request)
        resource = selectors.correction_resource_for_user(user=request.user, pk=data["resource"])
        if resource.contract_id != contract.pk:
            raise ApplicationError(_("该资源不属于本合同。"), extra={"field": "resource"})
        correction = corrections.inventory_correction_propose(
            actor=request.user,
            resource=resource,
            reason=data["reason"],
            evidence=data["evidence"],
            data=corrections.CorrectionInput(
                online_at=data["online_at"],
                billing_starts_at=data["billing_starts_at"],
                offline_at=data["offline_at"],
                change_id=data["change"],
                add_change=data["add_change"],
                change_delivered_at=data["change_delivered_at"],
                change_quantity=data["change_quantity"],
                change_catalog_item_id=data["change_catalog_item"],
            ),
        )
        return _correction_response(request, correction.pk, status.HTTP_201_CREATED)


class InventoryCorrectionDetailApi(ApiView):
    @extend_schema(
        tags=[TAG_CORRECTIONS],
        summary="资源清单更正详情（更正前后、证明材料、会签、引用的统计表）",
        responses={200: InventoryCorrectionSerializer, 401: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        return _correction_response(request, pk)


class InventoryCorrectionWithdrawApi(ApiView):
    @extend_schema(
        tags=[TAG_CORRECTIONS],
        summary="撤回资源清单更正（提出方，生效前）",
        request=WithdrawSerializer,
        responses={200: InventoryCorrectionSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        correction = selectors.correction_get_for_user(user=request.user, pk=pk)
        data = parse_body(WithdrawSerializer, request)
        corrections.inventory_correction_withdraw(
            actor=request.user, correction=correction, reason=data["reason"]
        )
        return _correction_response(request, correction.pk)
