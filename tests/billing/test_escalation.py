"""Disputes open more than 3 working days go to the auditor, whose decision closes them
(包头 §7.1.1: 如争议超过3个工作日，由监理方委托第三方审计机构确定)."""

from __future__ import annotations

import pytest
import time_machine

from billing.models import (
    DisputeEscalation,
    EscalationDecision,
    SignoffAction,
    Statement,
    StatementStatus,
)
from billing.services.statements import (
    statement_confirm,
    statement_decide_escalation,
    statement_dispute,
    statement_escalate_overdue_disputes,
    statement_generate,
    statement_submit,
)
from billing.tasks import escalate_disputes
from govcloud.exceptions import ActionForbidden, InvalidTransition
from tests.billing.conftest import add_resource, password, sh, signing_passphrase

# 2026-04-09 is a Thursday; working days after it: 04-10 (1), 04-13 (2), 04-14 (3), 04-15 (4)
DISPUTE_DAY = sh(2026, 4, 9, 10)


def at(moment):
    return time_machine.travel(moment, tick=False)


def disputed(parties, *, by: str = "bureau", when=DISPUTE_DAY) -> Statement:
    add_resource(parties.contract, parties.department, "ebs.ssd", 500, sh(2026, 1, 5, 9))
    with at(when):
        statement = statement_generate(
            actor=parties.users["vendor"], contract=parties.contract, year=2026, month=3
        )
        statement_submit(
            actor=parties.users["vendor"],
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(parties.users["vendor"]),
        )
        if by == "supervisor":
            statement_confirm(
                actor=parties.users["bureau"],
                statement=statement,
                reauth=password(),
                signing_passphrase=signing_passphrase(parties.users["bureau"]),
            )
        statement_dispute(
            actor=parties.users[by], statement=statement, reauth=password(), comment="用量不符"
        )
    statement.refresh_from_db()
    return statement


def test_escalated_only_after_more_than_three_working_days(bt):
    statement = disputed(bt)
    assert statement_escalate_overdue_disputes(now=sh(2026, 4, 14, 23, 59)) == []
    assert statement_escalate_overdue_disputes(now=sh(2026, 4, 15, 8)) == [statement.pk]
    statement.refresh_from_db()
    assert statement.status == StatementStatus.ESCALATED
    escalation = DisputeEscalation.objects.get(statement=statement)
    assert escalation.disputing_party.role == "bureau"
    assert escalation.opened_at == DISPUTE_DAY
    # idempotent: the daily task may run twice
    assert statement_escalate_overdue_disputes(now=sh(2026, 4, 16, 8)) == []
    assert DisputeEscalation.objects.count() == 1


def test_the_daily_task_escalates(bt):
    statement = disputed(bt)
    with at(sh(2026, 4, 15, 8)):
        assert escalate_disputes.delay().get() == [statement.pk]


def test_answered_dispute_is_not_escalated(bt):
    disputed(bt)
    with at(sh(2026, 4, 10, 9)):
        statement_generate(actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3)
    assert statement_escalate_overdue_disputes(now=sh(2026, 4, 20, 8)) == []


def test_repeated_disputes_keep_the_first_clock(bt):
    first = disputed(bt)
    with at(sh(2026, 4, 10, 9)):
        second = statement_generate(
            actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
        )
        statement_submit(
            actor=bt.users["vendor"],
            statement=second,
            reauth=password(),
            signing_passphrase=signing_passphrase(bt.users["vendor"]),
        )
    with at(sh(2026, 4, 13, 9)):
        statement_dispute(
            actor=bt.users["bureau"], statement=second, reauth=password(), comment="仍不符"
        )
    second.refresh_from_db()
    assert second.dispute_opened_at == first.dispute_opened_at == DISPUTE_DAY
    assert statement_escalate_overdue_disputes(now=sh(2026, 4, 15, 8)) == [second.pk]


def test_contract_without_auditor_is_not_escalated(jz):
    add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 7, 1))
    with at(sh(2026, 8, 3, 10)):
        statement = statement_generate(
            actor=jz.users["vendor"], contract=jz.contract, year=2026, month=7
        )
        statement_submit(
            actor=jz.users["vendor"],
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(jz.users["vendor"]),
        )
        statement_dispute(
            actor=jz.users["bureau"], statement=statement, reauth=password(), comment="不符"
        )
    assert statement_escalate_overdue_disputes(now=sh(2026, 9, 1, 8)) == []


