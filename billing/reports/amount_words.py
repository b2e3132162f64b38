"""Amounts in Chinese capital numerals (人民币大写), as printed on statements and bills.

Pure module (no Django). Follows the 《支付结算办法》 conventions: 壹贰叁…, "元" then "角"/"分",
"整" after "元" when there are no 角 and 分, a single "零" for any run of zeros inside the
number (壹万零伍元), "零" between 元 and 分 when 角 is zero (壹佰元零伍分).
"""

from __future__ import annotations

from decimal import Decimal

from billing.money import quantize_yuan

__all__ = ["amount_in_words"]

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("仟", "佰", "拾", "")
_GROUP_UNITS = ("", "万", "亿", "万亿")


def _group_words(group: int) -> str:
    """0 < group < 10000, without leading "零"."""
    words = ""
    zero_pending = False
    for digit_char, unit in zip(f"{group:04d}", _SMALL_UNITS, strict=True):
        digit = int(digit_char)
        if digit == 0:
            zero_pending = bool(words)
            continue
        if zero_pending:
            words += "零"
        words += _DIGITS[digit] + unit
        zero_pending = False
    return words


def _integer_words(number: int) -> str:
    groups: list[int] = []
    while number:
        number, group = divmod(number, 10_000)
        groups.append(group)
    if len(groups) > len(_GROUP_UNITS):
        raise ValueError("amount too large")
    words = ""
    need_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            need_zero = bool(words)
            continue
        if words and (need_zero or group < 1000):
            words += "零"
        words += _group_words(group) + _GROUP_UNITS[index]
        need_zero = False
    return words


def amount_in_words(amount: Decimal | int) -> str:
    """``Decimal("344.82")`` → ``"叁佰肆拾肆元捌角贰分"``; rounds half-up to the fen first."""
    value = quantize_yuan(amount)
    sign = "负" if value < 0 else ""
    fen_total = int(value.copy_abs() * 100)
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    words = _integer_words(yuan) + "元" if yuan else ""
    if not jiao and not fen:
        return sign + (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen:
        words += _DIGITS[fen] + "分"
    return sign + words
