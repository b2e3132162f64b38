"""Service years of a contract, as pure date arithmetic (no Django, no ORM).

The SLA is assessed per *service year* (服务年度): the contract's service period cut at each
anniversary of its start. BT-2025 (2025-06-20 … 2026-06-19) has one service year, JZ-2026
(2026-06-04 … 2028-06-03) two. A service year is named by the calendar year it starts in
("2025" = 2025-06-20 … 2026-06-19), which is how the portal's URLs and filters refer to it.
A last, shorter year (a service period that is not a whole number of years) is allowed.

Month arithmetic is ``govcloud.dates``; this module only cuts service periods into years.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "ServiceYear",
    "anniversary",
    "service_year_by_label",
    "service_year_of",
    "service_years",
]

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ServiceYear:
    """One assessment year of a contract: ``start`` and ``end`` are both inclusive."""

    label: int
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def title(self) -> str:
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"


def anniversary(start: date, years: int) -> date:
    """``start`` moved by whole years; 29 February becomes 28 February in common years."""
    year = start.year + years
    day = min(start.day, calendar.monthrange(year, start.month)[1])
    return date(year, start.month, day)


def service_years(service_start: date, service_end: date) -> list[ServiceYear]:
    """The service years of a period, oldest first (the last one may be shorter)."""
    if service_end < service_start:
        raise ValueError("service_end must not be before service_start")
    years: list[ServiceYear] = []
    index = 0
    while True:
        start = anniversary(service_start, index)
        if start > service_end:
            return years
        end = min(anniversary(service_start, index + 1) - _ONE_DAY, service_end)
        years.append(ServiceYear(label=start.year, start=start, end=end))
        index += 1


def service_year_of(service_start: date, service_end: date, day: date) -> ServiceYear | None:
    """The service year containing ``day``, or None outside the service period."""
    for year in service_years(service_start, service_end):
        if day in year:
            return year
    return None


def service_year_by_label(service_start: date, service_end: date, label: int) -> ServiceYear | None:
    for year in service_years(service_start, service_end):
        if year.label == label:
            return year
    return None
