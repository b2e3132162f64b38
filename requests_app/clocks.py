"""The delivery clock of a ticket, as its contract's terms set it (DESIGN §3, §4a).

A contract either sets a clock (``delivery_working_days``, and ``extended_delivery_working_days``
when the bureau may grant more) or it does not (JZ-2026 四.5 says only 及时). With a clock, the
final approval fixes a deadline on the official calendar, provisional when a year is not
loaded. Without one there is no deadline, no breach and no extension: the ticket records its
approval and delivery instants and shows the working days elapsed between them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from govcloud.dates import business_date
from govcloud.workdays import CalendarYearMissing, deadline, working_days_between

if TYPE_CHECKING:
    from govcloud.models import Contract
    from requests_app.models import ResourceRequest


def compute_due(approved_at: datetime, working_days: int) -> tuple[datetime, bool]:
    """(deadline, provisional): provisional means weekends-only for a year not yet loaded."""
    try:
        return deadline(approved_at, working_days), False
    except CalendarYearMissing:
        return deadline(approved_at, working_days, provisional=True), True


def has_clock(contract: Contract) -> bool:
    """Whether the contract sets a delivery period at all (else: 及时, no deadline, no breach)."""
    return contract.delivery_working_days is not None


def may_extend(contract: Contract) -> bool:
    """Whether the bureau may grant a longer delivery period under the contract."""
    return has_clock(contract) and contract.extended_delivery_working_days is not None


def delivery_days(contract: Contract, *, extended: bool = False) -> int | None:
    """Working days the contract gives for delivery (the extended period once granted).

    None when the contract sets no clock. A ticket extended under terms that since lost their
    extension keeps the standard period rather than none.
    """
    if extended and contract.extended_delivery_working_days is not None:
        return contract.extended_delivery_working_days
    return contract.delivery_working_days


def due_for(
    contract: Contract, approved_at: datetime, *, extended: bool = False
) -> tuple[datetime | None, bool]:
    """(deadline, provisional) of a ticket approved at ``approved_at``; (None, False) = no clock."""
    days = delivery_days(contract, extended=extended)
    if days is None:
        return None, False
    return compute_due(approved_at, days)


def extended_due(contract: Contract, approved_at: datetime) -> tuple[datetime, bool]:
    """The deadline an approved extension would give (callers check ``may_extend`` first)."""
    days = contract.extended_delivery_working_days
    if days is None or not has_clock(contract):
        raise ValueError(f"合同 {contract.code} 未约定延期交付时限。")
    return compute_due(approved_at, days)


def elapsed_working_days(start: datetime, end: datetime) -> tuple[int, bool]:
    """(working days, provisional) from ``start`` to ``end`` on the official calendar.

    Counted as the Civil Code counts periods: the day of ``start`` does not count, the day of
    ``end`` does (delivered on the 2nd working day after approval = 2). Provisional means a year
    in between has no loaded calendar and was counted on weekends only.
    """
    first, last = business_date(start), business_date(end)
    try:
        return working_days_between(first, last), False
    except CalendarYearMissing:
        return working_days_between(first, last, provisional=True), True


def ticket_elapsed(ticket: ResourceRequest, now: datetime) -> tuple[int | None, bool]:
    """Working days from approval to delivery (to ``now`` while open); None before approval."""
    if ticket.approved_at is None:
        return None, False
    end = ticket.delivered_at or now
    return elapsed_working_days(ticket.approved_at, max(end, ticket.approved_at))
