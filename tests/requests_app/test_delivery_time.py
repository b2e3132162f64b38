"""Delivery-time integrity (issue 12 item 5): a backdated delivery cannot avoid a breach.

A delivery time not earlier than the moment it is recorded minus the contract's tolerance
(``delivery_time_tolerance_hours``, default 2 h) stands as entered. An earlier one is a claim:
reason and evidence, and the parties of ``required_roles(contract, DELIVERY_TIME)`` (the review
chain where the terms are silent: BT bureau + supervisor, JZ bureau) must confirm it. Until then
the recorded moment is the delivery time for the breach, the elapsed working days and billing.

Dates on the official 2026 calendar (National Day 10-01…10-07 off, 10-10 Sat a make-up working
day). A BT ticket approved 2026-09-30 10:00 has a 2-working-day deadline at the end of 10-09
(10-10 00:00). Recorded 2026-10-19 10:00, the working days after 09-30 are 10-08, 10-09,
10-10, 10-12…10-16 and 10-19: 9. Claimed 2026-09-30 11:00: 0 working days, on time.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from billing.models import Resource, ResourceChange, Statement, StatementStatus, SystemTestPeriod
from billing.services.statements import statement_generate
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.joint import joint_confirm, joint_for, joint_object
from govcloud.models import AuditEvent, JointStatus, JointSubject, OutboxEmail
from govcloud.workdays import BUSINESS_TZ
from requests_app import services
from requests_app.clocks import ticket_elapsed
from requests_app.delivery_integrity import needs_confirmation, tolerance_threshold
from requests_app.models import (
    AttachmentPurpose,
    DeliveryClaimStatus,
    RequestKind,
    ResourceRequest,
    unexempted_breach_q,
)
from tests.api_clients import token_client
from tests.conftest import World, verified_client
from tests.factories import UserFactory, contract_with_parties, make_totp
from tests.requests_app.factories import approved_ticket, vcpu_item

pytestmark = pytest.mark.django_db

SUBJECT = JointSubject.DELIVERY_TIME


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=BUSINESS_TZ)


APPROVED = sh(2026, 9, 30, 10, 0)
DUE = sh(2026, 10, 10)  # end of 2026-10-09
RECORDED = sh(2026, 10, 19, 10, 0)
CLAIMED = sh(2026, 9, 30, 11, 0)


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def proof(name: str = "开通记录.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 proof", content_type="application/pdf")


def approve_at(world: World, when: datetime = APPROVED, **kwargs) -> ResourceRequest:
    with time_machine.travel(when, tick=False):
        return approved_ticket(world, **kwargs)


def deliver(
    world: World,
    ticket: ResourceRequest,
    *,
    now: datetime = RECORDED,
    delivered_at: datetime | None = None,
    reason: str = "",
    evidence: list | None = None,
    actor=None,
) -> ResourceRequest:
    items = [
        services.DeliveryInput(line_id=line.pk, vendor_ref=f"i-{line.pk}")
        for line in ticket.lines.all()
    ]
    with time_machine.travel(now, tick=False):
        return services.request_deliver(
            actor=actor or world.users["vendor"],
            ticket=ticket,
            items=items,
            delivered_at=delivered_at,
            claim_reason=reason,
            evidence=evidence or [],
        )


def claimed_delivery(world: World, **kwargs) -> ResourceRequest:
    ticket = approve_at(world, **kwargs)
    return deliver(
        world, ticket, delivered_at=CLAIMED, reason="9月30日已开通，漏登记", evidence=[proof()]
    )


def confirm(world: World, ticket: ResourceRequest, *roles: str, when: datetime | None = None):
    confirmation = joint_for(ticket, SUBJECT)
    with time_machine.travel(when or sh(2026, 10, 20, 9), tick=False):
        for role in roles:
            confirmation = joint_confirm(actor=world.users[role], confirmation=confirmation)
    ticket.refresh_from_db()
    return confirmation


def resource_of(ticket: ResourceRequest) -> Resource:
    return Resource.objects.get(pk=ticket.lines.get().delivered_resource_id)


def in_sla_breaches(ticket: ResourceRequest) -> bool:
    return ResourceRequest.objects.filter(unexempted_breach_q(), pk=ticket.pk).exists()


@pytest.fixture
def jz(db) -> World:
    """A JZ-like contract: no delivery clock, bureau-only review chain."""
    contract, orgs = contract_with_parties(
        supervisor=False,
        auditor=False,
        delivery_working_days=None,
        extended_delivery_working_days=None,
        scorecard="",
    )
    world = World(contract=contract, orgs=orgs)
    for key, org in orgs.items():
        world.users[key] = UserFactory(organization=org)
        if world.users[key].requires_two_factor:
            make_totp(world.users[key])
    return world


# ----------------------------------------------------------------------------- the pure rule


@pytest.mark.parametrize(
    ("delivered", "tolerance", "threshold", "claim"),
    [
        pytest.param(sh(2026, 10, 19, 8), 2, sh(2026, 10, 19, 8), False, id="exactly-2h-earlier"),
        pytest.param(sh(2026, 10, 19, 7, 59), 2, sh(2026, 10, 19, 8), True, id="2h-1min-earlier"),
        pytest.param(sh(2026, 10, 19, 10), 0, sh(2026, 10, 19, 10), False, id="tol-0-same-min"),
        pytest.param(sh(2026, 10, 19, 9, 59), 0, sh(2026, 10, 19, 10), True, id="tol-0-1min"),
        pytest.param(sh(2026, 10, 18, 10), 24, sh(2026, 10, 18, 10), False, id="24h"),
    ],
)
def test_tolerance_rule(delivered, tolerance, threshold, claim):
    recorded = sh(2026, 10, 19, 10, 0, 30)  # seconds don't count: the form records minutes
    assert tolerance_threshold(recorded, tolerance) == threshold
    assert (
        needs_confirmation(delivered_at=delivered, recorded_at=recorded, tolerance_hours=tolerance)
        is claim
    )


# ------------------------------------------------------------------ BT: the example


def test_backdated_delivery_keeps_the_breach_and_bills_from_the_recorded_moment(world):
    ticket = claimed_delivery(world)

    assert ticket.due_at == DUE
    assert ticket.delivered_at == RECORDED
    assert ticket.delivery_recorded_at == RECORDED
    assert ticket.delivery_claimed_at == CLAIMED
    assert ticket.delivery_claim_status == DeliveryClaimStatus.PENDING
    assert ticket.breached is True
    assert in_sla_breaches(ticket)
    assert ticket_elapsed(ticket, RECORDED) == (9, False)
    resource = resource_of(ticket)
    assert (resource.online_at, resource.billing_starts_at) == (RECORDED, RECORDED)
    assert ResourceChange.objects.get(resource=resource).delivered_at == RECORDED
    evidence = ticket.attachments.get()
    assert (evidence.purpose, evidence.name) == (
        AttachmentPurpose.DELIVERY_EVIDENCE,
        "开通记录.pdf",
    )
    confirmation = joint_for(ticket, SUBJECT)
    assert confirmation.status == JointStatus.OPEN
    assert confirmation.required_roles == ["bureau", "supervisor"]  # the review chain


def test_one_confirmation_is_not_enough(world):
    ticket = claimed_delivery(world)
    confirm(world, ticket, "bureau")
    assert ticket.delivery_claim_status == DeliveryClaimStatus.PENDING
    assert (ticket.delivered_at, ticket.breached) == (RECORDED, True)
    assert resource_of(ticket).billing_starts_at == RECORDED


def test_confirmed_claim_takes_effect_everywhere(world):
    ticket = claimed_delivery(world)
    confirm(world, ticket, "supervisor", "bureau")

    assert ticket.delivery_claim_status == DeliveryClaimStatus.CONFIRMED
    assert ticket.delivered_at == CLAIMED
    assert ticket.delivery_recorded_at == RECORDED  # kept: when it was entered
    assert ticket.breached is False
    assert not in_sla_breaches(ticket)
    assert ticket_elapsed(ticket, sh(2026, 10, 20)) == (0, False)
    resource = resource_of(ticket)
    assert (resource.online_at, resource.billing_starts_at) == (CLAIMED, CLAIMED)
    assert ResourceChange.objects.get(resource=resource).delivered_at == CLAIMED

    event = AuditEvent.objects.get(action="request.delivery_time_confirmed")
    assert when(event.before["delivered_at"]) == RECORDED
    assert when(event.after["delivered_at"]) == CLAIMED
    assert (event.before["breached"], event.after["breached"]) == (True, False)
    elapsed = (event.after["elapsed_working_days_before"], event.after["elapsed_working_days"])
    assert elapsed == (9, 0)
    assert event.after["months"] == ["2026-09", "2026-10"]
    moved = AuditEvent.objects.get(
        action="inventory.delivery_time_confirmed",
        object_type="billing.resource",
        object_id=str(resource.pk),
    )
    assert {k: when(v) for k, v in moved.before.items()} == {
        "online_at": RECORDED,
        "billing_starts_at": RECORDED,
    }
    assert when(moved.after["billing_starts_at"]) == CLAIMED


def test_confirmation_moves_the_test_period_it_started(world):
    world.contract.test_period_months = 1
    world.contract.save(update_fields=["test_period_months"])
    ticket = claimed_delivery(world)
    period = SystemTestPeriod.objects.get(system=ticket.system)
    assert (period.started_at, period.ends_at) == (RECORDED, sh(2026, 11, 19, 10))
    assert resource_of(ticket).billing_starts_at == sh(2026, 11, 19, 10)

    confirm(world, ticket, "bureau", "supervisor")
    period.refresh_from_db()
    assert (period.started_at, period.ends_at, period.contract_ends_at) == (
        CLAIMED,
        sh(2026, 10, 30, 11),
        sh(2026, 10, 30, 11),
    )
    resource = resource_of(ticket)
    assert (resource.online_at, resource.billing_starts_at) == (CLAIMED, sh(2026, 10, 30, 11))


def test_objection_keeps_the_recorded_moment_and_the_vendor_may_revise(
    world, django_capture_on_commit_callbacks
):
    ticket = claimed_delivery(world)
    confirmation = joint_for(ticket, SUBJECT)
    with django_capture_on_commit_callbacks(execute=True):
        joint_object(
            actor=world.users["supervisor"], confirmation=confirmation, reason="无开通日志"
        )
    ticket.refresh_from_db()
    assert ticket.delivery_claim_status == DeliveryClaimStatus.OBJECTED
    assert (ticket.delivered_at, ticket.breached) == (RECORDED, True)
    mail = OutboxEmail.objects.get(
        key__startswith=f"ticket:{ticket.pk}:delivery-claim-objected",
        recipient=world.users["vendor"].email,
    )
    assert "无开通日志" in mail.body

    with pytest.raises(ActionForbidden):
        services.delivery_claim_revise(actor=world.users["department"], ticket=ticket, reason="x")
    with pytest.raises(ApplicationError):
        services.delivery_claim_revise(actor=world.users["vendor"], ticket=ticket, reason=" ")
    ticket = services.delivery_claim_revise(
        actor=world.users["vendor"],
        ticket=ticket,
        reason="附平台开通日志",
        evidence=[proof("日志.png")],
    )
    assert ticket.delivery_claim_status == DeliveryClaimStatus.PENDING
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.round) == (JointStatus.OPEN, 2)
    confirm(world, ticket, "bureau", "supervisor")
    assert (ticket.delivered_at, ticket.breached) == (CLAIMED, False)
    assert ticket.attachments.filter(purpose=AttachmentPurpose.DELIVERY_EVIDENCE).count() == 2


def test_a_signed_month_refuses_the_confirmation(world):
    ticket = claimed_delivery(world)
    with time_machine.travel(sh(2026, 10, 20, 9), tick=False):
        september = statement_generate(
            actor=world.users["vendor"], contract=world.contract, year=2026, month=9
        )
    now = timezone.now()
    Statement.objects.filter(pk=september.pk).update(
        status=StatementStatus.SIGNED, submitted_at=now, signed_at=now
    )
    confirmation = joint_for(ticket, SUBJECT)
    joint_confirm(actor=world.users["bureau"], confirmation=confirmation)
    with pytest.raises(InvalidTransition, match="资源清单更正") as refused:
        joint_confirm(actor=world.users["supervisor"], confirmation=confirmation)
    assert refused.value.extra["signed_months"] == ["2026-09"]
    ticket.refresh_from_db()
    confirmation.refresh_from_db()
    assert confirmation.status == JointStatus.OPEN  # the last confirmation was undone with it
    assert (ticket.delivered_at, ticket.breached) == (RECORDED, True)
    assert ticket.delivery_claim_status == DeliveryClaimStatus.PENDING
    assert resource_of(ticket).billing_starts_at == RECORDED


def test_the_vendor_cannot_confirm_its_own_claim(world):
    ticket = claimed_delivery(world)
    with pytest.raises(ActionForbidden):
        joint_confirm(actor=world.users["vendor"], confirmation=joint_for(ticket, SUBJECT))
    with pytest.raises(ActionForbidden):
        joint_confirm(actor=world.users["department"], confirmation=joint_for(ticket, SUBJECT))


def test_confirmers_are_asked_by_mail(world, django_capture_on_commit_callbacks):
    ticket = approve_at(world)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = deliver(world, ticket, delivered_at=CLAIMED, reason="漏登记", evidence=[proof()])
    for role in ("bureau", "supervisor"):
        mail = OutboxEmail.objects.get(
            key__startswith=f"ticket:{ticket.pk}:delivery-claim:",
            recipient=world.users[role].email,
        )
        assert "2026-09-30 11:00" in mail.body
        assert "漏登记" in mail.body
    department = OutboxEmail.objects.get(
        key=f"ticket:{ticket.pk}:delivered:", recipient=world.users["department"].email
    )
    assert "须经审核方确认后生效" in department.body


# -------------------------------------------------------------------- tolerance boundaries


def test_exactly_the_tolerance_earlier_is_accepted_as_is(world):
    ticket = deliver(world, approve_at(world), delivered_at=sh(2026, 10, 19, 8, 0))
    assert ticket.delivered_at == sh(2026, 10, 19, 8, 0)
    assert ticket.delivery_claim_status == DeliveryClaimStatus.NONE
    assert ticket.delivery_claimed_at is None
    assert joint_for(ticket, SUBJECT) is None
    assert resource_of(ticket).billing_starts_at == sh(2026, 10, 19, 8, 0)


def test_one_minute_more_needs_reason_and_evidence_both_reported(world):
    ticket = approve_at(world)
    with pytest.raises(ApplicationError) as refused:
        deliver(world, ticket, delivered_at=sh(2026, 10, 19, 7, 59))
    assert refused.value.extra["fields"] == ["claim_reason", "evidence"]
    assert len(refused.value.extra["errors"]) == 2
    assert "2026-10-19 08:00" in refused.value.message
    ticket.refresh_from_db()
    assert ticket.status == "approved"
    assert not Resource.objects.exists()

    with pytest.raises(ApplicationError) as only_reason:
        deliver(world, ticket, delivered_at=sh(2026, 10, 19, 7, 59), reason="漏登记")
    assert only_reason.value.extra["fields"] == ["evidence"]

    ticket = deliver(
        world, ticket, delivered_at=sh(2026, 10, 19, 7, 59), reason="漏登记", evidence=[proof()]
    )
    assert ticket.delivery_claim_status == DeliveryClaimStatus.PENDING
    assert ticket.delivered_at == RECORDED


def test_tolerance_zero_accepts_only_the_recorded_minute(world):
    world.contract.delivery_time_tolerance_hours = 0
    world.contract.save(update_fields=["delivery_time_tolerance_hours"])
    ticket = deliver(world, approve_at(world), now=sh(2026, 10, 19, 10, 0, 40))
    assert ticket.delivered_at == sh(2026, 10, 19, 10, 0, 40)
    assert ticket.delivery_claim_status == DeliveryClaimStatus.NONE

    other = approve_at(world, system_name="另一系统")
    with pytest.raises(ApplicationError):
        deliver(world, other, delivered_at=sh(2026, 10, 19, 9, 59))


def test_time_outside_approval_and_now_is_still_refused(world):
    ticket = approve_at(world)
    with pytest.raises(ApplicationError, match="批准时间之后"):
        deliver(world, ticket, delivered_at=sh(2026, 9, 30, 9), reason="x", evidence=[proof()])


# ------------------------------------------------------------------------------- JZ: no clock


def test_jz_same_rule_no_breach_bureau_alone_confirms(jz):
    ticket = claimed_delivery(jz)
    assert (ticket.due_at, ticket.breached) == (None, False)
    assert ticket.delivered_at == RECORDED
    assert ticket_elapsed(ticket, RECORDED) == (9, False)
    assert resource_of(ticket).billing_starts_at == RECORDED
    assert joint_for(ticket, SUBJECT).required_roles == ["bureau"]

    confirm(jz, ticket, "bureau")
    assert ticket.delivery_claim_status == DeliveryClaimStatus.CONFIRMED
    assert (ticket.delivered_at, ticket.breached) == (CLAIMED, False)
    assert ticket_elapsed(ticket, RECORDED) == (0, False)
    assert resource_of(ticket).billing_starts_at == CLAIMED


# ------------------------------------------------------------------------- changes, releases


def test_a_confirmed_release_moves_the_offline_time(world):
    opened = deliver(world, approve_at(world, when=sh(2026, 9, 1, 10)), now=sh(2026, 9, 1, 11))
    resource = resource_of(opened)
    with time_machine.travel(sh(2026, 9, 30, 9), tick=False):
        release = services.request_create(
            actor=world.users["department"],
            contract=world.contract,
            kind=RequestKind.RELEASE,
            reason="系统下线",
            system_id=opened.system_id,
            lines=[services.LineInput(resource_id=resource.pk)],
            submit=True,
        )
    with time_machine.travel(APPROVED, tick=False):
        release = services.request_approve(actor=world.users["bureau"], ticket=release)
        release = services.request_approve(actor=world.users["supervisor"], ticket=release)
    release = deliver(world, release, delivered_at=CLAIMED, reason="已释放", evidence=[proof()])
    resource.refresh_from_db()
    assert resource.offline_at == RECORDED
    confirm(world, release, "bureau", "supervisor")
    resource.refresh_from_db()
    assert resource.offline_at == CLAIMED
    assert release.breached is False


def test_a_confirmed_change_moves_its_configuration_row(world):
    opened = deliver(world, approve_at(world, when=sh(2026, 9, 1, 10)), now=sh(2026, 9, 1, 11))
    resource = resource_of(opened)
    with time_machine.travel(sh(2026, 9, 30, 9), tick=False):
        change = services.request_create(
            actor=world.users["department"],
            contract=world.contract,
            kind=RequestKind.CHANGE,
            reason="扩容",
            system_id=opened.system_id,
            lines=[
                services.LineInput(
                    resource_id=resource.pk,
                    catalog_item_id=vcpu_item(world.contract).pk,
                    quantity=16,
                )
            ],
            submit=True,
        )
    with time_machine.travel(APPROVED, tick=False):
        change = services.request_approve(actor=world.users["bureau"], ticket=change)
        change = services.request_approve(actor=world.users["supervisor"], ticket=change)
    change = deliver(world, change, delivered_at=CLAIMED, reason="已扩容", evidence=[proof()])
    row = change.lines.get().resource_change
    assert (row.quantity, row.delivered_at) == (16, RECORDED)
    confirm(world, change, "bureau", "supervisor")
    row.refresh_from_db()
    assert row.delivered_at == CLAIMED
    resource.refresh_from_db()
    assert resource.online_at == sh(2026, 9, 1, 11)  # the resource itself went online before


# ------------------------------------------------------------------------- portal and API


def _deliver_url(ticket: ResourceRequest) -> str:
    return reverse("request_deliver", kwargs={"pk": ticket.pk})


def test_delivery_form_reports_every_missing_piece_at_once(world):
    ticket = approve_at(world)
    line = ticket.lines.get()
    client = verified_client(world.users["vendor"])
    with time_machine.travel(RECORDED, tick=False):
        page = client.post(
            _deliver_url(ticket),
            {"delivered_at": "2026-09-30T11:00", f"vendor_ref_{line.pk}": "ecs-1"},
        )
    assert page.status_code == 200
    text = page.content.decode()
    assert "请填写补录理由" in text
    assert "请上传至少一份证明材料" in text
    assert 'value="ecs-1"' in text  # what was typed stays
    assert '<details class="mt-2 delivery-claim-fields" open>' in text
    ticket.refresh_from_db()
    assert ticket.status == "approved"

    with time_machine.travel(RECORDED, tick=False):
        done = client.post(
            _deliver_url(ticket),
            {
                "delivered_at": "2026-09-30T11:00",
                f"vendor_ref_{line.pk}": "ecs-1",
                "claim_reason": "漏登记",
                "evidence": [proof()],
            },
        )
    assert done.status_code == 302
    ticket.refresh_from_db()
    assert ticket.delivery_claim_status == DeliveryClaimStatus.PENDING
    assert ticket.delivered_at == RECORDED


def test_ticket_page_shows_recorded_claimed_and_the_panel(world):
    ticket = claimed_delivery(world)
    page = verified_client(world.users["bureau"]).get(
        reverse("request_detail", kwargs={"pk": ticket.pk})
    )
    text = page.content.decode()
    assert "登记时刻" in text
    assert "申报交付时间" in text
    assert "待审核方确认" in text
    assert "交付时间确认" in text  # the joint panel of the DELIVERY_TIME subject
    assert reverse("joint_decide", args=[joint_for(ticket, SUBJECT).pk]) in text
    assert "开通记录.pdf" in text


def test_api_deliver_with_evidence_multipart(world):
    ticket = approve_at(world)
    line = ticket.lines.get()
    vendor = token_client(world.users["vendor"])
    url = f"/api/v1/requests/{ticket.pk}/deliver/"
    with time_machine.travel(RECORDED, tick=False):
        missing = vendor.post(
            url,
            {"items": [{"line": line.pk, "vendor_ref": "ecs-1"}], "delivered_at": CLAIMED},
            format="json",
        )
        assert missing.status_code == 400
        assert missing.json()["extra"]["fields"] == ["claim_reason", "evidence"]
        response = vendor.post(
            url,
            {
                "items": f'[{{"line": {line.pk}, "vendor_ref": "ecs-1"}}]',
                "delivered_at": CLAIMED.isoformat(),
                "claim_reason": "漏登记",
                "evidence": [proof()],
            },
            format="multipart",
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["delivery_claim_status"] == "pending"
    assert datetime.fromisoformat(body["delivered_at"]) == RECORDED
    assert datetime.fromisoformat(body["delivery_claimed_at"]) == CLAIMED
    assert body["breached"] is True
    assert body["delivery_time_confirmation"] == joint_for(ticket, SUBJECT).pk
    assert [e["name"] for e in body["delivery_evidence"]] == ["开通记录.pdf"]


def test_new_urls_are_404_across_tenants(world, foreign):
    ticket = claimed_delivery(world)
    joint_object(
        actor=world.users["bureau"], confirmation=joint_for(ticket, SUBJECT), reason="不认可"
    )
    url = reverse("request_delivery_claim_revise", kwargs={"pk": ticket.pk})
    assert (
        verified_client(foreign.users["vendor"]).post(url, {"claim_reason": "x"}).status_code == 404
    )
    api = token_client(foreign.users["vendor"])
    response = api.post(
        f"/api/v1/requests/{ticket.pk}/delivery-claim/revise/", {"claim_reason": "x"}, format="json"
    )
    assert response.status_code == 404
    # …while in the own tenant the vendor revises and the department is refused.
    own = verified_client(world.users["vendor"]).post(url, {"claim_reason": "补充日志"})
    assert own.status_code == 302
    ticket.refresh_from_db()
    assert ticket.delivery_claim_status == DeliveryClaimStatus.PENDING
    refused = verified_client(world.users["department"]).post(
        url, {"claim_reason": "x"}, follow=True
    )
    assert "只有本合同乙方可以修改交付时间申报" in refused.content.decode()


def test_the_breach_counts_for_the_scorecard_until_confirmed(world):
    """附件2 §2: −1 point per late delivery; the SLA reads the unexempted breaches."""
    ticket = claimed_delivery(world)
    assert ResourceRequest.objects.filter(unexempted_breach_q()).count() == 1
    confirm(world, ticket, "bureau", "supervisor")
    assert ResourceRequest.objects.filter(unexempted_breach_q()).count() == 0


def test_an_exemption_proposed_meanwhile_has_nothing_left_to_exempt(world):
    world.contract.joint_confirmations = {"late_delivery_exemption": ["bureau", "supervisor"]}
    world.contract.save(update_fields=["joint_confirmations"])
    ticket = claimed_delivery(world)
    services.request_exempt(actor=world.users["supervisor"], ticket=ticket, reason="停电")
    confirm(world, ticket, "bureau", "supervisor")
    assert (ticket.breached, ticket.exempted) == (False, False)
    exemption = joint_for(ticket, JointSubject.LATE_DELIVERY_EXEMPTION)
    with pytest.raises(InvalidTransition, match="不再是超时交付"):
        joint_confirm(actor=world.users["bureau"], confirmation=exemption)
