"""Invoices, the funds-arrival date and the payment clock of a payment node.

A **payment node** is what a payment is due for: a settlement period and/or an installment
(包头: advance, half-year, final; 焦作: the yearly settlement).

* The vendor registers an invoice (number, date, amount incl. VAT, the tax at the contract's
  ``vat_rate``) against a node; the bureau confirms it (or sends it back with a reason).
* ``invoice_not_above_due`` (包头 §7.2.1 "按照确定后的金额开具发票(不得提前或超额开具)"): an
  invoice for a period is refused before the node's condition is met — every month of the
  period signed and no deduction still awaiting the vendor (7.1.3 "核算并确定扣减金额后") — and
  above the amount due. The amount due is netted like payments (``settlement``): a fixed
  installment (the advance) up to its amount; a period up to its payable not yet invoiced, and
  never more than Σ payable up to that period − everything invoiced so far (the advance
  included), so the half-year's invoice is the half-year's payable − the advance and the last
  one the 尾款.
* Payment clock (焦作 §三.2 "收到财政拨款后20个工作日内支付", ``payment_working_days``): the bureau
  records the day the funds for a node arrived; the payment node is that day + N working days.
  The invoice is due ``invoice_lead_working_days`` before the node (§三.3 "付款节点前10个工作日内
  开具"); an invoice dated later postpones payment by the working days it was late ("若乙方开票
  延迟，则甲方付款时间相应顺延"); while no invoice is registered after its due day the delay keeps
  growing up to today. Calendar years not loaded yet count weekends only, flagged provisional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import notifications
from billing.models import FundsArrival, Invoice, InvoiceStatus, Payment
from billing.money import ensure_decimal, format_yuan, quantize_yuan, round_half_up
from billing.services.settlement import (
    _require_bureau,
    _require_vendor,
    contract_settlement,
    find_period,
)
from govcloud.audit import audit_log, model_snapshot
from govcloud.dates import business_today
from govcloud.exceptions import ApplicationError, InvalidTransition
from govcloud.models import Contract, Installment, PartyRole, User
from govcloud.workdays import CalendarYearMissing, add_working_days, working_days_between
from govcloud.workflow import ActionRules, check_transition

__all__ = [
    "PaymentClock",
    "amount_due_for_invoice",
    "contract_payment_clocks",
    "funds_arrival_record",
    "invoice_available_actions",
    "invoice_confirm",
    "invoice_register",
    "invoice_reject",
    "invoice_tax",
    "payment_clock",
]


def invoice_tax(amount: Decimal, vat_rate: Decimal) -> Decimal:
    """The VAT inside a tax-inclusive amount, as on the statements: amount − amount/(1+rate)."""
    return quantize_yuan(amount - round_half_up(amount / (1 + vat_rate), places=2))


# ------------------------------------------------------------------------------ the clock


def _after(day: date, n: int) -> tuple[date, bool]:
    if n <= 0:
        return day, False
    try:
        return add_working_days(day, n), False
    except CalendarYearMissing:
        return add_working_days(day, n, provisional=True), True


def _between(a: date, b: date) -> tuple[int, bool]:
    try:
        return working_days_between(a, b), False
    except CalendarYearMissing:
        return working_days_between(a, b, provisional=True), True


@dataclass(frozen=True)
class PaymentClock:
    period_label: str
    installment_id: int | None
    arrived_on: date
    node_due: date  # funds + payment_working_days
    invoice_due: date | None  # node − invoice_lead_working_days
    invoiced_on: date | None  # the last invoice for the node (not rejected)
    delay_working_days: int  # invoice lateness, postpones the payment
    payment_due: date
    paid: Decimal
    overdue: bool  # past the payment due day and less paid than invoiced for the node
    provisional: bool


def _node(installment_id: int | None) -> dict[str, Any]:
    if installment_id is None:
        return {"installment__isnull": True}
    return {"installment_id": installment_id}


def _node_invoices(contract: Contract, period_label: str, installment_id: int | None) -> Any:
    return Invoice.objects.filter(
        contract=contract, period_label=period_label, **_node(installment_id)
    ).exclude(status=InvoiceStatus.REJECTED)


def payment_clock(
    contract: Contract, arrival: FundsArrival, *, today: date | None = None
) -> PaymentClock | None:
    """The node's payment clock; None where the contract sets no payment term."""
    days = contract.payment_working_days
    if not days:
        return None
    today = today or business_today()
    node_due, p1 = _after(arrival.arrived_on, days)
    lead = contract.invoice_lead_working_days or 0
    invoice_due: date | None = None
    invoiced_on: date | None = None
    delay, p2, p3 = 0, False, False
    if lead:
        invoice_due, p2 = _after(arrival.arrived_on, max(days - lead, 0))
        last = (
            _node_invoices(contract, arrival.period_label, arrival.installment_id)
            .order_by("-issued_on")
            .values_list("issued_on", flat=True)
            .first()
        )
        invoiced_on = last
        until = last if last is not None else today
        if until > invoice_due:
            delay, p3 = _between(invoice_due, until)
    payment_due, p4 = _after(node_due, delay)
    invoiced = sum(
        (i.amount for i in _node_invoices(contract, arrival.period_label, arrival.installment_id)),
        Decimal(0),
    )
    paid = quantize_yuan(
        sum(
            (
                p.amount
                for p in Payment.objects.filter(
                    contract=contract,
                    period_label=arrival.period_label,
                    **_node(arrival.installment_id),
                )
            ),
            Decimal(0),
        )
    )
    return PaymentClock(
        period_label=arrival.period_label,
        installment_id=arrival.installment_id,
        arrived_on=arrival.arrived_on,
        node_due=node_due,
        invoice_due=invoice_due,
        invoiced_on=invoiced_on,
        delay_working_days=delay,
        payment_due=payment_due,
        paid=paid,
        overdue=today > payment_due and paid < invoiced,
        provisional=p1 or p2 or p3 or p4,
    )


