"""REST API of the settlement (``/api/v1/``): netted payments, deductions and their
acknowledgement, invoices, funds arrival and the payment clock.

* ``GET contracts/{id}/settlement/`` — the ``manage.py settlement --json`` shape, plus each
  period's deductions (status, notice deadline, what the caller may do), the invoices, the
  payment clocks, the terms they come from, and the caller's actions on the contract.
* ``POST contracts/{id}/payments/`` (bureau), ``contracts/{id}/deductions/`` (bureau),
  ``contracts/{id}/invoices/`` (vendor), ``contracts/{id}/funds-arrivals/`` (bureau).
* ``POST deductions/{id}/{acknowledge|object|withdraw|reissue}/``,
  ``POST invoices/{id}/{confirm|reject}/``.

Only the contract's party staff see any of it (404 otherwise); refusals leave as
``{"message", "extra"}`` (400 / 403 / 409). Money is strings.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from billing import selectors
from billing.management.commands.settlement import settlement_as_json
from billing.models import Deduction, Invoice
from billing.services import invoices as invoice_services
from billing.services import settlement as services
from govcloud.api import ERRORS, ApiView, parse_body
from govcloud.models import Contract, Installment
from govcloud.selectors import get_or_404
from govcloud.terms import cite

TAG = "结算与付款"
SETTLEMENT_TERMS = (
    "settlement_cadence",
    "settlement_month",
    "payment_working_days",
    "invoice_lead_working_days",
    "invoice_not_above_due",
    "deduction_notice_working_days",
    "deduction_needs_vendor_ack",
)


def _contract(user: Any, pk: object) -> Contract:
    return get_or_404(
        Contract.objects.filter(pk__in=selectors.settlement_contract_ids(user)), pk=pk
    )


def _installment(contract: Contract, pk: Any) -> Installment | None:
    if pk in (None, ""):
        return None
    return Installment.objects.filter(contract=contract, pk=pk).first() or Installment(
        contract_id=-1, pk=pk
    )


def _deduction(d: Deduction, user: Any) -> dict[str, Any]:
    return {
        "id": d.pk,
        "notice_number": d.notice_number,
        "period": d.period_label,
        "amount": str(d.amount),
        "reason": d.reason,
        "source": d.source,
        "status": d.status,
        "event_on": d.event_on.isoformat() if d.event_on else None,
        "notice_due": d.notice_due.isoformat() if d.notice_due else None,
        "notice_due_provisional": d.notice_due_provisional,
        "notice_late": d.notice_late,
        "effective_at": d.effective_at.isoformat() if d.effective_at else None,
        "objection": d.objection,
        "reissue_of": d.reissue_of_id,
        "actions": sorted(services.deduction_available_actions(user=user, obj=d)),
    }


def _invoice(i: Invoice, user: Any) -> dict[str, Any]:
    return {
        "id": i.pk,
        "number": i.number,
        "issued_on": i.issued_on.isoformat(),
        "amount": str(i.amount),
        "tax_amount": str(i.tax_amount),
        "vat_rate": str(i.vat_rate),
        "period": i.period_label,
        "installment": i.installment_id,
        "status": i.status,
        "reject_reason": i.reject_reason,
        "actions": sorted(invoice_services.invoice_available_actions(user=user, obj=i)),
    }


def settlement_payload(contract: Contract, user: Any) -> dict[str, Any]:
    state = services.contract_settlement(contract)
    data = settlement_as_json(state)
    for row, summary in zip(data["periods"], state.summaries, strict=True):
        row["key"] = summary.period.key
        row["deductions_detail"] = [_deduction(d, user) for d in summary.deductions]
    data["invoices"] = [
        _invoice(i, user) for i in Invoice.objects.filter(contract=contract).order_by("pk")
    ]
    data["payment_clocks"] = [
        {
            k: (str(v) if v is not None and not isinstance(v, bool | int) else v)
            for k, v in asdict(c).items()
        }
        for c in invoice_services.contract_payment_clocks(contract)
    ]
    data["terms"] = {key: asdict(cite(contract, key)) for key in SETTLEMENT_TERMS}
    data["actions"] = sorted(
        services.settlement_available_actions(user=user, obj=contract)
        | invoice_services.invoice_available_actions(user=user, obj=contract)
    )
    return data


class ContractSettlementApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="合同结算情况（各结算期、已付、已开票、尾款）",
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(settlement_payload(_contract(request.user, pk), request.user))


class SettlementPaymentIn(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid_on = serializers.DateField()
    installment = serializers.IntegerField(required=False, allow_null=True)
    period = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class SettlementDeductionIn(serializers.Serializer):
    period = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    reason = serializers.CharField()
    event_on = serializers.DateField(required=False, allow_null=True)


class SettlementInvoiceIn(serializers.Serializer):
    number = serializers.CharField(max_length=40)
    issued_on = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    tax_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    installment = serializers.IntegerField(required=False, allow_null=True)
    period = serializers.CharField(required=False, allow_blank=True, default="")


class SettlementFundsIn(serializers.Serializer):
    arrived_on = serializers.DateField()
    installment = serializers.IntegerField(required=False, allow_null=True)
    period = serializers.CharField(required=False, allow_blank=True, default="")


class SettlementReasonIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)


class _ContractWrite(ApiView):
    input_serializer: type[serializers.Serializer]

    def post(self, request: Request, pk: int) -> Response:
        contract = _contract(request.user, pk)
        data = parse_body(self.input_serializer, request)
        self.perform(request.user, contract, data)
        return Response(settlement_payload(contract, request.user), status=201)

    def perform(self, user: Any, contract: Contract, data: dict[str, Any]) -> Any:
        raise NotImplementedError


class PaymentRecordApi(_ContractWrite):
    input_serializer = SettlementPaymentIn

    @extend_schema(
        tags=[TAG],
        summary="登记付款（甲方；不得超过实际应付）",
        request=SettlementPaymentIn,
        responses={201: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, user: Any, contract: Contract, data: dict[str, Any]) -> Any:
        return services.payment_record(
            actor=user,
            contract=contract,
            installment=_installment(contract, data.get("installment")),
            amount=data["amount"],
            paid_on=data["paid_on"],
            note=data.get("note", ""),
            period_label=data.get("period", ""),
        )


class DeductionCreateApi(_ContractWrite):
    input_serializer = SettlementDeductionIn

    @extend_schema(
        tags=[TAG],
        summary="录入考核扣款（甲方；需乙方确认的合同为待确认）",
        request=SettlementDeductionIn,
        responses={201: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, user: Any, contract: Contract, data: dict[str, Any]) -> Any:
        return services.deduction_create(
            actor=user,
            contract=contract,
            period_label=data["period"],
            amount=data["amount"],
            reason=data["reason"],
            event_on=data.get("event_on"),
        )


class InvoiceRegisterApi(_ContractWrite):
    input_serializer = SettlementInvoiceIn

    @extend_schema(
        tags=[TAG],
        summary="登记发票（乙方）",
        request=SettlementInvoiceIn,
        responses={201: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, user: Any, contract: Contract, data: dict[str, Any]) -> Any:
        return invoice_services.invoice_register(
            actor=user,
            contract=contract,
            number=data["number"],
            issued_on=data["issued_on"],
            amount=data["amount"],
            tax_amount=data.get("tax_amount"),
            installment=_installment(contract, data.get("installment")),
            period_label=data.get("period", ""),
        )


class FundsArrivalApi(_ContractWrite):
    input_serializer = SettlementFundsIn

    @extend_schema(
        tags=[TAG],
        summary="登记财政拨款到账日（甲方）",
        request=SettlementFundsIn,
        responses={201: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, user: Any, contract: Contract, data: dict[str, Any]) -> Any:
        return invoice_services.funds_arrival_record(
            actor=user,
            contract=contract,
            arrived_on=data["arrived_on"],
            installment=_installment(contract, data.get("installment")),
            period_label=data.get("period", ""),
        )


DEDUCTION_RUNS = {
    "acknowledge": lambda u, d, data: services.deduction_acknowledge(actor=u, deduction=d),
    "object": lambda u, d, data: services.deduction_object(
        actor=u, deduction=d, reason=data.get("reason", "")
    ),
    "withdraw": lambda u, d, data: services.deduction_withdraw(
        actor=u, deduction=d, reason=data.get("reason", "")
    ),
    "reissue": lambda u, d, data: services.deduction_reissue(
        actor=u, deduction=d, amount=data.get("amount"), reason=data.get("reason", "")
    ),
}


class DeductionActionApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="扣款通知：乙方确认/异议，甲方撤回/重新出具",
        request=SettlementReasonIn,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, pk: int, action: str) -> Response:
        deduction = selectors.deduction_get_for_user(user=request.user, pk=pk)
        if action not in DEDUCTION_RUNS:
            raise Http404
        data = parse_body(SettlementReasonIn, request)
        result = DEDUCTION_RUNS[action](request.user, deduction, data)
        return Response(_deduction(result, request.user))


class InvoiceActionApi(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="发票确认/退回（甲方）",
        request=SettlementReasonIn,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, pk: int, action: str) -> Response:
        invoice = selectors.invoice_get_for_user(user=request.user, pk=pk)
        data = parse_body(SettlementReasonIn, request)
        if action == "confirm":
            result = invoice_services.invoice_confirm(actor=request.user, invoice=invoice)
        elif action == "reject":
            result = invoice_services.invoice_reject(
                actor=request.user, invoice=invoice, reason=data.get("reason", "")
            )
        else:
            raise Http404
        return Response(_invoice(result, request.user))
