"""Official working-day arithmetic (工作日计算) for SLA clocks.

Deadlines in the contracts are stated in working days and are counted the way the Civil Code
(民法典 art. 201/203) counts periods: the day of the event does not count, counting starts on the
next day, and only working days count. A working day is a weekday that is not a public holiday,
or a weekend day that the State Council declared a make-up working day (调休上班). A deadline of
*N* working days ends at 24:00 Asia/Shanghai of the *N*-th working day after the event's day.

This module is deliberately pure (no Django, no ORM): it asks a *calendar provider* for one
``YearCalendar`` per year and caches the answer. By default the provider is built from the
``chinesecalendar`` package so the module works standalone; the ``sla`` Django app installs a
database-backed provider with :func:`set_calendar_provider` and calls :func:`clear_cache` when
the calendar is edited in the admin.

A year without a calendar is never silently treated as "weekends only": every function raises
:class:`CalendarYearMissing` unless the caller passes ``provisional=True``, in which case a missing
year *is* treated as Monday-Friday working. The clock service catches the exception, retries
provisionally and stores a flag so the clock is recomputed once the year is loaded.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import functools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

__all__ = [
    "BUSINESS_TZ",
    "CalendarProvider",
    "CalendarYearMissing",
    "YearCalendar",
    "add_working_days",
    "calendar_from_chinesecalendar",
    "clear_cache",
    "deadline",
    "get_calendar_provider",
    "is_working_day",
    "nth_working_day_of_month",
    "set_calendar_provider",
    "working_days_between",
    "working_days_remaining",
]

#: Contract deadlines are civil days in Beijing time, whatever the server or user time zone is.
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")

_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)


class CalendarYearMissing(LookupError):
    """The official holiday schedule of ``year`` is not loaded, so working days can't be known."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(f"{year} 年的法定节假日安排尚未载入 (calendar year {year} not loaded)")

    def __reduce__(self) -> tuple[type[CalendarYearMissing], tuple[int]]:
        # The default exception pickling would re-call __init__ with the message instead of the
        # year; Celery result backends pickle exceptions, so keep .year intact across processes.
        return (type(self), (self.year,))


@dataclass(frozen=True)
class YearCalendar:
    """The State Council's schedule for one calendar year.

    ``holidays`` are the official days off (weekend dates inside a holiday run are allowed and
    harmless); ``workdays`` are the make-up working days (weekend days declared working days).
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]

    def __post_init__(self) -> None:
        # Providers may hand in sets or lists; freeze them so a cached calendar can't change
        # under a running computation (object.__setattr__ because the dataclass is frozen).
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        for kind, days in (("holidays", self.holidays), ("workdays", self.workdays)):
            _reject_datetimes(days)
            stray = sorted(d for d in days if d.year != self.year)
            if stray:
                raise ValueError(f"{kind} of {self.year} contains dates of another year: {stray}")
        # A date that is both a day off and a make-up day is a data-entry error; refusing it is
        # better than silently picking one reading for a legally binding deadline.
        both = sorted(self.holidays & self.workdays)
        if both:
            raise ValueError(f"dates both holiday and make-up working day in {self.year}: {both}")


CalendarProvider = Callable[[int], YearCalendar | None]


def _reject_datetimes(days: Iterable[date]) -> None:
    # datetime is a subclass of date but never equals a date, so it would silently miss every
    # holiday lookup; fail loudly instead.
    for d in days:
        if isinstance(d, datetime):
            raise TypeError(f"expected a date, got a datetime: {d!r}")


@functools.cache
def _chinesecalendar_years() -> frozenset[int]:
    # The package has no explicit "supported years" list; a year is covered when its schedule
    # (at least New Year's Day) is in the holidays table.
    return frozenset(d.year for d in chinese_calendar.holidays)


def calendar_from_chinesecalendar(year: int) -> YearCalendar | None:
    """Build ``year``'s calendar from the ``chinesecalendar`` package, or None if not covered."""
    if year not in _chinesecalendar_years():
        return None
    return YearCalendar(
        year=year,
        holidays=frozenset(d for d in chinese_calendar.holidays if d.year == year),
        workdays=frozenset(d for d in chinese_calendar.workdays if d.year == year),
    )


# --- provider and cache ---------------------------------------------------------------------

# A missing year is cached too (as None): the provider is asked at most once per year until
# clear_cache(), which the app calls when a year is loaded or edited.
_cache: dict[int, YearCalendar | None] = {}
_provider: CalendarProvider = calendar_from_chinesecalendar
# Held while filling or clearing the cache so that a clear_cache() issued while a (possibly slow,
# database-backed) provider call is running can't be overwritten by that call's stale answer.
# Reentrant so a provider that itself clears the cache doesn't deadlock.
_lock = threading.RLock()


def set_calendar_provider(provider: CalendarProvider) -> None:
    """Install the source of year calendars and forget everything cached from the previous one."""
    # The provider is process-wide configuration by design.
    global _provider
    with _lock:
        _provider = provider
        _cache.clear()


