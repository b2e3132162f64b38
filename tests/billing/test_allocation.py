"""Department bills: the statement total and VAT split by largest remainder (pure)."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest

from billing.allocation import allocate_fen, split_statement
from billing.pricing import statement_totals

D = Decimal


def test_largest_remainder_gives_the_missing_fen_to_the_biggest_losses():
    # exact shares 1.004, 2.006, 3.009 → floors 1.00, 2.00, 3.00; 2 fen go to 3.009 and 2.006
    assert allocate_fen(D("6.02"), [Fraction("1.004"), Fraction("2.006"), Fraction("3.009")]) == [
        D("1.00"),
        D("2.01"),
        D("3.01"),
    ]


def test_ties_go_to_the_earlier_department():
    assert allocate_fen(D("0.01"), [Fraction("0.005"), Fraction("0.005")]) == [D("0.01"), D("0.00")]


def test_refuses_shares_that_cannot_reach_the_target():
    with pytest.raises(ValueError, match="cannot be rounded"):
        allocate_fen(D("10.00"), [Fraction(1), Fraction(2)])


def test_worked_example_split():
    # DESIGN §4: 119.85 + 225.00 → 344.82 in total; two departments
    totals = statement_totals([D("119.85"), D("225.00")], discount=D("0.9999"))
    shares = split_statement(
        [D("119.85"), D("225.00")],
        discount=totals.discount,
        total=totals.total,
        vat=totals.vat,
        vat_rate=D("0.06"),
    )
    assert [s.total for s in shares] == [D("119.84"), D("224.98")]
    assert sum(s.total for s in shares) == totals.total
    assert sum(s.vat for s in shares) == totals.vat


@pytest.mark.parametrize("seed", range(20))
def test_bills_always_add_up(seed):
    rng = random.Random(seed)
    subtotals = [D(rng.randint(0, 10_000_000)) / 100 for _ in range(rng.randint(1, 60))]
    discount = rng.choice([D("0.9999"), D("0.9993"), D("0.85"), D("1")])
    totals = statement_totals(subtotals, discount=discount)
    shares = split_statement(
        subtotals, discount=discount, total=totals.total, vat=totals.vat, vat_rate=D("0.06")
    )
    assert sum(s.total for s in shares) == totals.total
    assert sum(s.vat for s in shares) == totals.vat
    for subtotal, share in zip(subtotals, shares, strict=True):
        assert abs(share.total - subtotal * discount) < D("0.01")
