"""Tests for billing.pricing: service days, quantity segments, line amounts, statement totals.

The worked examples are DESIGN §4's; the partial-day and test-period rules are those of the
reference contracts (焦作 JZ-2026 §三.1, 包头 BT-2025 §5.1.2 and §7.1.1). Property tests
compare the O(1) arithmetic against a day-by-day brute force written here.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing import pricing
from billing.pricing import (
    BUSINESS_TZ,
    PartialDayRule,
    PricePeriod,
    Segment,
    Totals,
    billing_window,
    divisor,
    effective_change_date,
    line_amount,
    local_midnight,
    month_bounds,
    segments_from_history,
    service_days,
    statement_totals,
)

WHOLE = PartialDayRule.WHOLE_DAY
HALF = PartialDayRule.HALF_DAY_UNDER_12H
MARCH_2026 = (date(2026, 3, 1), date(2026, 3, 31))
JZ_WINDOW = billing_window(billing_from=date(2026, 3, 20), service_end=date(2028, 6, 3))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A business-local (Asia/Shanghai) instant."""
    return datetime(year, month, day, hour, minute, tzinfo=BUSINESS_TZ)


def march_days(start: datetime, end: datetime | None, rule: PartialDayRule) -> Decimal:
    return service_days(
        start=start, end=end, period_start=MARCH_2026[0], period_end=MARCH_2026[1], rule=rule
    )


# ------------------------------------------------------------------ DESIGN §4 worked examples


def test_design_example_bt_2025_march() -> None:
    # 8 vCPU online 2026-03-10 15:00: 03-10 has 9 h → 0.5, 03-11…03-31 = 21 → 21.5 days.
    vcpu_days = march_days(at(2026, 3, 10, 15), None, HALF)
    vcpu = line_amount(
        unit_price=Decimal("21.6"),
        quantity=8,
        service_days=vcpu_days,
        period=PricePeriod.MONTH,
        year=2026,
        month=3,
    )
    ssd_days = march_days(at(2026, 2, 1), None, HALF)
    ssd = line_amount(
        unit_price=Decimal("0.45"),
        quantity=500,
        service_days=ssd_days,
        period=PricePeriod.MONTH,
        year=2026,
        month=3,
    )

    totals = statement_totals([vcpu, ssd], discount=Decimal("0.9999"))

    assert vcpu_days == Decimal("21.5")
    assert vcpu == Decimal("119.85")  # 21.6 × 8 × 21.5 / 31 = 119.845…
    assert ssd_days == Decimal("31")
    assert ssd == Decimal("225.00")
    assert totals.subtotal == Decimal("344.85")
    assert totals.total == Decimal("344.82")  # 344.85 × 0.9999 = 344.815515
    # 344.82 / 1.06 = 325.3018… → 325.30; 344.82 − 325.30 = 19.52
    assert totals.vat == Decimal("19.52")
    assert totals.discount == Decimal("0.9999")


def test_design_example_jz_2026_july() -> None:
    days = service_days(
        start=at(2026, 7, 1),
        end=None,
        period_start=date(2026, 7, 1),
        period_end=date(2026, 7, 31),
        rule=WHOLE,
        window_start=JZ_WINDOW[0],
        window_end=JZ_WINDOW[1],
    )
    amount = line_amount(
        unit_price=Decimal("2280"),
        quantity=1,
        service_days=days,
        period=PricePeriod.YEAR,
        year=2026,
        month=7,
    )

    totals = statement_totals([amount], discount=Decimal("0.9993"))

    assert days == Decimal("31")
    assert amount == Decimal("193.64")  # 2280 × 31 / 365 = 193.643…
    assert totals.total == Decimal("193.50")  # 193.64 × 0.9993 = 193.504452
    # 193.50 / 1.06 = 182.5471… → 182.55; 193.50 − 182.55 = 10.95
    assert totals.vat == Decimal("10.95")


# ------------------------------------------------------------------------------ service days


@pytest.mark.parametrize(
    ("start", "end", "rule", "expected"),
    [
        # 包头: under 12 h → 0.5, 12 h or more → 1
        pytest.param(at(2026, 3, 10, 15), None, HALF, "21.5", id="half-online-15h00-9h"),
        pytest.param(at(2026, 3, 10), None, HALF, "22", id="half-online-at-midnight"),
        pytest.param(at(2026, 3, 10, 12), None, HALF, "22", id="half-online-noon-exactly-12h"),
        pytest.param(at(2026, 3, 10, 12, 1), None, HALF, "21.5", id="half-online-11h59m"),
        pytest.param(at(2026, 3, 31, 23), None, HALF, "0.5", id="half-online-last-hour"),
        pytest.param(
            at(2026, 3, 10), at(2026, 3, 20), HALF, "10", id="half-release-at-midnight-not-counted"
        ),
        pytest.param(
            at(2026, 3, 10), at(2026, 3, 20, 11, 59), HALF, "10.5", id="half-release-11h59m"
        ),
        pytest.param(at(2026, 3, 10), at(2026, 3, 20, 12), HALF, "11", id="half-release-12h"),
        pytest.param(at(2026, 3, 10, 9), at(2026, 3, 10, 21), HALF, "1", id="half-same-day-12h"),
        pytest.param(
            at(2026, 3, 10, 9), at(2026, 3, 10, 20, 59), HALF, "0.5", id="half-same-day-11h59m"
        ),
        pytest.param(
            at(2026, 3, 10, 15), at(2026, 3, 11, 9), HALF, "1", id="half-overnight-9h-plus-9h"
        ),
        pytest.param(at(2026, 3, 10, 15), at(2026, 3, 10, 15), HALF, "0", id="half-zero-length"),
        # 焦作: the online and the offline day each count as a whole day
        pytest.param(at(2026, 3, 10, 15), None, WHOLE, "22", id="whole-online-15h00"),
        pytest.param(at(2026, 3, 10), None, WHOLE, "22", id="whole-online-at-midnight"),
        pytest.param(at(2026, 3, 31, 23, 59), None, WHOLE, "1", id="whole-online-last-minute"),
        pytest.param(
            at(2026, 3, 10, 9), at(2026, 3, 10, 9, 1), WHOLE, "1", id="whole-same-day-one-minute"
        ),
        pytest.param(
            at(2026, 3, 10, 23, 59), at(2026, 3, 11, 0, 1), WHOLE, "2", id="whole-across-midnight"
        ),
        pytest.param(
            at(2026, 3, 10),
            at(2026, 3, 20),
            WHOLE,
            "10",
            id="whole-release-at-midnight-not-counted",
        ),
        pytest.param(at(2026, 3, 10), at(2026, 3, 20, 0, 1), WHOLE, "11", id="whole-release-00h01"),
        pytest.param(at(2026, 3, 10, 8), at(2026, 3, 10, 8), WHOLE, "0", id="whole-zero-length"),
        # clipping to the month
        pytest.param(at(2026, 1, 5, 15), None, HALF, "31", id="online-before-month"),
        pytest.param(at(2026, 2, 27), at(2026, 4, 2, 3), WHOLE, "31", id="spans-whole-month"),
        pytest.param(
            at(2026, 3, 5), at(2026, 4, 1), HALF, "27", id="release-at-month-end-midnight"
        ),
        pytest.param(at(2026, 3, 31, 12), at(2026, 4, 1, 9), HALF, "1", id="last-day-12h"),
        pytest.param(at(2026, 2, 1), at(2026, 3, 1), HALF, "0", id="released-at-month-start"),
        pytest.param(at(2026, 2, 1), at(2026, 3, 1, 6), HALF, "0.5", id="released-6h-into-month"),
        pytest.param(at(2026, 4, 1), None, WHOLE, "0", id="online-after-month"),
    ],
)
def test_service_days_in_march(
    start: datetime, end: datetime | None, rule: PartialDayRule, expected: str
) -> None:
    assert march_days(start, end, rule) == Decimal(expected)


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        pytest.param(2026, 2, 28, id="feb-2026"),
        pytest.param(2028, 2, 29, id="feb-2028-leap"),
        pytest.param(2026, 4, 30, id="april-30-days"),
        pytest.param(2026, 6, 30, id="june-30-days"),
        pytest.param(2026, 12, 31, id="december-31-days"),
    ],
)
@pytest.mark.parametrize("rule", [WHOLE, HALF])
def test_full_month_counts_every_calendar_day(
    year: int, month: int, expected: int, rule: PartialDayRule
) -> None:
    first, last = month_bounds(year, month)

    days = service_days(
        start=at(2020, 1, 1, 13), end=None, period_start=first, period_end=last, rule=rule
    )

    assert days == expected


