"""Contract billing rules: service days, quantity segments, line amounts and statement totals.

Pure module (no Django, no ORM): the statement service feeds it plain values and stores what
it returns. The rules come from DESIGN §4 and the two reference contracts:

* 焦作 JZ-2026 §三.1: 服务费用 = 使用量 × 单价 × (实际使用天数/365) × 99.93%, "按天进行计费";
  the online and the offline day each count as a whole day (``PartialDayRule.WHOLE_DAY``);
  usage from 2026-03-20 (before the service period) is settled under the contract, which is why
  a contract has a billing window that can start before its service period.
* 包头 BT-2025 §7.1.1: 服务时间 = 当月实际使用天数 / 当月实际日历天数; online/offline "不足12小时
  按半日计，超过按整日计" (``PartialDayRule.HALF_DAY_UNDER_12H``; exactly 12 h counts as a whole
  day, as DESIGN states); §5.1.2 测试期为1个月，测试期间不计费 (``test_period_end``,
  ``billing_start``).
* The discount applies to the statement's subtotal (both reference contracts) or to each line
  (``DiscountScope.LINE``: line = round(price × qty × days / divisor × discount), total =
  subtotal), as the contract's ``discount_applies_to`` term says.
* A catalog price has effective dates: a change applies from 00:00 of its day, so a line is
  split where the price changes inside the month (``price_pieces``), one line per price.

Time: every datetime passed in must be aware; the calendar days that are billed are those of
the business time zone, Asia/Shanghai, whatever zone the caller's datetimes are in.

Performance: the statement service prices ~20,000 resources a month, so nothing here loops over
days. ``service_days`` is O(1): the days strictly between the first and the last covered day are
whole by construction and are counted arithmetically; only those two edge days are weighed.

Why "count the days touched" is right for the whole-day rule: a day that is only partly covered
must count as a whole day only when the partial coverage comes from a real online or offline
instant. Every other boundary that clips a usage interval lies on a local midnight — month edges,
the contract billing window (``billing_window``) and quantity-change boundaries
(``segments_from_history``) — so it never cuts a day in two and cannot create an extra partial day.
``service_days`` refuses window edges that are not local midnights to keep that invariant true.
"""

from __future__ import annotations

import calendar
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, localcontext
from enum import StrEnum

from billing.money import EXACT, divide_yuan, ensure_decimal, quantize_yuan
from govcloud.dates import add_months
from govcloud.workdays import BUSINESS_TZ

__all__ = [
    "BUSINESS_TZ",
    "DEFAULT_VAT_RATE",
    "DiscountScope",
    "PartialDayRule",
    "PricePeriod",
    "Segment",
    "Totals",
    "billing_start",
    "billing_window",
    "config_segments",
    "divisor",
    "effective_change_date",
    "line_amount",
    "local_midnight",
    "month_bounds",
    "price_on",
    "price_pieces",
    "segments_from_history",
    "service_days",
    "statement_totals",
    "test_period_end",
]


#: Prices in both reference contracts include 6 % VAT.
DEFAULT_VAT_RATE = Decimal("0.06")

#: Days in the divisor of a yearly price. Always 365, leap years included: the JZ-2026 formula
#: is literally "实际使用天数/365".
DAYS_PER_YEAR = 365

#: A quantity change delivered before this local time takes effect the same day, otherwise
#: the next day: the day is billed to the configuration that held it longer.
CHANGE_CUTOFF = time(12, 0)

#: Under the half-day rule a day covered for less than this counts 0.5, otherwise 1.
HALF_DAY_THRESHOLD = timedelta(hours=12)

_ONE_DAY = timedelta(days=1)


class PricePeriod(StrEnum):
    """What a catalog unit price is quoted for (values as stored in the catalog CSV and DB)."""

    YEAR = "year"
    MONTH = "month"


class DiscountScope(StrEnum):
    """What the contract's discount factor multiplies (``contract.discount_applies_to``)."""

    #: Both reference contracts: total = round(Σ rounded lines × discount).
    SUBTOTAL = "subtotal"
    #: Each line = round(price × qty × days / divisor × discount); total = Σ lines.
    LINE = "line"


