"""REST API of the core app: the acting user and the contracts (catalogs: ``billing``)."""

from __future__ import annotations

from typing import ClassVar

from django.db.models import prefetch_related_objects
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from govcloud.api import ERRORS, ApiView
from govcloud.api_auth import TokenScopePermission
from govcloud.models import Contract, ContractParty, PartyRole, User
from govcloud.selectors import contract_get_for_user, contract_list_for_user
from govcloud.terms import TermDef, contract_terms_json, term_defs


class MeSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name", default=None)
    organization_kind = serializers.CharField(source="organization.kind", default=None)

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
        ]


class ContractListApi(ListAPIView):
    serializer_class = ContractSerializer
    filterset_fields = ["code", "status", "price_period"]

    def get_queryset(self):
        return contract_list_for_user(user=self.request.user)


class ContractDetailApi(RetrieveAPIView):
    serializer_class = ContractSerializer

    def get_object(self):
        return contract_get_for_user(user=self.request.user, pk=self.kwargs["pk"])


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
