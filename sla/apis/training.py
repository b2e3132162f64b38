"""Training sessions: list and detail (read only)."""

from __future__ import annotations

from rest_framework import serializers

from sla import selectors
from sla.apis.common import record_apis
from sla.models import TrainingSession


class TrainingSessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrainingSession
        fields = ["id", "contract", "service_year", "held_on", "topic", "attendees", "status"]
        read_only_fields = fields


TrainingListApi, TrainingDetailApi = record_apis(
    "培训记录",
    TrainingSessionSerializer,
    selectors.training_session_list_for_user,
    TrainingSession,
)