class PartialDayRule(StrEnum):
    """How a calendar day that is only partly covered by usage is weighted."""

    #: 焦作: the online day and the offline day each count as a whole day.
    WHOLE_DAY = "whole_day"
    #: 包头: a day with under 12 h of use counts 0.5, 12 h or more counts 1.
    HALF_DAY_UNDER_12H = "half_day_under_12h"


# --------------------------------------------------------------------------- time helpers


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def _elapsed(start: datetime, end: datetime) -> timedelta:
    # Aware datetimes sharing one tzinfo object subtract as wall-clock times; going through
    # UTC gives the real elapsed time even across an offset change.
    return end.astimezone(UTC) - start.astimezone(UTC)


def _is_local_midnight(value: datetime) -> bool:
    return value.astimezone(BUSINESS_TZ).time() == time.min


def local_midnight(day: date) -> datetime:
    """00:00 business local time at the start of ``day`` (an aware datetime)."""
    return datetime.combine(day, time.min, tzinfo=BUSINESS_TZ)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First and last calendar day of ``year``-``month``."""
    last = calendar.monthrange(year, month)[1]  # raises (a ValueError) for month ∉ 1..12
    return date(year, month, 1), date(year, month, last)


def billing_window(*, billing_from: date, service_end: date) -> tuple[datetime, datetime]:
    """The contract's billing window [billing_from 00:00, service_end + 1 day 00:00) local.

    ``service_end`` is the last day of the service period (billed through its 24:00).
    """
    if service_end < billing_from:
        raise ValueError(f"service_end {service_end} is before billing_from {billing_from}")
    return local_midnight(billing_from), local_midnight(service_end + _ONE_DAY)


def test_period_end(delivered_at: datetime, months: int) -> datetime:
    """When a test period of ``months`` calendar months that starts at ``delivered_at`` ends.

    Same local wall time ``months`` months later, the day clamped to the end of a shorter month
    (01-31 + 1 month → 02-28, or 02-29 in a leap year). Billing starts at this instant
    (包头 §5.1.2: 测试期为1个月，测试期间不计费). Returned in business local time.
    """
    _require_aware(delivered_at, "delivered_at")
    if isinstance(months, bool) or not isinstance(months, int) or months < 0:
        raise ValueError(f"months must be a non-negative int, got {months!r}")
    local = delivered_at.astimezone(BUSINESS_TZ)
    day = add_months(local.date(), months)
    return local.replace(year=day.year, month=day.month, day=day.day)


def billing_start(online_at: datetime, *, test_period_ends_at: datetime | None) -> datetime:
    """When billing of a resource that goes online at ``online_at`` starts: the one rule.

    A resource delivered by a ticket while its business system's free test period runs
    (包头 §5.1.2: 测试期为1个月，测试期间不计费) starts billing when the period ends
    (``test_period_ends_at``); delivered at or after its end, or without a test period
    (``None``), it bills from ``online_at``. The same rule recomputes the billing start of the
    resources a test period covers when the bureau ends it early or extends it.
    """
    _require_aware(online_at, "online_at")
    if test_period_ends_at is None:
        return online_at
    _require_aware(test_period_ends_at, "test_period_ends_at")
    return max(online_at, test_period_ends_at)


# Not a test, despite its (contractual) name: keep pytest from collecting it when a test
# module imports it by name.
test_period_end.__test__ = False  # type: ignore[attr-defined]


# --------------------------------------------------------------------- quantity segments


def effective_change_date(t: datetime) -> date:
    """The day from which a quantity change delivered at ``t`` is billed.

    Delivered on local day D before 12:00 → D (the new configuration holds D longer);
    at 12:00 or later → D + 1. Exactly 12:00 is a tie that goes to the old configuration.
    """
    _require_aware(t, "t")
    local = t.astimezone(BUSINESS_TZ)
    if local.time() < CHANGE_CUTOFF:
        return local.date()
    return local.date() + _ONE_DAY


@dataclass(frozen=True)
class Segment:
    """A stretch [start, end) during which a resource was billed at one quantity.

    ``end`` is exclusive; ``None`` means still running. Inner boundaries are local midnights.
    """

    quantity: int
    start: datetime
    end: datetime | None

    def __post_init__(self) -> None:
        _require_aware(self.start, "start")
        if self.end is not None:
            _require_aware(self.end, "end")
            if self.end <= self.start:
                raise ValueError(f"empty segment: end {self.end} is not after start {self.start}")


def _check_quantity(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def segments_from_history(
    *,
    billing_start: datetime,
    release: datetime | None,
    changes: Sequence[tuple[datetime, int]],
    initial_quantity: int,
) -> list[Segment]:
    """Split a resource's billed life [billing_start, release) into constant-quantity segments.

    Each change ``(delivered_at, new_quantity)`` takes effect at 00:00 local of
    ``effective_change_date(delivered_at)``. Changes are applied in chronological order (they
    are sorted here; equal instants keep their given order, so the later-listed one wins).
    A change effective at or before ``billing_start`` replaces ``initial_quantity``; changes
    effective at or after ``release`` are ignored; several changes effective the same midnight
    leave only the last one. Adjacent segments that end up with the same quantity are merged,
    so a no-op change does not split one statement line into two.

    Cost is O(number of changes).
    """
    _require_aware(billing_start, "billing_start")
    if release is not None:
        _require_aware(release, "release")
    quantity = _check_quantity(initial_quantity, "initial_quantity")
    for delivered_at, new_quantity in changes:
        _require_aware(delivered_at, "change delivered_at")
        _check_quantity(new_quantity, "change quantity")
    if release is not None and release <= billing_start:
        return []  # released before billing began (e.g. during the test period)

    # Stable sort: changes delivered at the same instant keep their given order.
    ordered = sorted(changes, key=lambda change: change[0])
    # (effective from, quantity) breakpoints; effective instants are non-decreasing because
    # effective_change_date is monotonic in the delivery time.
    points: list[tuple[datetime, int]] = [(billing_start, quantity)]
    for delivered_at, new_quantity in ordered:
        effective = local_midnight(effective_change_date(delivered_at))
        if release is not None and effective >= release:
            break  # every later change takes effect after the release too
        if effective <= points[-1][0]:
            # Effective at/before billing_start, or the same midnight as the previous change:
            # the later change wins and no empty segment is left behind.
            points[-1] = (points[-1][0], new_quantity)
        elif new_quantity != points[-1][1]:
            points.append((effective, new_quantity))
    # A later overwrite can make neighbours equal again (e.g. 8 → 4 → 8 on one midnight).
    merged: list[tuple[datetime, int]] = []
    for point in points:
        if not merged or merged[-1][1] != point[1]:
            merged.append(point)
    ends: list[datetime | None] = [start for start, _ in merged[1:]]
    ends.append(release)
    return [
        Segment(quantity=q, start=start, end=end)
        for (start, q), end in zip(merged, ends, strict=True)
    ]


def config_segments(
    *,
    billing_start: datetime,
    release: datetime | None,
    initial: Hashable,
    changes: Sequence[tuple[datetime, Hashable]],
) -> list[tuple[Hashable, datetime, datetime | None]]:
    """``segments_from_history`` for any configuration, e.g. ``(catalog item, quantity)``.

    Same rules, same result shape as ``(config, start, end)`` tuples: each change
    ``(delivered_at, new_config)`` takes effect at 00:00 local of
    ``effective_change_date(delivered_at)`` (before 12:00 → that day, else the next); changes
    are applied in chronological order, equal instants in their given order; a change
    effective at or before ``billing_start`` replaces ``initial``; changes effective at or
    after ``release`` are ignored; the last of several changes effective the same midnight
    wins; adjacent segments with equal configurations are merged.

    A change of catalog item must split a statement line exactly like a change of quantity;
    this generalises the quantity-only function for that. It is also the statement engine's
    hot path (thousands of resources a month), hence plain tuples instead of ``Segment``s.
    O(number of changes).
    """
    _require_aware(billing_start, "billing_start")
    if release is not None:
        _require_aware(release, "release")
        if release <= billing_start:
            return []
    ordered = sorted(changes, key=_delivered_at) if len(changes) > 1 else changes
    points: list[tuple[datetime, Hashable]] = [(billing_start, initial)]
    for delivered_at, config in ordered:
        effective = local_midnight(effective_change_date(delivered_at))
        if release is not None and effective >= release:
            break
        if effective <= points[-1][0]:
            points[-1] = (points[-1][0], config)
        elif config != points[-1][1]:
            points.append((effective, config))
    merged: list[tuple[datetime, Hashable]] = []
    for point in points:
        if not merged or merged[-1][1] != point[1]:
            merged.append(point)
    return [
        (config, start, merged[index + 1][0] if index + 1 < len(merged) else release)
        for index, (start, config) in enumerate(merged)
    ]


def _delivered_at(change: tuple[datetime, Hashable]) -> datetime:
    return change[0]


# -------------------------------------------------------------------------- service days


def _weight_in_halves(rule: PartialDayRule, covered: timedelta) -> int:
    """Weight of one calendar day covered for ``covered`` (> 0), in half days."""
    if rule is PartialDayRule.HALF_DAY_UNDER_12H and covered < HALF_DAY_THRESHOLD:
        return 1
    return 2


def service_days(
    *,
    start: datetime,
    end: datetime | None,
    period_start: date,
    period_end: date,
    rule: PartialDayRule,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> Decimal:
    """Billable days of usage [start, end) within the days period_start … period_end.

    The usage is clipped to [period_start 00:00, period_end + 1 day 00:00) local and to the
    contract billing window [window_start, window_end) (see ``billing_window``). Each local
    calendar day covered for h > 0 hours weighs per ``rule``; the result is the sum, e.g.
    ``Decimal("21.5")``. A boundary exactly at local midnight creates no partial day: usage
    ending at 00:00 of D does not touch D.

    O(1): see the module docstring for why only the first and last covered day need weighing.
    """
    rule = PartialDayRule(rule)
    _require_aware(start, "start")
    if end is not None:
        _require_aware(end, "end")
        if end < start:
            raise ValueError(f"usage ends ({end}) before it starts ({start})")
    if period_end < period_start:
        raise ValueError(f"period_end {period_end} is before period_start {period_start}")

    lower = max(start, local_midnight(period_start))
    upper = local_midnight(period_end + _ONE_DAY)
    if end is not None:
        upper = min(upper, end)
    for name, edge in (("window_start", window_start), ("window_end", window_end)):
        if edge is None:
            continue
        _require_aware(edge, name)
        # A window edge inside a day would be weighed like an online/offline instant.
        if not _is_local_midnight(edge):
            raise ValueError(f"{name} must be a local midnight, got {edge.isoformat()}")
    if window_start is not None:
        lower = max(lower, window_start)
    if window_end is not None:
        upper = min(upper, window_end)
    if upper <= lower:
        return Decimal(0)

    first_day = lower.astimezone(BUSINESS_TZ).date()
    upper_local = upper.astimezone(BUSINESS_TZ)
    # The last day actually touched: usage up to 00:00 of D ends on D - 1.
    last_day = upper_local.date() - _ONE_DAY if _is_local_midnight(upper) else upper_local.date()

    if first_day == last_day:
        halves = _weight_in_halves(rule, _elapsed(lower, upper))
    else:
        halves = _weight_in_halves(rule, _elapsed(lower, local_midnight(first_day + _ONE_DAY)))
        # Days strictly between the edge days are covered for all their hours.
        halves += 2 * ((last_day - first_day).days - 1)
        halves += _weight_in_halves(rule, _elapsed(local_midnight(last_day), upper))
    return Decimal(halves) / 2


# ---------------------------------------------------------------------------------- amounts


def divisor(*, period: PricePeriod, year: int, month: int) -> int:
    """Days that one unit price covers: 365 for a yearly price (leap years too), else the
    number of days in the calendar month (a yearly-priced item in a monthly contract → 365)."""
    period = PricePeriod(period)
    days_in_month = month_bounds(year, month)[1].day  # validates the month either way
    if period is PricePeriod.YEAR:
        return DAYS_PER_YEAR
    return days_in_month


def line_amount(
    *,
    unit_price: Decimal,
    quantity: int | Decimal,
    service_days: Decimal,
    period: PricePeriod,
    year: int,
    month: int,
    discount: Decimal | None = None,
) -> Decimal:
    """unit_price × quantity × service_days / divisor [× discount], rounded half-up to 0.01.

    ``discount`` is given only where the contract applies it to each line
    (``DiscountScope.LINE``); the statement total is then the sum of the lines.

    Nothing is rounded before the final fen: the product is exact (``EXACT`` traps any
    rounding) and the division is rounded exactly by ``divide_yuan``.
    """
    price = ensure_decimal(unit_price, "unit_price")
    amount_of = ensure_decimal(quantity, "quantity")
    days = ensure_decimal(service_days, "service_days")
    for name, value in (("unit_price", price), ("quantity", amount_of), ("service_days", days)):
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")
    factor = Decimal(1) if discount is None else _check_discount(discount)
    with localcontext(EXACT):
        numerator = price * amount_of * days * factor
    return divide_yuan(numerator, divisor(period=period, year=year, month=month))


def _check_discount(discount: object) -> Decimal:
    factor = ensure_decimal(discount, "discount")
    if not Decimal(0) < factor <= Decimal(1):
        raise ValueError(f"discount must be a factor in (0, 1], e.g. 0.9999, got {factor}")
    return factor


@dataclass(frozen=True)
class Totals:
    """Statement totals. ``discount`` is the factor applied (e.g. 0.9999), not an amount;
    ``vat`` is the VAT included in ``total`` (prices are VAT-inclusive)."""

    subtotal: Decimal
    discount: Decimal
    total: Decimal
    vat: Decimal


def statement_totals(
    line_amounts: Iterable[Decimal],
    *,
    discount: Decimal,
    vat_rate: Decimal = DEFAULT_VAT_RATE,
    applies_to: DiscountScope = DiscountScope.SUBTOTAL,
) -> Totals:
    """Totals of a statement from its already-rounded line amounts.

    subtotal = Σ lines; total = round_half_up(subtotal × discount, 0.01) — or, where the
    discount is already in every line (``DiscountScope.LINE``), total = subtotal;
    vat = total − round_half_up(total / (1 + vat_rate), 0.01).

    Lines must already be whole fen (as ``line_amount`` returns them): rounding is per line,
    and silently re-rounding here would hide a caller that skipped it.
    """
    factor = _check_discount(discount)
    scope = DiscountScope(applies_to)
    rate = ensure_decimal(vat_rate, "vat_rate")
    if not Decimal(0) <= rate < Decimal(1):
        raise ValueError(f"vat_rate must be a fraction in [0, 1), e.g. 0.06, got {rate}")

    subtotal = Decimal(0)
    with localcontext(EXACT):
        for index, line in enumerate(line_amounts):
            amount = ensure_decimal(line, f"line_amounts[{index}]")
            if amount != quantize_yuan(amount):
                raise ValueError(f"line_amounts[{index}] = {amount} is not rounded to the fen")
            subtotal += amount
        discounted = subtotal * factor if scope is DiscountScope.SUBTOTAL else subtotal
        gross_rate = 1 + rate
    total = quantize_yuan(discounted)
    vat = total - divide_yuan(total, gross_rate)
    return Totals(subtotal=quantize_yuan(subtotal), discount=factor, total=total, vat=vat)


# ------------------------------------------------------------------- prices with dates


def price_on(prices: Sequence[tuple[date, Decimal]], day: date) -> Decimal:
    """The unit price in effect on ``day``: the last ``(effective_from, price)`` on or before
    it. ``prices`` is sorted by date and not empty; before the first date the first price
    applies (an item's first price is the contract's own, from its billing start)."""
    if not prices:
        raise ValueError("an item needs at least one price")
    current = prices[0][1]
    for effective_from, price in prices:
        if effective_from > day:
            break
        current = price
    return current


def price_pieces(
    *, start: datetime, end: datetime, prices: Sequence[tuple[date, Decimal]]
) -> list[tuple[Decimal, datetime, datetime]]:
    """[start, end) split where the price changes: ``[(price, piece start, piece end)]``.

    A price effective from day D applies from 00:00 local of D, so every inner boundary is a
    local midnight and never cuts a day in two (``service_days`` weighs the pieces exactly as
    it weighed the whole). Adjacent dates with the same price do not split. ``prices`` is
    sorted by date and not empty.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        raise ValueError(f"empty stretch: end {end} is not after start {start}")
    first_day = start.astimezone(BUSINESS_TZ).date()
    current = price_on(prices, first_day)
    pieces: list[tuple[Decimal, datetime, datetime]] = []
    piece_start = start
    for effective_from, price in prices:
        boundary = local_midnight(effective_from)
        if boundary <= start or price == current:
            continue
        if boundary >= end:
            break
        pieces.append((current, piece_start, boundary))
        piece_start, current = boundary, price
    pieces.append((current, piece_start, end))
    return pieces
