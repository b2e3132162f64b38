"""Ticket workflow through the services: every transition and every refusal."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError

from billing.models import Resource, ResourceChange, ResourceStatus
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.models import AuditEvent, OutboxEmail
from requests_app import services
from requests_app.models import ExtensionStatus, RequestStatus
from tests.requests_app.factories import (
    approved_ticket,
    delivered_ticket,
    submitted_ticket,
    vcpu_item,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_department_creates_and_submits_with_audit(world):
    ticket = submitted_ticket(world)
    assert ticket.status == RequestStatus.SUBMITTED
    assert ticket.number == f"{world.contract.code}-{ticket.pk:06d}"
    actions = list(
        AuditEvent.objects.filter(object_id=str(ticket.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["request.create", "request.submit"]


def test_review_chain_bureau_then_supervisor_starts_the_clock(
    world, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        ticket = submitted_ticket(world)
        ticket = services.request_approve(actor=world.users["bureau"], ticket=ticket)
        assert (ticket.status, ticket.review_step, ticket.due_at) == (
            RequestStatus.IN_REVIEW,
            1,
            None,
        )
        with django_capture_on_commit_callbacks(execute=True):
            ticket = services.request_approve(
                actor=world.users["supervisor"], ticket=ticket, comment="同意"
            )
    assert ticket.status == RequestStatus.APPROVED
    # DESIGN §3: approved 2026-09-30 10:00 → end of 2026-10-09 (National Day + make-up Saturday).
    assert ticket.due_at == at(2026, 10, 10, 0, 0)
    assert ticket.due_provisional is False
    vendor_mail = OutboxEmail.objects.get(
        key__startswith=f"ticket:{ticket.pk}:approved", recipient=world.users["vendor"].email
    )
    assert vendor_mail.status == "sent"
    assert any("已批准" in m.subject for m in mail.outbox)


@pytest.mark.parametrize(
    ("approved", "two_day", "five_day"),
    [
        pytest.param(
            at(2026, 9, 30, 10, 0), at(2026, 10, 10), at(2026, 10, 14), id="national-day-2026"
        ),
        pytest.param(
            at(2026, 9, 19, 16, 0), at(2026, 9, 22), at(2026, 9, 25), id="makeup-sunday-0920"
        ),
        pytest.param(
            at(2026, 2, 13, 17, 0), at(2026, 2, 25), at(2026, 2, 28), id="spring-festival-2026"
        ),
    ],
)
def test_deadlines_and_extension_on_the_official_calendar(world, approved, two_day, five_day):
    with time_machine.travel(approved, tick=False):
        ticket = approved_ticket(world)
    assert ticket.due_at == two_day
    with time_machine.travel(approved + timedelta(hours=1), tick=False):
        extension = services.extension_request(
            actor=world.users["vendor"],
            ticket=ticket,
            reason="设备到货延迟",
            expected_completion=five_day - timedelta(hours=2),
        )
        services.extension_decide(actor=world.users["bureau"], extension=extension, approve=True)
    ticket.refresh_from_db()
    assert ticket.extended is True
    assert ticket.due_at == five_day


def test_return_and_resubmit_then_reject(world):
    ticket = submitted_ticket(world)
    with pytest.raises(ApplicationError, match="意见"):
        services.request_return(actor=world.users["bureau"], ticket=ticket, comment="  ")
    ticket = services.request_return(
        actor=world.users["bureau"], ticket=ticket, comment="请补充说明"
    )
    assert ticket.status == RequestStatus.RETURNED
    item_id = ticket.lines.get().catalog_item_id
    services.request_update(
        actor=world.users["department"],
        ticket=ticket,
        reason="已补充说明",
        lines=[services.LineInput(catalog_item_id=item_id, quantity=4)],
        system_id=ticket.system_id,
    )
    ticket = services.request_submit(actor=world.users["department"], ticket=ticket)
    assert ticket.status == RequestStatus.SUBMITTED
    assert ticket.lines.get().quantity == 4
    ticket = services.request_reject(
        actor=world.users["bureau"], ticket=ticket, comment="不符合上云条件"
    )
    assert ticket.status == RequestStatus.REJECTED


@pytest.mark.parametrize(
    ("who", "action", "error"),
    [
        ("vendor", "approve", ActionForbidden),
        ("supervisor", "approve", ActionForbidden),  # not yet their step
        ("department", "approve", ActionForbidden),
        ("auditor", "approve", ActionForbidden),
        ("system_admin", "approve", ActionForbidden),  # 三员分立
        ("bureau", "deliver", ActionForbidden),
        ("vendor", "deliver", InvalidTransition),  # not approved yet
        ("bureau", "cancel", ActionForbidden),
        ("department", "submit", InvalidTransition),  # already submitted
    ],
)
def test_refusals_change_nothing(world, who, action, error):
    ticket = submitted_ticket(world)
    before = AuditEvent.objects.count()
    calls = {
        "approve": lambda u: services.request_approve(actor=u, ticket=ticket),
        "deliver": lambda u: services.request_deliver(actor=u, ticket=ticket, items=[]),
        "cancel": lambda u: services.request_cancel(actor=u, ticket=ticket),
        "submit": lambda u: services.request_submit(actor=u, ticket=ticket),
    }
    with pytest.raises(error):
        calls[action](world.users[who])
    ticket.refresh_from_db()
    assert ticket.status == RequestStatus.SUBMITTED
    assert AuditEvent.objects.count() == before


def test_other_tenant_cannot_act(world, foreign):
    ticket = submitted_ticket(world)
    with pytest.raises(ActionForbidden):
        services.request_approve(actor=foreign.users["bureau"], ticket=ticket)
    with pytest.raises(ActionForbidden):
        services.request_cancel(actor=foreign.users["department"], ticket=ticket)


def test_department_cannot_use_a_foreign_contract(world, foreign):
    item = vcpu_item(foreign.contract)
    with pytest.raises(ActionForbidden):
        services.request_create(
            actor=world.users["department"],
            contract=foreign.contract,
            kind="new",
            reason="x",
            system_name="s",
            lines=[services.LineInput(catalog_item_id=item.pk, quantity=1)],
        )


def test_bad_lines_are_listed_and_nothing_is_saved(world):
    item = vcpu_item(world.contract)
    with pytest.raises(ApplicationError) as exc:
        services.request_create(
            actor=world.users["department"],
            contract=world.contract,
            kind="new",
            reason="x",
            system_name="s",
            lines=[
                services.LineInput(catalog_item_id=item.pk, quantity=0),
                services.LineInput(catalog_item_id=999999, quantity=1),
            ],
        )
    assert len(exc.value.extra["errors"]) == 2
    assert not world.contract.requests.exists()


def test_cancel_before_approval_only(world):
    ticket = submitted_ticket(world)
    assert (
        services.request_cancel(actor=world.users["department"], ticket=ticket).status
        == "cancelled"
    )
    approved = approved_ticket(world, system_name="另一个系统")
    with pytest.raises(InvalidTransition):
        services.request_cancel(actor=world.users["department"], ticket=approved)


def test_delivery_creates_inventory_and_starts_billing_after_the_test_period(world):
    world.contract.test_period_months = 1
    world.contract.save()
    with time_machine.travel(at(2026, 3, 10, 15, 0), tick=False):
        ticket = delivered_ticket(world)
    resource = Resource.objects.get(system=ticket.system)
    assert (resource.quantity, resource.vendor_ref) == (8, f"i-{ticket.lines.get().pk}")
    assert resource.online_at == at(2026, 3, 10, 15, 0)
    assert resource.billing_starts_at == at(2026, 4, 10, 15, 0)  # 测试期1个月不计费
    assert ResourceChange.objects.filter(resource=resource).count() == 1
    assert ticket.breached is False


def test_change_and_release_update_the_inventory(world):
    with time_machine.travel(at(2026, 3, 2, 9, 0), tick=False):
        delivered = delivered_ticket(world)
    resource = Resource.objects.get(system=delivered.system)
    with time_machine.travel(at(2026, 3, 20, 10, 0), tick=False):
        change = services.request_create(
            actor=world.users["department"],
            contract=world.contract,
            kind="change",
            reason="扩容",
            system_id=resource.system_id,
            lines=[services.LineInput(resource_id=resource.pk, quantity=16)],
            submit=True,
        )
        services.request_approve(actor=world.users["bureau"], ticket=change)
        services.request_approve(actor=world.users["supervisor"], ticket=change)
        services.request_deliver(actor=world.users["vendor"], ticket=change)
    resource.refresh_from_db()
    assert resource.quantity == 16
    assert list(resource.changes.values_list("quantity", flat=True)) == [8, 16]
    with time_machine.travel(at(2026, 4, 1, 10, 0), tick=False):
        release = services.request_create(
            actor=world.users["department"],
            contract=world.contract,
            kind="release",
            reason="下线",
            system_id=resource.system_id,
            lines=[services.LineInput(resource_id=resource.pk)],
            submit=True,
        )
        services.request_approve(actor=world.users["bureau"], ticket=release)
        services.request_approve(actor=world.users["supervisor"], ticket=release)
        services.request_deliver(actor=world.users["vendor"], ticket=release)
    resource.refresh_from_db()
    assert resource.status == ResourceStatus.RELEASED
    assert resource.offline_at == at(2026, 4, 1, 10, 0)


def test_a_resource_cannot_be_in_two_open_tickets(world):
    delivered = delivered_ticket(world)
    resource = Resource.objects.get(system=delivered.system)
    kwargs = dict(
        actor=world.users["department"],
        contract=world.contract,
        kind="release",
        reason="x",
        system_id=resource.system_id,
        lines=[services.LineInput(resource_id=resource.pk)],
    )
    services.request_create(**kwargs)
    with pytest.raises(ApplicationError):
        services.request_create(**kwargs)


def test_late_delivery_is_a_breach_and_supervisor_can_exempt(
    world, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        ticket = approved_ticket(world)
    with time_machine.travel(at(2026, 10, 12, 9, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            result = services.request_check_clocks()
        assert result["breached"] == 1
        assert services.request_check_clocks()["breached"] == 0  # exactly once
        with pytest.raises(ApplicationError, match="截止"):
            services.extension_request(
                actor=world.users["vendor"],
                ticket=ticket,
                reason="晚了",
                expected_completion=at(2026, 10, 13, 9, 0),
            )
        items = [
            services.DeliveryInput(line_id=ln.pk, vendor_ref="i-1") for ln in ticket.lines.all()
        ]
        ticket = services.request_deliver(actor=world.users["vendor"], ticket=ticket, items=items)
    assert ticket.breached is True
    breach_mails = OutboxEmail.objects.filter(key__startswith=f"ticket:{ticket.pk}:breached")
    assert {m.recipient for m in breach_mails} >= {
        world.users["bureau"].email,
        world.users["supervisor"].email,
    }
    with pytest.raises(ActionForbidden):
        services.request_exempt(actor=world.users["bureau"], ticket=ticket, reason="x")
    ticket = services.request_exempt(
        actor=world.users["supervisor"], ticket=ticket, reason="机房停电，非乙方原因"
    )
    assert ticket.exempted is True


def test_reminder_on_the_last_working_day_goes_out_once(world, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        ticket = approved_ticket(world)
    with time_machine.travel(at(2026, 10, 9, 8, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.request_check_clocks()["reminded"] == 1
            assert services.request_check_clocks()["reminded"] == 0
    rows = OutboxEmail.objects.filter(key__startswith=f"ticket:{ticket.pk}:due-reminder")
    # One notice, once per vendor address (the engineer and the organisation's mailbox).
    assert rows.values("key").distinct().count() == 1
    assert sorted(rows.values_list("recipient", flat=True)) == sorted(
        [world.users["vendor"].email, world.orgs["vendor"].email]
    )


def test_extension_rules(world):
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        ticket = approved_ticket(world)
        with pytest.raises(ApplicationError, match="延期后的截止"):
            services.extension_request(
                actor=world.users["vendor"],
                ticket=ticket,
                reason="r",
                expected_completion=at(2026, 10, 20, 9, 0),
            )
        ext = services.extension_request(
            actor=world.users["vendor"],
            ticket=ticket,
            reason="r",
            expected_completion=at(2026, 10, 13, 9, 0),
        )
        with pytest.raises(ApplicationError, match="待审批"):
            services.extension_request(
                actor=world.users["vendor"],
                ticket=ticket,
                reason="r",
                expected_completion=at(2026, 10, 13, 9, 0),
            )
        with pytest.raises(ActionForbidden):
            services.extension_decide(actor=world.users["supervisor"], extension=ext, approve=True)
        with pytest.raises(ApplicationError, match="意见"):
            services.extension_decide(actor=world.users["bureau"], extension=ext, approve=False)
        ext = services.extension_decide(
            actor=world.users["bureau"], extension=ext, approve=False, comment="不同意"
        )
    ticket.refresh_from_db()
    assert ext.status == ExtensionStatus.REJECTED
    assert ticket.due_at == at(2026, 10, 10)


def test_missing_calendar_year_gives_a_provisional_clock_recomputed_on_load(world):
    from govcloud import workdays

    real = workdays.get_calendar_provider()
    workdays.set_calendar_provider(lambda year: None if year == 2026 else real(year))
    try:
        with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
            ticket = approved_ticket(world)
        assert ticket.due_provisional is True
        assert ticket.due_at == at(2026, 10, 3)  # weekends only: Thu 10-01, Fri 10-02
    finally:
        workdays.set_calendar_provider(real)
    moved = services.request_recompute_clocks(year=2026)
    ticket.refresh_from_db()
    assert moved == 1
    assert (ticket.due_at, ticket.due_provisional) == (at(2026, 10, 10), False)
    assert AuditEvent.objects.filter(
        action="request.deadline_recomputed", object_id=str(ticket.pk)
    ).exists()


def test_only_one_pending_extension_is_a_database_invariant(world):
    from requests_app.models import ExtensionRequest

    ticket = approved_ticket(world)
    ExtensionRequest.objects.create(
        request=ticket,
        requested_by=world.users["vendor"],
        reason="a",
        expected_completion=ticket.due_at,
    )
    with pytest.raises(IntegrityError):
        ExtensionRequest.objects.create(
            request=ticket,
            requested_by=world.users["vendor"],
            reason="b",
            expected_completion=ticket.due_at,
        )
