"""Settlement: payable = Σ signed monthly totals − deductions (capped), installments, burn,
forecast (包头 §7.1.3, §7.2.1)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Deduction, Payment, Statement, StatementStatus
from billing.services.settlement import (
    contract_settlement_periods,
    deduction_acknowledge,
    deduction_create,
    payment_record,
    settlement_available_actions,
    settlement_summary,
)
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import AuditEvent, Installment

D = Decimal
SECOND_HALF = "2025-12-20/2026-06-19"


def signed(contract, year: int, month: int, total: str, *, version: int = 1) -> Statement:
    now = timezone.now()
    return Statement.objects.create(
        contract=contract,
        year=year,
        month=month,
        version=version,
        status=StatementStatus.SIGNED,
        due_date=date(year, month, 1),
        discount=contract.discount_factor,
        vat_rate=contract.vat_rate,
        subtotal=D(total),
        total=D(total),
        vat=D("0"),
        generated_at=now,
        submitted_at=now,
        signed_at=now,
    )


@pytest.fixture
def bt_signed(bt):
    signed(bt.contract, 2025, 11, "9000.00")  # first half-year
    signed(bt.contract, 2025, 12, "500.00")  # settled with the second half (ends 12-31)
    signed(bt.contract, 2026, 1, "1000.00")
    signed(bt.contract, 2026, 2, "2000.00")
    return bt


def acknowledged(bt, **kwargs) -> Deduction:
    """A BT deduction the vendor signed (effective: 包头 §7.1.2)."""
    deduction = deduction_create(actor=bt.users["bureau"], contract=bt.contract, **kwargs)
    return deduction_acknowledge(actor=bt.users["vendor"], deduction=deduction)


def test_payable_is_signed_minus_deductions(bt_signed):
    bt = bt_signed
    acknowledged(bt, period_label=SECOND_HALF, amount=D("100.00"), reason="交付超时 2 次")
    summary = settlement_summary(bt.contract, SECOND_HALF)
    assert [(m.period, m.signed_total) for m in summary.months] == [
        ("2025-12", D("500.00")),
        ("2026-01", D("1000.00")),
        ("2026-02", D("2000.00")),
        ("2026-03", None),
        ("2026-04", None),
        ("2026-05", None),
        ("2026-06", None),
    ]
    assert (summary.signed_total, summary.deductions_applied, summary.payable) == (
        D("3500.00"),
        D("100.00"),
        D("3400.00"),
    )
    assert summary.unsigned_months == 4


def test_deductions_are_capped_at_the_periods_fees(bt_signed):
    bt = bt_signed
    for amount in ("3000.00", "1000.00"):
        acknowledged(bt, period_label=SECOND_HALF, amount=D(amount), reason="安全事件")
    summary = settlement_summary(bt.contract, SECOND_HALF)
    assert (summary.deductions_total, summary.deductions_applied, summary.payable) == (
        D("4000.00"),
        D("3500.00"),
        D("0.00"),
    )


def test_only_the_valid_signed_version_counts(bt_signed):
    bt = bt_signed
    old = Statement.objects.get(contract=bt.contract, year=2026, month=1)
    # a correction (version 2) signed later: the old version is superseded
    old.status = StatementStatus.SUPERSEDED
    old.superseded_at = timezone.now()
    old.save(update_fields=["status", "superseded_at"])
    signed(bt.contract, 2026, 1, "1200.00", version=2)
    summary = settlement_summary(bt.contract, SECOND_HALF)
    assert summary.signed_total == D("3700.00")


def test_installments_payments_burn_and_forecast(bt_signed):
    bt = bt_signed
    advance = Installment.objects.get(contract=bt.contract, sequence=1)
    payment_record(
        actor=bt.users["bureau"],
        contract=bt.contract,
        installment=advance,
        amount=D("1000000.00"),
        paid_on=date(2025, 7, 1),
        note="预付款",
    )
    # netted: the advance (1,000,000) already exceeds everything payable (12,500)
    with pytest.raises(ApplicationError, match="超过实际应付"):
        payment_record(
            actor=bt.users["bureau"],
            contract=bt.contract,
            installment=None,
            amount=D("50.00"),
            paid_on=date(2026, 1, 5),
        )
    summary = settlement_summary(bt.contract, SECOND_HALF)
    assert [(i.sequence, i.amount, i.paid) for i in summary.installments] == [
        (1, D("1000000.00"), D("1000000.00")),
        (2, None, D("0")),
        (3, None, D("0")),
    ]
    assert (summary.unassigned_paid, summary.paid_total) == (D("0.00"), D("1000000.00"))
    assert summary.signed_to_date == D("12500.00")
    assert summary.burn_ratio == D("0.0014")  # 12,500 / 8,700,000
    # signed months: Nov 30 + Dec 31 + Jan 31 + Feb 28 = 120 days for 12,500 yuan;
    # unsigned: Jun 11 + Jul…Oct 123 + Mar…May 92 + Jun 19 = 245 days
    assert summary.forecast_total == D("12500.00") + (D("12500") / 120 * 245).quantize(D("0.01"))


def test_first_half_year(bt_signed):
    summary = settlement_summary(
        bt_signed.contract, contract_settlement_periods(bt_signed.contract)[0]
    )
    assert [m.period for m in summary.months] == [
        "2025-06",
        "2025-07",
        "2025-08",
        "2025-09",
        "2025-10",
        "2025-11",
    ]
    assert summary.payable == D("9000.00")


def test_deduction_rules(bt):
    bureau = bt.users["bureau"]
    kwargs = {"contract": bt.contract, "period_label": SECOND_HALF, "reason": "x"}
    with pytest.raises(ActionForbidden):
        deduction_create(actor=bt.users["supervisor"], amount=D("1.00"), **kwargs)
    with pytest.raises(ApplicationError, match="结算期"):
        deduction_create(actor=bureau, amount=D("1.00"), **{**kwargs, "period_label": "2026"})
    for bad in (D("0"), D("-1"), D("1.005")):
        with pytest.raises(ApplicationError, match="金额"):
            deduction_create(actor=bureau, amount=bad, **kwargs)
    with pytest.raises(ApplicationError, match="原因"):
        deduction_create(actor=bureau, amount=D("1.00"), **{**kwargs, "reason": " "})
    # the SLA scorecard may run as the system
    deduction = deduction_create(
        actor="sla", amount=D("20000.00"), source="sla", sla_ref="availability:2026", **kwargs
    )
    assert (deduction.source, deduction.created_by) == ("sla", None)
    assert AuditEvent.objects.filter(action="deduction.create").count() == 1
    assert Deduction.objects.count() == 1


def test_payment_rules(bt, jz):
    bureau = bt.users["bureau"]
    foreign = Installment.objects.filter(contract=jz.contract).first()
    with pytest.raises(ApplicationError, match="不属于本合同"):
        payment_record(
            actor=bureau,
            contract=bt.contract,
            installment=foreign,
            amount=D("1"),
            paid_on=date(2026, 1, 1),
        )
    with pytest.raises(ApplicationError, match="晚于今天"):
        payment_record(
            actor=bureau,
            contract=bt.contract,
            installment=None,
            amount=D("1"),
            paid_on=date(2099, 1, 1),
        )
    with pytest.raises(ActionForbidden):
        payment_record(
            actor=bt.users["vendor"],
            contract=bt.contract,
            installment=None,
            amount=D("1"),
            paid_on=date(2026, 1, 1),
        )
    assert not Payment.objects.exists()


def test_only_the_bureau_may_record_deductions_and_payments(bt):
    for role, user in bt.users.items():
        expected = {"deduction_create", "payment_record"} if role == "bureau" else set()
        assert settlement_available_actions(user=user, obj=bt.contract) == expected, role
    with pytest.raises(ActionForbidden, match="甲方"):
        deduction_create(
            actor=bt.users["auditor"],
            contract=bt.contract,
            period_label=SECOND_HALF,
            amount=D("1.00"),
            reason="x",
        )


def test_unknown_period_key(bt):
    with pytest.raises(ApplicationError):
        settlement_summary(bt.contract, "nope")
