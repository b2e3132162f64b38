"""Core Celery tasks: a health check, the e-mail outbox and the durable document jobs."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import connection

from govcloud import lifecycle
from govcloud.jobs import jobs_sweep, run_job  # defined beside the job records they run
from govcloud.outbox import (  # send_outbox_email is defined beside the outbox it sends
    OutboxSendFailed,
    outbox_pending_ids,
    outbox_send,
    send_outbox_email,
)

__all__ = [
    "contract_expiry_warnings",
    "contract_states",
    "health_check",
    "jobs_sweep",
    "outbox_flush",
    "run_job",
    "send_outbox_email",
]


@shared_task(name="govcloud.health_check", ignore_result=False)  # its caller waits for it
def health_check() -> dict[str, object]:
    """Proves a worker is alive and reaches the database (used by ops checks and CI)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {"ok": one == 1, "database": connection.vendor}


@shared_task(name="govcloud.outbox_flush")
def outbox_flush(older_than_seconds: float = 30) -> int:
    """Send what stayed pending (e.g. the broker was down when the action committed)."""
    sent = 0
    for pk in outbox_pending_ids(older_than=timedelta(seconds=older_than_seconds)):
        try:
            sent += int(outbox_send(pk=pk))
        except OutboxSendFailed:  # recorded on the row; the next flush tries again
            continue
    return sent


@shared_task(name="govcloud.contract_states")
def contract_states() -> dict[str, str]:
    """Daily, just after midnight: every contract's stored state in step with its dates and
    terms (``govcloud.lifecycle``). Idempotent; returns the contracts whose state changed."""
    return lifecycle.contract_refresh_states()


@shared_task(name="govcloud.contract_expiry_warnings")
def contract_expiry_warnings() -> list[str]:
    """Daily, in office hours: the expiry warnings due (90 and 30 days before the end), each
    once per contract (an idempotent record), to every party through the outbox."""
    return lifecycle.contract_expiry_warnings()
