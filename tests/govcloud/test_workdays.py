"""Tests for govcloud.workdays (also importable as sla.workdays) against the official
State Council holiday schedules.

The schedules below are transcribed literally from the notices, not derived from the
``chinesecalendar`` package, so the package itself is checked against them too.
"""

from __future__ import annotations

import importlib.util
import pickle
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from govcloud import workdays
from govcloud.workdays import (
    BUSINESS_TZ,
    CalendarYearMissing,
    YearCalendar,
    add_working_days,
    calendar_from_chinesecalendar,
    clear_cache,
    deadline,
    is_working_day,
    nth_working_day_of_month,
    working_days_between,
    working_days_remaining,
)

D = date


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- official schedules -----------------------------------------------------------------------

# 2025: 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号)
OFFICIAL_2025_HOLIDAYS: dict[str, list[date]] = {
    "元旦": [D(2025, 1, 1)],
    "春节": _span(D(2025, 1, 28), D(2025, 2, 4)),
    "清明节": _span(D(2025, 4, 4), D(2025, 4, 6)),
    "劳动节": _span(D(2025, 5, 1), D(2025, 5, 5)),
    "端午节": _span(D(2025, 5, 31), D(2025, 6, 2)),
    "国庆节、中秋节": _span(D(2025, 10, 1), D(2025, 10, 8)),
}
OFFICIAL_2025_MAKEUP: list[date] = [
    D(2025, 1, 26),  # Sun, 春节
    D(2025, 2, 8),  # Sat, 春节
    D(2025, 4, 27),  # Sun, 劳动节
    D(2025, 9, 28),  # Sun, 国庆节
    D(2025, 10, 11),  # Sat, 国庆节
]

# 2026: 国务院办公厅关于2026年部分节假日安排的通知 (国办发明电〔2025〕7号)
OFFICIAL_2026_HOLIDAYS: dict[str, list[date]] = {
    "元旦": _span(D(2026, 1, 1), D(2026, 1, 3)),
    "春节": _span(D(2026, 2, 15), D(2026, 2, 23)),
    "清明节": _span(D(2026, 4, 4), D(2026, 4, 6)),
    "劳动节": _span(D(2026, 5, 1), D(2026, 5, 5)),
    "端午节": _span(D(2026, 6, 19), D(2026, 6, 21)),
    "中秋节": _span(D(2026, 9, 25), D(2026, 9, 27)),
    "国庆节": _span(D(2026, 10, 1), D(2026, 10, 7)),
}
OFFICIAL_2026_MAKEUP: list[date] = [
    D(2026, 1, 4),  # Sun, 元旦
    D(2026, 2, 14),  # Sat, 春节
    D(2026, 2, 28),  # Sat, 春节
    D(2026, 5, 9),  # Sat, 劳动节
    D(2026, 9, 20),  # Sun, 国庆节
    D(2026, 10, 10),  # Sat, 国庆节
]

OFFICIAL: dict[int, YearCalendar] = {
    2025: YearCalendar(
        year=2025,
        holidays=frozenset(d for run in OFFICIAL_2025_HOLIDAYS.values() for d in run),
        workdays=frozenset(OFFICIAL_2025_MAKEUP),
    ),
    2026: YearCalendar(
        year=2026,
        holidays=frozenset(d for run in OFFICIAL_2026_HOLIDAYS.values() for d in run),
        workdays=frozenset(OFFICIAL_2026_MAKEUP),
    ),
}
ALL_HOLIDAYS = sorted(OFFICIAL[2025].holidays | OFFICIAL[2026].holidays)
ALL_MAKEUP = sorted(OFFICIAL[2025].workdays | OFFICIAL[2026].workdays)
WEEKDAY_HOLIDAYS = [d for d in ALL_HOLIDAYS if d.weekday() < 5]
WEEKEND_HOLIDAYS = [d for d in ALL_HOLIDAYS if d.weekday() >= 5]


def official_provider(year: int) -> YearCalendar | None:
    return OFFICIAL.get(year)


class CountingProvider:
    """Provider over a mutable dict of calendars that records every year it was asked for."""

    def __init__(self, calendars: dict[int, YearCalendar] | None = None) -> None:
        self.calendars = dict(OFFICIAL if calendars is None else calendars)
        self.calls: list[int] = []

    def __call__(self, year: int) -> YearCalendar | None:
        self.calls.append(year)
        return self.calendars.get(year)


@pytest.fixture(autouse=True)
def official_calendar() -> Iterator[None]:
    """Install the literal official 2025/2026 schedules; every other year is missing."""
    previous = workdays.get_calendar_provider()
    workdays.set_calendar_provider(official_provider)
    yield
    workdays.set_calendar_provider(previous)


@pytest.fixture
def install() -> Callable[[workdays.CalendarProvider], None]:
    # The autouse fixture restores the original provider afterwards.
    return workdays.set_calendar_provider


