"""The one way e-mail leaves the platform: an outbox row per recipient and document.

A service calls ``outbox_enqueue`` inside its transaction; after commit a Celery task sends
each row. The unique (key, recipient) makes every notice exactly-once even when a task runs
twice; when the broker is down the action still commits and the periodic
``outbox_flush`` sends what is pending once the broker is back.

Sending holds no lock and no transaction while it talks to the mail server: claim (a short
transaction marks the row *sending*, counts the attempt and fixes its Message-ID), commit, send,
mark (sent, or back to pending with the error). A worker killed after the server accepted the
message leaves the row *sending*; once that claim is stale the flush sends it again — with the
same Message-ID, and the row's attempts say it was sent twice — so a duplicate is recognisable
as one, and nothing is lost.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.header import Header
from email.utils import format_datetime
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from govcloud.dates import business_now
from govcloud.jobs import broker_send
from govcloud.models import Contract, OutboxEmail, OutboxStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def stale_claim() -> timedelta:
    """A claim older than this is a worker that died mid-send: the flush takes the row over."""
    return timedelta(seconds=getattr(settings, "OUTBOX_STALE_CLAIM_SECONDS", 600))


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
        # Broker down: the rows stay pending for outbox_flush.
        if not broker_send(lambda pk=pk: send_outbox_email.delay(pk), f"outbox e-mail {pk}"):
            return


def _message_id(row: OutboxEmail) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "govcloud.local"
    return f"<outbox-{row.pk}-{row.created_at:%Y%m%d%H%M%S}@{domain}>"


class OutboxMessage(EmailMessage):
    """Django's message with headers a mail client shows as written.

    A non-ASCII subject is encoded knowing the ``Subject: `` it follows: encoded in advance
    without it, the generator refolded it after the bare header name, and readers showed the
    empty first line as a leading space.
    """

    def message(self):
        msg = super().message()
        if not self.subject.isascii():
            # replace_header bypasses Django's __setitem__, which would encode it again.
            msg.replace_header("Subject", Header(self.subject, "utf-8", header_name="Subject"))
        return msg


def _one_line(text: str) -> str:
    """A header is one line: a line break in a subject would make the message unsendable."""
    if "\n" not in text and "\r" not in text:
        return text
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _build_message(row: OutboxEmail) -> EmailMessage:
    message = OutboxMessage(
        subject=_one_line(row.subject),
        body=row.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.recipient],
        headers={
            "Message-ID": row.message_id or _message_id(row),
            # The business time zone, whatever the server's: people read the date as sent.
            "Date": format_datetime(business_now().replace(microsecond=0)),
        },
    )
    for attachment in row.attachments:
        path = Path(settings.MEDIA_ROOT) / attachment["path"]
        mimetype = attachment.get("mimetype") or mimetypes.guess_type(attachment["name"])[0]
        message.attach(attachment["name"], path.read_bytes(), mimetype)
    return message


class OutboxSendFailed(Exception):
    """A transient failure; the row stays pending and the task retries (bounded)."""


def _claim(pk: int) -> OutboxEmail | None:
    """Mark the row *sending* (one short transaction); None when there is nothing to send."""
    now = timezone.now()
    with transaction.atomic():
        row = OutboxEmail.objects.select_for_update(of=("self",)).filter(pk=pk).first()
        if row is None or row.status in (OutboxStatus.SENT, OutboxStatus.FAILED):
            return None
        if (
            row.status == OutboxStatus.SENDING
            and row.claimed_at is not None
            and row.claimed_at > now - stale_claim()
        ):
            return None  # another worker is sending it right now
        row.status = OutboxStatus.SENDING
        row.attempts += 1
        row.claimed_at = now
        row.message_id = row.message_id or _message_id(row)
        row.save(update_fields=["status", "attempts", "claimed_at", "message_id"])
        return row


def outbox_send(*, pk: int) -> bool:
    """Send one row if it is still to be sent; True when this call sent it.

    Claim, commit, send, mark — no lock is held while the mail server answers. Raises
    OutboxSendFailed when sending failed and attempts remain (the failure itself is committed
    on the row first, so the admin shows it).
    """
    row = _claim(pk)
    if row is None:
        return False
    try:
        _build_message(row).send(fail_silently=False)
    except Exception as exc:
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        row.status = OutboxStatus.FAILED if row.attempts >= MAX_ATTEMPTS else OutboxStatus.PENDING
        OutboxEmail.objects.filter(pk=pk, status=OutboxStatus.SENDING).update(
            status=row.status, last_error=row.last_error
        )
        logger.warning("outbox e-mail %s failed (attempt %s): %s", pk, row.attempts, exc)
        if row.status == OutboxStatus.PENDING:
            raise OutboxSendFailed(row.last_error) from None
        return False
    OutboxEmail.objects.filter(pk=pk, status=OutboxStatus.SENDING).update(
        status=OutboxStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def outbox_pending_ids(*, older_than: timedelta = timedelta(seconds=30)) -> list[int]:
    """Rows to send: pending a while, or claimed by a worker that never marked them."""
    now = timezone.now()
    return list(
        OutboxEmail.objects.filter(
            Q(status=OutboxStatus.PENDING, created_at__lte=now - older_than)
            | Q(status=OutboxStatus.SENDING, claimed_at__lte=now - stale_claim())
        )
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
