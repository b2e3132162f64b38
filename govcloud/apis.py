"""REST API of the core app: the acting user and the contracts (catalogs: ``billing``)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from django.db.models import prefetch_related_objects
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from govcloud import lifecycle
from govcloud.api import ERRORS, ApiView
from govcloud.api_auth import TokenScopePermission
from govcloud.dates import business_today
from govcloud.models import Contract, ContractParty, ContractStatus, PartyRole, User
from govcloud.selectors import contract_get_for_user, contract_list_for_user
from govcloud.terms import TermDef, contract_terms_json, term_defs


class MeSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name", default=None, allow_null=True)
    organization_kind = serializers.CharField(
        source="organization.kind", default=None, allow_null=True
    )

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "role", "organization", "organization_kind"]


class MeApi(RetrieveAPIView):
    """The acting user: vendor systems check which account their token belongs to."""

    serializer_class = MeSerializer
    # Anyone signed in may ask who they are, administrators included.
    permission_classes: ClassVar[list] = [IsAuthenticated, TokenScopePermission]

    def get_object(self) -> User:
        return self.request.user


class PartySerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name")

    class Meta:
        model = ContractParty
        fields = ["organization", "role", "is_lead", "review_order", "signoff_order"]


class ContractSerializer(serializers.ModelSerializer):
    parties = PartySerializer(many=True, read_only=True)
    state = serializers.SerializerMethodField(
        help_text="今日的生命周期状态（按日期和条款推算）：draft 待生效、active 履行中、"
        "expiring 即将到期（期满前90天内）、continuation 期满继续服务、closed 已结束、"
        "terminated 已终止。status 为其存储值（每日刷新）。"
    )
    state_label = serializers.SerializerMethodField()
    effective_end = serializers.SerializerMethodField(
        help_text="实际结束日（最后服务日）：提前终止日、后续合同切换日前一日，或期满继续服务"
        "开始后的继续服务截止日；否则为服务期结束日。"
    )
    billing_last_day = serializers.SerializerMethodField(
        help_text="月度统计表计费的最后一日（期满继续服务不计入，费用另行协商）。"
    )
    continuation_deadline = serializers.SerializerMethodField(
        help_text="期满后继续服务的最后一日（按法定工作日）；null = 合同未约定。"
    )
    continuation_provisional = serializers.SerializerMethodField(
        help_text="继续服务截止日所需年度的法定节假日尚未载入，暂按周末计算。"
    )
    predecessor = serializers.CharField(
        source="predecessor.code", default=None, read_only=True, allow_null=True
    )
    successor = serializers.SerializerMethodField(help_text="承接本合同资源的后续合同编号。")

    def _facts(self, obj: Contract) -> lifecycle.Facts:
        cache = self.context.setdefault("_lifecycle_facts", {})
        if obj.pk not in cache:
            cache[obj.pk] = lifecycle.facts_of(obj)
        return cache[obj.pk]

    def _today(self) -> date:
        return self.context.setdefault("_today", business_today())

    @extend_schema_field(serializers.ChoiceField(choices=ContractStatus.choices))
    def get_state(self, obj: Contract) -> str:
        return str(lifecycle.state_on(self._facts(obj), self._today()))

    def get_state_label(self, obj: Contract) -> str:
        return str(ContractStatus(self.get_state(obj)).label)

    @extend_schema_field(serializers.DateField())
    def get_effective_end(self, obj: Contract) -> str:
        return lifecycle.last_service_day(self._facts(obj), self._today()).isoformat()

    @extend_schema_field(serializers.DateField())
    def get_billing_last_day(self, obj: Contract) -> str:
        return lifecycle.billing_last_day(self._facts(obj)).isoformat()

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_continuation_deadline(self, obj: Contract) -> str | None:
        deadline = lifecycle.continuation_deadline(self._facts(obj))
        return deadline.day.isoformat() if deadline else None

    def get_continuation_provisional(self, obj: Contract) -> bool:
        deadline = lifecycle.continuation_deadline(self._facts(obj))
        return bool(deadline and deadline.provisional)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_successor(self, obj: Contract) -> str | None:
        successor = lifecycle.successor_of(obj)
        return successor.code if successor else None

    class Meta:
        model = Contract
        fields = [
            "id",
            "code",
            "name",
            "status",
            "service_start",
            "service_end",
            "billing_from",
            "price_period",
            "proration",
            "partial_day_rule",
            "discount_factor",
            "test_period_months",
            "settlement_cadence",
            "estimated_amount",
            "vat_rate",
            "delivery_working_days",
            "extended_delivery_working_days",
            "parties",
            "state",
            "state_label",
            "activated_at",
            "effective_end",
            "billing_last_day",
            "continuation_deadline",
            "continuation_provisional",
            "predecessor",
            "successor",
            "cutover_on",
            "termination_notice_on",
            "terminates_on",
            "termination_reason",
        ]


class ContractListApi(ListAPIView):
    serializer_class = ContractSerializer
    filterset_fields = ["code", "status", "price_period"]

    def get_queryset(self):
        return contract_list_for_user(user=self.request.user).select_related(
            "predecessor", "successor"
        )


class ContractDetailApi(RetrieveAPIView):
    serializer_class = ContractSerializer

    def get_object(self):
        return contract_get_for_user(user=self.request.user, pk=self.kwargs["pk"])


class ContractActivateApi(ApiView):
    """The bureau puts an onboarded (draft) contract in force (``govcloud.lifecycle``).

    404 for a contract the user cannot see, 403 for anyone but its bureau's staff, 409 when it
    is already in force.
    """

    @extend_schema(
        tags=["合同"],
        summary="启用合同（甲方）",
        request=None,
        responses={200: ContractSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        contract = contract_get_for_user(user=request.user, pk=pk)
        lifecycle.contract_activate(actor=request.user, contract=contract)
        contract = contract_get_for_user(user=request.user, pk=pk)
        return Response(ContractSerializer(contract).data)


# ------------------------------------------------------------------------------ contract terms


@extend_schema_field(
    {
        "type": "string",
        "pattern": f"^({'|'.join(str(r) for r in PartyRole.values)})$",
        "description": "当事方角色："
        + "、".join(f"{value}（{label}）" for value, label in PartyRole.choices),
    }
)
class PartyRoleField(serializers.CharField):
    """A party role. A pattern, not an enum: the schema's enum hook would name one component
    per list of roles (review chain, sign-off order, approvers …) for the same set."""


def _term_schema_field(term: TermDef) -> serializers.Field:
    """How one term appears in ``contract_terms_json`` (for the OpenAPI schema)."""
    help_text = f"{term.label}；null = {term.none_text}"
    if term.kind == "int":
        return serializers.IntegerField(allow_null=True, help_text=help_text)
    if term.kind == "decimal":
        return serializers.CharField(allow_null=True, help_text=f"{help_text}（小数，字符串）")
    if term.kind == "bool":
        return serializers.BooleanField(help_text=str(term.label))
    if term.kind == "choice":
        return serializers.ChoiceField(
            choices=list(term.choices), allow_null=True, help_text=help_text
        )
    if term.kind == "date":
        return serializers.DateField(help_text=str(term.label))
    if term.kind == "mapping":
        return serializers.DictField(
            child=serializers.ListField(child=PartyRoleField()),
            allow_null=True,
            help_text=f"{help_text}（事项 → 当事方角色）",
        )
    # roles and the derived party orders
    return serializers.ListField(child=PartyRoleField(), allow_null=True, help_text=help_text)


class ClauseSerializer(serializers.Serializer):
    clause = serializers.CharField(help_text="条款编号，如“附件2 §2”")
    quote = serializers.CharField(help_text="条款原文摘录")


class InstallmentSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    label = serializers.CharField()
    amount = serializers.CharField(
        allow_null=True, help_text="约定金额（元，字符串）；null = 据实结算"
    )
    condition = serializers.CharField()


ContractTermsSerializer = type(
    "ContractTermsSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "A contract's terms (``manage.py contract_terms CODE --json``).",
        "code": serializers.CharField(),
        "name": serializers.CharField(),
        "service_start": serializers.DateField(),
        "service_end": serializers.DateField(),
        **{term.key: _term_schema_field(term) for term in term_defs()},
        "installments": InstallmentSerializer(many=True),
        "clauses": serializers.DictField(
            child=ClauseSerializer(), help_text="条款项 → 合同出处（只列出有出处的条款项）"
        ),
    },
)


class ContractTermsApi(ApiView):
    """Every term of a contract and the clause it comes from, as ``contract_terms --json``.

    Readable by whoever may read the contract (its parties' staff, the bureau's departments);
    404 for anyone else.
    """

    @extend_schema(
        tags=["合同"],
        summary="合同条款",
        responses={200: ContractTermsSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        contract = contract_get_for_user(user=request.user, pk=pk)
        prefetch_related_objects([contract], "clauses", "installments")
        return Response(contract_terms_json(contract))
