"""REST API of a contract's priced catalog (``/api/v1/contracts/{id}/catalog/``), each item
with its dated prices."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.generics import ListAPIView

from billing.models import CatalogItem, CatalogPrice
from govcloud.selectors import contract_get_for_user


class CatalogPriceSerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogPrice
        fields = ["effective_from", "unit_price", "basis"]
        read_only_fields = fields


class CatalogItemSerializer(serializers.ModelSerializer):
    prices = CatalogPriceSerializer(
        many=True,
        read_only=True,
        help_text="单价及其生效日期（自该日起适用）与依据；unit_price 为最新单价。",
    )
    quantity_limit = serializers.IntegerField(
        read_only=True,
        help_text="一条申请明细最多可申请的数量：max_quantity，未设时按计量单位的默认上限。",
    )

    class Meta:
        model = CatalogItem
        fields = [
            "id",
            "code",
            "section",
            "name",
            "spec",
            "unit",
            "unit_price",
            "period",
            "vcpus",
            "memory_gb",
            "is_active",
            "max_quantity",
            "quantity_limit",
            "prices",
        ]


class ContractCatalogApi(ListAPIView):
    serializer_class = CatalogItemSerializer
    filterset_fields = ["section", "period", "code", "is_active"]
    queryset = CatalogItem.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CatalogItem.objects.none()
        contract = contract_get_for_user(user=self.request.user, pk=self.kwargs["pk"])
        return contract.catalog_items.prefetch_related("prices").order_by("sort_order", "code")
