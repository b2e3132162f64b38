"""The security-mechanism checklist items: list and detail (read only)."""

from __future__ import annotations

from rest_framework import serializers

from sla import selectors
from sla.apis.common import record_apis
from sla.models import SecurityMechanismItem


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


SecurityItemListApi, SecurityItemDetailApi = record_apis(
    "安全机制考核项",
    SecurityItemSerializer,
    selectors.security_item_list_for_user,
    SecurityMechanismItem,
)