def test_service_days_is_arithmetic_not_a_loop_over_days() -> None:
    # A century-long period is as cheap as a month; the result is still exact.
    days = service_days(
        start=at(2000, 1, 1, 13),  # 11 h on the first day
        end=at(2099, 12, 31, 12),  # 12 h on the last
        period_start=date(2000, 1, 1),
        period_end=date(2099, 12, 31),
        rule=HALF,
    )

    assert days == Decimal(date(2100, 1, 1).toordinal() - date(2000, 1, 1).toordinal()) - (
        Decimal("0.5")
    )


def test_rule_may_be_given_as_stored_string() -> None:
    assert march_days(at(2026, 3, 10, 15), None, "half_day_under_12h") == Decimal("21.5")  # type: ignore[arg-type]
    assert march_days(at(2026, 3, 10, 15), None, "whole_day") == Decimal("22")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "expected_half", "expected_whole"),
    [
        # 2026-03-10 07:00 UTC = 15:00 Asia/Shanghai
        pytest.param(datetime(2026, 3, 10, 7, tzinfo=UTC), "21.5", "22", id="utc-same-local-day"),
        # 2026-03-09 20:00 UTC = 2026-03-10 04:00 local: the day is 03-10, 20 h
        pytest.param(
            datetime(2026, 3, 9, 20, tzinfo=UTC), "22", "22", id="utc-previous-day-is-local-next"
        ),
        # 2026-03-31 16:00 UTC = 2026-04-01 00:00 local: not in March at all
        pytest.param(
            datetime(2026, 3, 31, 16, tzinfo=UTC), "0", "0", id="utc-late-march-is-local-april"
        ),
    ],
)
def test_days_are_local_calendar_days_whatever_the_input_zone(
    start: datetime, expected_half: str, expected_whole: str
) -> None:
    assert march_days(start, None, HALF) == Decimal(expected_half)
    assert march_days(start, None, WHOLE) == Decimal(expected_whole)


def test_hours_are_elapsed_time_even_for_inputs_in_a_dst_zone() -> None:
    # Both instants fall on 2026-03-08 in Shanghai (12:00 → 23:30, 11.5 h) but straddle New
    # York's spring-forward, where the wall-clock difference would be 12.5 h.
    new_york = ZoneInfo("America/New_York")
    start = datetime(2026, 3, 7, 23, tzinfo=new_york)
    end = datetime(2026, 3, 8, 11, 30, tzinfo=new_york)

    assert march_days(start, end, HALF) == Decimal("0.5")


# -------------------------------------------------------------------- contract billing window


def test_billing_window_of_reference_contracts() -> None:
    assert JZ_WINDOW == (at(2026, 3, 20), at(2028, 6, 4))
    assert billing_window(billing_from=date(2025, 6, 20), service_end=date(2026, 6, 19)) == (
        at(2025, 6, 20),
        at(2026, 6, 20),
    )


def test_billing_window_rejects_reversed_dates() -> None:
    with pytest.raises(ValueError, match="before billing_from"):
        billing_window(billing_from=date(2026, 6, 4), service_end=date(2026, 6, 3))


@pytest.mark.parametrize(
    ("start", "end", "month", "rule", "expected"),
    [
        # JZ bills usage from 2026-03-20 (before its 2026-06-04 service start)
        pytest.param(
            at(2026, 3, 1, 10), None, (2026, 3), WHOLE, "12", id="usage-before-billing-from"
        ),
        pytest.param(
            at(2026, 3, 1, 10), None, (2026, 3), HALF, "12", id="window-edge-is-no-partial-day"
        ),
        pytest.param(
            at(2026, 3, 25, 15), None, (2026, 3), WHOLE, "7", id="online-inside-first-month"
        ),
        pytest.param(at(2026, 2, 1), at(2026, 3, 20), (2026, 3), WHOLE, "0", id="released-at-from"),
        pytest.param(
            at(2026, 2, 1), at(2026, 3, 20, 9), (2026, 3), WHOLE, "1", id="released-on-from-day"
        ),
        pytest.param(at(2026, 1, 1), None, (2026, 2), WHOLE, "0", id="month-before-billing-from"),
        # and through 24:00 of the service period's last day, 2028-06-03
        pytest.param(at(2027, 1, 1), None, (2028, 6), WHOLE, "3", id="usage-after-service-end"),
        pytest.param(
            at(2028, 6, 2, 20), None, (2028, 6), HALF, "1.5", id="online-near-service-end"
        ),
        pytest.param(at(2027, 1, 1), None, (2028, 7), WHOLE, "0", id="month-after-service-end"),
    ],
)
def test_service_days_clipped_to_billing_window(
    start: datetime,
    end: datetime | None,
    month: tuple[int, int],
    rule: PartialDayRule,
    expected: str,
) -> None:
    first, last = month_bounds(*month)

    days = service_days(
        start=start,
        end=end,
        period_start=first,
        period_end=last,
        rule=rule,
        window_start=JZ_WINDOW[0],
        window_end=JZ_WINDOW[1],
    )

    assert days == Decimal(expected)


