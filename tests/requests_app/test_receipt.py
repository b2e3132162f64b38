"""The requesting department's receipt (签收) of a delivered ticket (issue 12 item 5).

A department user of the ticket's department confirms receipt, or reports a problem (not
received / not as requested) with a reason, which the vendor and the bureau hear of. Recorded
with who and when, audited, shown on the ticket, in the department's list ("待签收") and in the
API. A record only: billing and the delivery clock do not move (BT 5.4 bills from the vendor's
delivery on the platform).
"""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.urls import reverse

from billing.models import Resource
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.models import AuditEvent, OutboxEmail
from govcloud.workdays import BUSINESS_TZ
from requests_app import services
from requests_app.delivery_integrity import delivery_available_actions
from requests_app.models import ReceiptProblem, ReceiptStatus
from tests.api_clients import person_api, token_client
from tests.conftest import verified_client
from tests.factories import DepartmentFactory, UserFactory
from tests.requests_app.factories import approved_ticket, delivered_ticket

pytestmark = pytest.mark.django_db


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=BUSINESS_TZ)


DELIVERED = sh(2026, 10, 12, 15)
RECEIVED = sh(2026, 10, 13, 9, 30)


@pytest.fixture
def ticket(world):
    with time_machine.travel(DELIVERED, tick=False):
        return delivered_ticket(world)


def billing_of(ticket):
    resource = Resource.objects.get(pk=ticket.lines.get().delivered_resource_id)
    return (resource.online_at, resource.billing_starts_at, resource.offline_at)


# ----------------------------------------------------------------------------- services


def test_a_delivered_ticket_awaits_receipt(ticket, world):
    assert ticket.receipt_status == ReceiptStatus.PENDING
    assert delivery_available_actions(user=world.users["department"], obj=ticket) == {
        "confirm_receipt",
        "report_receipt_problem",
    }
    for role in ("vendor", "bureau", "supervisor", "auditor"):
        assert not delivery_available_actions(user=world.users[role], obj=ticket) & {
            "confirm_receipt",
            "report_receipt_problem",
        }


def test_department_confirms_receipt_with_who_and_when(ticket, world):
    before = billing_of(ticket)
    with time_machine.travel(RECEIVED, tick=False):
        ticket = services.request_receipt_confirm(
            actor=world.users["department"], ticket=ticket, note="已登录验证"
        )
    assert ticket.receipt_status == ReceiptStatus.RECEIVED
    assert (ticket.receipt_by, ticket.receipt_at) == (world.users["department"], RECEIVED)
    assert ticket.receipt_note == "已登录验证"
    assert billing_of(ticket) == before  # a record only
    assert ticket.delivered_at == DELIVERED
    event = AuditEvent.objects.get(action="request.receipt_confirm", object_id=str(ticket.pk))
    assert (event.before["receipt_status"], event.after["receipt_status"]) == (
        "pending",
        "received",
    )
    with pytest.raises(InvalidTransition):  # receipt is final
        services.request_receipt_confirm(actor=world.users["department"], ticket=ticket)
    with pytest.raises(InvalidTransition):
        services.request_receipt_problem(
            actor=world.users["department"],
            ticket=ticket,
            problem=ReceiptProblem.NOT_RECEIVED,
            reason="x",
        )


def test_problem_needs_kind_and_reason_both_reported(ticket, world):
    with pytest.raises(ApplicationError) as refused:
        services.request_receipt_problem(
            actor=world.users["department"], ticket=ticket, problem="", reason=" "
        )
    assert refused.value.extra["fields"] == ["problem", "reason"]
    ticket.refresh_from_db()
    assert ticket.receipt_status == ReceiptStatus.PENDING


