"""A failing scorecard (附件2 §11): rectification, re-score in rounds, and the 违约金 below 59.

The failing year used throughout (world contract, 2026 service year, 12 signed months totalling
an annual fee of ¥1,000,000; 合同总价 ¥8,700,000):

* an empty year scores 85 (security mechanism −10: no evidence; training −5: no plan);
* acknowledged penalties: −20 security responsibility (with ¥10,000) and −``points``
  deliverables → 85 − 20 − 7 = **58** (不及格, below 59);
* money of round 1: the penalty's ¥10,000 + the 不及格 grade at the 及格 ceiling 10 % ×
  ¥1,000,000 = ¥100,000 → ¥110,000;
* 违约金: 10 % × ¥8,700,000.00 = **¥870,000.00** (of the contract price, not the annual fee).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.template.loader import render_to_string
from django.urls import reverse

from billing.models import Deduction, DeductionStatus
from billing.services.settlement import deduction_acknowledge
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.joint import joint_confirm, joint_for, joint_object
from govcloud.models import AuditEvent, JointStatus, JointSubject, OutboxEmail
from sla.models.scorecard import (
    PenaltyDecision,
    RectificationStatus,
    ScorecardRectification,
    ScorecardRound,
)
from sla.services import penalties, scorecard, security
from sla.services.reports import scorecard_view_model
from tests.api_clients import api_for
from tests.conftest import verified_client
from tests.sla import builders
from tests.sla.factories import at

pytestmark = pytest.mark.django_db

JULY = at(2026, 7, 15, 10)
AFTER_YEAR = at(2027, 1, 10, 10)
LATER = at(2027, 2, 1, 10)
PRICE = Decimal("8700000.00")
GRADE_REF = "grade:{pk}:2026"


def failing_card(world, *, deliverable_points="7", ratio=None, price=PRICE):
    contract = world.contract
    contract.estimated_amount = price
    contract.save(update_fields=["estimated_amount"])
    u = world.users
    with time_machine.travel(JULY, tick=False):
        records = [
            penalties.penalty_record(
                actor=u["supervisor"],
                contract=contract,
                occurred_on=date(2026, 7, 10),
                reason="重大安全责任未落实",
                clause="附件2 §4",
                amount=Decimal("10000.00"),
                points=Decimal("20"),
                area="security_responsibility",
            ),
            penalties.penalty_record(
                actor=u["supervisor"],
                contract=contract,
                occurred_on=date(2026, 7, 11),
                reason="交付物屡次不合格",
                clause="附件2 §10",
                points=Decimal(deliverable_points),
                area="deliverables",
            ),
        ]
        for record in records:
            penalties.penalty_acknowledge(actor=u["vendor"], penalty=record)
    builders.sign_year(world)
    with time_machine.travel(AFTER_YEAR, tick=False):
        return scorecard.scorecard_finalise(
            actor=u["bureau"], contract=contract, year=2026, ratio=ratio
        )


def rectified(world, card, *, joint=False):
    """The bureau opens the rectification, the vendor reports, the bureau confirms."""
    u = world.users
    with time_machine.travel(AFTER_YEAR, tick=False):
        scorecard.scorecard_rectification_open(
            actor=u["bureau"], card=card, requirements="补齐安全机制材料，落实安全责任。"
        )
        scorecard.scorecard_rectification_report(
            actor=u["vendor"], card=card, report="已补齐应急预案等材料。"
        )
        if not joint:
            scorecard.scorecard_rectification_decide(actor=u["bureau"], card=card, accept=True)
    return ScorecardRectification.objects.get(card=card)


def waive_security(world, *items):
    """The bureau finds security items not the vendor's: +2 points each on the next round."""
    for item in items:
        security.security_item_waive(
            actor=world.users["bureau"],
            contract=world.contract,
            year=2026,
            item=item,
            reason="经核实不属乙方责任",
        )


def live_sum(world) -> Decimal:
    return sum(
        (
            d.amount
            for d in Deduction.objects.filter(contract=world.contract).exclude(
                status=DeductionStatus.WITHDRAWN
            )
        ),
        Decimal("0"),
    )