def test_window_edges_may_be_given_in_utc() -> None:
    utc_window = (JZ_WINDOW[0].astimezone(UTC), JZ_WINDOW[1].astimezone(UTC))

    days = service_days(
        start=at(2026, 3, 1, 10),
        end=None,
        period_start=MARCH_2026[0],
        period_end=MARCH_2026[1],
        rule=HALF,
        window_start=utc_window[0],
        window_end=utc_window[1],
    )

    assert days == Decimal("12")


@pytest.mark.parametrize("edge", ["window_start", "window_end"])
def test_window_edges_must_be_local_midnights(edge: str) -> None:
    # A window edge inside a day would be weighed like a real online/offline instant.
    with pytest.raises(ValueError, match="local midnight"):
        service_days(
            start=at(2026, 3, 1),
            end=None,
            period_start=MARCH_2026[0],
            period_end=MARCH_2026[1],
            rule=WHOLE,
            **{edge: at(2026, 3, 20, 8)},  # type: ignore[arg-type]
        )


def test_service_days_rejects_end_before_start() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        march_days(at(2026, 3, 10), at(2026, 3, 9), WHOLE)


def test_service_days_rejects_reversed_period() -> None:
    with pytest.raises(ValueError, match="before period_start"):
        service_days(
            start=at(2026, 3, 10),
            end=None,
            period_start=date(2026, 3, 31),
            period_end=date(2026, 3, 1),
            rule=WHOLE,
        )


# ------------------------------------------------------------------------ naive datetimes


