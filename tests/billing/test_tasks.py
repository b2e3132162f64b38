"""Periodic tasks: due-day reminders and late flags for monthly statements."""

from __future__ import annotations

from datetime import date

import time_machine

from billing.models import StatementStatus
from billing.services.statements import statement_generate, statement_submit
from billing.tasks import statement_due_reminders
from govcloud.models import OutboxEmail
from tests.billing.conftest import add_resource, password, sh, signing_passphrase

# March 2026 statements are due on 2026-04-08 (5th working day; 清明 04-04…04-06)


def outbox(subject_part: str) -> list[str]:
    return sorted(
        OutboxEmail.objects.filter(subject__contains=subject_part).values_list(
            "recipient", flat=True
        )
    )


def test_vendor_is_reminded_on_the_due_day_once(bt):
    with time_machine.travel(sh(2026, 4, 7, 9), tick=False):
        assert statement_due_reminders.delay().get() == {"reminded": [], "late": []}
    with time_machine.travel(sh(2026, 4, 8, 9), tick=False):
        result = statement_due_reminders.delay().get()
        statement_due_reminders.delay().get()  # idempotent
    assert "BT-2025 2026-03" in result["reminded"]
    assert outbox("今日到期") == [bt.users["vendor"].email]  # once, to the vendor only


def test_submitted_statement_needs_no_reminder(bt):
    add_resource(bt.contract, bt.department, "ebs.ssd", 1, sh(2026, 1, 1))
    with time_machine.travel(sh(2026, 4, 2, 9), tick=False):
        statement = statement_generate(
            actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
        )
        statement_submit(
            actor=bt.users["vendor"],
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(bt.users["vendor"]),
        )
    statement.refresh_from_db()
    assert not statement.is_late
    with time_machine.travel(sh(2026, 4, 8, 9), tick=False):
        result = statement_due_reminders.delay().get()
    assert "BT-2025 2026-03" not in result["reminded"]


def test_late_statement_is_flagged_and_announced(bt):
    add_resource(bt.contract, bt.department, "ebs.ssd", 1, sh(2026, 1, 1))
    with time_machine.travel(sh(2026, 4, 8, 20), tick=False):
        draft = statement_generate(
            actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
        )
    with time_machine.travel(sh(2026, 4, 9, 9), tick=False):
        result = statement_due_reminders.delay().get()
    assert "BT-2025 2026-03" in result["late"]
    draft.refresh_from_db()
    assert (draft.status, draft.is_late, draft.due_date) == (
        StatementStatus.DRAFT,
        True,
        date(2026, 4, 8),
    )
    recipients = outbox("逾期未提交")
    assert bt.users["vendor"].email in recipients
    assert bt.users["bureau"].email in recipients
    assert bt.users["supervisor"].email in recipients