# ---------------------------------------------------------------- round 1 and the offer


def test_finalising_a_failing_year_freezes_round_1_with_the_penalty_offer(world):
    card = failing_card(world)
    assert card.snapshot["total_points"] == "58"
    assert card.snapshot["grade"] == "fail"
    penalty = card.snapshot["termination_penalty"]
    assert (penalty["applies"], penalty["amount"], penalty["contract_price"]) == (
        True,
        "870000",
        "8700000",
    )
    rounds = card.round_history
    assert [(r.number, r.snapshot["total_points"]) for r in rounds] == [(1, "58")]
    assert [row["action"] for row in rounds[0].settlement] == ["created", "created"]
    assert live_sum(world) == Decimal("110000.00")
    assert "rectification_open" in scorecard.rectification_available_actions(
        user=world.users["bureau"], obj=card
    )
    with time_machine.travel(AFTER_YEAR, tick=False):
        html = (
            verified_client(world.users["bureau"])
            .get(reverse("sla_scorecard", args=[world.contract.pk, 2026]))
            .content.decode()
        )
    assert "870,000.00" in html
    assert "主张违约金" in html
    assert "发出整改要求" in html
    assert "第1轮" in html


def test_a_passing_card_has_no_rectification_and_no_penalty(world):
    builders.sign_year(world)
    with time_machine.travel(AFTER_YEAR, tick=False):
        card = scorecard.scorecard_finalise(
            actor=world.users["bureau"], contract=world.contract, year=2026
        )
        assert card.snapshot["total_points"] == "85"
        available = scorecard.rectification_available_actions(user=world.users["bureau"], obj=card)
        assert not available
        with pytest.raises(InvalidTransition):
            scorecard.scorecard_rectification_open(
                actor=world.users["bureau"], card=card, requirements="x"
            )
        with pytest.raises(InvalidTransition):
            scorecard.scorecard_penalty_claim(actor=world.users["bureau"], card=card)


# ---------------------------------------------------------------- rectification, re-score


def test_no_rescore_until_the_rectification_is_confirmed(world):
    card = failing_card(world)
    u = world.users
    with time_machine.travel(AFTER_YEAR, tick=False):
        with pytest.raises(InvalidTransition):
            scorecard.scorecard_rescore(actor=u["bureau"], card=card)
        with pytest.raises(ActionForbidden):
            scorecard.scorecard_rectification_open(
                actor=u["supervisor"], card=card, requirements="x"
            )
        with pytest.raises(ApplicationError) as empty:
            scorecard.scorecard_rectification_open(actor=u["bureau"], card=card, requirements=" ")
        assert empty.value.extra["field"] == "requirements"
        rect = scorecard.scorecard_rectification_open(
            actor=u["bureau"], card=card, requirements="补齐安全机制材料"
        )
        assert rect.round_number == 1
        with pytest.raises(InvalidTransition):  # once per round
            scorecard.scorecard_rectification_open(actor=u["bureau"], card=card, requirements="y")
        with pytest.raises(ActionForbidden):
            scorecard.scorecard_rectification_report(actor=u["bureau"], card=card, report="x")
        scorecard.scorecard_rectification_report(actor=u["vendor"], card=card, report="已整改")
        with pytest.raises(InvalidTransition):
            scorecard.scorecard_rescore(actor=u["bureau"], card=card)
        # Returned: the vendor reports again, the bureau confirms.
        with pytest.raises(ApplicationError):
            scorecard.scorecard_rectification_decide(actor=u["bureau"], card=card, accept=False)
        rect = scorecard.scorecard_rectification_decide(
            actor=u["bureau"], card=card, accept=False, comment="材料不全"
        )
        assert (rect.status, rect.last_comment, rect.reported_at) == ("open", "材料不全", None)
        scorecard.scorecard_rectification_report(actor=u["vendor"], card=card, report="已补齐")
        rect = scorecard.scorecard_rectification_decide(actor=u["bureau"], card=card, accept=True)
        assert rect.status == RectificationStatus.CONFIRMED
        assert rect.confirmed_by == u["bureau"]
        with pytest.raises(ActionForbidden):
            scorecard.scorecard_rescore(actor=u["vendor"], card=card)
    actions = [
        e.action
        for e in AuditEvent.objects.filter(action__startswith="scorecard.rect").order_by("pk")
    ]
    assert actions == [
        "scorecard.rectification_open",
        "scorecard.rectification_report",
        "scorecard.rectification_return",
        "scorecard.rectification_report",
        "scorecard.rectification_confirm",
    ]