NAIVE = datetime(2026, 3, 10, 15)  # noqa: DTZ001 — deliberately naive


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: effective_change_date(NAIVE), id="effective_change_date"),
        pytest.param(lambda: march_days(NAIVE, None, WHOLE), id="service_days-start"),
        pytest.param(lambda: march_days(at(2026, 3, 1), NAIVE, WHOLE), id="service_days-end"),
        pytest.param(
            lambda: service_days(
                start=at(2026, 3, 1),
                end=None,
                period_start=MARCH_2026[0],
                period_end=MARCH_2026[1],
                rule=WHOLE,
                window_start=NAIVE.replace(hour=0),
            ),
            id="service_days-window",
        ),
        pytest.param(
            lambda: segments_from_history(
                billing_start=NAIVE, release=None, changes=[], initial_quantity=1
            ),
            id="segments-billing_start",
        ),
        pytest.param(
            lambda: segments_from_history(
                billing_start=at(2026, 3, 1), release=NAIVE, changes=[], initial_quantity=1
            ),
            id="segments-release",
        ),
        pytest.param(
            lambda: segments_from_history(
                billing_start=at(2026, 3, 1), release=None, changes=[(NAIVE, 2)], initial_quantity=1
            ),
            id="segments-change",
        ),
        pytest.param(lambda: pricing.test_period_end(NAIVE, 1), id="test_period_end"),
        pytest.param(lambda: Segment(quantity=1, start=NAIVE, end=None), id="Segment"),
    ],
)
def test_naive_datetimes_are_rejected(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


# ------------------------------------------------------------------- quantity changes


@pytest.mark.parametrize(
    ("delivered_at", "expected"),
    [
        pytest.param(at(2026, 3, 15), date(2026, 3, 15), id="00h00-same-day"),
        pytest.param(at(2026, 3, 15, 11, 59), date(2026, 3, 15), id="11h59-same-day"),
        pytest.param(
            datetime(2026, 3, 15, 11, 59, 59, 999999, tzinfo=BUSINESS_TZ),
            date(2026, 3, 15),
            id="last-microsecond-before-noon",
        ),
        pytest.param(at(2026, 3, 15, 12), date(2026, 3, 16), id="12h00-next-day"),
        pytest.param(at(2026, 3, 15, 23, 59), date(2026, 3, 16), id="23h59-next-day"),
        pytest.param(at(2026, 3, 31, 14), date(2026, 4, 1), id="afternoon-of-month-end"),
        pytest.param(at(2028, 2, 28, 13), date(2028, 2, 29), id="into-leap-day"),
        pytest.param(
            datetime(2026, 3, 15, 3, 59, tzinfo=UTC), date(2026, 3, 15), id="utc-11h59-local"
        ),
        pytest.param(datetime(2026, 3, 15, 4, tzinfo=UTC), date(2026, 3, 16), id="utc-12h00-local"),
        pytest.param(
            datetime(2026, 3, 14, 16, 30, tzinfo=UTC), date(2026, 3, 15), id="utc-previous-date"
        ),
    ],
)
def test_effective_change_date(delivered_at: datetime, expected: date) -> None:
    assert effective_change_date(delivered_at) == expected


def seg(quantity: int, start: datetime, end: datetime | None) -> Segment:
    return Segment(quantity=quantity, start=start, end=end)


@pytest.mark.parametrize(
    ("billing_start", "release", "changes", "initial", "expected"),
    [
        pytest.param(
            at(2026, 3, 10, 15), None, [], 8, [seg(8, at(2026, 3, 10, 15), None)], id="no-changes"
        ),
        pytest.param(
            at(2026, 3, 1),
            None,
            [(at(2026, 3, 15, 10), 16)],
            8,
            [seg(8, at(2026, 3, 1), at(2026, 3, 15)), seg(16, at(2026, 3, 15), None)],
            id="change-before-noon-same-day",
        ),
        pytest.param(
            at(2026, 3, 1),
            None,
            [(at(2026, 3, 15, 12), 16)],
            8,
            [seg(8, at(2026, 3, 1), at(2026, 3, 16)), seg(16, at(2026, 3, 16), None)],
            id="change-at-noon-next-day",
        ),
        pytest.param(
            at(2026, 3, 1),
            None,
            [(at(2026, 3, 15, 18), 16)],
            8,
            [seg(8, at(2026, 3, 1), at(2026, 3, 16)), seg(16, at(2026, 3, 16), None)],
            id="change-after-noon-next-day",
        ),
        pytest.param(
            at(2026, 3, 1),
            at(2026, 3, 28, 9),
            # given out of order: they are sorted by delivery time
            [(at(2026, 3, 20, 14), 2), (at(2026, 3, 5, 9), 4), (at(2026, 3, 12, 12), 6)],
            8,
            [
                seg(8, at(2026, 3, 1), at(2026, 3, 5)),
                seg(4, at(2026, 3, 5), at(2026, 3, 13)),
                seg(6, at(2026, 3, 13), at(2026, 3, 21)),
                seg(2, at(2026, 3, 21), at(2026, 3, 28, 9)),
            ],
            id="multiple-changes-unsorted",
        ),
        pytest.param(
            at(2026, 3, 10, 15),
            None,
            [(at(2026, 3, 10, 16), 4)],
            8,
            [seg(8, at(2026, 3, 10, 15), at(2026, 3, 11)), seg(4, at(2026, 3, 11), None)],
            id="change-afternoon-of-online-day",
        ),
        pytest.param(
            at(2026, 3, 10, 9),
            None,
            [(at(2026, 3, 10, 10), 4)],
            8,
            [seg(4, at(2026, 3, 10, 9), None)],
            id="change-morning-of-online-day-replaces-initial",
        ),
        pytest.param(
            at(2026, 4, 10, 15),
            None,
            [(at(2026, 3, 20, 10), 4), (at(2026, 4, 1, 15), 6)],
            8,
            [seg(6, at(2026, 4, 10, 15), None)],
            id="changes-during-test-period-replace-initial",
        ),
        pytest.param(
            at(2026, 3, 1),
            at(2026, 3, 20, 15),
            [(at(2026, 3, 19, 14), 4)],
            8,
            [seg(8, at(2026, 3, 1), at(2026, 3, 20)), seg(4, at(2026, 3, 20), at(2026, 3, 20, 15))],
            id="change-effective-on-release-day",
        ),
        pytest.param(
            at(2026, 3, 1),
            at(2026, 3, 20),
            [(at(2026, 3, 19, 14), 4), (at(2026, 3, 25, 9), 2)],
            8,
            [seg(8, at(2026, 3, 1), at(2026, 3, 20))],
            id="changes-effective-at-or-after-release-ignored",
        ),
        pytest.param(
            at(2026, 3, 1),
            None,
            [(at(2026, 3, 14, 13), 4), (at(2026, 3, 15, 9), 2)],
            8,
            [seg(8, at(2026, 3, 1), at(2026, 3, 15)), seg(2, at(2026, 3, 15), None)],
            id="two-changes-same-midnight-last-wins",
        ),
        pytest.param(
            at(2026, 3, 1),
            None,
            [(at(2026, 3, 14, 13), 4), (at(2026, 3, 15, 9), 8)],
            8,
            [seg(8, at(2026, 3, 1), None)],
            id="change-undone-same-midnight",
        ),
        pytest.param(
            at(2026, 3, 1),
            None,
            [(at(2026, 3, 14, 9), 8)],
            8,
            [seg(8, at(2026, 3, 1), None)],
            id="no-op-change-does-not-split",
        ),
        pytest.param(
            at(2026, 3, 1),
            None,
            [(at(2026, 3, 14, 9), 0)],
            8,
            [seg(8, at(2026, 3, 1), at(2026, 3, 14)), seg(0, at(2026, 3, 14), None)],
            id="change-to-zero-kept",
        ),
        pytest.param(at(2026, 4, 10, 15), at(2026, 4, 1), [], 8, [], id="released-in-test-period"),
        pytest.param(at(2026, 4, 10, 15), at(2026, 4, 10, 15), [], 8, [], id="released-at-start"),
    ],
)
def test_segments_from_history(
    billing_start: datetime,
    release: datetime | None,
    changes: list[tuple[datetime, int]],
    initial: int,
    expected: list[Segment],
) -> None:
    segments = segments_from_history(
        billing_start=billing_start, release=release, changes=changes, initial_quantity=initial
    )

    assert segments == expected


@pytest.mark.parametrize(
    ("quantity", "error"),
    [
        pytest.param(-1, ValueError, id="negative"),
        pytest.param(1.5, TypeError, id="float"),
        pytest.param(True, TypeError, id="bool"),
    ],
)
def test_segments_reject_bad_quantities(quantity: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="quantity"):
        segments_from_history(
            billing_start=at(2026, 3, 1),
            release=None,
            changes=[(at(2026, 3, 5), quantity)],  # type: ignore[list-item]
            initial_quantity=1,
        )
    with pytest.raises(error, match="quantity"):
        segments_from_history(
            billing_start=at(2026, 3, 1),
            release=None,
            changes=[],
            initial_quantity=quantity,  # type: ignore[arg-type]
        )


def test_segment_must_not_be_empty() -> None:
    with pytest.raises(ValueError, match="empty segment"):
        Segment(quantity=1, start=at(2026, 3, 2), end=at(2026, 3, 2))


def _segment_days(segments: list[Segment], first: date, last: date, rule: PartialDayRule):
    return [
        service_days(start=s.start, end=s.end, period_start=first, period_end=last, rule=rule)
        for s in segments
    ]


@pytest.mark.parametrize("rule", [WHOLE, HALF])
@pytest.mark.parametrize(
    ("billing_start", "release", "changes"),
    [
        pytest.param(at(2026, 3, 10, 15), None, [(at(2026, 3, 15, 11, 59), 4)], id="before-noon"),
        pytest.param(at(2026, 3, 10, 15), None, [(at(2026, 3, 15, 12), 4)], id="at-noon"),
        pytest.param(at(2026, 3, 10, 15), None, [(at(2026, 3, 15, 12, 1), 4)], id="after-noon"),
        pytest.param(at(2026, 3, 10, 15), None, [(at(2026, 3, 10, 18), 4)], id="on-online-day"),
        pytest.param(
            at(2026, 3, 10, 15), at(2026, 3, 20, 9), [(at(2026, 3, 19, 13), 4)], id="eve-of-release"
        ),
        pytest.param(
            at(2026, 3, 10, 15),
            at(2026, 3, 29, 18),
            [(at(2026, 3, 12, 9), 4), (at(2026, 3, 18, 16), 2), (at(2026, 3, 25, 12), 16)],
            id="several",
        ),
        pytest.param(
            at(2026, 2, 20, 15), None, [(at(2026, 2, 28, 13), 4)], id="change-effective-on-march-1"
        ),
    ],
)
def test_no_day_billed_twice_none_lost(
    billing_start: datetime,
    release: datetime | None,
    changes: list[tuple[datetime, int]],
    rule: PartialDayRule,
) -> None:
    segments = segments_from_history(
        billing_start=billing_start, release=release, changes=changes, initial_quantity=8
    )

    per_segment = _segment_days(segments, *MARCH_2026, rule)

    assert len(segments) == len(changes) + 1
    assert sum(per_segment) == march_days(billing_start, release, rule)


def test_change_before_noon_bills_that_day_at_the_new_quantity() -> None:
    # 8 vCPU all March, 16 from a change delivered 03-15 10:00: 14 days at 8, 17 at 16.
    segments = segments_from_history(
        billing_start=at(2026, 3, 1),
        release=None,
        changes=[(at(2026, 3, 15, 10), 16)],
        initial_quantity=8,
    )
    amounts = [
        line_amount(
            unit_price=Decimal("21.6"),
            quantity=segment.quantity,
            service_days=days,
            period=PricePeriod.MONTH,
            year=2026,
            month=3,
        )
        for segment, days in zip(segments, _segment_days(segments, *MARCH_2026, HALF), strict=True)
    ]

    # 21.6 × 8 × 14 / 31 = 78.0387… ; 21.6 × 16 × 17 / 31 = 189.5225…
    assert amounts == [Decimal("78.04"), Decimal("189.52")]


# --------------------------------------------------------------------------------- divisor


@pytest.mark.parametrize(
    ("period", "year", "month", "expected"),
    [
        pytest.param(PricePeriod.YEAR, 2026, 3, 365, id="yearly-march"),
        pytest.param(PricePeriod.YEAR, 2026, 2, 365, id="yearly-february"),
        pytest.param(PricePeriod.YEAR, 2028, 2, 365, id="yearly-leap-february-still-365"),
        pytest.param(PricePeriod.MONTH, 2026, 3, 31, id="monthly-31"),
        pytest.param(PricePeriod.MONTH, 2026, 4, 30, id="monthly-30"),
        pytest.param(PricePeriod.MONTH, 2026, 2, 28, id="monthly-february"),
        pytest.param(PricePeriod.MONTH, 2028, 2, 29, id="monthly-leap-february"),
        pytest.param(PricePeriod.MONTH, 2100, 2, 28, id="monthly-2100-not-leap"),
        pytest.param(PricePeriod.MONTH, 2000, 2, 29, id="monthly-2000-leap"),
        pytest.param("month", 2026, 12, 31, id="stored-string-month"),
        pytest.param("year", 2026, 12, 365, id="stored-string-year"),
    ],
)
def test_divisor(period: PricePeriod, year: int, month: int, expected: int) -> None:
    assert divisor(period=period, year=year, month=month) == expected


@pytest.mark.parametrize(
    ("period", "month"),
    [
        pytest.param("week", 3, id="unknown-period"),
        pytest.param(PricePeriod.YEAR, 13, id="month-13"),
    ],
)
def test_divisor_rejects_bad_input(period: str, month: int) -> None:
    with pytest.raises(ValueError, match=r"week|month"):
        divisor(period=period, year=2026, month=month)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- line amounts


@pytest.mark.parametrize(
    ("unit_price", "quantity", "days", "period", "year", "month", "expected"),
    [
        pytest.param("21.6", 8, "21.5", "month", 2026, 3, "119.85", id="design-vcpu"),
        pytest.param("0.45", 500, "31", "month", 2026, 3, "225.00", id="design-ssd"),
        pytest.param("2280", 1, "31", "year", 2026, 7, "193.64", id="design-jz-ecs"),
        # BT line.1g is priced per year inside a monthly contract: 120 × 31 / 365 = 10.1917…
        pytest.param("120", 1, "31", "year", 2026, 3, "10.19", id="bt-line-1g-yearly-in-march"),
        pytest.param("120", 2, "30", "year", 2026, 4, "19.73", id="bt-line-1g-yearly-in-april"),
        # February 2028 has 29 days: monthly divisor 29, yearly still 365
        pytest.param("21.6", 1, "29", "month", 2028, 2, "21.60", id="leap-feb-monthly-full"),
        pytest.param("21.6", 1, "14.5", "month", 2028, 2, "10.80", id="leap-feb-monthly-half"),
        pytest.param("120", 1, "29", "year", 2028, 2, "9.53", id="leap-feb-yearly-29/365"),
        pytest.param("21.6", 1, "28", "month", 2026, 2, "21.60", id="feb-2026-monthly-full"),
        pytest.param("21.6", 1, "30", "month", 2026, 4, "21.60", id="april-monthly-full"),
        # exact ties at half a fen round up (half-even would round down)
        pytest.param("0.31", 1, "0.5", "month", 2026, 3, "0.01", id="tie-0.005-monthly"),
        pytest.param("0.3", 1, "0.5", "month", 2026, 4, "0.01", id="tie-0.005-30-days"),
        pytest.param("768.325", 1, "1", "year", 2026, 3, "2.11", id="tie-2.105-yearly"),
        pytest.param("0.0124", 1, "1", "month", 2026, 3, "0.00", id="under-half-a-fen"),
        pytest.param("21.6", 0, "31", "month", 2026, 3, "0.00", id="zero-quantity"),
        pytest.param("21.6", 8, "0", "month", 2026, 3, "0.00", id="zero-days"),
        pytest.param("0.45", "1.5", "31", "month", 2026, 3, "0.68", id="decimal-quantity"),
        pytest.param(
            "999999.9999", 1000000, "31", "month", 2026, 3, "999999999900.00", id="large-exact"
        ),
    ],
)
def test_line_amount(
    unit_price: str,
    quantity: int | str,
    days: str,
    period: str,
    year: int,
    month: int,
    expected: str,
) -> None:
    amount = line_amount(
        unit_price=Decimal(unit_price),
        quantity=Decimal(quantity) if isinstance(quantity, str) else quantity,
        service_days=Decimal(days),
        period=PricePeriod(period),
        year=year,
        month=month,
    )

    assert amount == Decimal(expected)
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"unit_price": 21.6}, id="unit_price"),
        pytest.param({"quantity": 8.0}, id="quantity"),
        pytest.param({"service_days": 21.5}, id="service_days"),
    ],
)
def test_line_amount_rejects_floats(overrides: dict[str, object]) -> None:
    arguments: dict[str, object] = {
        "unit_price": Decimal("21.6"),
        "quantity": 8,
        "service_days": Decimal("21.5"),
        "period": PricePeriod.MONTH,
        "year": 2026,
        "month": 3,
    }
    arguments.update(overrides)

    with pytest.raises(TypeError, match="float"):
        line_amount(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["unit_price", "quantity", "service_days"])
