"""``manage.py settlement CODE [--json]`` (DESIGN §8): balance = Σ payable − paid."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billing.services.settlement import deduction_acknowledge, deduction_create, payment_record
from govcloud.models import Installment
from tests.billing.test_settlement_netting import FIRST_HALF, SECOND_HALF, signed

D = Decimal


def run(*args: str) -> str:
    out = StringIO()
    call_command("settlement", *args, stdout=out)
    return out.getvalue()


def test_json_shape_and_balance(bt):
    signed(bt.contract, 2025, 11, "9000.00")
    signed(bt.contract, 2025, 12, "500.00")
    signed(bt.contract, 2026, 1, "1000.00")
    d = deduction_create(
        actor=bt.users["bureau"],
        contract=bt.contract,
        period_label=SECOND_HALF,
        amount=D("100.00"),
        reason="交付超时",
    )
    deduction_acknowledge(actor=bt.users["vendor"], deduction=d)
    deduction_create(
        actor=bt.users["bureau"],
        contract=bt.contract,
        period_label=SECOND_HALF,
        amount=D("30.00"),
        reason="待确认",
    )
    payment_record(
        actor=bt.users["bureau"],
        contract=bt.contract,
        installment=Installment.objects.get(contract=bt.contract, sequence=1),
        amount=D("1000000.00"),
        paid_on=date(2025, 7, 1),
    )
    data = json.loads(run("BT-2025", "--json"))
    assert [
        (p["start"], p["end"], p["signed"], p["deductions"], p["payable"]) for p in data["periods"]
    ] == [
        ("2025-06-20", "2025-12-19", "9000.00", "0.00", "9000.00"),
        # 500 + 1000 − 100 (the 30.00 is pending: not deducted)
        ("2025-12-20", "2026-06-19", "1500.00", "100.00", "1400.00"),
    ]
    assert data["periods"][1]["deductions_pending"] == "30.00"
    # Σ payable 10,400 − paid 1,000,000 (the advance)
    assert (data["paid"], data["invoiced"], data["balance"]) == (
        "1000000.00",
        "0.00",
        "-989600.00",
    )
    assert D(data["balance"]) == sum(D(p["payable"]) for p in data["periods"]) - D(data["paid"])
    assert FIRST_HALF == f"{data['periods'][0]['start']}/{data['periods'][0]['end']}"


def test_table_and_unknown_code(jz):
    text = run("JZ-2026")
    assert "尾款" in text
    assert "2026-03-20至2026-11-30" in text
    with pytest.raises(CommandError, match="未找到合同"):
        run("NOPE")