def test_problem_notifies_vendor_and_bureau_and_can_be_resolved(
    ticket, world, django_capture_on_commit_callbacks
):
    before = billing_of(ticket)
    with (
        time_machine.travel(RECEIVED, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = services.request_receipt_problem(
            actor=world.users["department"],
            ticket=ticket,
            problem=ReceiptProblem.NOT_AS_REQUESTED,
            reason="交付 4 核，申请 8 核",
        )
    assert ticket.receipt_status == ReceiptStatus.PROBLEM
    assert (ticket.receipt_problem, ticket.receipt_by) == (
        ReceiptProblem.NOT_AS_REQUESTED,
        world.users["department"],
    )
    assert billing_of(ticket) == before
    for role in ("vendor", "bureau"):
        mail = OutboxEmail.objects.get(
            key__startswith=f"ticket:{ticket.pk}:receipt-problem", recipient=world.users[role].email
        )
        assert "与申请不符" in mail.subject
        assert "交付 4 核，申请 8 核" in mail.body
    assert not OutboxEmail.objects.filter(
        key__startswith=f"ticket:{ticket.pk}:receipt-problem",
        recipient=world.users["supervisor"].email,
    ).exists()
    audit = AuditEvent.objects.get(action="request.receipt_problem", object_id=str(ticket.pk))
    assert audit.after["problem"] == "not_as_requested"

    # Resolved: the department signs for it after all.
    ticket = services.request_receipt_confirm(actor=world.users["department"], ticket=ticket)
    assert (ticket.receipt_status, ticket.receipt_problem) == (ReceiptStatus.RECEIVED, "")


@pytest.mark.parametrize("role", ["vendor", "bureau", "supervisor", "auditor"])
def test_only_the_department_signs(ticket, world, role):
    with pytest.raises(ActionForbidden):
        services.request_receipt_confirm(actor=world.users[role], ticket=ticket)
    with pytest.raises(ActionForbidden):
        services.request_receipt_problem(
            actor=world.users[role], ticket=ticket, problem="not_received", reason="x"
        )


def test_another_department_of_the_same_bureau_cannot_sign(ticket, world):
    sibling = UserFactory(organization=DepartmentFactory(parent=world.orgs["bureau"]))
    with pytest.raises(ActionForbidden):
        services.request_receipt_confirm(actor=sibling, ticket=ticket)
    url = reverse("request_receipt", kwargs={"pk": ticket.pk})
    assert verified_client(sibling).post(url).status_code == 404  # not even visible


def test_not_delivered_cannot_be_signed(world):
    ticket = approved_ticket(world)
    assert ticket.receipt_status == ReceiptStatus.NONE
    with pytest.raises(ApplicationError, match="已交付"):
        services.request_receipt_confirm(actor=world.users["department"], ticket=ticket)


# ------------------------------------------------------------------------------- portal


def test_ticket_page_and_list_filter(ticket, world):
    client = verified_client(world.users["department"])
    page = client.get(reverse("request_detail", kwargs={"pk": ticket.pk})).content.decode()
    assert "待签收" in page
    assert reverse("request_receipt", kwargs={"pk": ticket.pk}) in page
    assert reverse("request_receipt_problem", kwargs={"pk": ticket.pk}) in page

    listed = client.get(reverse("request_list"), {"status": "receipt"}).content.decode()
    assert ticket.number in listed
    assert client.post(
        reverse("request_receipt", kwargs={"pk": ticket.pk}), {"note": "已验收"}
    ).status_code == (302)
    listed = client.get(reverse("request_list"), {"status": "receipt"}).content.decode()
    assert f'href="{reverse("request_detail", kwargs={"pk": ticket.pk})}"' not in listed
    page = client.get(reverse("request_detail", kwargs={"pk": ticket.pk})).content.decode()
    assert "已签收" in page
    assert "已验收" in page


def test_problem_form_shows_all_errors_at_once(ticket, world):
    client = verified_client(world.users["department"])
    url = reverse("request_receipt_problem", kwargs={"pk": ticket.pk})
    page = client.post(url, {"problem": "", "reason": ""})
    assert page.status_code == 200
    text = page.content.decode()
    assert "请选择问题类型" in text
    assert "请填写问题说明" in text
    done = client.post(url, {"problem": "not_received", "reason": "未收到开通通知"})
    assert done.status_code == 302
    ticket.refresh_from_db()
    assert ticket.receipt_status == ReceiptStatus.PROBLEM


@pytest.mark.parametrize("name", ["request_receipt", "request_receipt_problem"])
def test_portal_urls_404_across_tenants_and_403_for_parties(ticket, world, foreign, name):
    url = reverse(name, kwargs={"pk": ticket.pk})
    data = {"problem": "not_received", "reason": "x"}
    assert verified_client(foreign.users["department"]).post(url, data).status_code == 404
    assert verified_client(foreign.users["bureau"]).post(url, data).status_code == 404
    vendor = verified_client(world.users["vendor"]).post(url, data)
    assert vendor.status_code in (302, 403)  # refused, never hidden in the own tenant
    ticket.refresh_from_db()
    assert ticket.receipt_status == ReceiptStatus.PENDING


# ---------------------------------------------------------------------------------- API


def test_api_receipt_and_filter(ticket, world, foreign):
    base = f"/api/v1/requests/{ticket.pk}"
    department = person_api(world.users["department"])
    listed = department.get("/api/v1/requests/", {"awaiting_receipt": "true"}).json()
    assert [t["id"] for t in listed["results"]] == [ticket.pk]
    assert listed["results"][0]["receipt_status"] == "pending"

    assert person_api(foreign.users["department"]).post(f"{base}/receipt/").status_code == 404
    assert token_client(foreign.users["vendor"]).post(f"{base}/receipt/").status_code == 404
    assert token_client(world.users["vendor"]).post(f"{base}/receipt/").status_code == 403

    bad = department.post(f"{base}/receipt-problem/", {"problem": "lost"}, format="json")
    assert bad.status_code == 400
    body = department.post(
        f"{base}/receipt-problem/",
        {"problem": "not_received", "reason": "未收到"},
        format="json",
    ).json()
    assert (body["receipt_status"], body["receipt_problem"], body["receipt_note"]) == (
        "problem",
        "not_received",
        "未收到",
    )
    body = department.post(f"{base}/receipt/", {"note": "已解决"}, format="json").json()
    assert body["receipt_status"] == "received"
    assert body["receipt_by"] == str(world.users["department"])
    assert body["receipt_at"] is not None
    listed = department.get("/api/v1/requests/", {"awaiting_receipt": "true"}).json()
    assert listed["count"] == 0
