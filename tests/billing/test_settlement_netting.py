"""Payments netted into the balance (尾款), overpayment refused, and deductions that take effect
on the vendor's acknowledgement (包头 §7.1.2, §7.1.3, §7.2.1; DESIGN §4 "Settlement & payment").

Amounts are derived by hand in the comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Deduction, DeductionStatus, Payment, Statement, StatementStatus
from billing.services.settlement import (
    contract_settlement,
    deduction_acknowledge,
    deduction_available_actions,
    deduction_create,
    deduction_object,
    deduction_reissue,
    deduction_withdraw,
    payment_record,
)
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.joint import joint_confirm, joint_for, joint_object
from govcloud.models import AuditEvent, Installment, JointStatus, JointSubject, OutboxEmail

D = Decimal
FIRST_HALF = "2025-06-20/2025-12-19"
SECOND_HALF = "2025-12-20/2026-06-19"
SH = timezone.get_fixed_timezone(8 * 60)


def signed(contract, year: int, month: int, total: str) -> Statement:
    now = timezone.now()
    return Statement.objects.create(
        contract=contract,
        year=year,
        month=month,
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
def bt_half(bt):
    """First BT half-year signed: June 400,000 + Jul…Nov 5 × 700,000 = 3,900,000.00."""
    signed(bt.contract, 2025, 6, "400000.00")
    for month in range(7, 12):
        signed(bt.contract, 2025, month, "700000.00")
    return bt


def pay(bt, amount: str, *, sequence: int | None = None, period: str = "", on=date(2026, 1, 5)):
    installment = (
        Installment.objects.get(contract=bt.contract, sequence=sequence) if sequence else None
    )
    return payment_record(
        actor=bt.users["bureau"],
        contract=bt.contract,
        installment=installment,
        amount=D(amount),
        paid_on=on,
        period_label=period,
    )


def test_the_advance_is_paid_before_any_statement_up_to_its_amount(bt):
    # no statement signed: Σ payable = 0, yet the fixed advance (¥1,000,000, 7.2.1 第一次) is due
    pay(bt, "600000.00", sequence=1, on=date(2025, 7, 1))
    with pytest.raises(ApplicationError, match="约定金额"):
        pay(bt, "400000.01", sequence=1, on=date(2025, 7, 2))
    pay(bt, "400000.00", sequence=1, on=date(2025, 7, 2))
    state = contract_settlement(bt.contract)
    # 尾款 = Σ payable − Σ paid = 0 − 1,000,000: paid ahead
    assert (state.payable_total, state.paid_total, state.balance) == (
        D("0.00"),
        D("1000000.00"),
        D("-1000000.00"),
    )
    # anything else is refused while nothing more is payable
    with pytest.raises(ApplicationError, match="超过实际应付"):
        pay(bt, "0.01")


def test_half_year_is_paid_on_its_own_usage(bt_half):
    """第二次 "根据半年的服务资源用量核算金额…据实结算并付款": the half-year payment is the
    half-year's payable; the advance is netted in the final 尾款, not here."""
    bt = bt_half
    pay(bt, "1000000.00", sequence=1, on=date(2025, 7, 1))
    first = contract_settlement(bt.contract).summary(FIRST_HALF)
    assert (first.payable, first.paid, first.balance) == (
        D("3900000.00"),
        D("0.00"),
        D("3900000.00"),
    )
    with pytest.raises(ApplicationError, match="该结算期"):
        pay(bt, "3900000.01", sequence=2, period=FIRST_HALF)
    pay(bt, "3900000.00", sequence=2, period=FIRST_HALF)
    state = contract_settlement(bt.contract)
    # Σ payable 3,900,000 − Σ paid 4,900,000: paid ahead by the advance until the final period
    assert (state.paid_total, state.balance) == (D("4900000.00"), D("-1000000.00"))
    first = state.summary(FIRST_HALF)
    assert (first.paid, first.balance) == (D("3900000.00"), D("0.00"))
    assert Payment.objects.get(installment__sequence=2).period_label == FIRST_HALF


