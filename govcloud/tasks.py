"""Core Celery tasks: a health check and the e-mail outbox."""

from __future__ import annotations

from celery import shared_task
from django.db import connection

from govcloud.outbox import OutboxSendFailed, outbox_pending_ids, outbox_send


@shared_task(name="govcloud.health_check")
def health_check() -> dict[str, object]:
    """Proves a worker is alive and reaches the database (used by ops checks and CI)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {"ok": one == 1, "database": connection.vendor}


@shared_task(
    name="govcloud.send_outbox_email",
    autoretry_for=(OutboxSendFailed,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=4,
    retry_jitter=False,
)
def send_outbox_email(pk: int) -> bool:
    """Send one outbox row; a row already sent is skipped, so re-running sends nothing twice."""
    return outbox_send(pk=pk)


@shared_task(name="govcloud.outbox_flush")
def outbox_flush() -> int:
    """Send what stayed pending (e.g. the broker was down when the action committed)."""
    sent = 0
    for pk in outbox_pending_ids():
        try:
            sent += int(outbox_send(pk=pk))
        except OutboxSendFailed:  # recorded on the row; the next flush tries again
            continue
    return sent