def test_the_rescore_is_a_new_round_and_round_1_is_kept(world):
    card = failing_card(world)
    rectified(world, card)
    with time_machine.travel(LATER, tick=False):
        waive_security(world, "emergency_plan", "drill", "mlps3")  # +6 → 64
        new = scorecard.scorecard_rescore(actor=world.users["bureau"], card=card)
    card.refresh_from_db()
    assert new.number == 2
    assert card.snapshot["total_points"] == "64"
    assert card.snapshot["grade"] == "pass"
    first, second = card.round_history
    assert first.snapshot["total_points"] == "58"  # frozen as it was
    assert first.snapshot["grade"] == "fail"
    assert second.rectification.status == RectificationStatus.RESCORED
    # Same events, same amounts (penalty ¥10,000; 及格 10 % = ¥100,000): nothing written again.
    assert [(r["action"], r["target"], r["before"]) for r in second.settlement] == [
        ("kept", "10000", "10000"),
        ("kept", "100000", "100000"),
    ]
    assert Deduction.objects.filter(contract=world.contract).count() == 2
    assert live_sum(world) == Decimal("110000.00")
    log = AuditEvent.objects.get(action="scorecard.rescore")
    assert (log.before["total_points"], log.after["total_points"]) == ("58", "64")
    assert "rescore" not in scorecard.rectification_available_actions(
        user=world.users["bureau"], obj=card
    )
    # A passing round offers neither rectification nor penalty.
    assert not scorecard.rectification_available_actions(user=world.users["bureau"], obj=card)


def test_a_higher_rescore_adds_only_the_difference(world):
    # Round 1 at a 5 % ratio: grade ¥50,000. Round 2 及格 at its 10 % ceiling: ¥100,000.
    card = failing_card(world, ratio=Decimal("0.05"))
    assert card.snapshot["money_payable"] == "60000"
    rectified(world, card)
    with time_machine.travel(LATER, tick=False):
        waive_security(world, "emergency_plan", "drill", "mlps3")
        new = scorecard.scorecard_rescore(actor=world.users["bureau"], card=card)
    grade_ref = GRADE_REF.format(pk=world.contract.pk)
    row = next(r for r in new.settlement if r["ref"] == grade_ref)
    assert (row["action"], row["target"], row["before"], row["amount"]) == (
        "supplemented",
        "100000",
        "50000",
        "50000",
    )
    supplement = Deduction.objects.get(pk=row["deduction"])
    assert supplement.sla_ref == f"scorecard:{card.pk}:round-2:{grade_ref}"
    assert supplement.amount == Decimal("50000.00")
    assert live_sum(world) == Decimal("110000.00")  # 10,000 + 50,000 + 50,000


def test_a_lower_rescore_does_not_lower_effective_money_and_says_so(world):
    card = failing_card(world)
    rectified(world, card)
    with time_machine.travel(LATER, tick=False):
        waive_security(world, "emergency_plan", "drill", "mlps3")
        new = scorecard.scorecard_rescore(
            actor=world.users["bureau"], card=card, ratio=Decimal("0.05")
        )
    grade_ref = GRADE_REF.format(pk=world.contract.pk)
    row = next(r for r in new.settlement if r["ref"] == grade_ref)
    assert (row["action"], row["target"], row["before"]) == ("above", "50000", "100000")
    assert "差额 ¥50,000.00" in row["note"]
    assert "已生效 ¥100,000.00 保持不变" in row["note"]
    assert live_sum(world) == Decimal("110000.00")  # nothing lowered, nothing added
    assert Deduction.objects.filter(contract=world.contract).count() == 2


