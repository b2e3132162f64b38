"""Settlement: what the bureau owes per settlement period, deductions, payments, budget burn.

包头 §7.1.3: "实际支付费用 = 月度服务费之和 - 服务要求考核扣款" — the payable amount of a period is
the sum of its signed monthly statements minus the SLA deductions, the deductions capped at
that sum (DESIGN §4: "deductions capped at the period's fees"). Which months a period settles
is ``billing.periods.months_of_period`` (the period holding the month's last billed day).

**Payments are netted** (包头 §7.2.1; DESIGN §4): the contract-wide balance (尾款) is Σ payable
of every period − Σ paid (the advance included). Reading of the three BT installments, literally:
第一次 ¥1,000,000 "签订合同后" — before any statement exists — so a payment against an
installment with a **fixed amount** is refused only above that amount (a prepayment); 第二次
"根据半年的服务资源用量核算金额…据实结算并付款" — a payment against a period that is not the
last one is refused above that period's payable not yet paid against it (the advance is not
taken off here); 第三次 "合同尾款金额=实际支付费用-已支付金额" — a payment against the **last**
period (the final settlement), or against no period at all, is refused when Σ paid (the advance
included) would exceed Σ payable: that is where the advance is netted. If the advance exceeds
everything payable, the 尾款 is negative (the vendor was paid ahead) and no further payment is
accepted.

**Deductions** (包头 §7.1.2 "甲方需在10个工作日内出具书面通知书，乙方签字确认后生效"): on a
contract with ``deduction_needs_vendor_ack`` a deduction is entered *pending*, with a written
notice due within ``deduction_notice_working_days`` of the event it rests on (entered later =
``notice_late``, the bureau is warned); the vendor acknowledges it (effective from then) or
objects with a reason, and the bureau then withdraws it or re-issues it (a new pending notice).
Without the term a deduction is effective on entry. Payable counts effective deductions only.

Budget burn and forecast are contract-wide: signed to date against ``estimated_amount``. The
forecast extrapolates the signed months' **daily** rate (Σ signed totals / Σ their billed days)
over the billed days of every month not signed yet, up to the service end — a daily rate
rather than a monthly average, because the first and last months of a contract are partial
(包头 starts on 06-20) and would drag a per-month average down.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import notifications, periods
from billing.models import (
    Deduction,
    DeductionSource,
    DeductionStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    Statement,
    StatementStatus,
)
from billing.money import ensure_decimal, format_yuan, quantize_yuan, round_half_up
from billing.periods import SettlementPeriod
from govcloud.access import party_role_of, require_staff
from govcloud.audit import audit_log, model_snapshot
from govcloud.dates import business_date, business_today
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.joint import JOINT_ACTIONS, joint_confirm, joint_for, joint_object, joint_open
from govcloud.lifecycle import contract_billing_last_day
from govcloud.models import (
    Contract,
    Installment,
    JointConfirmation,
    JointConfirmationEntry,
    JointSubject,
    PartyRole,
    User,
)
from govcloud.workdays import CalendarYearMissing, add_working_days
from govcloud.workflow import ActionRules, check_transition

__all__ = [
    "ContractSettlement",
    "InstallmentStatus",
    "MonthTotal",
    "Summary",
    "contract_settlement",
    "contract_settlement_periods",
    "deduction_acknowledge",
    "deduction_available_actions",
    "deduction_create",
    "deduction_object",
    "deduction_reissue",
    "deduction_withdraw",
    "payment_record",
    "settlement_available_actions",
    "settlement_summary",
]

ZERO = Decimal("0.00")


def contract_settlement_periods(contract: Contract) -> list[SettlementPeriod]:
    return periods.settlement_periods(
        cadence=contract.settlement_cadence,
        billing_from=contract.billing_from,
        service_start=contract.service_start,
        service_end=contract.service_end,
        settlement_month=contract.settlement_month,
    )


def find_period(contract: Contract, key: str) -> SettlementPeriod:
    found = next((p for p in contract_settlement_periods(contract) if p.key == key), None)
    if found is None:
        raise ApplicationError(_("结算期无效。"), extra={"field": "period_label"})
    return found


@dataclass(frozen=True)
class MonthTotal:
    """One month of a period: its signed statement's total, or None while not signed."""

    year: int
    month: int
    statement_id: int | None
    version: int | None
    status: str | None
    signed_total: Decimal | None

    @property
    def period(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class InstallmentStatus:
    installment_id: int
    sequence: int
    label: str
    amount: Decimal | None
    paid: Decimal


@dataclass(frozen=True)
class Summary:
    """A settlement period's figures, plus the contract-wide payments and budget burn."""

    contract: str
    period: SettlementPeriod
    months: list[MonthTotal]
    signed_total: Decimal
    unsigned_months: int
    deductions: list[Deduction]
    deductions_total: Decimal  # effective deductions entered (before the cap)
    deductions_applied: Decimal  # effective, capped at the signed total
    deductions_pending: Decimal  # notified, not yet acknowledged (or objected): not deducted
    payable: Decimal
    paid: Decimal  # payments recorded against this period (the advance is against none)
    balance: Decimal  # payable − paid against this period
    invoiced: Decimal  # invoices (not rejected) against this period
    installments: list[InstallmentStatus]
    unassigned_paid: Decimal
    paid_total: Decimal
    estimated_amount: Decimal | None
    signed_to_date: Decimal
    burn_ratio: Decimal | None  # signed to date / estimated amount, e.g. 0.4321
    forecast_total: Decimal
    forecast_method: str

    @property
    def fully_signed(self) -> bool:
        return self.unsigned_months == 0 and bool(self.months)

    @property
    def has_open_deductions(self) -> bool:
        return any(
            d.status in (DeductionStatus.PENDING, DeductionStatus.OBJECTED) for d in self.deductions
        )


@dataclass(frozen=True)
class ContractSettlement:
    """Every period of the contract, and the contract-wide netting (尾款)."""

    contract: Contract
    summaries: list[Summary]
    payable_total: Decimal
    paid_total: Decimal
    invoiced_total: Decimal
    balance: Decimal  # 尾款 = Σ payable − Σ paid (negative = paid ahead, e.g. the advance)

    def summary(self, key: str) -> Summary | None:
        return next((s for s in self.summaries if s.period.key == key), None)


def _signed_by_month(contract: Contract) -> dict[tuple[int, int], Statement]:
    """The valid signed version of each month (at most one: a DB constraint)."""
    return {
        (s.year, s.month): s
        for s in Statement.objects.filter(contract=contract, status=StatementStatus.SIGNED)
    }


def _latest_by_month(contract: Contract) -> dict[tuple[int, int], Statement]:
    latest: dict[tuple[int, int], Statement] = {}
    for statement in Statement.objects.filter(contract=contract).order_by("version"):
        latest[(statement.year, statement.month)] = statement
    return latest


def _sum(values: Any) -> Decimal:
    return sum(values, Decimal(0))


class _Facts:
    """The contract's rows read once, for every period's figures."""

    def __init__(self, contract: Contract) -> None:
        self.signed = _signed_by_month(contract)
        self.latest = _latest_by_month(contract)
        self.deductions: dict[str, list[Deduction]] = defaultdict(list)
        for d in Deduction.objects.filter(contract=contract).order_by("created_at", "pk"):
            self.deductions[d.period_label].append(d)
        self.payments = list(Payment.objects.filter(contract=contract))
        self.invoices = list(
            Invoice.objects.filter(contract=contract).exclude(status=InvoiceStatus.REJECTED)
        )
        self.installments = list(Installment.objects.filter(contract=contract).order_by("sequence"))


def _summaries(contract: Contract, wanted: list[SettlementPeriod], facts: _Facts) -> list[Summary]:
    window = periods.months_in_window(
        billing_from=contract.billing_from, service_end=contract.service_end
    )
    paid_by_installment: dict[int, Decimal] = defaultdict(Decimal)
    for p in facts.payments:
        if p.installment_id is not None:
            paid_by_installment[p.installment_id] += p.amount
    installments = [
        InstallmentStatus(
            installment_id=i.pk,
            sequence=i.sequence,
            label=i.label,
            amount=i.amount,
            paid=paid_by_installment.get(i.pk, Decimal(0)),
        )
        for i in facts.installments
    ]
    unassigned_paid = _sum(p.amount for p in facts.payments if p.installment_id is None)
    paid_total = _sum(p.amount for p in facts.payments)
    signed_to_date = _sum(s.total for s in facts.signed.values())
    estimated = contract.estimated_amount
    burn = round_half_up(signed_to_date / estimated, places=4) if estimated else None
    forecast = _forecast(contract, window, facts.signed, signed_to_date)

    rows = []
    for period in wanted:
        settled = periods.months_of_period(
            period, billing_from=contract.billing_from, service_end=contract.service_end
        )
        months: list[MonthTotal] = []
        for year, month in settled:
            statement = facts.signed.get((year, month)) or facts.latest.get((year, month))
            months.append(
                MonthTotal(
                    year=year,
                    month=month,
                    statement_id=statement.pk if statement else None,
                    version=statement.version if statement else None,
                    status=statement.status if statement else None,
                    signed_total=(
                        facts.signed[(year, month)].total if (year, month) in facts.signed else None
                    ),
                )
            )
        signed_total = _sum(m.signed_total for m in months if m.signed_total is not None)
        deductions = facts.deductions.get(period.key, [])
        effective = _sum(d.amount for d in deductions if d.status == DeductionStatus.EFFECTIVE)
        pending = _sum(
            d.amount
            for d in deductions
            if d.status in (DeductionStatus.PENDING, DeductionStatus.OBJECTED)
        )
        applied = min(effective, signed_total)
        rows.append((period, months, signed_total, deductions, effective, pending, applied))

    payable_of = {r[0].key: quantize_yuan(r[2] - r[6]) for r in rows}
    paid_of = {
        key: _sum(p.amount for p in facts.payments if p.period_label == key) for key in payable_of
    }

    result = []
    for period, months, signed_total, deductions, effective, pending, applied in rows:
        payable = payable_of[period.key]
        paid = quantize_yuan(paid_of[period.key])
        result.append(
            Summary(
                contract=contract.code,
                period=period,
                months=months,
                signed_total=quantize_yuan(signed_total),
                unsigned_months=sum(1 for m in months if m.signed_total is None),
                deductions=deductions,
                deductions_total=quantize_yuan(effective),
                deductions_applied=quantize_yuan(applied),
                deductions_pending=quantize_yuan(pending),
                payable=payable,
                paid=paid,
                balance=quantize_yuan(payable - paid),
                invoiced=quantize_yuan(
                    _sum(i.amount for i in facts.invoices if i.period_label == period.key)
                ),
                installments=installments,
                unassigned_paid=quantize_yuan(unassigned_paid),
                paid_total=quantize_yuan(paid_total),
                estimated_amount=estimated,
                signed_to_date=quantize_yuan(signed_to_date),
                burn_ratio=burn,
                forecast_total=forecast,
                forecast_method=_(
                    "已签认月份的日均费用 × 未签认月份（至服务期末）的计费天数 + 已签认金额"
                ),
            )
        )
    return result


def settlement_summary(contract: Contract, period: SettlementPeriod | str) -> Summary:
    """The settlement of ``period`` (a ``SettlementPeriod`` or its key)."""
    if isinstance(period, str):
        try:
            period = find_period(contract, period)
        except ApplicationError:
            raise ApplicationError(_("结算期无效。"), extra={"field": "period"}) from None
    found = contract_settlement(contract).summary(period.key)
    if found is None:
        raise ApplicationError(_("结算期无效。"), extra={"field": "period"})
    return found


def contract_settlement(contract: Contract) -> ContractSettlement:
    """Every period of the contract and the contract-wide 尾款 (Σ payable − Σ paid)."""
    facts = _Facts(contract)
    summaries = _summaries(contract, contract_settlement_periods(contract), facts)
    payable_total = quantize_yuan(_sum(s.payable for s in summaries))
    paid_total = quantize_yuan(_sum(p.amount for p in facts.payments))
    return ContractSettlement(
        contract=contract,
        summaries=summaries,
        payable_total=payable_total,
        paid_total=paid_total,
        invoiced_total=quantize_yuan(_sum(i.amount for i in facts.invoices)),
        balance=quantize_yuan(payable_total - paid_total),
    )


def _forecast(
    contract: Contract,
    window: list[tuple[int, int]],
    signed: dict[tuple[int, int], Statement],
    signed_to_date: Decimal,
) -> Decimal:
    # "To the end" is the effective end (``govcloud.lifecycle``): the termination date or the
    # day before a successor's cutover when earlier than the service end; continuation days
    # are not billed. Months after it forecast nothing.
    end = contract_billing_last_day(contract)

    def days(year: int, month: int) -> int:
        return periods.billed_days_in_month(
            year, month, billing_from=contract.billing_from, service_end=end
        )

    signed_days = sum(days(y, m) for (y, m) in signed)
    remaining_days = sum(days(y, m) for (y, m) in window if (y, m) not in signed)
    if not signed_days:
        return quantize_yuan(signed_to_date)
    rate = Fraction(signed_to_date) / signed_days
    projected = Fraction(signed_to_date) + rate * remaining_days
    return quantize_yuan(Decimal(projected.numerator) / Decimal(projected.denominator))


# ------------------------------------------------------------------------------- writes


def _require_bureau(actor: Any, contract: Contract) -> None:
    """The contract's bureau staff record deductions and payments."""
    require_staff(actor)
    bureau = contract.parties_with_role(PartyRole.BUREAU)
    if not bureau or bureau[0].organization_id != actor.organization_id:
        raise ActionForbidden(_("只有本合同的甲方可以办理此操作。"))


def _require_vendor(actor: Any, contract: Contract) -> None:
    require_staff(actor)
    if party_role_of(actor, contract) != PartyRole.VENDOR:
        raise ActionForbidden(_("只有本合同的乙方可以办理此操作。"))


SETTLEMENT_ACTIONS = ActionRules(
    {"deduction_create": _require_bureau, "payment_record": _require_bureau}
)


def settlement_available_actions(*, user: Any, obj: Contract) -> frozenset[str]:
    """What ``user`` may record on the contract's settlement now: ``deduction_create``,
    ``payment_record`` (reads ``obj.parties``)."""
    return SETTLEMENT_ACTIONS.available(user, obj)


def _in_state(deduction: Deduction, *states: str) -> None:
    if deduction.status not in states:
        raise InvalidTransition(
            _("扣款当前状态为「%(s)s」，不能办理此操作。") % {"s": deduction.get_status_display()},
            extra={"status": deduction.status},
        )


ACK = JointSubject.DEDUCTION_ACKNOWLEDGEMENT


def _check_ack(user: Any, deduction: Deduction) -> None:
    _require_vendor(user, deduction.contract)
    _in_state(deduction, DeductionStatus.PENDING)
    confirmation = joint_for(deduction, ACK)
    if confirmation is not None:
        JOINT_ACTIONS.require("confirm", user, confirmation)


def _check_withdraw(user: Any, deduction: Deduction) -> None:
    _require_bureau(user, deduction.contract)
    _in_state(deduction, DeductionStatus.OBJECTED)


DEDUCTION_ACTIONS = ActionRules(
    {
        "acknowledge": _check_ack,
        "object": _check_ack,
        "withdraw": _check_withdraw,
        "reissue": _check_withdraw,
    }
)


def deduction_available_actions(*, user: Any, obj: Deduction) -> frozenset[str]:
    """``acknowledge`` / ``object`` (the vendor, while pending); ``withdraw`` / ``reissue`` (the
    bureau, after an objection)."""
    return DEDUCTION_ACTIONS.available(user, obj)


def _amount(value: Any) -> Decimal:
    try:
        amount = ensure_decimal(value, "amount")
    except (TypeError, ValueError):
        raise ApplicationError(_("金额无效。"), extra={"field": "amount"}) from None
    if amount <= 0 or amount != quantize_yuan(amount):
        raise ApplicationError(_("金额必须为正数，最多两位小数。"), extra={"field": "amount"})
    return amount


def _working_day_after(day: date, n: int) -> tuple[date, bool]:
    """(the n-th working day after ``day``, provisional) — weekends only for a year with no
    loaded calendar, flagged provisional (DESIGN §3)."""
    try:
        return add_working_days(day, n), False
    except CalendarYearMissing:
        return add_working_days(day, n, provisional=True), True


def _set_status(deduction: Deduction, target: str) -> None:
    check_transition(
        Deduction.TRANSITIONS,
        current=deduction.status,
        target=target,
        labels=dict(DeductionStatus.choices),
    )
    deduction.status = target


def _notify_deduction(deduction: Deduction, event: str) -> None:
    contract = deduction.contract
    notice = notifications.term_text(contract, "deduction_needs_vendor_ack")
    texts = {
        "notice": (
            (PartyRole.VENDOR, PartyRole.BUREAU),
            _("考核扣款书面通知书 %(n)s") % {"n": deduction.notice_number},
            _(
                "甲方出具考核扣款通知：%(p)s 扣款 %(a)s，原因：%(r)s。请签字确认或提出异议，"
                "确认后生效%(t)s。"
            )
            % {
                "p": deduction.period_label,
                "a": format_yuan(deduction.amount),
                "r": deduction.reason,
                "t": notice,
            },
        ),
        "late": (
            (PartyRole.BUREAU,),
            _("考核扣款通知书逾期出具 %(n)s") % {"n": deduction.notice_number},
            _("扣款事由发生于 %(e)s，书面通知书应于 %(d)s 前出具%(t)s，实际出具日已逾期。")
            % {
                "e": deduction.event_on,
                "d": deduction.notice_due,
                "t": notifications.term_text(contract, "deduction_notice_working_days"),
            },
        ),
        "acknowledged": (
            (PartyRole.BUREAU, PartyRole.VENDOR),
            _("考核扣款已经乙方确认生效 %(n)s") % {"n": deduction.notice_number},
            _("乙方已签字确认扣款 %(a)s，自确认时起生效，计入 %(p)s 的实际支付费用。")
            % {"a": format_yuan(deduction.amount), "p": deduction.period_label},
        ),
        "objected": (
            (PartyRole.BUREAU,),
            _("乙方对考核扣款提出异议 %(n)s") % {"n": deduction.notice_number},
            _("异议理由：%(o)s\n请撤回该扣款或重新出具通知书。") % {"o": deduction.objection},
        ),
        "withdrawn": (
            (PartyRole.VENDOR, PartyRole.BUREAU),
            _("考核扣款已撤回 %(n)s") % {"n": deduction.notice_number},
            _("甲方已撤回扣款 %(a)s。说明：%(w)s")
            % {"a": format_yuan(deduction.amount), "w": deduction.withdraw_reason},
        ),
    }
    roles, subject, body = texts[event]
    notifications.notify_settlement(
        contract, f"deduction:{deduction.pk}:{event}", roles, str(subject), str(body)
    )


def _new_deduction(
    *,
    actor: Any,
    contract: Contract,
    period_label: str,
    amount: Any,
    reason: str,
    source: str,
    sla_ref: str,
    event_on: date | None,
    reissue_of: Deduction | None = None,
) -> Deduction:
    find_period(contract, period_label)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写扣款原因。"), extra={"field": "reason"})
    now = timezone.now()
    today = business_date(now)
    if event_on is not None and event_on > today:
        raise ApplicationError(_("扣款事由发生日不能晚于今天。"), extra={"field": "event_on"})
    deduction = Deduction(
        contract=contract,
        period_label=period_label,
        amount=_amount(amount),
        reason=reason,
        source=source,
        sla_ref=(sla_ref or "").strip()[:200],
        created_by=actor if isinstance(actor, User) else None,
        created_at=now,
        event_on=event_on,
        reissue_of=reissue_of,
    )
    if contract.deduction_notice_working_days and event_on is not None:
        deduction.notice_due, deduction.notice_due_provisional = _working_day_after(
            event_on, contract.deduction_notice_working_days
        )
        deduction.notice_late = today > deduction.notice_due
    if contract.deduction_needs_vendor_ack:
        deduction.status = DeductionStatus.PENDING
    else:
        deduction.status = DeductionStatus.EFFECTIVE
        deduction.effective_at = now
    deduction.full_clean()
    deduction.save()
    audit_log(
        actor=actor,
        action="deduction.create" if reissue_of is None else "deduction.reissue",
        obj=deduction,
        after=model_snapshot(deduction),
        contract=contract,
    )
    if deduction.status == DeductionStatus.PENDING:
        _open_acknowledgement(actor, deduction)
        _notify_deduction(deduction, "notice")
    if deduction.notice_late:
        _notify_deduction(deduction, "late")
    return deduction


@transaction.atomic
def deduction_create(
    *,
    actor: Any,
    contract: Contract,
    period_label: str,
    amount: Decimal,
    reason: str,
    source: str = DeductionSource.MANUAL,
    sla_ref: str = "",
    event_on: date | None = None,
) -> Deduction:
    """Record a deduction from a settlement period's fees (包头 §7.1.2), with its reason.

    ``event_on`` is the day of the event the deduction rests on (default: today); the written
    notice is due ``deduction_notice_working_days`` after it. Pending until the vendor
    acknowledges where the contract says so, else effective at once.

    People: bureau staff. The SLA scorecard passes ``source="sla"`` and a ``sla_ref``; it may
    run as the system (a string actor), which is allowed only for SLA deductions.
    """
    if source not in DeductionSource.values:
        raise ApplicationError(_("扣款来源无效。"), extra={"field": "source"})
    if isinstance(actor, User) or source == DeductionSource.MANUAL:
        SETTLEMENT_ACTIONS.require("deduction_create", actor, contract)
    Contract.objects.select_for_update().get(pk=contract.pk)
    return _new_deduction(
        actor=actor,
        contract=contract,
        period_label=period_label,
        amount=amount,
        reason=reason,
        source=source,
        sla_ref=sla_ref,
        event_on=event_on or business_today(),
    )


def _locked(deduction: Deduction) -> Deduction:
    return Deduction.objects.select_for_update().select_related("contract").get(pk=deduction.pk)


def _open_acknowledgement(actor: Any, deduction: Deduction) -> JointConfirmation | None:
    """The vendor's acknowledgement of a pending deduction is a joint confirmation (会签) with
    the parties the terms name (包头 7.1.2: the vendor); the notice's acknowledgement and
    objection are its entries, so the record shows who signed when, like every other."""
    confirmation = joint_open(
        actor=actor,
        contract=deduction.contract,
        subject=ACK,
        obj=deduction,
        title=_("考核扣款通知书 %(n)s（%(a)s）")
        % {"n": deduction.notice_number, "a": format_yuan(deduction.amount)},
    )
    # None: the terms no longer ask a signature (changed since the notice): the vendor's own
    # acknowledgement or objection decides, as the one party named when it was issued.
    return confirmation


@transaction.atomic
def deduction_acknowledge(*, actor: User, deduction: Deduction) -> Deduction:
    """The vendor signs the notice: the deduction is effective from now (包头 §7.1.2).

    The signature is the vendor's entry in the deduction's joint confirmation; the deduction
    takes effect when every named party has confirmed (``on_acknowledgement_confirmed``), also
    when confirmed from the joint-confirmation page.
    """
    deduction = _locked(deduction)
    DEDUCTION_ACTIONS.require("acknowledge", actor, deduction)
    confirmation = _open_acknowledgement(actor, deduction)
    if confirmation is None:
        _make_effective(deduction, actor, at=timezone.now(), confirmation=None)
        return deduction
    joint_confirm(actor=actor, confirmation=confirmation)
    deduction.refresh_from_db()
    return deduction


@transaction.atomic
def deduction_object(*, actor: User, deduction: Deduction, reason: str) -> Deduction:
    """The vendor objects to the notice, with a reason; the bureau withdraws or re-issues."""
    deduction = _locked(deduction)
    DEDUCTION_ACTIONS.require("object", actor, deduction)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写异议理由。"), extra={"field": "reason"})
    confirmation = _open_acknowledgement(actor, deduction)
    if confirmation is None:
        _make_objected(deduction, actor, reason=reason, at=timezone.now(), confirmation=None)
        return deduction
    joint_object(actor=actor, confirmation=confirmation, reason=reason)
    deduction.refresh_from_db()
    return deduction


def _acknowledged_deduction(confirmation: JointConfirmation) -> Deduction | None:
    if confirmation.subject != ACK or confirmation.content_type.model_class() is not Deduction:
        return None
    return _locked(Deduction(pk=confirmation.object_id))


def on_acknowledgement_confirmed(
    sender: Any, confirmation: JointConfirmation, **kwargs: Any
) -> None:
    """Every party the terms name signed the notice: the deduction is effective from now."""
    deduction = _acknowledged_deduction(confirmation)
    if deduction is None:
        return
    last = confirmation.entries.order_by("-at", "-pk").select_related("user").first()
    _make_effective(
        deduction,
        last.user if last else None,
        at=confirmation.confirmed_at or timezone.now(),
        confirmation=confirmation,
    )


def _make_effective(
    deduction: Deduction,
    actor: User | None,
    *,
    at: datetime,
    confirmation: JointConfirmation | None,
) -> None:
    before = model_snapshot(deduction)
    _set_status(deduction, DeductionStatus.EFFECTIVE)
    deduction.effective_at = at
    deduction.acknowledged_by = actor
    deduction.save(update_fields=["status", "effective_at", "acknowledged_by"])
    audit_log(
        actor=actor or "会签",
        action="deduction.acknowledge",
        obj=deduction,
        before=before,
        after={
            **model_snapshot(deduction),
            "joint_confirmation": confirmation.pk if confirmation else None,
        },
        contract=deduction.contract,
    )
    _notify_deduction(deduction, "acknowledged")


def on_acknowledgement_objected(
    sender: Any, confirmation: JointConfirmation, entry: JointConfirmationEntry, **kwargs: Any
) -> None:
    """A named party objected to the notice: the bureau withdraws or re-issues it."""
    deduction = _acknowledged_deduction(confirmation)
    if deduction is None:
        return
    _make_objected(
        deduction, entry.user, reason=entry.reason, at=entry.at, confirmation=confirmation
    )


def _make_objected(
    deduction: Deduction,
    actor: User,
    *,
    reason: str,
    at: datetime,
    confirmation: JointConfirmation | None,
) -> None:
    before = model_snapshot(deduction)
    _set_status(deduction, DeductionStatus.OBJECTED)
    deduction.objection = reason
    deduction.objected_at = at
    deduction.objected_by = actor
    deduction.save(update_fields=["status", "objection", "objected_at", "objected_by"])
    audit_log(
        actor=actor,
        action="deduction.object",
        obj=deduction,
        before=before,
        after={
            **model_snapshot(deduction),
            "joint_confirmation": confirmation.pk if confirmation else None,
        },
        contract=deduction.contract,
    )
    _notify_deduction(deduction, "objected")


def _withdraw(actor: User, deduction: Deduction, reason: str) -> Deduction:
    before = model_snapshot(deduction)
    _set_status(deduction, DeductionStatus.WITHDRAWN)
    deduction.withdrawn_at = timezone.now()
    deduction.withdraw_reason = reason
    deduction.save(update_fields=["status", "withdrawn_at", "withdraw_reason"])
    audit_log(
        actor=actor,
        action="deduction.withdraw",
        obj=deduction,
        before=before,
        after=model_snapshot(deduction),
        contract=deduction.contract,
    )
    return deduction


@transaction.atomic
def deduction_withdraw(*, actor: User, deduction: Deduction, reason: str) -> Deduction:
    """The bureau withdraws an objected deduction (it never counts)."""
    deduction = _locked(deduction)
    DEDUCTION_ACTIONS.require("withdraw", actor, deduction)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写撤回说明。"), extra={"field": "reason"})
    _withdraw(actor, deduction, reason)
    _notify_deduction(deduction, "withdrawn")
    return deduction


@transaction.atomic
def deduction_reissue(
    *, actor: User, deduction: Deduction, amount: Decimal, reason: str
) -> Deduction:
    """The bureau answers an objection with a new notice (amount and reason revised): the
    objected deduction is withdrawn and a new pending one, resting on the same event, replaces
    it. Its notice deadline is the original one (same event)."""
    deduction = _locked(deduction)
    DEDUCTION_ACTIONS.require("reissue", actor, deduction)
    _withdraw(actor, deduction, _("已重新出具通知书"))
    return _new_deduction(
        actor=actor,
        contract=deduction.contract,
        period_label=deduction.period_label,
        amount=amount,
        reason=reason,
        source=deduction.source,
        sla_ref="",
        event_on=deduction.event_on,
        reissue_of=deduction,
    )


def _payment_node_checks(
    contract: Contract, installment: Installment | None, period_label: str, amount: Decimal
) -> None:
    """Overpayment: see the module docstring for the reading of the installments."""
    if installment is not None and installment.amount is not None:
        already = _sum(
            p.amount for p in Payment.objects.filter(contract=contract, installment=installment)
        )
        if already + amount > installment.amount:
            raise ApplicationError(
                _("付款超过该期次约定金额：约定 %(a)s，已付 %(p)s，本次最多 %(m)s。")
                % {
                    "a": format_yuan(installment.amount),
                    "p": format_yuan(already),
                    "m": format_yuan(installment.amount - already),
                },
                extra={"field": "amount"},
            )
        return
    state = contract_settlement(contract)
    summary = state.summary(period_label) if period_label else None
    if summary is not None and summary.paid + amount > summary.payable:
        raise ApplicationError(
            _("付款将超过该结算期的实际应付：应付 %(d)s，已付 %(p)s，本次 %(a)s。")
            % {
                "d": format_yuan(summary.payable),
                "p": format_yuan(summary.paid),
                "a": format_yuan(amount),
            },
            extra={"field": "amount"},
        )
    final = summary is None or summary.period.index == len(state.summaries)
    if final and state.paid_total + amount > state.payable_total:
        raise ApplicationError(
            _(
                "付款将超过实际应付：实际应付合计 %(d)s，已付（含预付款）%(p)s，"
                "尾款 %(b)s，本次付款 %(a)s。"
            )
            % {
                "d": format_yuan(state.payable_total),
                "p": format_yuan(state.paid_total),
                "b": format_yuan(state.balance),
                "a": format_yuan(amount),
            },
            extra={"field": "amount", "balance": str(state.balance)},
        )


@transaction.atomic
def payment_record(
    *,
    actor: User,
    contract: Contract,
    installment: Installment | None,
    amount: Decimal,
    paid_on: date,
    note: str = "",
    period_label: str = "",
) -> Payment:
    """The bureau records a payment to the vendor, against an installment and/or a period.

    Netted: refused when it would pay more than is due (module docstring)."""
    SETTLEMENT_ACTIONS.require("payment_record", actor, contract)
    Contract.objects.select_for_update().get(pk=contract.pk)  # one payment at a time
    if installment is not None and installment.contract_id != contract.pk:
        raise ApplicationError(_("付款期次不属于本合同。"), extra={"field": "installment"})
    if period_label:
        find_period(contract, period_label)
    if paid_on > business_today():
        raise ApplicationError(_("付款日期不能晚于今天。"), extra={"field": "paid_on"})
    amount = _amount(amount)
    _payment_node_checks(contract, installment, period_label, amount)
    payment = Payment(
        contract=contract,
        installment=installment,
        period_label=period_label or "",
        amount=amount,
        paid_on=paid_on,
        note=(note or "").strip()[:200],
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    payment.full_clean()
    payment.save()
    audit_log(
        actor=actor,
        action="payment.record",
        obj=payment,
        after=model_snapshot(payment),
        contract=contract,
    )
    return payment