def sh(*args: int) -> datetime:
    """Aware datetime in Beijing time."""
    return datetime(*args, tzinfo=BUSINESS_TZ)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _id(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


# --- the schedules themselves -----------------------------------------------------------------


def test_official_makeup_days_are_all_weekend_days() -> None:
    assert all(d.weekday() >= 5 for d in ALL_MAKEUP)


@pytest.mark.parametrize(
    ("year", "expected"),
    [pytest.param(2025, 248, id="2025"), pytest.param(2026, 248, id="2026")],
)
def test_working_days_per_year(year: int, expected: int) -> None:
    # 261 weekdays - weekday holidays (18 in 2025, 19 in 2026) + make-up days (5 / 6).
    assert working_days_between(D(year - 1, 12, 31), D(year, 12, 31)) == expected


# --- is_working_day ---------------------------------------------------------------------------


@pytest.mark.parametrize("day", ALL_MAKEUP, ids=_id)
def test_makeup_day_is_working(day: date) -> None:
    assert is_working_day(day) is True


@pytest.mark.parametrize("day", WEEKDAY_HOLIDAYS, ids=_id)
def test_weekday_holiday_is_not_working(day: date) -> None:
    assert is_working_day(day) is False


@pytest.mark.parametrize("day", WEEKEND_HOLIDAYS, ids=_id)
def test_weekend_holiday_is_not_working(day: date) -> None:
    assert is_working_day(day) is False


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(D(2026, 3, 14), False, id="ordinary-saturday"),
        pytest.param(D(2026, 3, 15), False, id="ordinary-sunday"),
        pytest.param(D(2025, 11, 15), False, id="ordinary-saturday-2025"),
        pytest.param(D(2026, 3, 16), True, id="ordinary-monday"),
        pytest.param(D(2026, 3, 20), True, id="ordinary-friday"),
        pytest.param(D(2025, 12, 31), True, id="new-years-eve-2025-is-working"),
        pytest.param(D(2026, 2, 13), True, id="friday-before-spring-festival-2026"),
        pytest.param(D(2026, 2, 24), True, id="first-day-after-spring-festival-2026"),
        pytest.param(D(2025, 1, 27), True, id="monday-before-spring-festival-2025"),
        pytest.param(D(2026, 10, 8), True, id="first-day-after-national-day-2026"),
        pytest.param(D(2025, 10, 9), True, id="first-day-after-national-day-2025"),
        pytest.param(D(2025, 2, 9), False, id="sunday-after-makeup-saturday"),
    ],
)
def test_is_working_day_examples(day: date, expected: bool) -> None:
    assert is_working_day(day) is expected


def test_is_working_day_rejects_datetime() -> None:
    # A datetime never equals a date, so it would silently miss every holiday.
    with pytest.raises(TypeError):
        is_working_day(datetime(2026, 10, 1, tzinfo=BUSINESS_TZ))


# --- add_working_days -------------------------------------------------------------------------

