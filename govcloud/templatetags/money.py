"""The one money filter of every template: ``{{ statement.total|yuan }}`` → ``¥1,234.50``.

Registered as a template builtin (``TEMPLATES.OPTIONS.builtins`` in settings), so pages, partials,
report PDFs and e-mail templates write amounts the same way without a ``{% load %}``.
``{{ line.unit_price|unit_price }}`` keeps a price's extra decimals (``govcloud.formatting``).
A value that is not a number (``None``, "", a label such as "按结算确定") is shown as given,
or "—" when empty, so a template never needs a second branch for a missing amount.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django import template

from govcloud.formatting import format_unit_price, format_yuan, to_decimal

register = template.Library()


def _apply(value: object, fmt: Callable[[Decimal], str]) -> str:
    if value is None or value == "":
        return "—"
    amount = to_decimal(value)
    if amount is None:
        return str(value)
    return fmt(amount)


@register.filter(is_safe=True)
def yuan(value: object) -> str:
    """An amount (Decimal, int or numeric string) as ``¥1,234,567.89`` / ``-¥1,234.56``."""
    return _apply(value, format_yuan)


@register.filter(is_safe=True)
def unit_price(value: object) -> str:
    """A unit price as ``¥12.00`` (or ``¥0.0125`` when it has more decimals)."""
    return _apply(value, format_unit_price)
