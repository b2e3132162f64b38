"""The annual scorecard of a service year (live until the bureau finalises it), and what
follows a failing one: rectification, re-score, the 违约金 of 附件2 §11."""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from govcloud.api import ERRORS, ApiView, parse_body
from govcloud.joint import joint_for
from sla.apis.common import TAG, ReasonInSerializer, ReviewInSerializer, contract_of
from sla.models.scorecard import ScorecardRectification, ScorecardRound
from sla.services import scorecard as scorecard_services
from sla.services.common import contract_years


def _card(request: Request, contract_pk: int, year: int):
    """The card of a party's contract and service year (another tenant's: 404)."""
    contract = contract_of(request, contract_pk)
    if year not in {y.label for y in contract_years(contract)}:
        raise Http404
    return scorecard_services.scorecard_for(contract=contract, year=year)


class RoundSerializer(serializers.ModelSerializer):
    total_points = serializers.CharField(source="snapshot.total_points", read_only=True)
    grade = serializers.CharField(source="snapshot.grade", read_only=True)
    grade_label = serializers.CharField(source="snapshot.grade_label", read_only=True)
    money_payable = serializers.CharField(source="snapshot.money_payable", read_only=True)
    rectification = serializers.PrimaryKeyRelatedField(read_only=True)
    penalty_deduction = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ScorecardRound
        fields = [
            "number",
            "finalised_at",
            "total_points",
            "grade",
            "grade_label",
            "money_payable",
            "rectification",
            "settlement",
            "penalty_decision",
            "penalty_amount",
            "penalty_reason",
            "penalty_at",
            "penalty_deduction",
            "snapshot",
        ]
        read_only_fields = fields


class RectificationSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField(help_text="当前待办（含会签状态）。")
    joint_confirmation = serializers.SerializerMethodField(help_text="整改报告会签的 id。")

    class Meta:
        model = ScorecardRectification
        fields = [
            "id",
            "round_number",
            "requirements",
            "status",
            "state",
            "opened_at",
            "report",
            "reported_at",
            "confirmed_at",
            "last_comment",
            "joint_confirmation",
        ]
        read_only_fields = fields

    def get_state(self, obj: ScorecardRectification) -> str:
        return scorecard_services.rectification_state(obj)

    def get_joint_confirmation(self, obj: ScorecardRectification) -> int | None:
        confirmation = joint_for(obj, scorecard_services.REPORT_SUBJECT)
        return confirmation.pk if confirmation else None


def _payload(request: Request, card) -> dict[str, Any]:
    data = scorecard_services.scorecard_data(card)
    penalty = scorecard_services.penalty_offer(card)
    if penalty is not None:
        claimed = penalty.pop("claimed")
        penalty["claimed_round"] = claimed.number if claimed else None
        penalty["waived_rounds"] = [r.number for r in penalty["waived_rounds"]]
    return {
        **data,
        "status": card.status,
        "finalised_at": card.finalised_at,
        "rounds": RoundSerializer(card.round_history, many=True).data,
        "rectifications": RectificationSerializer(
            card.rectifications.order_by("round_number"), many=True
        ).data,
        "penalty": penalty,
        "actions": sorted(
            scorecard_services.rectification_available_actions(user=request.user, obj=card)
        ),
    }


CARD_HELP = (
    "考核表（与 GET 相同）：定稿快照或实时计算，另含 rounds（各轮定稿快照，第1轮为定稿）、"
    "rectifications（不及格整改）、penalty（附件2 §11 违约金：年度总评＜59分时合同总价的10%，"
    "无合同总价时 amount 为 null）与 actions（当前用户可办理的后续操作）。"
)


class ScorecardApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="服务年度考核表（未定稿时为实时计算）",
        description=CARD_HELP,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request, contract_pk: int, year: int) -> Response:
        return Response(_payload(request, _card(request, contract_pk, year)))


class RequirementsInSerializer(serializers.Serializer):
    requirements = serializers.CharField(help_text="整改要求")


class RectificationReportInSerializer(serializers.Serializer):
    report = serializers.CharField()
    document = serializers.FileField(required=False, allow_null=True, default=None)


class RescoreInSerializer(serializers.Serializer):
    ratio = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        required=False,
        allow_null=True,
        default=None,
        help_text="考核结果扣款比例（小数，如 0.05）；不填按等级上限。",
    )


class _CardAction(ApiView):
    """POST one step after finalising on the card; answers with the card (as GET)."""

    input_serializer: ClassVar[type[serializers.Serializer] | None] = None

    def post(self, request: Request, contract_pk: int, year: int) -> Response:
        card = _card(request, contract_pk, year)
        data = parse_body(self.input_serializer, request) if self.input_serializer else {}
        self.perform(request, card, data)
        card.refresh_from_db()
        return Response(_payload(request, card))

    def perform(self, request: Request, card: Any, data: dict[str, Any]) -> None:
        raise NotImplementedError


def _card_action(summary: str, request_serializer: Any = None):
    return extend_schema_view(
        post=extend_schema(
            tags=[TAG],
            summary=summary,
            description=CARD_HELP,
            request=request_serializer,
            responses={200: OpenApiTypes.OBJECT, **ERRORS},
        )
    )


@_card_action("考核不及格：发出整改要求（甲方）", RequirementsInSerializer)
class RectificationOpenApi(_CardAction):
    input_serializer = RequirementsInSerializer

    def perform(self, request, card, data):
        scorecard_services.scorecard_rectification_open(
            actor=request.user, card=card, requirements=data["requirements"]
        )


@_card_action("提交考核整改报告（乙方）", RectificationReportInSerializer)
class RectificationReportApi(_CardAction):
    input_serializer = RectificationReportInSerializer
    parser_classes: ClassVar[list] = [JSONParser, MultiPartParser, FormParser]

    def perform(self, request, card, data):
        scorecard_services.scorecard_rectification_report(
            actor=request.user, card=card, report=data["report"], document=data["document"]
        )


@_card_action("确认或退回考核整改报告（甲方；合同约定会签时经 /joint/ 会签）", ReviewInSerializer)
class RectificationDecideApi(_CardAction):
    input_serializer = ReviewInSerializer

    def perform(self, request, card, data):
        scorecard_services.scorecard_rectification_decide(
            actor=request.user, card=card, accept=data["accept"], comment=data["reason"]
        )


@_card_action("整改确认后再进行评分（甲方，新一轮定稿）", RescoreInSerializer)
class RescoreApi(_CardAction):
    input_serializer = RescoreInSerializer

    def perform(self, request, card, data):
        scorecard_services.scorecard_rescore(actor=request.user, card=card, ratio=data["ratio"])


@_card_action("主张违约金（甲方；合同总价的10%，出具扣款通知）")
class PenaltyClaimApi(_CardAction):
    def perform(self, request, card, data):
        scorecard_services.scorecard_penalty_claim(actor=request.user, card=card)


@_card_action("放弃主张违约金（甲方，须填写原因）", ReasonInSerializer)
class PenaltyWaiveApi(_CardAction):
    input_serializer = ReasonInSerializer

    def perform(self, request, card, data):
        scorecard_services.scorecard_penalty_waive(
            actor=request.user, card=card, reason=data["reason"]
        )