ADD_CASES = [
    # DESIGN §3 examples: National Day 2026.
    pytest.param(D(2026, 9, 30), 1, D(2026, 10, 8), id="natl-day-2026-1"),
    pytest.param(D(2026, 9, 30), 2, D(2026, 10, 9), id="natl-day-2026-2-design"),
    pytest.param(D(2026, 9, 30), 3, D(2026, 10, 10), id="natl-day-2026-3-makeup-sat"),
    pytest.param(D(2026, 9, 30), 4, D(2026, 10, 12), id="natl-day-2026-4"),
    pytest.param(D(2026, 9, 30), 5, D(2026, 10, 13), id="natl-day-2026-5-design"),
    pytest.param(D(2026, 9, 30), 10, D(2026, 10, 20), id="natl-day-2026-10"),
    pytest.param(D(2026, 10, 3), 1, D(2026, 10, 8), id="event-inside-natl-day-2026"),
    pytest.param(D(2026, 10, 9), 1, D(2026, 10, 10), id="fri-to-makeup-sat-2026"),
    pytest.param(D(2026, 9, 19), 1, D(2026, 9, 20), id="sat-to-makeup-sun-2026-design"),
    pytest.param(D(2026, 9, 19), 2, D(2026, 9, 21), id="sat-plus-2-2026-design"),
    pytest.param(D(2026, 9, 18), 1, D(2026, 9, 20), id="fri-to-makeup-sun-2026"),
    # Mid-Autumn 2026 (Fri 9/25 off).
    pytest.param(D(2026, 9, 24), 1, D(2026, 9, 28), id="mid-autumn-2026-1"),
    pytest.param(D(2026, 9, 24), 2, D(2026, 9, 29), id="mid-autumn-2026-2"),
    # National Day 2025 (10/1-10/8 off, make-up 9/28 Sun and 10/11 Sat).
    pytest.param(D(2025, 9, 26), 1, D(2025, 9, 28), id="natl-day-2025-makeup-sun"),
    pytest.param(D(2025, 9, 30), 1, D(2025, 10, 9), id="natl-day-2025-1"),
    pytest.param(D(2025, 9, 30), 2, D(2025, 10, 10), id="natl-day-2025-2"),
    pytest.param(D(2025, 9, 30), 3, D(2025, 10, 11), id="natl-day-2025-3-makeup-sat"),
    pytest.param(D(2025, 9, 30), 5, D(2025, 10, 14), id="natl-day-2025-5"),
    # Spring Festival 2026 (2/15-2/23 off, make-up 2/14 Sat and 2/28 Sat).
    pytest.param(D(2026, 2, 13), 1, D(2026, 2, 14), id="spring-2026-fri-1-makeup-sat"),
    pytest.param(D(2026, 2, 13), 2, D(2026, 2, 24), id="spring-2026-fri-2"),
    pytest.param(D(2026, 2, 13), 3, D(2026, 2, 25), id="spring-2026-fri-3"),
    pytest.param(D(2026, 2, 13), 5, D(2026, 2, 27), id="spring-2026-fri-5"),
    pytest.param(D(2026, 2, 13), 6, D(2026, 2, 28), id="spring-2026-fri-6-makeup-sat"),
    pytest.param(D(2026, 2, 14), 1, D(2026, 2, 24), id="spring-2026-makeup-sat-1"),
    pytest.param(D(2026, 2, 14), 2, D(2026, 2, 25), id="spring-2026-makeup-sat-2"),
    pytest.param(D(2026, 2, 15), 1, D(2026, 2, 24), id="spring-2026-first-day-off"),
    pytest.param(D(2026, 2, 23), 1, D(2026, 2, 24), id="spring-2026-last-day-off"),
    pytest.param(D(2026, 2, 27), 1, D(2026, 2, 28), id="spring-2026-fri-to-makeup-sat"),
    pytest.param(D(2026, 2, 27), 2, D(2026, 3, 2), id="spring-2026-fri-plus-2"),
    # Spring Festival 2025 (1/28-2/4 off, make-up 1/26 Sun and 2/8 Sat).
    pytest.param(D(2025, 1, 24), 1, D(2025, 1, 26), id="spring-2025-fri-to-makeup-sun"),
    pytest.param(D(2025, 1, 24), 2, D(2025, 1, 27), id="spring-2025-fri-2"),
    pytest.param(D(2025, 1, 24), 3, D(2025, 2, 5), id="spring-2025-fri-3"),
    pytest.param(D(2025, 1, 27), 1, D(2025, 2, 5), id="spring-2025-eve-of-holiday"),
    pytest.param(D(2025, 2, 1), 1, D(2025, 2, 5), id="spring-2025-inside-holiday"),
    pytest.param(D(2025, 2, 7), 1, D(2025, 2, 8), id="spring-2025-fri-to-makeup-sat"),
    pytest.param(D(2025, 2, 7), 2, D(2025, 2, 10), id="spring-2025-fri-plus-2"),
    # New Year 2026 (1/1-1/3 off, make-up 1/4 Sun) and the year boundary.
    pytest.param(D(2025, 12, 31), 1, D(2026, 1, 4), id="new-year-2026-to-makeup-sun"),
    pytest.param(D(2025, 12, 31), 2, D(2026, 1, 5), id="new-year-2026-2"),
    pytest.param(D(2025, 12, 30), 1, D(2025, 12, 31), id="new-year-2026-eve"),
    pytest.param(D(2025, 12, 30), 2, D(2026, 1, 4), id="new-year-2026-crossing"),
    pytest.param(D(2026, 1, 1), 1, D(2026, 1, 4), id="new-year-2026-inside"),
    pytest.param(D(2024, 12, 31), 1, D(2025, 1, 2), id="new-year-2025-event-day-not-needed"),
    # Labour Day 2025 (5/1-5/5 off, make-up 4/27 Sun).
    pytest.param(D(2025, 4, 25), 1, D(2025, 4, 27), id="labour-2025-fri-to-makeup-sun"),
    pytest.param(D(2025, 4, 25), 4, D(2025, 4, 30), id="labour-2025-4"),
    pytest.param(D(2025, 4, 25), 5, D(2025, 5, 6), id="labour-2025-5"),
    pytest.param(D(2025, 4, 30), 1, D(2025, 5, 6), id="labour-2025-eve"),
    # Labour Day 2026 (5/1-5/5 off, make-up 5/9 Sat).
    pytest.param(D(2026, 4, 30), 1, D(2026, 5, 6), id="labour-2026-eve-1"),
    pytest.param(D(2026, 4, 30), 4, D(2026, 5, 9), id="labour-2026-4-makeup-sat"),
    pytest.param(D(2026, 4, 30), 5, D(2026, 5, 11), id="labour-2026-5"),
    pytest.param(D(2026, 5, 8), 1, D(2026, 5, 9), id="labour-2026-fri-to-makeup-sat"),
    # Qingming and Dragon Boat.
    pytest.param(D(2025, 4, 3), 1, D(2025, 4, 7), id="qingming-2025"),
    pytest.param(D(2026, 4, 3), 1, D(2026, 4, 7), id="qingming-2026-monday-off"),
    pytest.param(D(2025, 5, 30), 1, D(2025, 6, 3), id="dragon-boat-2025-monday-off"),
    pytest.param(D(2026, 6, 18), 1, D(2026, 6, 22), id="dragon-boat-2026-friday-off"),
    # Plain weeks.
    pytest.param(D(2026, 3, 11), 1, D(2026, 3, 12), id="plain-wed"),
    pytest.param(D(2026, 3, 11), 2, D(2026, 3, 13), id="plain-wed-2"),
    pytest.param(D(2026, 3, 13), 1, D(2026, 3, 16), id="plain-fri-skips-weekend"),
    pytest.param(D(2026, 3, 14), 1, D(2026, 3, 16), id="plain-sat"),
    pytest.param(D(2026, 3, 15), 1, D(2026, 3, 16), id="plain-sun"),
    pytest.param(D(2026, 3, 13), 5, D(2026, 3, 20), id="plain-week"),
    pytest.param(D(2026, 12, 30), 1, D(2026, 12, 31), id="end-of-2026-stays-in-year"),
]


