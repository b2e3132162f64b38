"""The months a service year bills, and which of them still lack a signed statement.

A month belongs to the service year holding its last billed day (the month's last day, or the
service end), as in ``billing.periods``; months billed before the service start belong to the
first year. The annual fee sums the signed statements of these months, so the scorecard is
finalised only once every one of them is signed (or the bureau overrides with a reason).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from billing import periods as billing_periods
from billing.models import Statement, StatementStatus
from govcloud.models import Contract
from sla import periods


def service_year_months(contract: Contract, year: periods.ServiceYear) -> list[tuple[int, int]]:
    """Every (year, month) whose statement the service year's fee counts, in order."""
    return [
        (y, m)
        for y, m in billing_periods.months_in_window(
            billing_from=contract.billing_from, service_end=contract.service_end
        )
        if max(
            billing_periods.last_billed_day(y, m, service_end=contract.service_end),
            contract.service_start,
        )
        in year
    ]


def unsigned_months(contract: Contract, year: periods.ServiceYear) -> list[tuple[int, int]]:
    """The service year's months without a signed statement (in order)."""
    signed = set(
        Statement.objects.filter(contract=contract, status=StatementStatus.SIGNED).values_list(
            "year", "month"
        )
    )
    return [ym for ym in service_year_months(contract, year) if ym not in signed]


def month_key(ym: tuple[int, int]) -> str:
    return f"{ym[0]:04d}-{ym[1]:02d}"


def months_text(months: list[tuple[int, int]] | list[str]) -> str:
    """``2026年7月、2026年8月`` from (year, month) pairs or ``YYYY-MM`` keys."""
    pairs = [tuple(int(p) for p in m.split("-")) if isinstance(m, str) else m for m in months]
    return "、".join(_("%(y)s年%(m)s月") % {"y": y, "m": m} for y, m in pairs)