def test_line_amount_rejects_negative_values(field: str) -> None:
    arguments: dict[str, object] = {
        "unit_price": Decimal("21.6"),
        "quantity": 8,
        "service_days": Decimal("21.5"),
        "period": PricePeriod.MONTH,
        "year": 2026,
        "month": 3,
    }
    arguments[field] = Decimal("-1")

    with pytest.raises(ValueError, match="negative"):
        line_amount(**arguments)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- statement totals


@pytest.mark.parametrize(
    ("lines", "discount", "expected"),
    [
        pytest.param(
            ["119.85", "225.00"], "0.9999", ("344.85", "344.82", "19.52"), id="design-bt-2025"
        ),
        pytest.param(["193.64"], "0.9993", ("193.64", "193.50", "10.95"), id="design-jz-2026"),
        # 106.00 × 1 = 106.00; 106.00 / 1.06 = 100.00 → VAT 6.00
        pytest.param(["100.00", "6.00"], "1", ("106.00", "106.00", "6.00"), id="vat-exact"),
        # 1.00 / 1.06 = 0.9433… → 0.94 → VAT 0.06
        pytest.param(["1.00"], "1", ("1.00", "1.00", "0.06"), id="vat-one-yuan"),
        # 0.10 / 1.06 = 0.0943… → 0.09 → VAT 0.01
        pytest.param(["0.10"], "1", ("0.10", "0.10", "0.01"), id="vat-ten-fen"),
        # 1000.00 × 0.9999 = 999.90; 999.90 / 1.06 = 943.3018… → 943.30 → VAT 56.60
        pytest.param(["1000.00"], "0.9999", ("1000.00", "999.90", "56.60"), id="vat-thousand"),
        # 100.05 × 0.9 = 90.045 exactly → half-up 90.05; 90.05 / 1.06 = 84.9528… → 84.95
        pytest.param(["100.05"], "0.9", ("100.05", "90.05", "5.10"), id="discount-tie-rounds-up"),
        pytest.param([], "0.9999", ("0.00", "0.00", "0.00"), id="no-lines"),
    ],
)
def test_statement_totals(lines: list[str], discount: str, expected: tuple[str, str, str]) -> None:
    totals = statement_totals((Decimal(line) for line in lines), discount=Decimal(discount))

    assert (totals.subtotal, totals.total, totals.vat) == tuple(Decimal(x) for x in expected)
    assert totals.discount == Decimal(discount)
    assert isinstance(totals, Totals)