@pytest.mark.parametrize(("start", "n", "expected"), ADD_CASES)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert add_working_days(start, n) == expected


@pytest.mark.parametrize("n", [0, -1], ids=["zero", "negative"])
def test_add_working_days_rejects_n_below_one(n: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(D(2026, 3, 11), n)


def test_add_working_days_rejects_datetime() -> None:
    with pytest.raises(TypeError):
        add_working_days(datetime(2026, 3, 11, tzinfo=BUSINESS_TZ), 1)


@pytest.mark.parametrize("year", [2025, 2026], ids=str)
def test_add_working_days_consistent_with_between(year: int) -> None:
    """For every event day of the year: the n-th working day is working and is n days away."""
    for start in _span(D(year, 1, 1), D(year, 12, 20)):
        previous = start
        for n in range(1, 8):
            result = add_working_days(start, n)
            assert is_working_day(result), (start, n)
            assert working_days_between(start, result) == n, (start, n)
            # Nothing working is skipped between consecutive answers.
            assert working_days_between(previous, result) == 1, (start, n)
            previous = result


# --- deadline ---------------------------------------------------------------------------------

DEADLINE_CASES = [
    # DESIGN §3.
    pytest.param(sh(2026, 9, 30, 10), 2, sh(2026, 10, 10), id="design-2-day"),
    pytest.param(sh(2026, 9, 30, 10), 5, sh(2026, 10, 14), id="design-5-day-extension"),
    pytest.param(sh(2026, 9, 19, 16), 2, sh(2026, 9, 22), id="design-saturday-approval"),
    pytest.param(sh(2026, 9, 19, 16), 1, sh(2026, 9, 21), id="saturday-approval-1-day"),
    # Approval time of day is irrelevant within the local day.
    pytest.param(sh(2026, 9, 30, 0, 0), 2, sh(2026, 10, 10), id="local-midnight"),
    pytest.param(sh(2026, 9, 30, 23, 59, 59), 2, sh(2026, 10, 10), id="local-23-59-59"),
    # Boundaries given in UTC: the local (Beijing) date decides.
    pytest.param(utc(2026, 9, 29, 15, 59, 59), 2, sh(2026, 10, 9), id="utc-0929-2359-local"),
    pytest.param(utc(2026, 9, 29, 16, 0, 0), 2, sh(2026, 10, 10), id="utc-0930-0000-local"),
    pytest.param(utc(2026, 9, 30, 16, 30), 1, sh(2026, 10, 9), id="utc-0930-is-local-1001"),
    pytest.param(utc(2026, 10, 7, 15, 59, 59), 2, sh(2026, 10, 10), id="utc-1007-2359-local"),
    pytest.param(utc(2026, 10, 7, 16, 30), 2, sh(2026, 10, 11), id="utc-1008-0030-local"),
    pytest.param(utc(2026, 2, 13, 15, 59, 59), 1, sh(2026, 2, 15), id="utc-0213-last-second"),
    pytest.param(utc(2026, 2, 13, 16, 0, 0), 1, sh(2026, 2, 25), id="utc-0214-first-second"),
    pytest.param(
        datetime(2026, 2, 13, 11, tzinfo=ZoneInfo("America/New_York")),
        1,
        sh(2026, 2, 25),
        id="new-york-0213-is-beijing-0214",
    ),
    # Spring Festival and year boundary.
    pytest.param(sh(2026, 2, 13, 9), 2, sh(2026, 2, 25), id="spring-2026"),
    pytest.param(sh(2025, 1, 27, 18), 2, sh(2025, 2, 7), id="spring-2025"),
    pytest.param(sh(2025, 12, 31, 18), 1, sh(2026, 1, 5), id="new-year-2026-makeup-sun"),
    pytest.param(sh(2025, 12, 31, 18), 2, sh(2026, 1, 6), id="new-year-2026-2"),
    pytest.param(sh(2025, 4, 30, 12), 2, sh(2025, 5, 8), id="labour-2025"),
    pytest.param(sh(2026, 4, 30, 12), 2, sh(2026, 5, 8), id="labour-2026"),
]


@pytest.mark.parametrize(("start", "n", "expected"), DEADLINE_CASES)
def test_deadline(start: datetime, n: int, expected: datetime) -> None:
    result = deadline(start, n)
    assert result == expected
    assert result.tzinfo == BUSINESS_TZ
    assert (result.hour, result.minute, result.second, result.microsecond) == (0, 0, 0, 0)
    assert result.utcoffset() == timedelta(hours=8)


def test_deadline_rejects_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline(datetime(2026, 9, 30, 10), 2)  # noqa: DTZ001 - naive on purpose


def test_deadline_rejects_n_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        deadline(sh(2026, 9, 30, 10), 0)


def test_late_means_at_or_after_deadline() -> None:
    due = deadline(sh(2026, 9, 30, 10), 2)
    assert sh(2026, 10, 9, 23, 59, 59) < due
    assert not sh(2026, 10, 10, 0, 0) < due


# --- nth_working_day_of_month -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "n", "expected"),
    [
        pytest.param(2026, 10, 1, D(2026, 10, 8), id="2026-10-1st-after-natl-day"),
        pytest.param(2026, 10, 2, D(2026, 10, 9), id="2026-10-2nd"),
        pytest.param(2026, 10, 3, D(2026, 10, 10), id="2026-10-3rd-makeup-sat"),
        pytest.param(2026, 10, 5, D(2026, 10, 13), id="2026-10-5th"),
        pytest.param(2026, 10, 18, D(2026, 10, 30), id="2026-10-last"),
        pytest.param(2026, 2, 1, D(2026, 2, 2), id="2026-02-1st-sunday-day-1"),
        pytest.param(2026, 2, 5, D(2026, 2, 6), id="2026-02-5th"),
        pytest.param(2026, 2, 10, D(2026, 2, 13), id="2026-02-10th"),
        pytest.param(2026, 2, 11, D(2026, 2, 14), id="2026-02-11th-makeup-sat"),
        pytest.param(2026, 2, 12, D(2026, 2, 24), id="2026-02-12th-after-spring"),
        pytest.param(2026, 2, 16, D(2026, 2, 28), id="2026-02-last-makeup-sat"),
        pytest.param(2025, 10, 1, D(2025, 10, 9), id="2025-10-1st"),
        pytest.param(2025, 10, 3, D(2025, 10, 11), id="2025-10-3rd-makeup-sat"),
        pytest.param(2025, 10, 5, D(2025, 10, 14), id="2025-10-5th"),
        pytest.param(2025, 2, 1, D(2025, 2, 5), id="2025-02-1st-after-spring"),
        pytest.param(2025, 2, 3, D(2025, 2, 7), id="2025-02-3rd"),
        pytest.param(2025, 2, 4, D(2025, 2, 8), id="2025-02-4th-makeup-sat"),
        pytest.param(2025, 1, 1, D(2025, 1, 2), id="2025-01-1st-new-year-off"),
        pytest.param(2026, 1, 1, D(2026, 1, 4), id="2026-01-1st-makeup-sun"),
        pytest.param(2026, 5, 1, D(2026, 5, 6), id="2026-05-1st-after-labour"),
        pytest.param(2026, 5, 4, D(2026, 5, 9), id="2026-05-4th-makeup-sat"),
        pytest.param(2026, 6, 1, D(2026, 6, 1), id="2026-06-day-1-counts"),
        pytest.param(2026, 9, 1, D(2026, 9, 1), id="2026-09-day-1-counts"),
        pytest.param(2025, 12, 1, D(2025, 12, 1), id="2025-12-day-1-counts"),
        pytest.param(2025, 12, 5, D(2025, 12, 5), id="2025-12-5th-plain"),
        pytest.param(2026, 3, 1, D(2026, 3, 2), id="2026-03-1st-sunday-day-1"),
        pytest.param(2026, 3, 5, D(2026, 3, 6), id="2026-03-5th-plain"),
        pytest.param(2026, 8, 1, D(2026, 8, 3), id="2026-08-1st-saturday-day-1"),
    ],
)
def test_nth_working_day_of_month(year: int, month: int, n: int, expected: date) -> None:
    assert nth_working_day_of_month(year, month, n) == expected