def contract_payment_clocks(contract: Contract, *, today: date | None = None) -> list[PaymentClock]:
    clocks = (
        payment_clock(contract, a, today=today)
        for a in FundsArrival.objects.filter(contract=contract).order_by("arrived_on", "pk")
    )
    return [c for c in clocks if c is not None]


# ---------------------------------------------------------------------------- invoices


def _check_confirm(user: Any, invoice: Invoice) -> None:
    _require_bureau(user, invoice.contract)
    if invoice.status != InvoiceStatus.REGISTERED:
        raise InvalidTransition(
            _("发票当前状态为「%(s)s」，不能办理此操作。") % {"s": invoice.get_status_display()}
        )


INVOICE_ACTIONS = ActionRules({"confirm": _check_confirm, "reject": _check_confirm})
CONTRACT_ACTIONS = ActionRules(
    {"invoice_register": _require_vendor, "funds_arrival_record": _require_bureau}
)


def invoice_available_actions(*, user: Any, obj: Invoice | Contract) -> frozenset[str]:
    """On an invoice: ``confirm`` / ``reject`` (the bureau, while registered). On a contract:
    ``invoice_register`` (the vendor), ``funds_arrival_record`` (the bureau)."""
    if isinstance(obj, Contract):
        return CONTRACT_ACTIONS.available(user, obj)
    return INVOICE_ACTIONS.available(user, obj)


def amount_due_for_invoice(
    contract: Contract, *, installment: Installment | None, period_label: str
) -> Decimal:
    """What may still be invoiced for the node (``invoice_not_above_due``); raises when the
    node's condition is not met yet."""
    invoices = list(
        Invoice.objects.filter(contract=contract).exclude(status=InvoiceStatus.REJECTED)
    )
    if installment is not None and installment.amount is not None:
        done = sum((i.amount for i in invoices if i.installment_id == installment.pk), Decimal(0))
        return quantize_yuan(installment.amount - done)
    state = contract_settlement(contract)
    summary = state.summary(period_label)
    if summary is None:
        raise ApplicationError(_("结算期无效。"), extra={"field": "period_label"})
    if not summary.fully_signed:
        raise ApplicationError(
            _("该结算期还有 %(n)s 个月的统计表未签认，不得提前开具发票。")
            % {"n": summary.unsigned_months},
            extra={"field": "period_label"},
        )
    if summary.has_open_deductions:
        raise ApplicationError(
            _("该结算期有待乙方确认的考核扣款，扣减金额确定后方可开具发票。"),
            extra={"field": "period_label"},
        )
    own = summary.payable - sum(
        (i.amount for i in invoices if i.period_label == period_label), Decimal(0)
    )
    if summary.period.index < len(state.summaries):
        return quantize_yuan(max(own, Decimal(0)))
    netted = state.payable_total - sum((i.amount for i in invoices), Decimal(0))
    return quantize_yuan(max(min(own, netted), Decimal(0)))