def test_final_balance_is_payable_minus_paid(bt_half):
    """尾款 = 实际支付费用 − 已支付金额 (7.2.1 第三次): the advance is netted in the final."""
    bt = bt_half
    signed(bt.contract, 2025, 12, "650000.00")  # second half (12-31 is in it)
    signed(bt.contract, 2026, 1, "710000.00")
    signed(bt.contract, 2026, 2, "2000000.00")
    acknowledged = deduction_create(
        actor=bt.users["bureau"],
        contract=bt.contract,
        period_label=SECOND_HALF,
        amount=D("60000.00"),
        reason="可用性扣分",
    )
    deduction_acknowledge(actor=bt.users["vendor"], deduction=acknowledged)
    pay(bt, "1000000.00", sequence=1, on=date(2025, 7, 1))
    pay(bt, "3900000.00", sequence=2, period=FIRST_HALF)
    state = contract_settlement(bt.contract)
    # second half payable = 650,000 + 710,000 + 2,000,000 − 60,000 = 3,300,000
    second = state.summary(SECOND_HALF)
    assert (second.signed_total, second.deductions_applied, second.payable) == (
        D("3360000.00"),
        D("60000.00"),
        D("3300000.00"),
    )
    # Σ payable 3,900,000 + 3,300,000 = 7,200,000; paid 4,900,000 → 尾款 2,300,000
    assert (state.payable_total, state.paid_total, state.balance) == (
        D("7200000.00"),
        D("4900000.00"),
        D("2300000.00"),
    )
    # the first half is paid in full; the final may pay the 尾款 and no more
    with pytest.raises(ApplicationError, match="该结算期"):
        pay(bt, "0.01", period=FIRST_HALF)
    with pytest.raises(ApplicationError, match="超过实际应付"):
        pay(bt, "2300000.01", sequence=3, period=SECOND_HALF)
    pay(bt, "2300000.00", sequence=3, period=SECOND_HALF)
    assert contract_settlement(bt.contract).balance == D("0.00")


def test_pending_deductions_are_not_deducted_until_the_vendor_signs(bt_half):
    bt = bt_half
    with time_machine.travel(timezone.datetime(2026, 1, 20, 9, tzinfo=SH), tick=False):
        deduction = deduction_create(
            actor=bt.users["bureau"],
            contract=bt.contract,
            period_label=FIRST_HALF,
            amount=D("100000.00"),
            reason="11月交付超时",
            event_on=date(2026, 1, 5),
        )
    # event Mon 2026-01-05 + 10 working days: 6,7,8,9 · 12…16 · 19 → due 2026-01-19; entered
    # on 01-20 → late, the bureau is warned
    assert (deduction.status, deduction.notice_due, deduction.notice_late) == (
        DeductionStatus.PENDING,
        date(2026, 1, 19),
        True,
    )
    assert OutboxEmail.objects.filter(subject__contains="逾期出具").exists()
    assert OutboxEmail.objects.filter(subject__contains="书面通知书").exists()
    first = contract_settlement(bt.contract).summary(FIRST_HALF)
    assert (first.deductions_pending, first.deductions_applied, first.payable) == (
        D("100000.00"),
        D("0.00"),
        D("3900000.00"),
    )
    assert deduction_available_actions(user=bt.users["vendor"], obj=deduction) == {
        "acknowledge",
        "object",
    }
    assert deduction_available_actions(user=bt.users["bureau"], obj=deduction) == set()
    with pytest.raises(ActionForbidden):
        deduction_acknowledge(actor=bt.users["bureau"], deduction=deduction)
    deduction = deduction_acknowledge(actor=bt.users["vendor"], deduction=deduction)
    assert deduction.status == DeductionStatus.EFFECTIVE
    assert deduction.effective_at is not None
    first = contract_settlement(bt.contract).summary(FIRST_HALF)
    # 3,900,000 − 100,000
    assert (first.deductions_pending, first.payable) == (D("0.00"), D("3800000.00"))
    assert AuditEvent.objects.filter(action="deduction.acknowledge").count() == 1
    with pytest.raises(InvalidTransition):
        deduction_object(actor=bt.users["vendor"], deduction=deduction, reason="x")


def test_objection_then_reissue_or_withdraw(bt_half):
    bt = bt_half
    deduction = deduction_create(
        actor=bt.users["bureau"],
        contract=bt.contract,
        period_label=FIRST_HALF,
        amount=D("50000.00"),
        reason="培训不足",
    )
    with pytest.raises(ApplicationError, match="异议理由"):
        deduction_object(actor=bt.users["vendor"], deduction=deduction, reason=" ")
    deduction = deduction_object(
        actor=bt.users["vendor"], deduction=deduction, reason="已完成第二次培训"
    )
    assert deduction_available_actions(user=bt.users["bureau"], obj=deduction) == {
        "withdraw",
        "reissue",
    }
    new = deduction_reissue(
        actor=bt.users["bureau"], deduction=deduction, amount=D("20000.00"), reason="培训少一次"
    )
    deduction.refresh_from_db()
    assert (deduction.status, new.status, new.reissue_of_id) == (
        DeductionStatus.WITHDRAWN,
        DeductionStatus.PENDING,
        deduction.pk,
    )
    deduction_object(actor=bt.users["vendor"], deduction=new, reason="仍有异议")
    deduction_withdraw(actor=bt.users["bureau"], deduction=new, reason="经协商撤回")
    first = contract_settlement(bt.contract).summary(FIRST_HALF)
    assert (first.deductions_pending, first.deductions_applied) == (D("0.00"), D("0.00"))
    assert Deduction.objects.filter(status=DeductionStatus.WITHDRAWN).count() == 2