@pytest.mark.parametrize(
    ("year", "month", "n"),
    [
        pytest.param(2026, 10, 19, id="2026-10-has-18"),
        pytest.param(2026, 2, 17, id="2026-02-has-16"),
        pytest.param(2026, 3, 0, id="zero"),
        pytest.param(2026, 3, -1, id="negative"),
        pytest.param(2026, 13, 1, id="bad-month"),
    ],
)
def test_nth_working_day_of_month_out_of_range(year: int, month: int, n: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several distinct ValueError causes
        nth_working_day_of_month(year, month, n)


# --- working_days_between ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param(D(2026, 3, 11), D(2026, 3, 11), 0, id="same-day"),
        pytest.param(D(2026, 3, 12), D(2026, 3, 11), 0, id="b-before-a"),
        pytest.param(D(2026, 10, 9), D(2026, 9, 30), 0, id="b-before-a-across-holiday"),
        pytest.param(D(2026, 3, 11), D(2026, 3, 12), 1, id="next-day"),
        pytest.param(D(2026, 3, 13), D(2026, 3, 16), 1, id="over-weekend"),
        pytest.param(D(2026, 3, 13), D(2026, 3, 15), 0, id="into-weekend"),
        pytest.param(D(2026, 3, 13), D(2026, 3, 20), 5, id="plain-week"),
        pytest.param(D(2026, 3, 14), D(2026, 3, 16), 1, id="a-on-weekend"),
        pytest.param(D(2026, 9, 30), D(2026, 10, 7), 0, id="natl-day-2026-all-off"),
        pytest.param(D(2026, 9, 30), D(2026, 10, 9), 2, id="natl-day-2026-2"),
        pytest.param(D(2026, 9, 30), D(2026, 10, 13), 5, id="natl-day-2026-5-with-makeup"),
        pytest.param(D(2026, 9, 19), D(2026, 9, 20), 1, id="makeup-sunday-counts"),
        pytest.param(D(2026, 9, 19), D(2026, 9, 21), 2, id="makeup-sunday-plus-monday"),
        pytest.param(D(2026, 9, 24), D(2026, 9, 28), 1, id="mid-autumn-2026"),
        pytest.param(D(2026, 2, 13), D(2026, 2, 28), 6, id="spring-2026-both-makeups"),
        pytest.param(D(2026, 2, 14), D(2026, 2, 23), 0, id="spring-2026-all-off"),
        pytest.param(D(2026, 1, 31), D(2026, 2, 28), 16, id="feb-2026-whole"),
        pytest.param(D(2025, 1, 24), D(2025, 2, 8), 6, id="spring-2025-both-makeups"),
        pytest.param(D(2025, 12, 31), D(2026, 1, 5), 2, id="new-year-crossing"),
        pytest.param(D(2025, 12, 30), D(2026, 1, 3), 1, id="new-year-crossing-holiday-end"),
        pytest.param(D(2024, 12, 31), D(2025, 1, 2), 1, id="start-day-year-not-needed"),
        pytest.param(D(2025, 4, 25), D(2025, 5, 6), 5, id="labour-2025"),
        pytest.param(D(2026, 4, 30), D(2026, 5, 11), 5, id="labour-2026"),
        pytest.param(D(2024, 12, 31), D(2026, 12, 31), 496, id="two-years"),
    ],
)
def test_working_days_between(a: date, b: date, expected: int) -> None:
    assert working_days_between(a, b) == expected


