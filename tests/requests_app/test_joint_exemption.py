"""Late-delivery exemption through the joint confirmation (BT 附件2 §2: bureau and supervisor).

A breached ticket is exempt only when both confirmed; an objection sends it back to a new
proposal; a contract whose terms ask no joint confirmation keeps the one judge.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.joint import joint_confirm, joint_for, joint_object
from govcloud.models import JointStatus, JointSubject
from requests_app import services
from requests_app.actions import request_available_actions
from requests_app.models import ResourceRequest, unexempted_breach_q
from tests.conftest import verified_client
from tests.requests_app.test_actions import breached_ticket

pytestmark = pytest.mark.django_db

SUBJECT = JointSubject.LATE_DELIVERY_EXEMPTION


@pytest.fixture
def bt_terms(world):
    world.contract.joint_confirmations = {str(SUBJECT): ["bureau", "supervisor"]}
    world.contract.save(update_fields=["joint_confirmations"])
    return world


def _still_breached(ticket) -> bool:
    return ResourceRequest.objects.filter(unexempted_breach_q(), pk=ticket.pk).exists()


def test_exemption_needs_bureau_and_supervisor(bt_terms):
    world = bt_terms
    ticket = breached_ticket(world)
    assert "exempt" in request_available_actions(user=world.users["bureau"], obj=ticket)
    ticket = services.request_exempt(
        actor=world.users["supervisor"], ticket=ticket, reason="使用单位机房停电"
    )
    assert ticket.exempted is False
    assert _still_breached(ticket)
    confirmation = joint_for(ticket, SUBJECT)
    assert confirmation.status == JointStatus.OPEN
    assert [e.role for e in confirmation.entries.all()] == ["supervisor"]
    # Proposed once: no second proposal while the other party has not decided.
    assert "exempt" not in request_available_actions(user=world.users["bureau"], obj=ticket)
    with pytest.raises(ApplicationError):
        services.request_exempt(actor=world.users["bureau"], ticket=ticket, reason="再提")

    joint_confirm(actor=world.users["bureau"], confirmation=confirmation)
    ticket.refresh_from_db()
    assert ticket.exempted is True
    assert not _still_breached(ticket)


def test_objection_then_new_proposal_restarts(bt_terms):
    world = bt_terms
    ticket = breached_ticket(world)
    services.request_exempt(actor=world.users["bureau"], ticket=ticket, reason="停电")
    confirmation = joint_for(ticket, SUBJECT)
    joint_object(actor=world.users["supervisor"], confirmation=confirmation, reason="无停电记录")
    ticket.refresh_from_db()
    assert ticket.exempted is False
    with pytest.raises(ActionForbidden):
        services.request_exempt(actor=world.users["vendor"], ticket=ticket, reason="x")
    services.request_exempt(
        actor=world.users["supervisor"], ticket=ticket, reason="停电，附供电局证明"
    )
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.round) == (JointStatus.OPEN, 2)
    ticket.refresh_from_db()
    assert ticket.exempted is False
    joint_confirm(actor=world.users["bureau"], confirmation=confirmation)
    ticket.refresh_from_db()
    assert ticket.exempted is True
    assert ticket.exemption_reason == "停电，附供电局证明"


def test_without_joint_terms_the_supervisor_alone_exempts(world):
    world.contract.joint_confirmations = {}
    world.contract.save(update_fields=["joint_confirmations"])
    ticket = breached_ticket(world)
    with pytest.raises(ActionForbidden):
        services.request_exempt(actor=world.users["bureau"], ticket=ticket, reason="x")
    ticket = services.request_exempt(actor=world.users["supervisor"], ticket=ticket, reason="停电")
    assert ticket.exempted is True
    assert joint_for(ticket, SUBJECT) is None


@pytest.mark.urls("tests.govcloud.test_joint")
def test_ticket_page_shows_the_panel_to_the_other_party(bt_terms):
    world = bt_terms
    ticket = breached_ticket(world)
    services.request_exempt(actor=world.users["supervisor"], ticket=ticket, reason="停电")
    page = verified_client(world.users["bureau"]).get(
        reverse("request_detail", kwargs={"pk": ticket.pk})
    )
    text = page.content.decode()
    assert "共同确认（会签）" in text
    assert "确认无误" in text
    assert reverse("joint_decide", args=[joint_for(ticket, SUBJECT).pk]) in text