def test_a_new_event_found_by_the_rescore_is_deducted_once(world):
    card = failing_card(world)
    rectified(world, card)
    with time_machine.travel(LATER, tick=False):
        waive_security(world, "emergency_plan", "drill", "mlps3")
        extra = penalties.penalty_record(
            actor=world.users["supervisor"],
            contract=world.contract,
            occurred_on=date(2026, 12, 1),
            reason="整改期间发现的遗留问题",
            clause="附件3",
            amount=Decimal("5000.00"),
        )
        penalties.penalty_acknowledge(actor=world.users["vendor"], penalty=extra)
        new = scorecard.scorecard_rescore(actor=world.users["bureau"], card=card)
    row = next(r for r in new.settlement if r["ref"] == f"penalty:{extra.pk}")
    assert (row["action"], row["amount"]) == ("created", "5000")
    assert live_sum(world) == Decimal("115000.00")


def test_pending_notices_above_the_rescore_are_left_to_the_vendor_objection(world):
    world.contract.deduction_needs_vendor_ack = True
    world.contract.deduction_notice_working_days = 10
    world.contract.joint_confirmations = {"deduction_acknowledgement": ["vendor"]}
    world.contract.save()
    card = failing_card(world)
    assert set(Deduction.objects.values_list("status", flat=True)) == {DeductionStatus.PENDING}
    penalty_row = Deduction.objects.get(amount=Decimal("10000.00"))
    with time_machine.travel(AFTER_YEAR, tick=False):
        deduction_acknowledge(actor=world.users["vendor"], deduction=penalty_row)
    rectified(world, card)
    with time_machine.travel(LATER, tick=False):
        waive_security(world, "emergency_plan", "drill", "mlps3")
        new = scorecard.scorecard_rescore(
            actor=world.users["bureau"], card=card, ratio=Decimal("0.05")
        )
    grade_ref = GRADE_REF.format(pk=world.contract.pk)
    row = next(r for r in new.settlement if r["ref"] == grade_ref)
    assert row["action"] == "above"
    assert "待乙方签字确认的 ¥100,000.00" in row["note"]
    kept = next(r for r in new.settlement if r["ref"].startswith("penalty:"))
    assert kept["action"] == "kept"


def test_the_joint_confirmation_of_the_report_gates_the_rescore(world):
    world.contract.joint_confirmations = {
        str(JointSubject.IMPROVEMENT_REPORT): ["bureau", "supervisor", "auditor"]
    }
    world.contract.save(update_fields=["joint_confirmations"])
    card = failing_card(world)
    u = world.users
    rect = rectified(world, card, joint=True)
    confirmation = joint_for(rect, JointSubject.IMPROVEMENT_REPORT)
    assert confirmation.required_roles == ["bureau", "supervisor", "auditor"]
    with time_machine.travel(AFTER_YEAR, tick=False):
        with pytest.raises(InvalidTransition):  # the bureau alone cannot confirm
            scorecard.scorecard_rectification_decide(actor=u["bureau"], card=card, accept=True)
        joint_confirm(actor=u["bureau"], confirmation=confirmation)
        joint_object(actor=u["auditor"], confirmation=confirmation, reason="缺少测评报告")
        assert "有异议" in scorecard.rectification_state(rect)
        with pytest.raises(InvalidTransition):
            scorecard.scorecard_rescore(actor=u["bureau"], card=card)
        scorecard.scorecard_rectification_report(actor=u["vendor"], card=card, report="补测评报告")
        confirmation.refresh_from_db()
        assert (confirmation.status, confirmation.round) == (JointStatus.OPEN, 2)
        for who in ("bureau", "supervisor"):
            joint_confirm(actor=u[who], confirmation=confirmation)
        with pytest.raises(InvalidTransition):
            scorecard.scorecard_rescore(actor=u["bureau"], card=card)
        joint_confirm(actor=u["auditor"], confirmation=confirmation)
        rect.refresh_from_db()
        assert "共同确认" in scorecard.rectification_state(rect)
    with time_machine.travel(LATER, tick=False):
        scorecard.scorecard_rescore(actor=u["bureau"], card=card)
    rect.refresh_from_db()
    assert rect.status == RectificationStatus.RESCORED
    assert rect.confirmed_by == u["auditor"]
    assert rect.confirmed_at is not None


