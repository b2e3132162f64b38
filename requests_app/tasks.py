"""Celery tasks of the ticket workflow."""

from __future__ import annotations

from celery import shared_task

from requests_app.services import request_check_clocks, request_recompute_clocks


@shared_task(name="requests_app.check_delivery_clocks")
def check_delivery_clocks() -> dict[str, int]:
    """Periodic: reminders on the last working day, breach notices after the deadline.

    Only tickets of contracts that set a delivery clock have a deadline to watch.
    """
    return request_check_clocks()


@shared_task(name="requests_app.recompute_clocks")
def recompute_clocks(year: int | None = None) -> int:
    """After the official calendar changed: move deadlines computed on old or missing days
    (following the contract's current delivery terms)."""
    return request_recompute_clocks(year=year)
