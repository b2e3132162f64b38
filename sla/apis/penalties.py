"""Penalty records: list, detail, the vendor's acknowledgement."""

from __future__ import annotations

from rest_framework import serializers

from sla import selectors
from sla.apis.common import ActionApi, action_schema, record_apis
from sla.models import AreaChoice, Penalty
from sla.services import penalties


class PenaltySerializer(serializers.ModelSerializer):
    # "" until points are deducted (a money-only penalty names no area).
    area = serializers.ChoiceField(choices=AreaChoice.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Penalty
        fields = [
            "id",
            "contract",
            "service_year",
            "occurred_on",
            "reason",
            "clause",
            "amount",
            "points",
            "area",
            "status",
            "acknowledged_at",
        ]
        read_only_fields = fields


PenaltyListApi, PenaltyDetailApi = record_apis(
    "罚则记录", PenaltySerializer, selectors.penalty_list_for_user, Penalty
)


@action_schema("签认罚则记录（乙方）", None, PenaltySerializer)
class PenaltyAcknowledgeApi(ActionApi):
    selector = staticmethod(selectors.penalty_list_for_user)
    output = PenaltySerializer

    def perform(self, request, obj, data):
        penalties.penalty_acknowledge(actor=request.user, penalty=obj)
