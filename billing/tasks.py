"""Celery tasks of the statement workflow (periodic; idempotent, safe to run twice)."""

from __future__ import annotations

from celery import shared_task

from billing.services.statements import (
    statement_check_due,
    statement_escalate_overdue_disputes,
)


@shared_task(name="billing.escalate_disputes")
def escalate_disputes() -> list[int]:
    """Daily: disputes open more than 3 working days go to the auditor (包头 §7.1.1)."""
    return statement_escalate_overdue_disputes()


@shared_task(name="billing.statement_due_reminders")
def statement_due_reminders() -> dict[str, list[str]]:
    """Daily: remind the vendor on the due day, flag and announce late statements."""
    result = statement_check_due()
    return {"reminded": result.reminded, "late": result.late}