@transaction.atomic
def invoice_register(
    *,
    actor: User,
    contract: Contract,
    number: str,
    issued_on: date,
    amount: Any,
    installment: Installment | None = None,
    period_label: str = "",
    tax_amount: Any = None,
) -> Invoice:
    """The vendor registers an invoice for a payment node (module docstring for the rules)."""
    CONTRACT_ACTIONS.require("invoice_register", actor, contract)
    Contract.objects.select_for_update().get(pk=contract.pk)
    number = (number or "").strip()
    if not number:
        raise ApplicationError(_("请填写发票号码。"), extra={"field": "number"})
    if installment is not None and installment.contract_id != contract.pk:
        raise ApplicationError(_("付款期次不属于本合同。"), extra={"field": "installment"})
    if period_label:
        find_period(contract, period_label)
    if installment is None and not period_label:
        raise ApplicationError(
            _("请选择发票对应的结算期或付款期次。"), extra={"field": "period_label"}
        )
    if installment is not None and installment.amount is None and not period_label:
        raise ApplicationError(
            _("按结算金额确定的付款期次须同时选择结算期。"), extra={"field": "period_label"}
        )
    if issued_on > business_today():
        raise ApplicationError(_("开票日期不能晚于今天。"), extra={"field": "issued_on"})
    try:
        value = ensure_decimal(amount, "amount")
    except (TypeError, ValueError):
        raise ApplicationError(_("金额无效。"), extra={"field": "amount"}) from None
    if value <= 0 or value != quantize_yuan(value):
        raise ApplicationError(_("金额必须为正数，最多两位小数。"), extra={"field": "amount"})
    tax = invoice_tax(value, contract.vat_rate)
    if tax_amount not in (None, ""):
        try:
            raw = Decimal(tax_amount) if isinstance(tax_amount, str) else tax_amount
            given = ensure_decimal(raw, "tax_amount")
        except (TypeError, ValueError, InvalidOperation):
            raise ApplicationError(_("税额无效。"), extra={"field": "tax_amount"}) from None
        if abs(given - tax) > Decimal("0.01"):
            raise ApplicationError(
                _("税额应为 %(t)s（税率 %(r)s，价税合计 %(a)s）。")
                % {"t": format_yuan(tax), "r": contract.vat_rate, "a": format_yuan(value)},
                extra={"field": "tax_amount"},
            )
        tax = quantize_yuan(given)
    if (
        Invoice.objects.filter(contract=contract, number=number)
        .exclude(status=InvoiceStatus.REJECTED)
        .exists()
    ):
        raise ApplicationError(_("该发票号码已登记。"), extra={"field": "number"})
    if contract.invoice_not_above_due:
        due = amount_due_for_invoice(contract, installment=installment, period_label=period_label)
        if value > due:
            raise ApplicationError(
                _("发票金额 %(a)s 超过该付款节点应付未开票金额 %(d)s，不得超额开具。")
                % {"a": format_yuan(value), "d": format_yuan(due)},
                extra={"field": "amount", "due": str(due)},
            )
    invoice = Invoice(
        contract=contract,
        number=number,
        issued_on=issued_on,
        amount=value,
        tax_amount=tax,
        vat_rate=contract.vat_rate,
        installment=installment,
        period_label=period_label or "",
        registered_by=actor,
        registered_at=timezone.now(),
    )
    invoice.full_clean()
    invoice.save()
    audit_log(
        actor=actor,
        action="invoice.register",
        obj=invoice,
        after=model_snapshot(invoice),
        contract=contract,
    )
    notifications.notify_settlement(
        contract,
        f"invoice:{invoice.pk}:registered",
        (PartyRole.BUREAU,),
        _("乙方已登记发票 %(n)s") % {"n": number},
        _("发票号码 %(n)s，开票日期 %(d)s，价税合计 %(a)s（税额 %(t)s），请核对后确认。")
        % {"n": number, "d": issued_on, "a": format_yuan(value), "t": format_yuan(tax)},
    )
    return invoice