def test_a_rescore_still_failing_can_be_rectified_again(world):
    card = failing_card(world)
    rectified(world, card)
    with time_machine.travel(LATER, tick=False):
        second = scorecard.scorecard_rescore(actor=world.users["bureau"], card=card)
        assert second.snapshot["total_points"] == "58"
        available = scorecard.rectification_available_actions(user=world.users["bureau"], obj=card)
        assert {"rectification_open", "penalty_claim", "penalty_waive"} <= available
        rect = scorecard.scorecard_rectification_open(
            actor=world.users["bureau"], card=card, requirements="再次整改"
        )
    assert rect.round_number == 2
    assert live_sum(world) == Decimal("110000.00")


# ---------------------------------------------------------------- the penalty


def test_the_bureau_claims_the_penalty_once(world):
    card = failing_card(world)
    u = world.users
    with time_machine.travel(AFTER_YEAR, tick=False):
        with pytest.raises(ActionForbidden):
            scorecard.scorecard_penalty_claim(actor=u["supervisor"], card=card)
        claimed = scorecard.scorecard_penalty_claim(actor=u["bureau"], card=card)
        assert claimed.penalty_decision == PenaltyDecision.CLAIMED
        assert claimed.penalty_amount == Decimal("870000.00")
        deduction = claimed.penalty_deduction
        assert deduction.amount == Decimal("870000.00")
        assert deduction.sla_ref == f"scorecard:{card.pk}:termination-penalty"
        assert deduction.period_label == "2026-07-01/2026-12-31"
        assert "合同总价 ¥8,700,000.00" in deduction.reason
        assert "§11" in deduction.reason
        with pytest.raises(InvalidTransition):
            scorecard.scorecard_penalty_claim(actor=u["bureau"], card=card)
        with pytest.raises(InvalidTransition):
            scorecard.scorecard_penalty_waive(actor=u["bureau"], card=card, reason="x")
    assert Deduction.objects.filter(sla_ref__endswith="termination-penalty").count() == 1
    log = AuditEvent.objects.get(action="scorecard.penalty_claim")
    assert log.after["amount"] == "870000"
    # A later re-score never touches the penalty (it is not one of the scorecard's events).
    rectified(world, card)
    with time_machine.travel(LATER, tick=False):
        new = scorecard.scorecard_rescore(actor=u["bureau"], card=card)
    assert all(r["ref"] != "termination-penalty" for r in new.settlement)
    assert Deduction.objects.filter(sla_ref__endswith="termination-penalty").count() == 1


def test_the_claim_follows_the_vendor_acknowledgement_the_terms_impose(world):
    world.contract.deduction_needs_vendor_ack = True
    world.contract.deduction_notice_working_days = 10
    world.contract.joint_confirmations = {"deduction_acknowledgement": ["vendor"]}
    world.contract.save()
    card = failing_card(world)
    with time_machine.travel(AFTER_YEAR, tick=False):
        claimed = scorecard.scorecard_penalty_claim(actor=world.users["bureau"], card=card)
        deduction = claimed.penalty_deduction
        assert deduction.status == DeductionStatus.PENDING
        assert joint_for(deduction, JointSubject.DEDUCTION_ACKNOWLEDGEMENT) is not None
        deduction = deduction_acknowledge(actor=world.users["vendor"], deduction=deduction)
    assert deduction.status == DeductionStatus.EFFECTIVE


