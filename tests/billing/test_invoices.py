"""Invoices (not early, not above the amount due; tax at the contract's rate), the funds date and
the payment clock with the invoice postponement (包头 §7.2.1; 焦作 §三.2, §三.3)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from billing.models import InvoiceStatus
from billing.services.invoices import (
    contract_payment_clocks,
    funds_arrival_record,
    invoice_available_actions,
    invoice_confirm,
    invoice_register,
    invoice_reject,
    invoice_tax,
)
from billing.services.settlement import (
    contract_settlement,
    deduction_acknowledge,
    deduction_create,
)
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import AuditEvent, Installment
from tests.billing.test_settlement_netting import FIRST_HALF, SECOND_HALF, signed

D = Decimal
SH = ZoneInfo("Asia/Shanghai")
JZ_FIRST = "2026-03-20/2026-11-30"


def test_tax_is_inside_the_amount():
    # 1,060,000 / 1.06 = 1,000,000 → tax 60,000; 100.00 / 1.06 = 94.339… → 94.34 → tax 5.66
    assert invoice_tax(D("1060000.00"), D("0.06")) == D("60000.00")
    assert invoice_tax(D("100.00"), D("0.06")) == D("5.66")


def register(
    parties, amount: str, *, number="NO1", period="", sequence=None, on=date(2026, 1, 6), **kw
):
    installment = (
        Installment.objects.get(contract=parties.contract, sequence=sequence) if sequence else None
    )
    return invoice_register(
        actor=parties.users["vendor"],
        contract=parties.contract,
        number=number,
        issued_on=on,
        amount=D(amount),
        installment=installment,
        period_label=period,
        **kw,
    )


def test_bt_invoices_never_early_nor_above_the_amount_due(bt):
    # the advance: up to its fixed amount, before any statement
    with pytest.raises(ApplicationError, match="超额"):
        register(bt, "1000000.01", sequence=1, number="A0")
    advance = register(bt, "1000000.00", sequence=1, number="A1", on=date(2025, 7, 1))
    assert advance.tax_amount == D("56603.77")  # 1,000,000 − 943,396.23
    # the first half-year: 5 of 6 months signed → too early
    signed(bt.contract, 2025, 6, "400000.00")
    for month in range(7, 11):
        signed(bt.contract, 2025, month, "700000.00")
    with pytest.raises(ApplicationError, match="不得提前"):
        register(bt, "1.00", sequence=2, period=FIRST_HALF, number="H0")
    signed(bt.contract, 2025, 11, "700000.00")
    # a deduction still awaiting the vendor: the amount is not settled yet
    deduction = deduction_create(
        actor=bt.users["bureau"],
        contract=bt.contract,
        period_label=FIRST_HALF,
        amount=D("100000.00"),
        reason="x",
    )
    with pytest.raises(ApplicationError, match="待乙方确认"):
        register(bt, "1.00", sequence=2, period=FIRST_HALF, number="H0")
    deduction_acknowledge(actor=bt.users["vendor"], deduction=deduction)
    # due = the half-year's payable 3,900,000 − 100,000 = 3,800,000 (第二次: its own usage)
    with pytest.raises(ApplicationError, match=r"¥3,800,000\.00"):
        register(bt, "3800000.01", sequence=2, period=FIRST_HALF, number="H1")
    with pytest.raises(ApplicationError, match="税额应为"):
        register(bt, "3800000.00", sequence=2, period=FIRST_HALF, number="H1", tax_amount="1")
    half = register(bt, "3800000.00", sequence=2, period=FIRST_HALF, number="H1")
    with pytest.raises(ApplicationError, match="已登记"):
        register(bt, "1.00", sequence=1, number="H1")
    assert contract_settlement(bt.contract).invoiced_total == D("4800000.00")
    # the bureau confirms; the vendor cannot
    assert invoice_available_actions(user=bt.users["vendor"], obj=half) == set()
    with pytest.raises(ActionForbidden):
        invoice_confirm(actor=bt.users["vendor"], invoice=half)
    assert invoice_confirm(actor=bt.users["bureau"], invoice=half).status == InvoiceStatus.CONFIRMED
    rejected = invoice_reject(actor=bt.users["bureau"], invoice=advance, reason="抬头错误")
    assert rejected.status == InvoiceStatus.REJECTED
    assert contract_settlement(bt.contract).invoiced_total == D("3800000.00")
    assert AuditEvent.objects.filter(action__startswith="invoice.").count() == 4


def test_bt_final_invoice_is_the_balance(bt):
    """第三次: the final invoice nets everything invoiced, the advance included."""
    register(bt, "1000000.00", sequence=1, number="A1", on=date(2025, 7, 1))
    signed(bt.contract, 2025, 6, "400000.00")
    for month in range(7, 12):
        signed(bt.contract, 2025, month, "700000.00")  # first half 3,900,000
    for year, month in ((2025, 12), (2026, 1), (2026, 2), (2026, 3), (2026, 4), (2026, 5)):
        signed(bt.contract, year, month, "500000.00")
    register(bt, "3900000.00", sequence=2, period=FIRST_HALF, number="H1")
    with pytest.raises(ApplicationError, match="不得提前"):  # June 2026 not signed
        register(bt, "1.00", sequence=3, period=SECOND_HALF, number="F1")
    signed(bt.contract, 2026, 6, "200000.00")  # second half 3,200,000
    # 尾款 = 7,100,000 − (1,000,000 + 3,900,000) = 2,200,000
    with pytest.raises(ApplicationError, match=r"¥2,200,000\.00"):
        register(bt, "2200000.01", sequence=3, period=SECOND_HALF, number="F1")
    register(bt, "2200000.00", sequence=3, period=SECOND_HALF, number="F1")


def test_jz_payment_clock_and_postponement(jz):
    signed(jz.contract, 2026, 7, "193.50")
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=SH), tick=False):
        funds_arrival_record(
            actor=jz.users["bureau"],
            contract=jz.contract,
            period_label=JZ_FIRST,
            arrived_on=date(2026, 12, 1),
        )
        with pytest.raises(ApplicationError, match="已登记"):
            funds_arrival_record(
                actor=jz.users["bureau"],
                contract=jz.contract,
                period_label=JZ_FIRST,
                arrived_on=date(2026, 12, 1),
            )
    # funds Tue 2026-12-01 + 20 working days: 2-4 (3), 7-11 (8), 14-18 (13), 21-25 (18),
    # 28, 29 → node 2026-12-29; invoice due 10 working days before = 12-01 + 10 → 2026-12-15
    with time_machine.travel(datetime(2026, 12, 16, 9, tzinfo=SH), tick=False):
        (clock,) = contract_payment_clocks(jz.contract)
        assert (clock.node_due, clock.invoice_due) == (date(2026, 12, 29), date(2026, 12, 15))
        # no invoice yet on 12-16: already 1 working day late → payment due 12-30
        assert (clock.delay_working_days, clock.payment_due) == (1, date(2026, 12, 30))
    with time_machine.travel(datetime(2026, 12, 18, 9, tzinfo=SH), tick=False):
        # JZ has no "not above due" rule: any amount, the tax at 6%
        invoice = register(jz, "193.50", period=JZ_FIRST, number="JZ-1", on=date(2026, 12, 17))
        assert invoice.tax_amount == D("10.95")  # 193.50 − 182.55
        (clock,) = contract_payment_clocks(jz.contract)
    # invoiced 12-17: 2 working days late (16, 17) → payment 12-29 + 2 = 2026-12-31
    assert (clock.invoiced_on, clock.delay_working_days, clock.payment_due) == (
        date(2026, 12, 17),
        2,
        date(2026, 12, 31),
    )
    (late,) = contract_payment_clocks(jz.contract, today=date(2027, 1, 4))
    assert late.overdue


def test_bt_sets_no_payment_clock(bt):
    funds_arrival_record(
        actor=bt.users["bureau"],
        contract=bt.contract,
        installment=Installment.objects.get(contract=bt.contract, sequence=1),
        arrived_on=date(2025, 7, 1),
    )
    assert contract_payment_clocks(bt.contract) == []