# --- working_days_remaining -------------------------------------------------------------------

DUE_2 = sh(2026, 10, 10)  # 2-day deadline of an approval on 2026-09-30
DUE_5 = sh(2026, 10, 14)  # 5-day deadline of the same approval


@pytest.mark.parametrize(
    ("now", "due", "expected"),
    [
        pytest.param(sh(2026, 9, 30, 10), DUE_2, 2, id="at-approval"),
        pytest.param(sh(2026, 10, 3, 10), DUE_2, 2, id="during-holiday"),
        pytest.param(sh(2026, 10, 8, 9), DUE_2, 1, id="day-1"),
        pytest.param(sh(2026, 10, 9, 9), DUE_2, 0, id="last-day"),
        pytest.param(sh(2026, 10, 9, 23, 59, 59), DUE_2, 0, id="last-second"),
        pytest.param(sh(2026, 10, 10, 0, 0), DUE_2, 0, id="at-due"),
        pytest.param(sh(2026, 10, 20, 9), DUE_2, 0, id="long-past-due"),
        pytest.param(sh(2026, 9, 30, 10), DUE_5, 5, id="extension-at-approval"),
        pytest.param(sh(2026, 10, 9, 9), DUE_5, 3, id="extension-with-makeup-sat"),
        pytest.param(sh(2026, 10, 10, 9), DUE_5, 2, id="extension-on-makeup-sat"),
        pytest.param(utc(2026, 10, 7, 16, 30), DUE_2, 1, id="utc-now-is-local-1008"),
        pytest.param(utc(2026, 10, 7, 15, 30), DUE_2, 2, id="utc-now-is-local-1007"),
        pytest.param(sh(2026, 9, 30, 10), utc(2026, 10, 9, 16), 2, id="utc-due"),
    ],
)
def test_working_days_remaining(now: datetime, due: datetime, expected: int) -> None:
    assert working_days_remaining(now, due) == expected


