"""Settlement periods of a contract and which monthly statements each one settles.

Pure module (no ORM; month arithmetic is ``govcloud.dates``). The contracts:

* 焦作 JZ-2026 §三.2: "服务费用按年度结算 … 每年12月份，乙方提供本年度…资源使用情况确认表" —
  yearly, **settled in December** (``settlement_month = 12``). December's own statement can only
  be signed in January (it is due by the 5th working day of the next month), so a year that is
  settled in December is the **settlement year December → November**: the period settled in
  December of year Y holds the 12 signed months Dec(Y−1) … Nov(Y) — every month of it is over
  and signed by the time of settlement, so the settlement is exact, never an estimate, and no
  day is settled twice (December of Y is settled in December of Y+1). Clipped to the billing
  window: 2026-03-20…2026-11-30 (settled 2026-12), 2026-12-01…2027-11-30 (settled 2027-12),
  2027-12-01…2028-06-03 (the rest, settled after the service end). In general the settlement
  year of a yearly contract ends with the month before ``settlement_month``; without a
  settlement month (or with January) it is the calendar year, settled after it ends.
* 包头 BT-2025 §7.2.1(2): "本合同费用每半年核算付款" — half-yearly, in 6-month steps from the
  service start: 2025-06-20…2025-12-19 and 2025-12-20…2026-06-19. Usage billed before the
  service start (a billing window that opens earlier) belongs to the first period.

A monthly statement covers a calendar month, which does not line up with a half-year that
starts on the 20th. A month is settled in the period that contains its **last billed day**
(the month's last day, or the service end): usage is paid after the fact (先用后付), and a
month's statement only exists once the month is over, so e.g. December 2025 (12-01…12-31) is
settled with the second Baotou half-year, not the first one that ended on 12-19. That rule is
``_settles``; ask it through ``months_of_period`` (period → its months) or ``period_of_month``
(month → its period), never restate it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from govcloud.dates import add_months, months_between

__all__ = [
    "Cadence",
    "SettlementPeriod",
    "billed_days_in_month",
    "last_billed_day",
    "months_in_window",
    "months_of_period",
    "period_of_month",
    "settlement_periods",
    "settlement_year_start_month",
]

_ONE_DAY = timedelta(days=1)


class Cadence(StrEnum):
    """Values as stored in ``Contract.settlement_cadence``."""

    YEARLY = "yearly"
    HALF_YEARLY = "half_yearly"


@dataclass(frozen=True)
class SettlementPeriod:
    """Days ``start`` … ``end`` (both included). ``key`` is stable and stored on deductions."""

    index: int
    start: date
    end: date

    @property
    def key(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    @property
    def label(self) -> str:
        return f"第{self.index}期（{self.start:%Y-%m-%d}至{self.end:%Y-%m-%d}）"

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def settlement_year_start_month(settlement_month: int | None) -> int:
    """The first calendar month of a yearly contract's settlement year: the settlement month
    itself (settled in December → the year runs December … November); January when the
    contract names no month (or January: the calendar year, settled when it is over)."""
    return settlement_month or 1


def settlement_periods(
    *,
    cadence: str,
    billing_from: date,
    service_start: date,
    service_end: date,
    settlement_month: int | None = None,
) -> list[SettlementPeriod]:
    """The contract's settlement periods, in order, covering [billing_from, service_end]."""
    cadence = Cadence(cadence)
    if service_end < billing_from or service_start < billing_from:
        raise ValueError("billing_from must not be after the service start or end")
    bounds: list[tuple[date, date]] = []
    if cadence is Cadence.YEARLY:
        first_month = settlement_year_start_month(settlement_month)
        # the settlement year that holds billing_from starts on the 1st of first_month
        start_year = (
            billing_from.year if billing_from.month >= first_month else billing_from.year - 1
        )
        year_start = date(start_year, first_month, 1)
        while year_start <= service_end:
            next_start = add_months(year_start, 12)
            start, end = max(billing_from, year_start), min(service_end, next_start - _ONE_DAY)
            if end >= start:
                bounds.append((start, end))
            year_start = next_start
    else:
        step = 0
        start = billing_from
        while start <= service_end:
            step += 1
            next_start = add_months(service_start, 6 * step)
            end = min(service_end, next_start - _ONE_DAY)
            if end >= start:
                bounds.append((start, end))
            start = max(start, next_start)
    return [SettlementPeriod(index=i, start=s, end=e) for i, (s, e) in enumerate(bounds, start=1)]


def months_in_window(*, billing_from: date, service_end: date) -> list[tuple[int, int]]:
    """Every (year, month) that has at least one day in [billing_from, service_end]."""
    return [(m.year, m.month) for m in months_between(billing_from, service_end)]


def last_billed_day(year: int, month: int, *, service_end: date) -> date:
    return min(date(year, month, calendar.monthrange(year, month)[1]), service_end)


def _settles(period: SettlementPeriod, year: int, month: int, *, service_end: date) -> bool:
    """Whether ``period`` settles the month's statement: it holds the month's last billed day."""
    return last_billed_day(year, month, service_end=service_end) in period


def period_of_month(
    periods: list[SettlementPeriod], year: int, month: int, *, service_end: date
) -> SettlementPeriod | None:
    """The period that settles the month's statement (the one with its last billed day)."""
    return next((p for p in periods if _settles(p, year, month, service_end=service_end)), None)


def months_of_period(
    period: SettlementPeriod, *, billing_from: date, service_end: date
) -> list[tuple[int, int]]:
    """Every (year, month) whose statement ``period`` settles, in order."""
    return [
        (year, month)
        for year, month in months_in_window(billing_from=billing_from, service_end=service_end)
        if _settles(period, year, month, service_end=service_end)
    ]


def billed_days_in_month(year: int, month: int, *, billing_from: date, service_end: date) -> int:
    """Calendar days of the month inside [billing_from, service_end] (for forecasts)."""
    first = max(date(year, month, 1), billing_from)
    last = last_billed_day(year, month, service_end=service_end)
    return max(0, (last - first).days + 1)
