"""Tests for billing.money: half-up rounding to the fen, exact division, display, no floats."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal, Inexact, localcontext
from fractions import Fraction

import pytest

from billing.money import EXACT, YUAN, divide_yuan, ensure_decimal, format_yuan, quantize_yuan


def test_yuan_is_one_fen() -> None:
    assert Decimal("0.01") == YUAN


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(Decimal("1.005"), Decimal("1.01"), id="tie-rounds-up"),
        pytest.param(Decimal("0.005"), Decimal("0.01"), id="tie-at-half-a-fen"),
        pytest.param(Decimal("2.675"), Decimal("2.68"), id="tie-that-a-float-gets-wrong"),
        pytest.param(Decimal("0.125"), Decimal("0.13"), id="tie-half-even-would-round-down"),
        pytest.param(Decimal("1.0049999"), Decimal("1.00"), id="just-below-tie"),
        pytest.param(Decimal("0.0049"), Decimal("0.00"), id="under-half-a-fen"),
        pytest.param(Decimal("-1.005"), Decimal("-1.01"), id="negative-tie-away-from-zero"),
        pytest.param(Decimal("344.815515"), Decimal("344.82"), id="BT-2025-total"),
        pytest.param(Decimal("193.504452"), Decimal("193.50"), id="JZ-2026-total"),
        pytest.param(Decimal("225"), Decimal("225.00"), id="integer-decimal"),
        pytest.param(5, Decimal("5.00"), id="int"),
    ],
)
def test_quantize_yuan_rounds_half_up(value: Decimal | int, expected: Decimal) -> None:
    result = quantize_yuan(value)

    assert result == expected
    assert result.as_tuple().exponent == -2  # always shown with two decimals


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(Decimal("1234.5"), "¥1,234.50", id="thousands-separator"),
        pytest.param(Decimal("0"), "¥0.00", id="zero"),
        pytest.param(Decimal("1234567.891"), "¥1,234,567.89", id="millions"),
        pytest.param(Decimal("0.125"), "¥0.13", id="rounds-half-up-not-half-even"),
        pytest.param(Decimal("344.815515"), "¥344.82", id="BT-2025-total"),
        pytest.param(Decimal("-1234.5"), "-¥1,234.50", id="negative"),
        pytest.param(Decimal("-0.001"), "¥0.00", id="negative-zero-after-rounding"),
        pytest.param(1000, "¥1,000.00", id="int"),
    ],
)
def test_format_yuan(value: Decimal | int, expected: str) -> None:
    assert format_yuan(value) == expected


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        pytest.param(Decimal("3715.2"), 31, Decimal("119.85"), id="BT-vcpu-21.6x8x21.5/31"),
        pytest.param(Decimal("70680"), 365, Decimal("193.64"), id="JZ-ecs-2280x31/365"),
        pytest.param(Decimal("344.82"), Decimal("1.06"), Decimal("325.30"), id="net-of-vat"),
        pytest.param(Decimal("1"), 200, Decimal("0.01"), id="exact-tie-0.005"),
        pytest.param(Decimal("3"), 400, Decimal("0.01"), id="0.0075"),
        pytest.param(Decimal("1"), 3, Decimal("0.33"), id="one-third"),
        pytest.param(Decimal("2"), 3, Decimal("0.67"), id="two-thirds"),
        pytest.param(Decimal("-1"), 200, Decimal("-0.01"), id="negative-tie"),
        pytest.param(Decimal("1"), -200, Decimal("-0.01"), id="negative-denominator"),
        pytest.param(Decimal("0"), 31, Decimal("0.00"), id="zero"),
    ],
)
def test_divide_yuan_is_exact_and_half_up(
    numerator: Decimal, denominator: Decimal | int, expected: Decimal
) -> None:
    result = divide_yuan(numerator, denominator)

    assert result == expected
    assert result.as_tuple().exponent == -2


def test_divide_yuan_by_zero() -> None:
    with pytest.raises(ZeroDivisionError):
        divide_yuan(Decimal("1"), 0)


def _reference_half_up(value: Fraction) -> Fraction:
    """Half-up (away from zero) to the fen with exact fractions: the oracle for divide_yuan."""
    fen = abs(value) * 100
    whole = fen.numerator // fen.denominator
    if fen - whole >= Fraction(1, 2):
        whole += 1
    return Fraction(whole if value >= 0 else -whole, 100)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_divide_yuan_matches_exact_fractions(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(500):
        numerator = Decimal(rng.randint(-(10**12), 10**12)).scaleb(-rng.randint(0, 8))
        denominator = rng.choice([365, 366, 28, 29, 30, 31, Decimal("1.06"), rng.randint(1, 999)])

        expected = _reference_half_up(Fraction(numerator) / Fraction(denominator))

        assert Fraction(divide_yuan(numerator, denominator)) == expected, (numerator, denominator)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: quantize_yuan(1.5), id="quantize_yuan"),
        pytest.param(lambda: format_yuan(1234.5), id="format_yuan"),
        pytest.param(lambda: divide_yuan(1.0, 2), id="divide_yuan-numerator"),
        pytest.param(lambda: divide_yuan(Decimal(1), 2.0), id="divide_yuan-denominator"),
        pytest.param(lambda: ensure_decimal(0.1), id="ensure_decimal"),
    ],
)
def test_floats_are_rejected(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="float"):
        call()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("1.00", id="str"),
        pytest.param(True, id="bool"),
        pytest.param(None, id="none"),
    ],
)
def test_other_non_decimals_are_rejected(value: object) -> None:
    with pytest.raises(TypeError, match="must be a Decimal"):
        quantize_yuan(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_decimals_are_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        quantize_yuan(Decimal(value))


def test_exact_context_refuses_to_round_silently() -> None:
    with localcontext(EXACT), pytest.raises(Inexact):
        _ = Decimal(1) / Decimal(3)


def test_quantize_yuan_ignores_the_callers_context() -> None:
    # Rounding to the fen is wanted even where intermediate arithmetic forbids rounding.
    with localcontext(EXACT):
        assert quantize_yuan(Decimal("1.005")) == Decimal("1.01")
        assert divide_yuan(Decimal("1"), 3) == Decimal("0.33")
        assert format_yuan(Decimal("0.125")) == "¥0.13"
    with localcontext() as tiny:
        tiny.prec = 2
        assert quantize_yuan(Decimal("1234.565")) == Decimal("1234.57")
        assert format_yuan(Decimal("1234.565")) == "¥1,234.57"
