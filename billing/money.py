"""Money primitives for billing: Decimal yuan amounts, half-up rounding to the fen, display
(``format_yuan``, defined in ``govcloud.formatting``: one format on pages, PDFs and e-mails).

Pure module (no Django). Every amount is a ``Decimal``; a ``float`` is refused wherever money
enters, because binary floating point cannot represent prices such as 0.45 exactly and the
statement must reproduce the contract formulas to the fen.
"""

from __future__ import annotations

from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)

# The display format belongs to the lowest layer that shows money (the contract pages);
# billing re-exports it so its code keeps one name for it.
from govcloud.formatting import format_yuan

__all__ = [
    "EXACT",
    "YUAN",
    "divide_yuan",
    "ensure_decimal",
    "format_yuan",
    "quantize_yuan",
    "round_half_up",
]

#: One fen: the resolution of every amount on a statement.
YUAN = Decimal("0.01")

#: Arithmetic context for intermediate products and sums. ``Inexact`` is trapped so a product
#: that would not fit in 34 significant digits raises instead of being rounded silently: the
#: only rounding allowed is the explicit half-up one to the fen.
EXACT = Context(
    prec=34,
    rounding=ROUND_HALF_UP,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)

# The one place rounding is wanted. Passed explicitly so the result does not depend on the
# caller's current context (e.g. a caller inside ``localcontext(EXACT)``, where rounding traps).
_ROUNDING = Context(prec=34, rounding=ROUND_HALF_UP, traps=[InvalidOperation, Overflow])


def ensure_decimal(value: object, name: str = "value") -> Decimal:
    """Return ``value`` as a finite ``Decimal``; ints are accepted, floats never.

    Raises ``TypeError`` for floats (and bools, strings and anything else) and ``ValueError``
    for NaN or infinities.
    """
    if isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, not a float ({value!r}): use Decimal('...')")
    # bool is an int subclass; True as a quantity or price is always a bug.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal or int, not {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {result}")
    return result


def quantize_yuan(x: Decimal | int) -> Decimal:
    """Round ``x`` half-up (ties away from zero) to 0.01 yuan."""
    return ensure_decimal(x, "amount").quantize(YUAN, rounding=ROUND_HALF_UP, context=_ROUNDING)


def divide_yuan(numerator: Decimal | int, denominator: Decimal | int) -> Decimal:
    """Return ``numerator / denominator`` rounded half-up to 0.01 yuan, computed exactly.

    The quotient is never materialised as a rounded Decimal (which could turn ...4999… into
    ...5 and round the wrong way); instead both operands become exact integer ratios and the
    rounding to the fen is done with integer division.
    """
    num_n, num_d = ensure_decimal(numerator, "numerator").as_integer_ratio()
    den_n, den_d = ensure_decimal(denominator, "denominator").as_integer_ratio()
    if den_n == 0:
        raise ZeroDivisionError("division of an amount by zero")
    # value × 100 (in fen) = (num_n × den_d × 100) / (num_d × den_n)
    top = num_n * den_d * 100
    bottom = num_d * den_n
    if bottom < 0:
        top, bottom = -top, -bottom
    fen, remainder = divmod(abs(top), bottom)
    if 2 * remainder >= bottom:  # half-up: a tie goes away from zero
        fen += 1
    if top < 0:
        fen = -fen
    return quantize_yuan(Decimal(fen).scaleb(-2, context=_ROUNDING))


def round_half_up(x: Decimal | int, places: int = 2) -> Decimal:
    """Round a non-money figure (points, percentages, averages) half-up to ``places`` decimals.

    Scores and utilization percentages follow the same half-up rule as amounts; this is the one
    place they are rounded, so a score shown in the portal is the one the PDF and the deduction
    use.
    """
    exponent = Decimal(1).scaleb(-places)
    return ensure_decimal(x, "value").quantize(exponent, rounding=ROUND_HALF_UP, context=_ROUNDING)
