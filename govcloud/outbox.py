"""The one way e-mail leaves the platform: an outbox row per recipient and document.

A service calls ``outbox_enqueue`` inside its transaction; after commit a Celery task sends
each row. The unique (key, recipient) makes every notice exactly-once even when a task runs
twice; when the broker is down the action still commits and the periodic
``outbox_flush`` sends what is pending once the broker is back.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from govcloud.models import Contract, OutboxEmail, OutboxStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Attachment:
    name: str
    path: str  # relative to MEDIA_ROOT
    mimetype: str = "application/pdf"


def outbox_enqueue(
    *,
    key: str,
    recipients: Iterable[str],
    subject: str,
    body: str,
    attachments: Iterable[Attachment] = (),
    contract: Contract | None = None,
) -> list[OutboxEmail]:
    """Queue one e-mail per recipient unless (key, recipient) was queued before."""
    wanted = sorted({r.strip().lower() for r in recipients if r and r.strip()})
    if not wanted:
        return []
    existing = set(
        OutboxEmail.objects.filter(key=key, recipient__in=wanted).values_list(
            "recipient", flat=True
        )
    )
    rows = [
        OutboxEmail(
            key=key,
            recipient=recipient,
            subject=subject[:200],
            body=body,
            attachments=[a.__dict__ for a in attachments],
            contract=contract,
        )
        for recipient in wanted
        if recipient not in existing
    ]
    created = OutboxEmail.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(
        OutboxEmail.objects.filter(
            key=key, recipient__in=[r.recipient for r in created], status=OutboxStatus.PENDING
        ).values_list("pk", flat=True)
    )
    if ids:
        transaction.on_commit(lambda: _dispatch(ids))
    return created


def _dispatch(ids: list[int]) -> None:
    for pk in ids:
        try:
            send_outbox_email.delay(pk)
        except Exception:  # broker down: the row stays pending for outbox_flush
            logger.warning("could not dispatch outbox e-mail %s; the next flush sends it", pk)
            return


def _build_message(row: OutboxEmail) -> EmailMessage:
    message = EmailMessage(
        subject=row.subject,
        body=row.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.recipient],
    )
    for attachment in row.attachments:
        path = Path(settings.MEDIA_ROOT) / attachment["path"]
        mimetype = attachment.get("mimetype") or mimetypes.guess_type(attachment["name"])[0]
        message.attach(attachment["name"], path.read_bytes(), mimetype)
    return message


class OutboxSendFailed(Exception):
    """A transient failure; the row stays pending and the task retries (bounded)."""


def outbox_send(*, pk: int) -> bool:
    """Send one row if it is still pending; True when this call sent it.

    Raises OutboxSendFailed when sending failed and attempts remain (the failure itself is
    committed on the row first, so the admin shows it).
    """
    with transaction.atomic():
        row = OutboxEmail.objects.select_for_update(of=("self",)).filter(pk=pk).first()
        if row is None or row.status != OutboxStatus.PENDING:
            return False
        row.attempts += 1
        try:
            _build_message(row).send(fail_silently=False)
        except Exception as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = OutboxStatus.FAILED
            row.save(update_fields=["attempts", "last_error", "status"])
            logger.warning("outbox e-mail %s failed (attempt %s): %s", pk, row.attempts, exc)
            retry = row.status == OutboxStatus.PENDING
        else:
            row.status = OutboxStatus.SENT
            row.sent_at = timezone.now()
            row.last_error = ""
            row.save(update_fields=["attempts", "status", "sent_at", "last_error"])
            return True
    if retry:
        raise OutboxSendFailed(row.last_error)
    return False


def outbox_pending_ids(*, older_than: timedelta = timedelta(seconds=30)) -> list[int]:
    cutoff = timezone.now() - older_than
    return list(
        OutboxEmail.objects.filter(status=OutboxStatus.PENDING, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )


def outbox_retry(*, pk: int) -> None:
    """Put a failed row back in the queue (admin action)."""
    OutboxEmail.objects.filter(pk=pk, status=OutboxStatus.FAILED).update(
        status=OutboxStatus.PENDING, attempts=0
    )


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