def test_rounding_is_per_line_not_on_the_merged_amount() -> None:
    # Two half-day lines of 0.31/month in March are 0.005 each → 0.01 each → 0.02,
    # whereas one merged line would be 0.01.
    half_day = {
        "unit_price": Decimal("0.31"),
        "quantity": 1,
        "service_days": Decimal("0.5"),
        "period": PricePeriod.MONTH,
        "year": 2026,
        "month": 3,
    }
    lines = [line_amount(**half_day), line_amount(**half_day)]  # type: ignore[arg-type]

    assert statement_totals(lines, discount=Decimal("1")).subtotal == Decimal("0.02")


def test_custom_vat_rate() -> None:
    totals = statement_totals([Decimal("113.00")], discount=Decimal("1"), vat_rate=Decimal("0.13"))

    assert totals.vat == Decimal("13.00")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param(
            {"line_amounts": [Decimal("1.005")], "discount": Decimal("1")},
            ValueError,
            "not rounded",
            id="unrounded-line",
        ),
        pytest.param(
            {"line_amounts": [1.0], "discount": Decimal("1")}, TypeError, "float", id="float-line"
        ),
        pytest.param(
            {"line_amounts": [Decimal("1")], "discount": 0.9999},
            TypeError,
            "float",
            id="float-discount",
        ),
        pytest.param(
            {"line_amounts": [Decimal("1")], "discount": Decimal("1"), "vat_rate": 0.06},
            TypeError,
            "float",
            id="float-vat-rate",
        ),
        pytest.param(
            {"line_amounts": [Decimal("1")], "discount": Decimal("99.93")},
            ValueError,
            "factor",
            id="discount-as-percent",
        ),
        pytest.param(
            {"line_amounts": [Decimal("1")], "discount": Decimal("0")},
            ValueError,
            "factor",
            id="zero-discount",
        ),
        pytest.param(
            {"line_amounts": [Decimal("1")], "discount": Decimal("1"), "vat_rate": Decimal("6")},
            ValueError,
            "fraction",
            id="vat-as-percent",
        ),
    ],
)
def test_statement_totals_rejects_bad_input(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        statement_totals(**kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------ test period (包头 5.1.2)


@pytest.mark.parametrize(
    ("delivered_at", "months", "expected"),
    [
        pytest.param(at(2026, 3, 10, 15), 1, at(2026, 4, 10, 15), id="plain"),
        pytest.param(at(2026, 1, 31, 9), 1, at(2026, 2, 28, 9), id="jan-31-to-feb-28"),
        pytest.param(at(2028, 1, 31, 9), 1, at(2028, 2, 29, 9), id="jan-31-to-leap-feb-29"),
        pytest.param(at(2026, 3, 31, 18), 1, at(2026, 4, 30, 18), id="mar-31-to-apr-30"),
        pytest.param(at(2025, 12, 15, 8), 1, at(2026, 1, 15, 8), id="across-new-year"),
        pytest.param(at(2028, 2, 29, 10), 12, at(2029, 2, 28, 10), id="leap-day-plus-a-year"),
        pytest.param(at(2026, 3, 10, 15), 0, at(2026, 3, 10, 15), id="zero-months"),
        # 2026-01-30 17:00 UTC = 2026-01-31 01:00 local
        pytest.param(
            datetime(2026, 1, 30, 17, tzinfo=UTC), 1, at(2026, 2, 28, 1), id="utc-input-local-day"
        ),
    ],
)
def test_test_period_end(delivered_at: datetime, months: int, expected: datetime) -> None:
    end = pricing.test_period_end(delivered_at, months)

    assert end == expected
    assert end.tzinfo == BUSINESS_TZ


@pytest.mark.parametrize("months", [-1, 1.0, True])
def test_test_period_end_rejects_bad_months(months: object) -> None:
    with pytest.raises(ValueError, match="months"):
        pricing.test_period_end(at(2026, 3, 10), months)  # type: ignore[arg-type]


def test_test_period_is_not_billed() -> None:
    # BT-2025: a new system delivered 2026-03-10 15:00 is tested for a month without charge.
    billing_start = pricing.test_period_end(at(2026, 3, 10, 15), 1)
    april = month_bounds(2026, 4)

    march_only = march_days(billing_start, None, HALF)
    in_april = service_days(
        start=billing_start, end=None, period_start=april[0], period_end=april[1], rule=HALF
    )

    assert march_only == 0
    assert in_april == Decimal("20.5")  # 04-10 from 15:00 is 9 h → 0.5, then 04-11…04-30


# -------------------------------------------------------------------------------- calendar


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        pytest.param(2026, 2, (date(2026, 2, 1), date(2026, 2, 28)), id="feb"),
        pytest.param(2028, 2, (date(2028, 2, 1), date(2028, 2, 29)), id="leap-feb"),
        pytest.param(2026, 4, (date(2026, 4, 1), date(2026, 4, 30)), id="april"),
        pytest.param(2026, 12, (date(2026, 12, 1), date(2026, 12, 31)), id="december"),
    ],
)
def test_month_bounds(year: int, month: int, expected: tuple[date, date]) -> None:
    assert month_bounds(year, month) == expected