def get_calendar_provider() -> CalendarProvider:
    """Return the installed provider (so tests and callers can restore it afterwards)."""
    return _provider


def clear_cache(year: int | None = None) -> None:
    """Forget cached calendars: all of them, or only ``year``'s."""
    with _lock:
        if year is None:
            _cache.clear()
        else:
            _cache.pop(year, None)


def _year_calendar(year: int) -> YearCalendar | None:
    try:
        return _cache[year]
    except KeyError:
        pass
    with _lock:
        # Another thread may have filled it while we waited for the lock.
        if year in _cache:
            return _cache[year]
        cal = _provider(year)
        if cal is not None and cal.year != year:
            raise ValueError(f"calendar provider returned {cal.year} when asked for {year}")
        _cache[year] = cal
        return cal


class _DayChecker:
    """Working-day test for a run of consecutive days.

    Remembers the current year's calendar so the per-day cost is a couple of set lookups; the
    cache is only consulted again when the run crosses into another year.
    """

    __slots__ = ("_cal", "_provisional", "_year")

    def __init__(self, provisional: bool) -> None:
        self._provisional = provisional
        self._year: int | None = None
        self._cal: YearCalendar | None = None

    def __call__(self, d: date) -> bool:
        if d.year != self._year:
            cal = _year_calendar(d.year)
            if cal is None and not self._provisional:
                raise CalendarYearMissing(d.year)
            self._year, self._cal = d.year, cal
        cal = self._cal
        if cal is not None:
            # Make-up days first: they are weekend days that nonetheless count.
            if d in cal.workdays:
                return True
            if d in cal.holidays:
                return False
        # Without a calendar (provisional only) this is the weekends-only approximation.
        return d.weekday() < 5  # Monday..Friday are 0..4


def _check_date(d: date, name: str) -> None:
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"{name} must be a date, not {type(d).__name__}")


def _check_aware(dt: datetime, name: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {dt!r}")


# --- public API ------------------------------------------------------------------------------


def is_working_day(d: date, *, provisional: bool = False) -> bool:
    """Whether ``d`` is an official working day."""
    _check_date(d, "d")
    return _DayChecker(provisional)(d)


def add_working_days(d: date, n: int, *, provisional: bool = False) -> date:
    """The ``n``-th working day after ``d`` (``d`` itself never counts, as in the Civil Code)."""
    _check_date(d, "d")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    is_working = _DayChecker(provisional)
    day = d
    while n:
        day += _ONE_DAY
        if is_working(day):
            n -= 1
    return day


def deadline(start: datetime, n: int, *, provisional: bool = False) -> datetime:
    """End of the ``n``-th working day after the local (Beijing) day of ``start``.

    Returned as 00:00 Asia/Shanghai of the following day, so "late" is simply ``t >= deadline``.
    """
    _check_aware(start, "start")
    last_day = add_working_days(start.astimezone(BUSINESS_TZ).date(), n, provisional=provisional)
    end = last_day + _ONE_DAY
    # Asia/Shanghai has had no DST since 1991, so local midnight always exists and is unique.
    return datetime(end.year, end.month, end.day, tzinfo=BUSINESS_TZ)


def nth_working_day_of_month(year: int, month: int, n: int, *, provisional: bool = False) -> date:
    """The ``n``-th working day of the month, counting day 1 if it is a working day."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    days_in_month = _stdlib_calendar.monthrange(year, month)[1]
    is_working = _DayChecker(provisional)
    count = 0
    for day_number in range(1, days_in_month + 1):
        day = date(year, month, day_number)
        if is_working(day):
            count += 1
            if count == n:
                return day
    raise ValueError(f"{year}-{month:02d} has only {count} working days, asked for the {n}-th")


def working_days_between(a: date, b: date, *, provisional: bool = False) -> int:
    """Number of working days in the half-open interval (a, b]; 0 when ``b <= a``."""
    _check_date(a, "a")
    _check_date(b, "b")
    is_working = _DayChecker(provisional)
    count = 0
    day = a + _ONE_DAY
    while day <= b:
        if is_working(day):
            count += 1
        day += _ONE_DAY
    return count


def working_days_remaining(now: datetime, due: datetime, *, provisional: bool = False) -> int:
    """Working days left before ``due`` as seen on the local day of ``now``, for queue displays.

    Counts the working days after today up to and including the last day before ``due`` (a
    deadline from :func:`deadline` is local midnight, so that is its last working day). On the
    last working day itself, and once past due, the result is 0.
    """
    _check_aware(now, "now")
    _check_aware(due, "due")
    today = now.astimezone(BUSINESS_TZ).date()
    last_day = (due - _ONE_MICROSECOND).astimezone(BUSINESS_TZ).date()
    return working_days_between(today, last_day, provisional=provisional)