@pytest.mark.parametrize(
    ("now", "due"),
    [
        pytest.param(datetime(2026, 9, 30, 10), DUE_2, id="naive-now"),  # noqa: DTZ001
        pytest.param(sh(2026, 9, 30, 10), datetime(2026, 10, 10), id="naive-due"),  # noqa: DTZ001
    ],
)
def test_working_days_remaining_rejects_naive(now: datetime, due: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        working_days_remaining(now, due)


# --- missing years and provisional mode -------------------------------------------------------


def test_calendar_year_missing_is_lookup_error_with_year_and_bilingual_message() -> None:
    with pytest.raises(LookupError) as excinfo:
        is_working_day(D(2027, 3, 1))
    exc = excinfo.value
    assert isinstance(exc, CalendarYearMissing)
    assert exc.year == 2027
    assert str(exc) == "2027 年的法定节假日安排尚未载入 (calendar year 2027 not loaded)"


def test_calendar_year_missing_survives_pickling() -> None:
    # Celery result backends pickle exceptions.
    restored = pickle.loads(pickle.dumps(CalendarYearMissing(2027)))  # noqa: S301 - own data
    assert isinstance(restored, CalendarYearMissing)
    assert restored.year == 2027
    assert str(restored) == str(CalendarYearMissing(2027))


MISSING_CASES = [
    pytest.param(lambda: is_working_day(D(2027, 1, 4)), 2027, id="is-working-day-2027"),
    pytest.param(lambda: is_working_day(D(2024, 12, 31)), 2024, id="is-working-day-2024"),
    pytest.param(lambda: add_working_days(D(2026, 12, 31), 1), 2027, id="add-into-2027"),
    pytest.param(lambda: add_working_days(D(2026, 12, 20), 10), 2027, id="add-span-into-2027"),
    pytest.param(lambda: add_working_days(D(2027, 3, 1), 1), 2027, id="add-within-2027"),
    pytest.param(lambda: deadline(sh(2026, 12, 31, 10), 1), 2027, id="deadline-into-2027"),
    pytest.param(lambda: deadline(utc(2026, 12, 31, 16, 30), 1), 2027, id="deadline-local-2027"),
    pytest.param(lambda: nth_working_day_of_month(2027, 1, 1), 2027, id="nth-2027-01"),
    pytest.param(lambda: nth_working_day_of_month(2024, 12, 1), 2024, id="nth-2024-12"),
    pytest.param(
        lambda: working_days_between(D(2026, 12, 1), D(2027, 1, 5)), 2027, id="between-into-2027"
    ),
    pytest.param(
        lambda: working_days_between(D(2024, 12, 30), D(2025, 1, 2)), 2024, id="between-from-2024"
    ),
    pytest.param(
        lambda: working_days_remaining(sh(2026, 12, 30, 10), sh(2027, 1, 6)),
        2027,
        id="remaining-into-2027",
    ),
]


@pytest.mark.parametrize(("call", "year"), MISSING_CASES)
def test_missing_year_raises(call: Callable[[], object], year: int) -> None:
    with pytest.raises(CalendarYearMissing) as excinfo:
        call()
    assert excinfo.value.year == year


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        pytest.param(
            lambda: is_working_day(D(2027, 1, 1), provisional=True), True, id="2027-01-01-fri"
        ),
        pytest.param(
            lambda: is_working_day(D(2027, 1, 2), provisional=True), False, id="2027-01-02-sat"
        ),
        pytest.param(
            lambda: add_working_days(D(2026, 12, 31), 1, provisional=True),
            D(2027, 1, 1),
            id="add-into-2027",
        ),
        pytest.param(
            lambda: add_working_days(D(2026, 12, 31), 2, provisional=True),
            D(2027, 1, 4),
            id="add-into-2027-skips-weekend",
        ),
        pytest.param(
            lambda: deadline(sh(2026, 12, 31, 10), 2, provisional=True),
            sh(2027, 1, 5),
            id="deadline-into-2027",
        ),
        pytest.param(
            lambda: nth_working_day_of_month(2027, 1, 1, provisional=True),
            D(2027, 1, 1),
            id="nth-2027-01",
        ),
        pytest.param(
            lambda: nth_working_day_of_month(2027, 2, 20, provisional=True),
            D(2027, 2, 26),
            id="nth-2027-02-weekdays-only",
        ),
        pytest.param(
            lambda: working_days_between(D(2026, 12, 30), D(2027, 1, 5), provisional=True),
            4,
            id="between-into-2027",
        ),
        pytest.param(
            lambda: working_days_remaining(sh(2026, 12, 30, 10), sh(2027, 1, 6), provisional=True),
            4,
            id="remaining-into-2027",
        ),
        # Provisional mode never overrides a loaded calendar.
        pytest.param(
            lambda: add_working_days(D(2026, 9, 30), 2, provisional=True),
            D(2026, 10, 9),
            id="loaded-year-unchanged",
        ),
        pytest.param(
            lambda: is_working_day(D(2026, 10, 10), provisional=True),
            True,
            id="loaded-makeup-day-unchanged",
        ),
        pytest.param(
            lambda: working_days_between(D(2026, 9, 30), D(2027, 1, 1), provisional=True),
            63,  # 62 working days in (09-30, 12-31] of 2026, plus Fri 2027-01-01 (weekday)
            id="mixed-loaded-and-missing",
        ),
    ],
)
def test_provisional_treats_missing_year_as_weekends_only(
    call: Callable[[], object], expected: object
) -> None:
    assert call() == expected


# --- provider, caching, clear_cache -----------------------------------------------------------


def test_provider_is_called_once_per_year(install: Callable[..., None]) -> None:
    provider = CountingProvider()
    install(provider)
    add_working_days(D(2026, 9, 30), 5)
    is_working_day(D(2026, 1, 1))
    working_days_between(D(2026, 1, 1), D(2026, 12, 31))
    assert provider.calls == [2026]
    working_days_between(D(2025, 6, 1), D(2026, 6, 1))
    assert provider.calls == [2026, 2025]


def test_missing_year_is_cached_too(install: Callable[..., None]) -> None:
    provider = CountingProvider()
    install(provider)
    for _ in range(2):
        with pytest.raises(CalendarYearMissing):
            is_working_day(D(2027, 1, 4))
        assert is_working_day(D(2027, 1, 4), provisional=True)
    assert provider.calls == [2027]


def test_clear_cache_one_year(install: Callable[..., None]) -> None:
    provider = CountingProvider()
    install(provider)
    is_working_day(D(2025, 3, 3))
    is_working_day(D(2026, 3, 3))
    clear_cache(2026)
    is_working_day(D(2025, 3, 3))
    is_working_day(D(2026, 3, 3))
    assert provider.calls == [2025, 2026, 2026]


def test_clear_cache_unknown_year_is_harmless(install: Callable[..., None]) -> None:
    provider = CountingProvider()
    install(provider)
    clear_cache(1999)
    is_working_day(D(2026, 3, 3))
    assert provider.calls == [2026]


