"""The outbox: each notice exactly once, survives a broker outage, bounded retries."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from govcloud.models import OutboxEmail, OutboxStatus
from govcloud.outbox import MAX_ATTEMPTS, OutboxSendFailed, outbox_enqueue, outbox_send
from govcloud.tasks import outbox_flush, send_outbox_email

pytestmark = pytest.mark.django_db(transaction=True)


def enqueue(key="doc:1", recipients=("a@example.test", "b@example.test")):
    with transaction.atomic():
        return outbox_enqueue(key=key, recipients=recipients, subject="主题", body="正文")


def test_each_recipient_gets_the_notice_exactly_once():
    enqueue()
    enqueue()  # the same notice again: nothing new is queued or sent
    assert OutboxEmail.objects.count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.test", "b@example.test"]
    for row in OutboxEmail.objects.all():
        assert send_outbox_email(row.pk) is False  # re-running the task sends nothing twice
    assert len(mail.outbox) == 2
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_broker_down_the_action_still_commits_and_flush_sends_later():
    with mock.patch.object(send_outbox_email, "delay", side_effect=OperationalError("down")):
        enqueue(key="doc:2")
    assert OutboxEmail.objects.filter(status=OutboxStatus.PENDING).count() == 2
    assert len(mail.outbox) == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert outbox_flush() == 2
    assert len(mail.outbox) == 2
    assert outbox_flush() == 0


def test_failed_sends_retry_with_a_bound_and_show_the_error():
    with mock.patch.object(send_outbox_email, "delay"):
        enqueue(key="doc:3", recipients=["c@example.test"])
    row = OutboxEmail.objects.get(key="doc:3")
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("SMTP 421")):
        for _ in range(MAX_ATTEMPTS - 1):
            with pytest.raises(OutboxSendFailed):
                outbox_send(pk=row.pk)
        assert outbox_send(pk=row.pk) is False
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, MAX_ATTEMPTS)
    assert "SMTP 421" in row.last_error
    assert outbox_send(pk=row.pk) is False  # failed rows are not retried automatically


def test_no_lock_or_transaction_is_held_while_the_server_answers():
    with mock.patch.object(send_outbox_email, "delay"):
        enqueue(key="doc:4", recipients=["d@example.test"])
    row = OutboxEmail.objects.get(key="doc:4")
    seen = {}

    def send(self, fail_silently=False):
        seen["in_transaction"] = transaction.get_connection().in_atomic_block
        seen["status"] = OutboxEmail.objects.get(pk=row.pk).status
        seen["message_id"] = self.extra_headers["Message-ID"]
        return 1

    with mock.patch("django.core.mail.EmailMessage.send", send):
        assert outbox_send(pk=row.pk) is True
    row.refresh_from_db()
    assert seen["in_transaction"] is False
    assert seen["status"] == OutboxStatus.SENDING  # claimed and committed before sending
    assert seen["message_id"] == row.message_id
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)


def test_a_worker_killed_after_sending_resends_with_the_same_message_id():
    with mock.patch.object(send_outbox_email, "delay"):
        enqueue(key="doc:5", recipients=["e@example.test"])
    row = OutboxEmail.objects.get(key="doc:5")

    def accepted_then_killed(self, fail_silently=False):
        mail.outbox.append(self)  # the server accepted the message …
        raise SystemExit("worker killed")  # … and the worker died before marking the row

    with (
        mock.patch("django.core.mail.EmailMessage.send", accepted_then_killed),
        pytest.raises(SystemExit),
    ):
        outbox_send(pk=row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENDING, 1)
    # A fresh claim is another worker's: the flush leaves it alone …
    assert outbox_flush() == 0
    # … a stale one is taken over and sent again, with the same Message-ID.
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert outbox_flush() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)
    first, second = mail.outbox[-2:]
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    assert first.extra_headers["Message-ID"] == row.message_id