def test_without_the_term_a_deduction_is_effective_on_entry(jz):
    key = "2026-03-20/2026-11-30"
    signed(jz.contract, 2026, 7, "193.50")
    deduction = deduction_create(
        actor=jz.users["bureau"],
        contract=jz.contract,
        period_label=key,
        amount=D("50.00"),
        reason="人工扣款",
    )
    assert deduction.status == DeductionStatus.EFFECTIVE
    assert deduction.notice_due is None
    assert contract_settlement(jz.contract).summary(key).payable == D("143.50")


def test_the_acknowledgement_is_a_joint_confirmation(bt_half):
    """The vendor's signature is its entry in the deduction's joint confirmation (会签): the
    record shows who signed when, and signing from the joint page has the same effect."""
    bt = bt_half
    deduction = deduction_create(
        actor=bt.users["bureau"],
        contract=bt.contract,
        period_label=FIRST_HALF,
        amount=D("30000.00"),
        reason="巡检报告逾期",
    )
    confirmation = joint_for(deduction, JointSubject.DEDUCTION_ACKNOWLEDGEMENT)
    assert confirmation is not None
    assert (confirmation.status, confirmation.required_roles) == (JointStatus.OPEN, ["vendor"])
    joint_confirm(actor=bt.users["vendor"], confirmation=confirmation)
    deduction.refresh_from_db()
    assert (deduction.status, deduction.acknowledged_by) == (
        DeductionStatus.EFFECTIVE,
        bt.users["vendor"],
    )
    entry = confirmation.entries.get()
    assert (entry.role, entry.user, entry.decision) == ("vendor", bt.users["vendor"], "confirm")
    assert deduction.effective_at == confirmation.__class__.objects.get().confirmed_at
    # Once signed, nothing more to sign on either path.
    assert deduction_available_actions(user=bt.users["vendor"], obj=deduction) == set()


def test_an_objection_on_the_joint_page_is_the_vendors_objection(bt_half):
    bt = bt_half
    deduction = deduction_create(
        actor=bt.users["bureau"],
        contract=bt.contract,
        period_label=FIRST_HALF,
        amount=D("30000.00"),
        reason="巡检报告逾期",
    )
    confirmation = joint_for(deduction, JointSubject.DEDUCTION_ACKNOWLEDGEMENT)
    with pytest.raises(ActionForbidden):
        joint_confirm(actor=bt.users["bureau"], confirmation=confirmation)
    joint_object(actor=bt.users["vendor"], confirmation=confirmation, reason="报告已按期提交")
    deduction.refresh_from_db()
    assert (deduction.status, deduction.objection, deduction.objected_by) == (
        DeductionStatus.OBJECTED,
        "报告已按期提交",
        bt.users["vendor"],
    )
    assert deduction_available_actions(user=bt.users["bureau"], obj=deduction) == {
        "withdraw",
        "reissue",
    }


def test_a_scorecard_reference_is_deducted_once_by_constraint(bt_half):
    """Once-only scorecard deductions rest on a unique constraint, not only on a check."""
    bt = bt_half
    first = deduction_create(
        actor="scorecard",
        contract=bt.contract,
        period_label=FIRST_HALF,
        amount=D("1000.00"),
        reason="考核扣款",
        source="sla",
        sla_ref="scorecard:1:availability",
    )
    with pytest.raises(ValidationError, match="该考核依据已生成扣款"):
        deduction_create(
            actor="scorecard",
            contract=bt.contract,
            period_label=FIRST_HALF,
            amount=D("1000.00"),
            reason="考核扣款",
            source="sla",
            sla_ref="scorecard:1:availability",
        )
    twin = Deduction.objects.filter(pk=first.pk).values().get()
    twin.pop("id")
    with pytest.raises(IntegrityError), transaction.atomic():
        Deduction.objects.create(**twin)
    # manual deductions carry no reference and are not limited
    for _ in range(2):
        deduction_create(
            actor=bt.users["bureau"],
            contract=bt.contract,
            period_label=FIRST_HALF,
            amount=D("10.00"),
            reason="人工扣款",
        )
