"""Settlement: what the bureau owes per settlement period, deductions, payments, budget burn.

包头 §7.1.3: "实际支付费用 = 月度服务费之和 - 服务要求考核扣款" — the payable amount of a period is
the sum of its signed monthly statements minus the SLA deductions, the deductions capped at
that sum (DESIGN §4: "deductions capped at the period's fees"). Which months a period settles
is ``billing.periods.months_of_period`` (the period holding the month's last billed day).

Budget burn and forecast are contract-wide: signed to date against ``estimated_amount``. The
forecast extrapolates the signed months' **daily** rate (Σ signed totals / Σ their billed days)
over the billed days of every month not signed yet, up to the service end — a daily rate
rather than a monthly average, because the first and last months of a contract are partial
(包头 starts on 06-20) and would drag a per-month average down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import periods
from billing.models import Deduction, DeductionSource, Payment, Statement, StatementStatus
from billing.money import ensure_decimal, quantize_yuan, round_half_up
from billing.periods import SettlementPeriod
from govcloud.access import require_staff
from govcloud.audit import audit_log, model_snapshot
from govcloud.dates import business_today
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import Contract, Installment, PartyRole, User
from govcloud.workflow import ActionRules

__all__ = [
    "InstallmentStatus",
    "MonthTotal",
    "Summary",
    "contract_settlement_periods",
    "deduction_create",
    "payment_record",
    "settlement_available_actions",
    "settlement_summary",
]


def contract_settlement_periods(contract: Contract) -> list[SettlementPeriod]:
    return periods.settlement_periods(
        cadence=contract.settlement_cadence,
        billing_from=contract.billing_from,
        service_start=contract.service_start,
        service_end=contract.service_end,
    )


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
    deductions_total: Decimal
    deductions_applied: Decimal
    payable: Decimal
    installments: list[InstallmentStatus]
    unassigned_paid: Decimal
    paid_total: Decimal
    estimated_amount: Decimal | None
    signed_to_date: Decimal
    burn_ratio: Decimal | None  # signed to date / estimated amount, e.g. 0.4321
    forecast_total: Decimal
    forecast_method: str


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


def settlement_summary(contract: Contract, period: SettlementPeriod | str) -> Summary:
    """The settlement of ``period`` (a ``SettlementPeriod`` or its key)."""
    all_periods = contract_settlement_periods(contract)
    if isinstance(period, str):
        found = next((p for p in all_periods if p.key == period), None)
        if found is None:
            raise ApplicationError(_("结算期无效。"), extra={"field": "period"})
        period = found
    signed = _signed_by_month(contract)
    latest = _latest_by_month(contract)
    window = periods.months_in_window(
        billing_from=contract.billing_from, service_end=contract.service_end
    )
    settled = periods.months_of_period(
        period, billing_from=contract.billing_from, service_end=contract.service_end
    )

    months: list[MonthTotal] = []
    for year, month in settled:
        statement = signed.get((year, month)) or latest.get((year, month))
        months.append(
            MonthTotal(
                year=year,
                month=month,
                statement_id=statement.pk if statement else None,
                version=statement.version if statement else None,
                status=statement.status if statement else None,
                signed_total=signed[(year, month)].total if (year, month) in signed else None,
            )
        )
    signed_total = sum((m.signed_total for m in months if m.signed_total is not None), Decimal(0))
    deductions = list(
        Deduction.objects.filter(contract=contract, period_label=period.key).order_by(
            "created_at", "pk"
        )
    )
    deductions_total = sum((d.amount for d in deductions), Decimal(0))
    deductions_applied = min(deductions_total, signed_total)

    paid_by_installment = dict(
        Payment.objects.filter(contract=contract, installment__isnull=False)
        .values_list("installment_id")
        .annotate(total=Sum("amount"))
        .values_list("installment_id", "total")
    )
    installments = [
        InstallmentStatus(
            installment_id=i.pk,
            sequence=i.sequence,
            label=i.label,
            amount=i.amount,
            paid=paid_by_installment.get(i.pk) or Decimal(0),
        )
        for i in Installment.objects.filter(contract=contract).order_by("sequence")
    ]
    unassigned_paid = Payment.objects.filter(contract=contract, installment__isnull=True).aggregate(
        total=Sum("amount")
    )["total"] or Decimal(0)
    paid_total = sum((i.paid for i in installments), Decimal(0)) + unassigned_paid

    signed_to_date = sum((s.total for s in signed.values()), Decimal(0))
    estimated = contract.estimated_amount
    burn = round_half_up(signed_to_date / estimated, places=4) if estimated else None
    forecast = _forecast(contract, window, signed, signed_to_date)
    return Summary(
        contract=contract.code,
        period=period,
        months=months,
        signed_total=quantize_yuan(signed_total),
        unsigned_months=sum(1 for m in months if m.signed_total is None),
        deductions=deductions,
        deductions_total=quantize_yuan(deductions_total),
        deductions_applied=quantize_yuan(deductions_applied),
        payable=quantize_yuan(signed_total - deductions_applied),
        installments=installments,
        unassigned_paid=quantize_yuan(unassigned_paid),
        paid_total=quantize_yuan(paid_total),
        estimated_amount=estimated,
        signed_to_date=quantize_yuan(signed_to_date),
        burn_ratio=burn,
        forecast_total=forecast,
        forecast_method=_("已签认月份的日均费用 × 未签认月份（至服务期末）的计费天数 + 已签认金额"),
    )


def _forecast(
    contract: Contract,
    window: list[tuple[int, int]],
    signed: dict[tuple[int, int], Statement],
    signed_to_date: Decimal,
) -> Decimal:
    def days(year: int, month: int) -> int:
        return periods.billed_days_in_month(
            year, month, billing_from=contract.billing_from, service_end=contract.service_end
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


SETTLEMENT_ACTIONS = ActionRules(
    {"deduction_create": _require_bureau, "payment_record": _require_bureau}
)


def settlement_available_actions(*, user: Any, obj: Contract) -> frozenset[str]:
    """What ``user`` may record on the contract's settlement now: ``deduction_create``,
    ``payment_record`` (reads ``obj.parties``)."""
    return SETTLEMENT_ACTIONS.available(user, obj)


def _amount(value: Any) -> Decimal:
    try:
        amount = ensure_decimal(value, "amount")
    except (TypeError, ValueError):
        raise ApplicationError(_("金额无效。"), extra={"field": "amount"}) from None
    if amount <= 0 or amount != quantize_yuan(amount):
        raise ApplicationError(_("金额必须为正数，最多两位小数。"), extra={"field": "amount"})
    return amount


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
) -> Deduction:
    """Record a deduction from a settlement period's fees (包头 §7.1.2), with its reason.

    People: bureau staff. The SLA scorecard passes ``source="sla"`` and a ``sla_ref``; it may
    run as the system (a string actor), which is allowed only for SLA deductions.
    """
    if source not in DeductionSource.values:
        raise ApplicationError(_("扣款来源无效。"), extra={"field": "source"})
    if isinstance(actor, User) or source == DeductionSource.MANUAL:
        SETTLEMENT_ACTIONS.require("deduction_create", actor, contract)
    if period_label not in {p.key for p in contract_settlement_periods(contract)}:
        raise ApplicationError(_("结算期无效。"), extra={"field": "period_label"})
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写扣款原因。"), extra={"field": "reason"})
    deduction = Deduction(
        contract=contract,
        period_label=period_label,
        amount=_amount(amount),
        reason=reason,
        source=source,
        sla_ref=(sla_ref or "").strip()[:200],
        created_by=actor if isinstance(actor, User) else None,
        created_at=timezone.now(),
    )
    deduction.full_clean()
    deduction.save()
    audit_log(
        actor=actor,
        action="deduction.create",
        obj=deduction,
        after=model_snapshot(deduction),
        contract=contract,
    )
    return deduction


@transaction.atomic
def payment_record(
    *,
    actor: User,
    contract: Contract,
    installment: Installment | None,
    amount: Decimal,
    paid_on: date,
    note: str = "",
) -> Payment:
    """The bureau records a payment to the vendor, against an installment or not."""
    SETTLEMENT_ACTIONS.require("payment_record", actor, contract)
    if installment is not None and installment.contract_id != contract.pk:
        raise ApplicationError(_("付款期次不属于本合同。"), extra={"field": "installment"})
    if paid_on > business_today():
        raise ApplicationError(_("付款日期不能晚于今天。"), extra={"field": "paid_on"})
    payment = Payment(
        contract=contract,
        installment=installment,
        amount=_amount(amount),
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
