"""Statement deadlines and the dispute route are the contract's terms, and the workflow tells the
SLA app (signals) when a statement was submitted (late or not) or found wrong.

* due day = ``statement_due_working_day`` (BT-2025 5.1.5: 5; JZ-2026: none → never late);
* escalation to the auditor after ``dispute_escalation_working_days`` (BT 7.1.1: 3; JZ: none →
  the parties negotiate, 十三.1);
* ``statement_submitted(statement, due, late)`` on every vendor submission and
  ``statement_found_wrong(statement, reason)`` when a dispute turns out right, after commit.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from billing.models import EscalationDecision, StatementStatus
from billing.services.statements import (
    statement_check_due,
    statement_decide_escalation,
    statement_dispute,
    statement_escalate_overdue_disputes,
    statement_generate,
    statement_submit,
)
from billing.signals import statement_found_wrong, statement_submitted
from govcloud.models import OutboxEmail
from tests.billing.conftest import add_resource, password, sh, signing_passphrase
from tests.conftest import verified_client


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def received():
    """Every ``statement_submitted`` / ``statement_found_wrong`` sent during the test."""
    events: list[tuple[str, dict]] = []

    def on_submitted(sender, **kwargs):
        events.append(("submitted", kwargs))

    def on_wrong(sender, **kwargs):
        events.append(("wrong", kwargs))

    statement_submitted.connect(on_submitted, dispatch_uid="test-submitted")
    statement_found_wrong.connect(on_wrong, dispatch_uid="test-wrong")
    yield events
    statement_submitted.disconnect(dispatch_uid="test-submitted")
    statement_found_wrong.disconnect(dispatch_uid="test-wrong")


def generate(parties, year: int, month: int):
    return statement_generate(
        actor=parties.users["vendor"], contract=parties.contract, year=year, month=month
    )


def submit(parties, statement):
    return statement_submit(
        actor=parties.users["vendor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(parties.users["vendor"]),
    )


def dispute(parties, statement, comment: str = "用量不符"):
    return statement_dispute(
        actor=parties.users["bureau"], statement=statement, reauth=password(), comment=comment
    )


# ------------------------------------------------------------------------------ due day


def test_due_day_follows_the_term(bt, received, django_capture_on_commit_callbacks):
    bt.contract.statement_due_working_day = 3  # say an amendment made it the 3rd working day
    bt.contract.save()
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 1, 5, 9))
    with at(sh(2026, 4, 7, 9)), django_capture_on_commit_callbacks(execute=True):
        statement = generate(bt, 2026, 3)
        # April 2026: 04-01 (1), 04-02 (2), 04-03 (3)
        assert statement.due_date == date(2026, 4, 3)
        submit(bt, statement)
    statement.refresh_from_db()
    assert statement.is_late
    (_kind, sent), *_ = [e for e in received if e[0] == "submitted"]
    assert sent["statement"].pk == statement.pk
    assert (sent["due"], sent["late"], sent["first_submission"]) == (date(2026, 4, 3), True, True)


def test_no_due_day_means_never_late(jz, received, django_capture_on_commit_callbacks):
    add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 7, 1))
    with at(sh(2026, 9, 30, 9)), django_capture_on_commit_callbacks(execute=True):
        statement = generate(jz, 2026, 7)
        assert (statement.due_date, statement.due_provisional) == (None, False)
        # Nothing reminds or flags it, however late in the year.
        assert statement_check_due().late == []
        submit(jz, statement)
    statement.refresh_from_db()
    assert not statement.is_late
    assert [(e[1]["due"], e[1]["late"]) for e in received if e[0] == "submitted"] == [(None, False)]
    assert not OutboxEmail.objects.filter(subject__contains="逾期").exists()
    client = verified_client(jz.users["bureau"])
    page = client.get(reverse("statement_detail", kwargs={"pk": statement.pk})).content.decode()
    assert "合同未约定提交期限" in page
    assert "逾期提交" not in page
    assert "#term-statement_due_working_day" in page
    listing = client.get(reverse("statement_list")).content.decode()
    assert "逾期提交" not in listing
    assert "已过期限未提交" not in listing


def test_the_statement_page_cites_the_due_day_and_the_dispute_route(bt):
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 1, 5, 9))
    with at(sh(2026, 4, 2, 9)):
        statement = generate(bt, 2026, 3)
    page = verified_client(bt.users["bureau"]).get(
        reverse("statement_detail", kwargs={"pk": statement.pk})
    )
    text = page.content.decode()
    assert "次月第 5 个工作日" in text
    assert "〔5.1.5〕" in text
    assert "争议超过 3 个工作日提交第三方审计确定" in text
    assert "〔7.1.1〕" in text
    api = verified_client(bt.users["bureau"]).get(f"/api/v1/statements/{statement.pk}/").json()
    terms = {t["key"]: t for t in api["terms"]}
    assert terms["statement_due_working_day"]["value"] == 5
    assert terms["statement_due_working_day"]["clause"] == "5.1.5"
    assert terms["dispute_escalation_working_days"]["clause"] == "7.1.1"


# ---------------------------------------------------------------------------- escalation


def test_escalation_follows_the_term(bt):
    bt.contract.dispute_escalation_working_days = 5
    bt.contract.save()
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 1, 5, 9))
    # 2026-04-09 Thu; working days after it: 04-10, 04-13, 04-14, 04-15, 04-16 (5), 04-17 (6)
    with at(sh(2026, 4, 9, 10)):
        statement = generate(bt, 2026, 3)
        submit(bt, statement)
        dispute(bt, statement)
    assert statement_escalate_overdue_disputes(now=sh(2026, 4, 16, 20)) == []
    assert statement_escalate_overdue_disputes(now=sh(2026, 4, 17, 8)) == [statement.pk]


def test_no_escalation_term_means_negotiation(bt):
    # An auditor party exists, but the contract sets no escalation: never escalated.
    bt.contract.dispute_escalation_working_days = None
    bt.contract.save()
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 1, 5, 9))
    with at(sh(2026, 4, 9, 10)):
        statement = generate(bt, 2026, 3)
        submit(bt, statement)
        dispute(bt, statement)
    assert statement_escalate_overdue_disputes(now=sh(2026, 6, 1, 8)) == []
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DISPUTED
    page = verified_client(bt.users["vendor"]).get(
        reverse("statement_detail", kwargs={"pk": statement.pk})
    )
    text = page.content.decode()
    assert "争议由双方协商解决" in text
    assert "#term-dispute_escalation_working_days" in text


# ------------------------------------------------------------------------ found wrong


def test_a_dispute_answered_with_changed_figures_is_found_wrong(
    bt, received, django_capture_on_commit_callbacks
):
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 1, 5, 9))
    with at(sh(2026, 4, 3, 9)), django_capture_on_commit_callbacks(execute=True):
        first = generate(bt, 2026, 3)
        submit(bt, first)
        dispute(bt, first, "漏计了一台云主机")
        # Re-issuing the same figures is no correction: nothing found wrong.
        second = generate(bt, 2026, 3)
        submit(bt, second)
        dispute(bt, second, "仍漏计")
    assert [e for e in received if e[0] == "wrong"] == []
    add_resource(bt.contract, bt.department, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15))
    with at(sh(2026, 4, 7, 9)), django_capture_on_commit_callbacks(execute=True):
        third = generate(bt, 2026, 3)
        submit(bt, third)
    wrong = [e[1] for e in received if e[0] == "wrong"]
    assert [w["statement"].pk for w in wrong] == [second.pk]
    assert "仍漏计" in wrong[0]["reason"]
    assert "第3版" in wrong[0]["reason"]
    submitted = [e[1] for e in received if e[0] == "submitted"]
    # One per submission; the month's lateness is its first submission's (on time: 04-03).
    assert [(s["statement"].version, s["late"], s["first_submission"]) for s in submitted] == [
        (1, False, True),
        (2, False, False),
        (3, False, False),
    ]


def test_the_auditor_ruling_against_the_vendor_is_found_wrong_once(
    bt, received, django_capture_on_commit_callbacks
):
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 1, 5, 9))
    with at(sh(2026, 4, 9, 10)):
        statement = generate(bt, 2026, 3)
        submit(bt, statement)
        dispute(bt, statement)
    statement_escalate_overdue_disputes(now=sh(2026, 4, 15, 8))
    with django_capture_on_commit_callbacks(execute=True):
        statement_decide_escalation(
            actor=bt.users["auditor"],
            statement=statement,
            decision=EscalationDecision.UPHOLD_DISPUTE,
            comment="异议成立，请乙方按日志重新统计。",
            reauth=password(),
            signing_passphrase=signing_passphrase(bt.users["auditor"]),
        )
    wrong = [e[1] for e in received if e[0] == "wrong"]
    assert [w["statement"].pk for w in wrong] == [statement.pk]
    assert "异议成立" in wrong[0]["reason"]
    # The corrected version that follows is not a second finding.
    add_resource(bt.contract, bt.department, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15))
    with django_capture_on_commit_callbacks(execute=True):
        generate(bt, 2026, 3)
    assert len([e for e in received if e[0] == "wrong"]) == 1
