"""REST API of the core app: the acting user and the contracts (catalogs: ``billing``)."""

from __future__ import annotations

from typing import ClassVar

from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import IsAuthenticated

from govcloud.api_auth import TokenScopePermission
from govcloud.models import Contract, ContractParty, User
from govcloud.selectors import contract_get_for_user, contract_list_for_user


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