def test_month_bounds_rejects_bad_month() -> None:
    with pytest.raises(ValueError, match="month"):
        month_bounds(2026, 13)


def test_local_midnight() -> None:
    assert local_midnight(date(2026, 3, 20)) == datetime(2026, 3, 19, 16, tzinfo=UTC)


def test_enums_store_plain_strings() -> None:
    assert PricePeriod("year") is PricePeriod.YEAR
    assert PricePeriod.MONTH == "month"
    assert PartialDayRule("whole_day") is PartialDayRule.WHOLE_DAY
    assert str(PartialDayRule.HALF_DAY_UNDER_12H) == "half_day_under_12h"


# --------------------------------------------------------- property tests vs. a brute force


def reference_service_days(
    *,
    start: datetime,
    end: datetime | None,
    period_start: date,
    period_end: date,
    rule: PartialDayRule,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> Decimal:
    """Day-by-day definition of service days: slow, obvious, and the oracle for the real one."""
    total = Decimal(0)
    day = period_start
    while day <= period_end:
        lower = max(x for x in (start, local_midnight(day), window_start) if x is not None)
        upper = min(
            x for x in (end, local_midnight(day + timedelta(days=1)), window_end) if x is not None
        )
        covered = upper.astimezone(UTC) - lower.astimezone(UTC)
        if covered > timedelta(0):
            if rule is HALF and covered < timedelta(hours=12):
                total += Decimal("0.5")
            else:
                total += 1
        day += timedelta(days=1)
    return total


_INTERESTING_TIMES = [time(0), time(11, 59), time(12), time(12, 1), time(23, 59)]
_BASE = date(2025, 11, 1)


def _random_instant(rng: random.Random) -> datetime:
    day = _BASE + timedelta(days=rng.randint(0, 240))
    if rng.random() < 0.5:
        moment = rng.choice(_INTERESTING_TIMES)
    else:
        moment = time(rng.randint(0, 23), rng.randint(0, 59))
    local = datetime.combine(day, moment, tzinfo=BUSINESS_TZ)
    # Half of them in UTC: the result must not depend on the zone of the input.
    return local.astimezone(UTC) if rng.random() < 0.5 else local


def _random_period(rng: random.Random) -> tuple[date, date]:
    if rng.random() < 0.7:
        month_index = rng.randint(0, 7)
        return month_bounds(2025 + (10 + month_index) // 12, (10 + month_index) % 12 + 1)
    first = _BASE + timedelta(days=rng.randint(0, 240))
    return first, first + timedelta(days=rng.randint(0, 60))


@pytest.mark.parametrize("seed", range(10))
def test_service_days_matches_day_by_day_reference(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        start = _random_instant(rng)
        end = (
            None
            if rng.random() < 0.2
            else start + (_random_instant(rng) - start) % timedelta(days=90)
        )
        period_start, period_end = _random_period(rng)
        window: tuple[datetime | None, datetime | None] = (None, None)
        if rng.random() < 0.5:
            window_from = _BASE + timedelta(days=rng.randint(0, 240))
            window = billing_window(
                billing_from=window_from,
                service_end=window_from + timedelta(days=rng.randint(0, 120)),
            )
        rule = rng.choice([WHOLE, HALF])
        arguments = {
            "start": start,
            "end": end,
            "period_start": period_start,
            "period_end": period_end,
            "rule": rule,
            "window_start": window[0],
            "window_end": window[1],
        }

        assert service_days(**arguments) == reference_service_days(**arguments), arguments  # type: ignore[arg-type]


def reference_quantity_days(
    *,
    billing_start: datetime,
    release: datetime | None,
    changes: list[tuple[datetime, int]],
    initial_quantity: int,
    period_start: date,
    period_end: date,
    rule: PartialDayRule,
) -> Decimal:
    """Σ over days of (weight of the day for the whole resource) × (quantity billed that day).

    The quantity billed on day D is the one of the latest change delivered before 12:00 of D
    (or any time before D), the initial one if none: DESIGN's "the day goes to the
    configuration that held it longer". Changes effective at/after release are irrelevant.
    """
    total = Decimal(0)
    day = period_start
    while day <= period_end:
        weight = reference_service_days(
            start=billing_start, end=release, period_start=day, period_end=day, rule=rule
        )
        if weight:
            noon = datetime.combine(day, time(12), tzinfo=BUSINESS_TZ)
            quantity = initial_quantity
            for delivered_at, new_quantity in sorted(changes, key=lambda c: c[0]):
                if delivered_at < noon:
                    quantity = new_quantity
            total += weight * quantity
        day += timedelta(days=1)
    return total


@pytest.mark.parametrize("seed", range(10))
def test_segments_conserve_days_and_quantities(seed: int) -> None:
    rng = random.Random(1000 + seed)
    for _ in range(150):
        billing_start = _random_instant(rng)
        release = None
        if rng.random() < 0.7:
            release = billing_start + (_random_instant(rng) - billing_start) % timedelta(days=120)
        changes = [
            (
                billing_start + timedelta(minutes=rng.randint(-20 * 1440, 100 * 1440)),
                rng.randint(0, 9),
            )
            for _ in range(rng.randint(0, 6))
        ]
        initial = rng.randint(0, 9)
        period_start, period_end = _random_period(rng)
        rule = rng.choice([WHOLE, HALF])

        segments = segments_from_history(
            billing_start=billing_start, release=release, changes=changes, initial_quantity=initial
        )
        per_segment = _segment_days(segments, period_start, period_end, rule)
        context = (billing_start, release, changes, initial, period_start, period_end, rule)

        # segments tile [billing_start, release) without gaps or overlaps …
        if segments:
            assert segments[0].start == billing_start, context
            assert segments[-1].end == release, context
            for before, after in itertools.pairwise(segments):
                assert before.end == after.start, context
                assert before.quantity != after.quantity, context
        # … so no day is billed twice and none is lost …
        whole = (
            service_days(
                start=billing_start,
                end=release,
                period_start=period_start,
                period_end=period_end,
                rule=rule,
            )
            if release is None or release > billing_start
            else Decimal(0)
        )
        assert sum(per_segment, Decimal(0)) == whole, context
        # … and each day is billed at the quantity that held it longer.
        billed = sum(
            (s.quantity * d for s, d in zip(segments, per_segment, strict=True)), Decimal(0)
        )
        assert billed == reference_quantity_days(
            billing_start=billing_start,
            release=release,
            changes=changes,
            initial_quantity=initial,
            period_start=period_start,
            period_end=period_end,
            rule=rule,
        ), context


# --------------------------------------------- discount on each line (discount_applies_to)

LINE = pricing.DiscountScope.LINE


@pytest.mark.parametrize(
    ("price", "quantity", "days", "period", "month", "discount", "expected"),
    [
        # 21.60 × 8 × 21.5 / 31 × 0.9999 = 119.833… → 119.83 (vs 119.85 undiscounted)
        ("21.60", 8, "21.5", PricePeriod.MONTH, 3, "0.9999", "119.83"),
        # 2280 × 1 × 31 / 365 × 0.9993 = 193.5081… → 193.51 (vs 193.64 × 0.9993 = 193.50)
        ("2280", 1, "31", PricePeriod.YEAR, 7, "0.9993", "193.51"),
        # 0.45 × 500 × 31 / 31 × 0.9 = 202.5 exactly
        ("0.45", 500, "31", PricePeriod.MONTH, 3, "0.9", "202.50"),
        # a half fen rounds up: 1 × 1 × 1 / 30 × 0.15 = 0.005 → 0.01
        ("1", 1, "1", PricePeriod.MONTH, 4, "0.15", "0.01"),
        # factor 1 is the plain line amount
        ("21.60", 8, "21.5", PricePeriod.MONTH, 3, "1", "119.85"),
    ],
)
def test_line_amount_with_the_discount_on_the_line(
    price: str,
    quantity: int,
    days: str,
    period: PricePeriod,
    month: int,
    discount: str,
    expected: str,
) -> None:
    amount = line_amount(
        unit_price=Decimal(price),
        quantity=quantity,
        service_days=Decimal(days),
        period=period,
        year=2026,
        month=month,
        discount=Decimal(discount),
    )
    assert amount == Decimal(expected)


@pytest.mark.parametrize("discount", [Decimal("0"), Decimal("1.01"), Decimal("-0.5")])
def test_line_discount_must_be_a_factor(discount: Decimal) -> None:
    with pytest.raises(ValueError, match="discount"):
        line_amount(
            unit_price=Decimal("1"),
            quantity=1,
            service_days=Decimal("1"),
            period=PricePeriod.MONTH,
            year=2026,
            month=3,
            discount=discount,
        )


@pytest.mark.parametrize(
    ("lines", "scope", "expected"),
    [
        # subtotal (both reference contracts): 344.85 × 0.9999 = 344.815515 → 344.82
        (["119.85", "225.00"], pricing.DiscountScope.SUBTOTAL, ("344.85", "344.82", "19.52")),
        # line: the lines carry the discount, total = subtotal; VAT 344.80 − 325.28 = 19.52
        (["119.83", "224.97"], LINE, ("344.80", "344.80", "19.52")),
        (["0.01"], LINE, ("0.01", "0.01", "0.00")),
        ([], LINE, ("0", "0.00", "0.00")),
    ],
)
def test_statement_totals_by_discount_scope(
    lines: list[str], scope: pricing.DiscountScope, expected: tuple[str, str, str]
) -> None:
    totals = statement_totals(
        [Decimal(x) for x in lines], discount=Decimal("0.9999"), applies_to=scope
    )
    assert (totals.subtotal, totals.total, totals.vat) == tuple(Decimal(x) for x in expected)
    assert totals.discount == Decimal("0.9999")


def test_discount_scope_is_stored_as_plain_strings() -> None:
    assert [str(s) for s in pricing.DiscountScope] == ["subtotal", "line"]
    assert statement_totals(
        [Decimal("1.00")], discount=Decimal("0.5"), applies_to="line"
    ).total == (Decimal("1.00"))


# ------------------------------------------------------------- prices with effective dates

PRICES = [(date(2025, 6, 20), Decimal("21.60")), (date(2026, 3, 16), Decimal("216.00"))]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 1, 1), "21.60"),  # before the first date: the first price
        (date(2025, 6, 20), "21.60"),
        (date(2026, 3, 15), "21.60"),
        (date(2026, 3, 16), "216.00"),  # from the effective day on
        (date(2027, 1, 1), "216.00"),
    ],
)
def test_price_on(day: date, expected: str) -> None:
    assert pricing.price_on(PRICES, day) == Decimal(expected)


