"""How amounts of money are written for people: one format on pages, forms, PDFs and e-mails.

Pure module (no Django), the lowest layer that shows money: the contract pages (govcloud)
show the estimated amount and the instalments, billing and the apps above show everything
else; they all write an amount through ``format_yuan`` (the ``yuan`` template filter of
``govcloud/templatetags/money.py`` calls it), so ¥5,977.45 in a headline is ¥5,977.45 in the
table, the estimate, the drop-down, the PDF and the e-mail.

The format: ``¥`` with thousands separators and two decimals, rounded half-up to the fen;
a negative amount is ``-¥1,234.56``. CSV exports and the API keep plain numbers
(``1234.56``) for machines; the amount in words on a bill (``amount_words``) is its own thing.

Unit prices: the catalogs price to the fen (``decimal_places=2``), so a unit price is an
amount like any other. Should a price ever carry more decimals (a per-GB price of
¥0.0125), ``format_unit_price`` shows the decimals it has (up to four) instead of rounding
it: rounding a unit price would misstate the contract's price, while a line amount is always
rounded to the fen by ``billing.money.quantize_yuan`` before it is shown.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, Overflow

__all__ = ["format_unit_price", "format_yuan", "to_decimal"]

_FEN = Decimal("0.01")
_FOUR_PLACES = Decimal("0.0001")
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_UP, traps=[InvalidOperation, Overflow])


def to_decimal(value: object) -> Decimal | None:
    """``value`` as a finite Decimal: Decimals, ints and numeric strings (a JSON snapshot
    stores money as strings); ``None`` for anything else, floats included (no float is
    money)."""
    if isinstance(value, bool) or isinstance(value, float):
        return None
    if isinstance(value, Decimal | int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            return None
    else:
        return None
    return result if result.is_finite() else None


def _write(amount: Decimal, places: int) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{amount.copy_abs():,.{places}f}"


def format_yuan(value: Decimal | int) -> str:
    """``Decimal("1234567.891")`` → ``"¥1,234,567.89"``; ``Decimal("-5")`` → ``"-¥5.00"``.

    Rounds half-up to the fen first (``format()`` alone would round half-even). Raises
    ``TypeError`` for a float or anything that is not a number.
    """
    amount = to_decimal(value)
    if amount is None or isinstance(value, str):
        raise TypeError(f"an amount must be a Decimal or int, not {type(value).__name__}")
    rounded = amount.quantize(_FEN, rounding=ROUND_HALF_UP, context=_CONTEXT)
    if rounded == 0:
        rounded = abs(rounded)  # never "-¥0.00"
    return _write(rounded, 2)


def format_unit_price(value: Decimal | int) -> str:
    """A unit price: two decimals like any amount, more (up to four) when it has them.

    ``Decimal("12")`` → ``"¥12.00"``; ``Decimal("0.0125")`` → ``"¥0.0125"``.
    """
    amount = to_decimal(value)
    if amount is None or isinstance(value, str):
        raise TypeError(f"a price must be a Decimal or int, not {type(value).__name__}")
    rounded = amount.quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP, context=_CONTEXT)
    if rounded == rounded.quantize(_FEN, context=_CONTEXT):
        return format_yuan(rounded)
    exponent = int(rounded.normalize(context=_CONTEXT).as_tuple().exponent)  # finite: an int
    return _write(rounded, min(4, -exponent))