def _decide(actor: User, invoice: Invoice, action: str, target: str, reason: str = "") -> Invoice:
    invoice = Invoice.objects.select_for_update().select_related("contract").get(pk=invoice.pk)
    INVOICE_ACTIONS.require(action, actor, invoice)
    before = model_snapshot(invoice)
    check_transition(
        Invoice.TRANSITIONS,
        current=invoice.status,
        target=target,
        labels=dict(InvoiceStatus.choices),
    )
    invoice.status = target
    invoice.decided_by = actor
    invoice.decided_at = timezone.now()
    invoice.reject_reason = reason
    invoice.save(update_fields=["status", "decided_by", "decided_at", "reject_reason"])
    audit_log(
        actor=actor,
        action=f"invoice.{action}",
        obj=invoice,
        before=before,
        after=model_snapshot(invoice),
        contract=invoice.contract,
    )
    notifications.notify_settlement(
        invoice.contract,
        f"invoice:{invoice.pk}:{action}",
        (PartyRole.VENDOR,),
        _("发票 %(n)s %(s)s") % {"n": invoice.number, "s": invoice.get_status_display()},
        reason or _("甲方已确认收到发票。"),
    )
    return invoice


@transaction.atomic
def invoice_confirm(*, actor: User, invoice: Invoice) -> Invoice:
    return _decide(actor, invoice, "confirm", InvoiceStatus.CONFIRMED)


@transaction.atomic
def invoice_reject(*, actor: User, invoice: Invoice, reason: str) -> Invoice:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写退回原因。"), extra={"field": "reason"})
    return _decide(actor, invoice, "reject", InvoiceStatus.REJECTED, reason)


@transaction.atomic
def funds_arrival_record(
    *,
    actor: User,
    contract: Contract,
    arrived_on: date,
    period_label: str = "",
    installment: Installment | None = None,
) -> FundsArrival:
    """The bureau records the day the fiscal funds for a node arrived (starts the clock)."""
    CONTRACT_ACTIONS.require("funds_arrival_record", actor, contract)
    if installment is not None and installment.contract_id != contract.pk:
        raise ApplicationError(_("付款期次不属于本合同。"), extra={"field": "installment"})
    if period_label:
        find_period(contract, period_label)
    if installment is None and not period_label:
        raise ApplicationError(_("请选择结算期或付款期次。"), extra={"field": "period_label"})
    if arrived_on > business_today():
        raise ApplicationError(_("到账日期不能晚于今天。"), extra={"field": "arrived_on"})
    if FundsArrival.objects.filter(
        contract=contract, period_label=period_label or "", installment=installment
    ).exists():
        raise ApplicationError(_("该付款节点的拨款到账日已登记。"), extra={"field": "period_label"})
    arrival = FundsArrival(
        contract=contract,
        period_label=period_label or "",
        installment=installment,
        arrived_on=arrived_on,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    arrival.full_clean()
    arrival.save()
    audit_log(
        actor=actor,
        action="funds_arrival.record",
        obj=arrival,
        after=model_snapshot(arrival),
        contract=contract,
    )
    clock = payment_clock(contract, arrival)
    if clock is not None:
        lead = (
            _("请于 %(d)s 前开具发票（逾期开票，付款时间相应顺延）。") % {"d": clock.invoice_due}
            if clock.invoice_due
            else ""
        )
        notifications.notify_settlement(
            contract,
            f"funds:{arrival.pk}",
            (PartyRole.VENDOR, PartyRole.BUREAU),
            _("财政拨款已到账"),
            _("拨款到账日 %(a)s，付款期限 %(p)s%(t)s。%(l)s")
            % {
                "a": arrival.arrived_on,
                "p": clock.payment_due,
                "t": notifications.term_text(contract, "payment_working_days"),
                "l": lead,
            },
        )
    return arrival