def test_price_on_needs_a_price() -> None:
    with pytest.raises(ValueError, match="price"):
        pricing.price_on([], date(2026, 1, 1))


@pytest.mark.parametrize(
    ("start", "end", "prices", "expected"),
    [
        pytest.param(
            at(2026, 3, 1),
            at(2026, 4, 1),
            PRICES,
            [
                ("21.60", at(2026, 3, 1), at(2026, 3, 16)),
                ("216.00", at(2026, 3, 16), at(2026, 4, 1)),
            ],
            id="change-inside",
        ),
        pytest.param(
            at(2026, 3, 20, 15),
            at(2026, 4, 1),
            PRICES,
            [("216.00", at(2026, 3, 20, 15), at(2026, 4, 1))],
            id="starts-after-change",
        ),
        pytest.param(
            at(2026, 3, 1),
            at(2026, 3, 16),
            PRICES,
            [("21.60", at(2026, 3, 1), at(2026, 3, 16))],
            id="ends-at-change",
        ),
        pytest.param(
            at(2026, 3, 1),
            at(2026, 4, 1),
            [
                (date(2025, 6, 20), Decimal("10")),
                (date(2026, 3, 10), Decimal("10")),  # same price: no split
                (date(2026, 3, 20), Decimal("12")),
                (date(2026, 3, 25), Decimal("10")),
            ],
            [
                ("10", at(2026, 3, 1), at(2026, 3, 20)),
                ("12", at(2026, 3, 20), at(2026, 3, 25)),
                ("10", at(2026, 3, 25), at(2026, 4, 1)),
            ],
            id="several",
        ),
    ],
)
def test_price_pieces(
    start: datetime,
    end: datetime,
    prices: list[tuple[date, Decimal]],
    expected: list[tuple[str, datetime, datetime]],
) -> None:
    pieces = pricing.price_pieces(start=start, end=end, prices=prices)
    assert pieces == [(Decimal(p), a, b) for p, a, b in expected]


@pytest.mark.parametrize("rule", [WHOLE, HALF])
def test_price_pieces_conserve_the_days(rule: PartialDayRule) -> None:
    # Pieces meet at local midnights: their days add up to the unsplit stretch's.
    start, end = at(2026, 3, 10, 15), at(2026, 3, 28, 9)
    whole = service_days(
        start=start, end=end, period_start=date(2026, 3, 1), period_end=date(2026, 3, 31), rule=rule
    )
    pieces = pricing.price_pieces(start=start, end=end, prices=PRICES)
    parts = [
        service_days(
            start=a, end=b, period_start=date(2026, 3, 1), period_end=date(2026, 3, 31), rule=rule
        )
        for _price, a, b in pieces
    ]
    assert len(pieces) == 2
    assert sum(parts) == whole