def test_clear_cache_all(install: Callable[..., None]) -> None:
    provider = CountingProvider()
    install(provider)
    is_working_day(D(2025, 3, 3))
    is_working_day(D(2026, 3, 3))
    clear_cache()
    is_working_day(D(2025, 3, 3))
    is_working_day(D(2026, 3, 3))
    assert provider.calls == [2025, 2026, 2025, 2026]


def test_loading_a_year_takes_effect_after_clear_cache(install: Callable[..., None]) -> None:
    provider = CountingProvider()
    install(provider)
    with pytest.raises(CalendarYearMissing):
        add_working_days(D(2026, 12, 31), 1)
    # 2027's New Year's Day (a Friday) is loaded in the admin ...
    provider.calendars[2027] = YearCalendar(
        year=2027, holidays=frozenset({D(2027, 1, 1)}), workdays=frozenset()
    )
    # ... which is not seen until the cache is cleared for that year.
    with pytest.raises(CalendarYearMissing):
        add_working_days(D(2026, 12, 31), 1)
    clear_cache(2027)
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)


def test_set_calendar_provider_clears_cache(install: Callable[..., None]) -> None:
    assert is_working_day(D(2026, 10, 1)) is False
    # A provider that knows no holidays at all for 2026.
    install(lambda year: YearCalendar(year=year, holidays=frozenset(), workdays=frozenset()))
    assert is_working_day(D(2026, 10, 1)) is True
    assert is_working_day(D(2026, 10, 10)) is False


def test_get_calendar_provider_returns_installed(install: Callable[..., None]) -> None:
    provider = CountingProvider()
    install(provider)
    assert workdays.get_calendar_provider() is provider


def test_provider_returning_wrong_year_is_rejected(install: Callable[..., None]) -> None:
    install(lambda year: OFFICIAL[2026])
    with pytest.raises(ValueError, match="returned 2026 when asked for 2025"):
        is_working_day(D(2025, 3, 3))


def test_default_provider_is_chinesecalendar(monkeypatch: pytest.MonkeyPatch) -> None:
    # Load a private copy of the module: the shared one may already have a DB-backed provider
    # installed by the Django app.
    name = "_fresh_sla_workdays"
    spec = importlib.util.spec_from_file_location(name, workdays.__file__)
    assert spec is not None
    assert spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the class body is processed.
    monkeypatch.setitem(sys.modules, name, fresh)
    spec.loader.exec_module(fresh)
    assert fresh.get_calendar_provider() is fresh.calendar_from_chinesecalendar
    assert fresh.add_working_days(D(2026, 9, 30), 2) == D(2026, 10, 9)


# --- YearCalendar validation ------------------------------------------------------------------


def test_year_calendar_freezes_its_sets() -> None:
    cal = YearCalendar(year=2026, holidays={D(2026, 1, 1)}, workdays=[D(2026, 1, 4)])
    assert cal.holidays == frozenset({D(2026, 1, 1)})
    assert isinstance(cal.holidays, frozenset)
    assert isinstance(cal.workdays, frozenset)


@pytest.mark.parametrize(
    ("holidays", "workdays_", "error", "match"),
    [
        pytest.param({D(2025, 1, 1)}, set(), ValueError, "another year", id="holiday-other-year"),
        pytest.param(set(), {D(2027, 1, 2)}, ValueError, "another year", id="makeup-other-year"),
        pytest.param({D(2026, 1, 4)}, {D(2026, 1, 4)}, ValueError, "both", id="overlap"),
        pytest.param(
            {datetime(2026, 1, 1, tzinfo=BUSINESS_TZ)}, set(), TypeError, "datetime", id="datetime"
        ),
    ],
)
def test_year_calendar_rejects_bad_data(
    holidays: set[date], workdays_: set[date], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        YearCalendar(year=2026, holidays=frozenset(holidays), workdays=frozenset(workdays_))


# --- the chinesecalendar package against the official notices ---------------------------------


@pytest.mark.parametrize("year", [2025, 2026], ids=str)
def test_chinesecalendar_agrees_with_official_schedule(
    year: int, install: Callable[..., None]
) -> None:
    official = OFFICIAL[year]
    package = calendar_from_chinesecalendar(year)
    assert package is not None
    assert package.year == year
    assert package.workdays == official.workdays
    # Every weekday the notice gives off is off in the package (the package may list the
    # weekend days of a holiday run too, which changes nothing).
    assert {d for d in official.holidays if d.weekday() < 5} <= package.holidays
    install(calendar_from_chinesecalendar)
    mismatches = [
        d
        for d in _span(D(year, 1, 1), D(year, 12, 31))
        if is_working_day(d)
        != (d in official.workdays or (d.weekday() < 5 and d not in official.holidays))
    ]
    assert mismatches == []


@pytest.mark.parametrize("year", [1900, 2099], ids=str)
def test_chinesecalendar_returns_none_for_uncovered_year(year: int) -> None:
    assert calendar_from_chinesecalendar(year) is None


def test_sla_workdays_is_the_core_module_re_exported() -> None:
    # DESIGN §3 names ``sla.workdays``; it must be the very same functions, not a copy.
    import sla.workdays as legacy

    assert legacy.add_working_days is workdays.add_working_days
    assert legacy.CalendarYearMissing is workdays.CalendarYearMissing
    assert set(legacy.__all__) == set(workdays.__all__)