def test_the_bureau_may_waive_with_a_reason_and_a_later_round_offers_it_again(world):
    card = failing_card(world)
    u = world.users
    with time_machine.travel(AFTER_YEAR, tick=False):
        with pytest.raises(ApplicationError) as no_reason:
            scorecard.scorecard_penalty_waive(actor=u["bureau"], card=card, reason="  ")
        assert no_reason.value.extra["field"] == "reason"
        with pytest.raises(ActionForbidden):
            scorecard.scorecard_penalty_waive(actor=u["vendor"], card=card, reason="x")
        waived = scorecard.scorecard_penalty_waive(
            actor=u["bureau"], card=card, reason="给予整改机会"
        )
        assert (waived.penalty_decision, waived.penalty_reason) == ("waived", "给予整改机会")
        assert waived.penalty_amount == Decimal("870000.00")
        with pytest.raises(InvalidTransition):
            scorecard.scorecard_penalty_claim(actor=u["bureau"], card=card)
    assert not Deduction.objects.filter(sla_ref__endswith="termination-penalty").exists()
    rectified(world, card)
    with time_machine.travel(LATER, tick=False):
        scorecard.scorecard_rescore(actor=u["bureau"], card=card)  # still 58
        claimed = scorecard.scorecard_penalty_claim(actor=u["bureau"], card=card)
    assert claimed.number == 2
    offer = scorecard.penalty_offer(card)
    assert offer["claimed"].number == 2
    assert [r.number for r in offer["waived_rounds"]] == [1]


def test_at_59_the_card_fails_but_no_penalty_is_offered(world):
    card = failing_card(world, deliverable_points="6")  # 85 − 20 − 6 = 59
    assert card.snapshot["total_points"] == "59"
    assert card.snapshot["grade"] == "fail"
    assert card.snapshot["termination_penalty"]["applies"] is False
    with time_machine.travel(AFTER_YEAR, tick=False):
        available = scorecard.rectification_available_actions(user=world.users["bureau"], obj=card)
        assert "rectification_open" in available
        assert not available & {"penalty_claim", "penalty_waive"}
        with pytest.raises(InvalidTransition):
            scorecard.scorecard_penalty_claim(actor=world.users["bureau"], card=card)
        html = (
            verified_client(world.users["bureau"])
            .get(reverse("sla_scorecard", args=[world.contract.pk, 2026]))
            .content.decode()
        )
    assert "主张违约金" not in html
    assert "发出整改要求" in html


def test_without_a_contract_price_nothing_is_offered_and_the_page_says_so(world):
    card = failing_card(world, price=None)
    assert card.snapshot["termination_penalty"]["no_price"] is True
    assert card.snapshot["termination_penalty"]["amount"] is None
    with time_machine.travel(AFTER_YEAR, tick=False):
        available = scorecard.rectification_available_actions(user=world.users["bureau"], obj=card)
        assert not available & {"penalty_claim", "penalty_waive"}
        with pytest.raises(InvalidTransition) as refused:
            scorecard.scorecard_penalty_claim(actor=world.users["bureau"], card=card)
        assert "合同总价" in refused.value.message
        html = (
            verified_client(world.users["bureau"])
            .get(reverse("sla_scorecard", args=[world.contract.pk, 2026]))
            .content.decode()
        )
    assert "合同未载明合同总价" in html


# ---------------------------------------------------------------- portal, PDF, e-mail


def test_the_portal_runs_the_whole_flow(world):
    card = failing_card(world)
    u = world.users
    args = [world.contract.pk, 2026]
    page = reverse("sla_scorecard", args=args)
    with time_machine.travel(AFTER_YEAR, tick=False):
        bureau, vendor = verified_client(u["bureau"]), verified_client(u["vendor"])
        refused = bureau.post(reverse("sla_scorecard_rectification_open", args=args), {})
        assert refused.status_code == 200
        assert "这个字段是必填项" in refused.content.decode() or "必填" in refused.content.decode()
        done = bureau.post(
            reverse("sla_scorecard_rectification_open", args=args), {"requirements": "补齐材料"}
        )
        assert done.status_code == 302
        assert "提交整改报告" in vendor.get(page).content.decode()
        done = vendor.post(
            reverse("sla_scorecard_rectification_report", args=args), {"report": "已补齐"}
        )
        assert done.status_code == 302
        done = bureau.post(
            reverse("sla_scorecard_rectification_decide", args=args), {"accept": "1"}
        )
        assert done.status_code == 302
        # The vendor cannot claim: the page answers with the refusal, nothing is written.
        vendor.post(reverse("sla_scorecard_penalty_claim", args=args))
        assert not Deduction.objects.filter(sla_ref__endswith="termination-penalty").exists()
        done = bureau.post(reverse("sla_scorecard_penalty_claim", args=args))
        assert done.status_code == 302
    with time_machine.travel(LATER, tick=False):
        waive_security(world, "emergency_plan", "drill", "mlps3")
        bureau = verified_client(u["bureau"])
        done = bureau.post(reverse("sla_scorecard_rescore", args=args), {"ratio_pct": ""})
        assert done.status_code == 302
        html = bureau.get(page).content.decode()
    assert "第2轮" in html
    assert "第1轮" in html
    assert "64" in html
    assert "58" in html
    assert "已主张 ¥870,000.00" in html
    assert ScorecardRound.objects.filter(card=card).count() == 2


