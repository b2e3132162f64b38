"""Satisfaction surveys: list, detail, a department's answer."""

from __future__ import annotations

from rest_framework import serializers

from sla import selectors
from sla.apis.common import ActionApi, action_schema, record_apis
from sla.models import SatisfactionSurvey
from sla.services import surveys


class SurveySerializer(serializers.ModelSerializer):
    class Meta:
        model = SatisfactionSurvey
        fields = ["id", "contract", "service_year", "title", "status", "closes_on", "closed_at"]
        read_only_fields = fields


class ScoreInSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=0, max_value=100)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


SurveyListApi, SurveyDetailApi = record_apis(
    "满意度调查", SurveySerializer, selectors.survey_list_for_user, SatisfactionSurvey
)


@action_schema("填写满意度调查（使用单位）", ScoreInSerializer, SurveySerializer)
class SurveyRespondApi(ActionApi):
    selector = staticmethod(selectors.survey_list_for_user)
    output = SurveySerializer
    input_serializer = ScoreInSerializer

    def perform(self, request, obj, data):
        surveys.survey_respond(
            actor=request.user, survey=obj, score=data["score"], comment=data["comment"]
        )
