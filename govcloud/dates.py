"""Business dates and month arithmetic: the one place the product turns instants into days.

The business day is the calendar day in ``Asia/Shanghai`` (DESIGN §2), whatever the server's
or the user's time zone. Months are handled as the first day of the month (``date(2026, 3, 1)``
stands for March 2026); ``add_months`` keeps the day and clamps it to a shorter month, while
``shift_month`` answers "the month N months from this one". Pure apart from reading the clock.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from govcloud.workdays import BUSINESS_TZ

__all__ = [
    "BUSINESS_TZ",
    "add_months",
    "business_date",
    "business_now",
    "business_today",
    "deadline_label",
    "month_end",
    "month_label",
    "month_start",
    "months_between",
    "parse_month",
    "previous_month",
    "shift_month",
]


def business_now() -> datetime:
    """Now, as an aware datetime in the business time zone."""
    return timezone.now().astimezone(BUSINESS_TZ)


def business_date(moment: datetime) -> date:
    """The business day an aware instant falls on."""
    if timezone.is_naive(moment):
        raise ValueError(f"aware datetime required, got naive {moment!r}")
    return moment.astimezone(BUSINESS_TZ).date()


def business_today() -> date:
    """Today's business date (Asia/Shanghai)."""
    return business_date(timezone.now())


def deadline_label(due: datetime | None) -> str:
    """A deadline as people read it, on pages and in e-mails alike: the last day at 24:00
    rather than the next day's 00:00 (``"2026-10-09 24:00"``); other instants as they are."""
    if due is None:
        return ""
    local = due.astimezone(BUSINESS_TZ)
    if local.time() == time(0, 0):
        return f"{local - timedelta(days=1):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clamped to the end of a shorter month."""
    years_ahead, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years_ahead, month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def shift_month(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def previous_month(today: date | None = None) -> date:
    """The first day of the month before ``today``'s (default: the business date)."""
    return shift_month(today or business_today(), -1)


def months_between(first: date, last: date) -> Iterator[date]:
    """First days of the months from ``first``'s month to ``last``'s month, inclusive."""
    current = month_start(first)
    while current <= last:
        yield current
        current = shift_month(current, 1)


def month_label(month: date) -> str:
    """``date(2026, 3, 1)`` → ``"2026-03"`` (the form statements and URLs use)."""
    return f"{month.year:04d}-{month.month:02d}"


def parse_month(text: str) -> date:
    """``"2026-03"`` → ``date(2026, 3, 1)``; ValueError for anything else."""
    parts = text.strip().split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        raise ValueError(f"not a YYYY-MM month: {text!r}")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or year < 1:
        raise ValueError(f"not a YYYY-MM month: {text!r}")
    return date(year, month, 1)