def test_the_pdf_shows_the_rounds_and_the_penalty(world):
    card = failing_card(world)
    rectified(world, card)
    with time_machine.travel(LATER, tick=False):
        waive_security(world, "emergency_plan", "drill", "mlps3")
        scorecard.scorecard_rescore(actor=world.users["bureau"], card=card)
    card.refresh_from_db()
    first = card.round_history[0]
    html = render_to_string(
        "reports/sla_scorecard.html",
        {**scorecard_view_model(first.snapshot), "scorecard": card, "contract": world.contract},
    )
    assert "考核轮次" in html
    assert "第1轮" in html
    assert "第2轮（现行）" in html
    assert "补齐安全机制材料" in html
    assert "违约金" in html
    assert "870,000.00" in html
    from sla.services.reports import scorecard_pdf_bytes

    assert scorecard_pdf_bytes(card)[:4] == b"%PDF"


def test_vendor_and_supervisor_hear_of_each_step(world):
    card = failing_card(world)
    with time_machine.travel(AFTER_YEAR, tick=False):
        scorecard.scorecard_rectification_open(
            actor=world.users["bureau"], card=card, requirements="补齐材料"
        )
        scorecard.scorecard_penalty_claim(actor=world.users["bureau"], card=card)
    opened = OutboxEmail.objects.filter(subject__contains="请按要求整改")
    assert {world.users["vendor"].email, world.users["supervisor"].email} <= set(
        opened.values_list("recipient", flat=True)
    )
    assert "补齐材料" in opened.first().body
    claimed = OutboxEmail.objects.filter(subject__contains="主张考核违约金 ¥870,000.00")
    assert {world.users["vendor"].email, world.users["supervisor"].email} <= set(
        claimed.values_list("recipient", flat=True)
    )


# ---------------------------------------------------------------- tenancy and the API

POSTS = [
    ("sla_scorecard_rectification_open", {"requirements": "x"}),
    ("sla_scorecard_rectification_report", {"report": "x"}),
    ("sla_scorecard_rectification_decide", {"accept": "1"}),
    ("sla_scorecard_rescore", {"ratio_pct": ""}),
    ("sla_scorecard_penalty_claim", {}),
    ("sla_scorecard_penalty_waive", {"reason": "x"}),
]


@pytest.mark.parametrize(("name", "data"), POSTS, ids=[p[0] for p in POSTS])
def test_another_tenant_gets_404_on_every_new_page(world, foreign, name, data):
    card = failing_card(world)
    with time_machine.travel(AFTER_YEAR, tick=False):
        for role in ("bureau", "vendor", "supervisor"):
            client = verified_client(foreign.users[role])
            response = client.post(reverse(name, args=[world.contract.pk, 2026]), data)
            assert response.status_code == 404
        response = verified_client(world.users["department"]).post(
            reverse(name, args=[world.contract.pk, 2026]), data
        )
        assert response.status_code == 404
    assert not ScorecardRectification.objects.filter(card=card).exists()
    assert ScorecardRound.objects.filter(card=card).count() == 1


