"""Settlement periods and which months they settle (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from billing.periods import (
    billed_days_in_month,
    months_in_window,
    months_of_period,
    period_of_month,
    settlement_periods,
)
from billing.services.settlement import contract_settlement_periods
from govcloud.dates import add_months

JZ = {
    "billing_from": date(2026, 3, 20),
    "service_start": date(2026, 6, 4),
    "service_end": date(2028, 6, 3),
}
BT = {
    "billing_from": date(2025, 6, 20),
    "service_start": date(2025, 6, 20),
    "service_end": date(2026, 6, 19),
}


def spans(periods):
    return [(p.start, p.end) for p in periods]


def test_yearly_without_a_settlement_month_is_the_calendar_year():
    periods = settlement_periods(cadence="yearly", **JZ)
    assert spans(periods) == [
        (date(2026, 3, 20), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2027, 12, 31)),
        (date(2028, 1, 1), date(2028, 6, 3)),
    ]
    assert periods[0].key == "2026-03-20/2026-12-31"
    assert periods[0].label == "第1期（2026-03-20至2026-12-31）"


def test_baotou_half_years_from_service_start():
    assert spans(settlement_periods(cadence="half_yearly", **BT)) == [
        (date(2025, 6, 20), date(2025, 12, 19)),
        (date(2025, 12, 20), date(2026, 6, 19)),
    ]


def test_half_years_with_usage_before_service_start_and_month_end_clamping():
    periods = settlement_periods(
        cadence="half_yearly",
        billing_from=date(2025, 8, 1),
        service_start=date(2025, 8, 31),
        service_end=date(2026, 8, 30),
    )
    assert spans(periods) == [
        (date(2025, 8, 1), date(2026, 2, 27)),  # 08-31 + 6 months → 02-28
        (date(2026, 2, 28), date(2026, 8, 30)),
    ]


@pytest.mark.parametrize(
    ("year", "month", "index"),
    [
        pytest.param(2025, 6, 1, id="first-partial-month"),
        pytest.param(2025, 11, 1, id="november"),
        pytest.param(2025, 12, 2, id="december-ends-in-second-half"),
        pytest.param(2026, 6, 2, id="last-partial-month"),
    ],
)
def test_month_belongs_to_the_period_of_its_last_billed_day(year, month, index):
    periods = settlement_periods(cadence="half_yearly", **BT)
    assert period_of_month(periods, year, month, service_end=BT["service_end"]).index == index


def test_months_and_billed_days():
    months = months_in_window(billing_from=BT["billing_from"], service_end=BT["service_end"])
    assert (months[0], months[-1], len(months)) == ((2025, 6), (2026, 6), 13)
    window = {"billing_from": BT["billing_from"], "service_end": BT["service_end"]}
    assert billed_days_in_month(2025, 6, **window) == 11
    assert billed_days_in_month(2026, 6, **window) == 19
    assert billed_days_in_month(2026, 2, **window) == 28


def test_add_months_clamps():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2025, 12, 20), 6) == date(2026, 6, 20)


@pytest.mark.parametrize(
    ("index", "first", "last"), [(1, (2025, 6), (2025, 11)), (2, (2025, 12), (2026, 6))]
)
def test_months_of_a_period_are_those_whose_last_billed_day_it_holds(index, first, last):
    periods = settlement_periods(cadence="half_yearly", **BT)
    window = {"billing_from": BT["billing_from"], "service_end": BT["service_end"]}
    months = months_of_period(periods[index - 1], **window)
    assert (months[0], months[-1]) == (first, last)
    for year, month in months:
        assert (
            period_of_month(periods, year, month, service_end=BT["service_end"])
            == periods[index - 1]
        )
    assert sum(len(months_of_period(p, **window)) for p in periods) == len(
        months_in_window(**window)
    )


def test_jiaozuo_settled_in_december_runs_december_to_november():
    """焦作 §三.2 "每年12月份": the year settled in December Y holds Dec(Y−1) … Nov(Y), all signed
    by then; December Y is settled the next December. No month twice, none lost."""
    periods = settlement_periods(cadence="yearly", settlement_month=12, **JZ)
    assert spans(periods) == [
        (date(2026, 3, 20), date(2026, 11, 30)),
        (date(2026, 12, 1), date(2027, 11, 30)),
        (date(2027, 12, 1), date(2028, 6, 3)),
    ]
    window = months_in_window(billing_from=JZ["billing_from"], service_end=JZ["service_end"])
    settled = [
        m
        for p in periods
        for m in months_of_period(p, billing_from=JZ["billing_from"], service_end=JZ["service_end"])
    ]
    assert settled == window
    assert months_of_period(
        periods[0], billing_from=JZ["billing_from"], service_end=JZ["service_end"]
    ) == [(2026, m) for m in range(3, 12)]
    assert period_of_month(periods, 2026, 12, service_end=JZ["service_end"]) == periods[1]


def test_jz_contract_follows_its_settlement_month(jz):
    assert [p.key for p in contract_settlement_periods(jz.contract)][:2] == [
        "2026-03-20/2026-11-30",
        "2026-12-01/2027-11-30",
    ]
