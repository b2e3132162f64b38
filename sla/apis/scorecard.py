"""The annual scorecard of a service year (live until the bureau finalises it)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from govcloud.api import ERRORS, ApiView
from sla.apis.common import TAG, contract_of
from sla.services import scorecard as scorecard_services
from sla.services.common import contract_years


class ScorecardApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="服务年度考核表（未定稿时为实时计算）",
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request, contract_pk: int, year: int) -> Response:
        contract = contract_of(request, contract_pk)
        if year not in {y.label for y in contract_years(contract)}:
            raise Http404
        card = scorecard_services.scorecard_for(contract=contract, year=year)
        data = scorecard_services.scorecard_data(card)
        return Response({**data, "status": card.status, "finalised_at": card.finalised_at})