def test_the_rectification_file_is_scoped(world, foreign):
    from django.core.files.uploadedfile import SimpleUploadedFile

    card = failing_card(world)
    with time_machine.travel(AFTER_YEAR, tick=False):
        scorecard.scorecard_rectification_open(
            actor=world.users["bureau"], card=card, requirements="补齐材料"
        )
        rect = scorecard.scorecard_rectification_report(
            actor=world.users["vendor"],
            card=card,
            report="见附件",
            document=SimpleUploadedFile("fix.pdf", b"%PDF-1.4 fix", "application/pdf"),
        )
    url = reverse("sla_scorecard_rectification_file", args=[world.contract.pk, 2026, rect.pk])
    assert verified_client(world.users["supervisor"]).get(url).status_code == 200
    assert verified_client(foreign.users["bureau"]).get(url).status_code == 404
    other = reverse("sla_scorecard_rectification_file", args=[foreign.contract.pk, 2026, rect.pk])
    assert verified_client(foreign.users["bureau"]).get(other).status_code == 404


API = "/api/v1/sla/scorecards/{c}/2026/{a}"


def test_the_api_runs_the_flow_and_refuses_others(world, foreign):
    card = failing_card(world)
    c = world.contract.pk
    with time_machine.travel(AFTER_YEAR, tick=False):
        for action, body in (
            ("rectification/", {"requirements": "x"}),
            ("penalty/claim/", {}),
            ("penalty/waive/", {"reason": "x"}),
            ("rescore/", {}),
        ):
            response = api_for(foreign.users["bureau"]).post(
                API.format(c=c, a=action), body, format="json"
            )
            assert response.status_code == 404, action
        forbidden = api_for(world.users["supervisor"]).post(
            API.format(c=c, a="penalty/claim/"), {}, format="json"
        )
        assert forbidden.status_code == 403
        assert set(forbidden.json()) == {"message", "extra"}
        opened = api_for(world.users["bureau"]).post(
            API.format(c=c, a="rectification/"), {"requirements": "补齐材料"}, format="json"
        )
        assert opened.status_code == 200, opened.content
        assert opened.json()["rectifications"][0]["status"] == "open"
        assert "rectification_report" not in opened.json()["actions"]
        reported = api_for(world.users["vendor"]).post(
            API.format(c=c, a="rectification/report/"), {"report": "已补齐"}, format="json"
        )
        assert reported.status_code == 200, reported.content
        decided = api_for(world.users["bureau"]).post(
            API.format(c=c, a="rectification/decide/"), {"accept": True}, format="json"
        )
        assert decided.status_code == 200, decided.content
        claimed = api_for(world.users["bureau"]).post(
            API.format(c=c, a="penalty/claim/"), {}, format="json"
        )
        assert claimed.status_code == 200, claimed.content
        assert claimed.json()["penalty"]["claimed_round"] == 1
        again = api_for(world.users["bureau"]).post(
            API.format(c=c, a="penalty/claim/"), {}, format="json"
        )
        assert again.status_code == 409
    with time_machine.travel(LATER, tick=False):
        rescored = api_for(world.users["bureau"]).post(
            API.format(c=c, a="rescore/"), {"ratio": None}, format="json"
        )
        assert rescored.status_code == 200, rescored.content
        body = api_for(world.users["bureau"]).get(API.format(c=c, a="")).json()
    assert [r["number"] for r in body["rounds"]] == [1, 2]
    assert body["rounds"][0]["total_points"] == "58"
    assert body["penalty"]["amount"] == "870000"
    assert card.rounds.count() == 2


def test_the_schema_documents_the_new_endpoints(world):
    schema = api_for(world.users["bureau"]).get("/api/schema/").content.decode()
    for path in ("rectification/report/", "rescore/", "penalty/claim/", "penalty/waive/"):
        assert path in schema


def test_the_admin_shows_rounds_and_rectifications_read_only(world, foreign):
    from tests.sla.scorecard_builders import rectification_with_report

    rect = rectification_with_report(world)
    url = reverse("admin:sla_scorecard_change", args=[rect.card.pk])
    html = verified_client(world.users["bureau"]).get(url).content.decode()
    assert "考核轮次" in html
    assert "补齐材料" in html
    assert 'name="rounds-0-number"' not in html  # read-only: no editable inputs
    assert verified_client(foreign.users["bureau"]).get(url).status_code == 404
