"""Delivery deadlines on the official calendar, provisional when a year is not loaded."""

from __future__ import annotations

from datetime import datetime

from govcloud.workdays import CalendarYearMissing, deadline


def compute_due(approved_at: datetime, working_days: int) -> tuple[datetime, bool]:
    """(deadline, provisional): provisional means weekends-only for a year not yet loaded."""
    try:
        return deadline(approved_at, working_days), False
    except CalendarYearMissing:
        return deadline(approved_at, working_days, provisional=True), True
