"""Splitting a signed statement's total and VAT over its departments, to the fen.

Pure module (no Django). The statement total is ``round_half_up(subtotal × discount)`` of the
whole statement (DESIGN §4), so discounting and rounding each department's subtotal on its own
would not, in general, add up to it. The bills use the largest-remainder method (Hamilton):

1. each department's exact share is ``its subtotal × discount`` (a rational number);
2. every share is rounded *down* to the fen;
3. the fen still missing to reach the statement total are given, one each, to the departments
   whose shares lost the most in step 2 (ties: the earlier department in the given order).

So Σ bills = statement total exactly, and no bill is more than one fen away from its exact
share. The VAT included in each bill is split the same way: each department's net amount
(total without VAT) is allocated from the statement's net amount over the exact shares
``bill / (1 + vat_rate)``, and its VAT is ``bill − net``, so Σ VAT = statement VAT too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from billing.money import ensure_decimal, quantize_yuan

__all__ = ["BillShare", "allocate_fen", "split_statement"]

_FEN_PER_YUAN = 100


def _fen(value: Decimal) -> int:
    amount = ensure_decimal(value, "amount")
    if amount != quantize_yuan(amount):
        raise ValueError(f"{amount} is not a whole number of fen")
    return int(amount * _FEN_PER_YUAN)


def allocate_fen(target: Decimal, shares: Sequence[Fraction]) -> list[Decimal]:
    """Split ``target`` (whole fen) into amounts proportional to ``shares`` (exact yuan values
    whose sum is within one fen per share of ``target``), by largest remainder.

    Raises ValueError when the shares cannot be rounded to the target that way (they do not
    add up to it), which would mean the caller's arithmetic is wrong.
    """
    target_fen = _fen(target)
    floors: list[int] = []
    remainders: list[tuple[Fraction, int]] = []
    for index, share in enumerate(shares):
        if share < 0:
            raise ValueError(f"share {index} is negative: {share}")
        in_fen = Fraction(share) * _FEN_PER_YUAN
        floor = in_fen.numerator // in_fen.denominator
        floors.append(floor)
        remainders.append((in_fen - floor, index))
    missing = target_fen - sum(floors)
    if not 0 <= missing <= len(floors):
        raise ValueError(
            f"shares add up to {sum(shares)} and cannot be rounded to a total of {target}"
        )
    # Largest remainder first; on a tie the earlier share wins (stable, deterministic).
    for _remainder, index in sorted(remainders, key=lambda r: (-r[0], r[1]))[:missing]:
        floors[index] += 1
    return [quantize_yuan(Decimal(fen) / _FEN_PER_YUAN) for fen in floors]


@dataclass(frozen=True)
class BillShare:
    """One department's share of a statement: its bill total and the VAT included in it."""

    total: Decimal
    vat: Decimal


def split_statement(
    subtotals: Sequence[Decimal],
    *,
    discount: Decimal,
    total: Decimal,
    vat: Decimal,
    vat_rate: Decimal,
) -> list[BillShare]:
    """Bills for the departments whose line subtotals are ``subtotals`` (statement order).

    ``total`` and ``vat`` are the statement's (``pricing.statement_totals``); the results add up
    to them exactly.
    """
    factor = Fraction(ensure_decimal(discount, "discount"))
    gross = 1 + Fraction(ensure_decimal(vat_rate, "vat_rate"))
    totals = allocate_fen(
        total, [Fraction(ensure_decimal(s, "subtotal")) * factor for s in subtotals]
    )
    net_total = ensure_decimal(total, "total") - ensure_decimal(vat, "vat")
    nets = allocate_fen(net_total, [Fraction(t) / gross for t in totals])
    return [BillShare(total=t, vat=t - n) for t, n in zip(totals, nets, strict=True)]
