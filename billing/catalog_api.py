"""REST API of a contract's priced catalog (``/api/v1/contracts/{id}/catalog/``)."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.generics import ListAPIView

from billing.models import CatalogItem
from govcloud.selectors import contract_get_for_user


class CatalogItemSerializer(serializers.ModelSerializer):
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
        ]


class ContractCatalogApi(ListAPIView):
    serializer_class = CatalogItemSerializer
    filterset_fields = ["section", "period", "code", "is_active"]
    queryset = CatalogItem.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CatalogItem.objects.none()
        contract = contract_get_for_user(user=self.request.user, pk=self.kwargs["pk"])
        return contract.catalog_items.order_by("sort_order", "code")