def test_auditor_upholds_vendor_then_remaining_party_signs(bt):
    statement = disputed(bt)
    statement_escalate_overdue_disputes(now=sh(2026, 4, 15, 8))
    with pytest.raises(InvalidTransition, match="审计"):
        statement_generate(actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3)
    with pytest.raises(ActionForbidden):
        statement_decide_escalation(
            actor=bt.users["supervisor"],
            statement=statement,
            decision=EscalationDecision.UPHOLD_VENDOR,
            comment="x",
            reauth=password(),
            signing_passphrase=signing_passphrase(bt.users["supervisor"]),
        )
    with at(sh(2026, 4, 16, 10)):
        statement_decide_escalation(
            actor=bt.users["auditor"],
            statement=statement,
            decision=EscalationDecision.UPHOLD_VENDOR,
            comment="经核对多云管理平台工单日志，乙方统计无误。",
            reauth=password(),
            signing_passphrase=signing_passphrase(bt.users["auditor"]),
        )
    statement.refresh_from_db()
    assert statement.status == StatementStatus.SUBMITTED
    determination = statement.signoffs.get(action=SignoffAction.DETERMINE)
    assert (determination.party.role, determination.on_behalf_of.role) == ("auditor", "bureau")
    # the bureau's place is filled: the supervisor is next and signs it
    statement_confirm(
        actor=bt.users["supervisor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(bt.users["supervisor"]),
    )
    statement.refresh_from_db()
    assert statement.status == StatementStatus.SIGNED
    assert DisputeEscalation.objects.get().decision == EscalationDecision.UPHOLD_VENDOR


def test_auditor_upholding_vendor_on_the_last_party_signs_at_once(bt):
    statement = disputed(bt, by="supervisor")
    statement_escalate_overdue_disputes(now=sh(2026, 4, 15, 8))
    statement_decide_escalation(
        actor=bt.users["auditor"],
        statement=statement,
        decision=EscalationDecision.UPHOLD_VENDOR,
        comment="乙方统计无误。",
        reauth=password(),
        signing_passphrase=signing_passphrase(bt.users["auditor"]),
    )
    statement.refresh_from_db()
    assert statement.status == StatementStatus.SIGNED
    assert statement.department_bills.count() == 1


def test_auditor_upholds_dispute_vendor_issues_new_version(bt):
    statement = disputed(bt)
    statement_escalate_overdue_disputes(now=sh(2026, 4, 15, 8))
    statement_decide_escalation(
        actor=bt.users["auditor"],
        statement=statement,
        decision=EscalationDecision.UPHOLD_DISPUTE,
        comment="异议成立，请乙方按日志重新统计。",
        reauth=password(),
        signing_passphrase=signing_passphrase(bt.users["auditor"]),
    )
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DISPUTED
    with pytest.raises(InvalidTransition):
        statement_decide_escalation(
            actor=bt.users["auditor"],
            statement=statement,
            decision=EscalationDecision.UPHOLD_VENDOR,
            comment="改主意",
            reauth=password(),
            signing_passphrase=signing_passphrase(bt.users["auditor"]),
        )
    # decided: never escalated again
    assert statement_escalate_overdue_disputes(now=sh(2026, 5, 20, 8)) == []
    new = statement_generate(actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3)
    assert new.version == 2


def test_decision_needs_a_comment_and_a_valid_choice(bt):
    statement = disputed(bt)
    statement_escalate_overdue_disputes(now=sh(2026, 4, 15, 8))
    for decision, comment in (("maybe", "x"), (EscalationDecision.UPHOLD_VENDOR, " ")):
        with pytest.raises(Exception, match="审计"):
            statement_decide_escalation(
                actor=bt.users["auditor"],
                statement=statement,
                decision=decision,
                comment=comment,
                reauth=password(),
                signing_passphrase=signing_passphrase(bt.users["auditor"]),
            )
    statement.refresh_from_db()
    assert statement.status == StatementStatus.ESCALATED
