"""附件2 §11 违约金 (pure rules):
"年度总评＜59分，甲方有权终止合同，乙方按合同总价10%支付违约金"."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sla import rules

BT_PRICE = Decimal("8700000.00")  # BT-2025 合同总价 (estimated_amount)


@pytest.mark.parametrize(
    ("total", "applies", "amount"),
    [
        pytest.param("0", True, "870000.00", id="0-applies"),
        pytest.param("58.5", True, "870000.00", id="58.5-applies"),
        pytest.param("58.99", True, "870000.00", id="58.99-applies"),
        pytest.param("59", False, None, id="59-no-right(strictly-below)"),
        pytest.param("59.5", False, None, id="59.5-fail-grade-but-no-penalty"),
        pytest.param("60", False, None, id="60-pass"),
        pytest.param("100", False, None, id="100-excellent"),
    ],
)
def test_the_penalty_is_ten_percent_of_the_contract_price_below_59(total, applies, amount):
    penalty = rules.termination_penalty(Decimal(total), BT_PRICE)
    assert penalty.applies is applies
    assert rules.has_termination_right(Decimal(total)) is applies
    assert penalty.amount == (None if amount is None else Decimal(amount))
    assert penalty.ratio == Decimal("0.10")
    assert not penalty.no_price


@pytest.mark.parametrize(
    ("total", "grade", "rectify", "right"),
    [
        pytest.param("58.99", rules.Grade.FAIL, True, True, id="58.99"),
        pytest.param("59", rules.Grade.FAIL, True, False, id="59"),
        pytest.param("59.5", rules.Grade.FAIL, True, False, id="59.5"),
        pytest.param("60", rules.Grade.PASS, False, False, id="60"),
    ],
)
def test_59_to_60_fails_and_is_rectified_but_gives_no_termination_right(
    total, grade, rectify, right
):
    assert rules.grade(Decimal(total)) is grade
    assert (rules.grade(Decimal(total)) is rules.Grade.FAIL) is rectify
    assert rules.has_termination_right(Decimal(total)) is right


@pytest.mark.parametrize(
    ("price", "amount"),
    [
        # 1,234,567.85 × 10 % = 123,456.785 → half-up → 123,456.79
        pytest.param(Decimal("1234567.85"), Decimal("123456.79"), id="half-up-to-the-fen"),
        # 0.05 × 10 % = 0.005 → 0.01
        pytest.param(Decimal("0.05"), Decimal("0.01"), id="smallest-half-up"),
        pytest.param(1000000, Decimal("100000.00"), id="int-price"),
    ],
)
def test_the_amount_is_rounded_half_up_to_the_fen(price, amount):
    assert rules.termination_penalty(Decimal("40"), price).amount == amount


@pytest.mark.parametrize("price", [None, Decimal("0"), 0], ids=["none", "zero", "int-zero"])
def test_without_a_contract_price_the_penalty_applies_but_has_no_amount(price):
    penalty = rules.termination_penalty(Decimal("50"), price)
    assert penalty.applies
    assert penalty.amount is None
    assert penalty.no_price


def test_no_price_is_only_said_when_the_penalty_applies():
    assert not rules.termination_penalty(Decimal("70"), None).no_price


@pytest.mark.parametrize(
    ("total", "price", "error"),
    [
        pytest.param(Decimal("-1"), BT_PRICE, ValueError, id="negative-total"),
        pytest.param(Decimal("100.5"), BT_PRICE, ValueError, id="total-above-100"),
        pytest.param(Decimal("50"), Decimal("-1"), ValueError, id="negative-price"),
        pytest.param(50.0, BT_PRICE, TypeError, id="float-total"),
        pytest.param(Decimal("50"), 8700000.0, TypeError, id="float-price"),
    ],
)
def test_bad_inputs_are_refused(total, price, error):
    with pytest.raises(error):
        rules.termination_penalty(total, price)


def test_the_scorecard_flag_matches_the_rule():
    assert rules.TERMINATION_BELOW == Decimal("59")
    assert rules.TERMINATION_PENALTY_RATIO == Decimal("0.10")
