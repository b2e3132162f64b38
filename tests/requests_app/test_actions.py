"""The one "what may this user do now" rule of tickets, and the one "overdue" rule."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from requests_app import services
from requests_app.actions import REQUEST_ACTIONS, request_available_actions
from requests_app.models import RequestStatus, ResourceRequest
from tests.requests_app.factories import (
    approved_ticket,
    delivered_ticket,
    submitted_ticket,
    vcpu_item,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
ROLES = [
    "department",
    "bureau",
    "supervisor",
    "vendor",
    "auditor",
    "security_admin",
    "audit_admin",
    "system_admin",
]


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def draft_ticket(world) -> ResourceRequest:
    return services.request_create(
        actor=world.users["department"],
        contract=world.contract,
        kind="new",
        reason="新系统上云",
        system_name="不动产登记系统",
        lines=[services.LineInput(catalog_item_id=vcpu_item(world.contract).pk, quantity=8)],
    )


def pending_extension(world) -> ResourceRequest:
    ticket = approved_ticket(world)
    services.extension_request(
        actor=world.users["vendor"],
        ticket=ticket,
        reason="设备到货延迟",
        expected_completion=ticket.due_at,
    )
    return ticket


def breached_ticket(world) -> ResourceRequest:
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        ticket = approved_ticket(world)
    with time_machine.travel(at(2026, 10, 12, 9, 0), tick=False):
        items = [
            services.DeliveryInput(line_id=ln.pk, vendor_ref="i-1") for ln in ticket.lines.all()
        ]
        return services.request_deliver(actor=world.users["vendor"], ticket=ticket, items=items)


STATES = {
    "draft": (draft_ticket, {"department": {"edit", "submit", "cancel"}}),
    "submitted": (
        submitted_ticket,
        {"department": {"cancel"}, "bureau": {"approve", "return", "reject"}},
    ),
    "approved": (
        approved_ticket,
        {"vendor": {"deliver", "request_extension"}},
    ),
    "extension-pending": (
        pending_extension,
        {"vendor": {"deliver"}, "bureau": {"decide_extension"}},
    ),
    "delivered": (delivered_ticket, {}),
    "breached": (breached_ticket, {"supervisor": {"exempt"}}),
}


@pytest.mark.parametrize("state", sorted(STATES))
def test_available_actions_per_state_and_role(world, state):
    make, expected = STATES[state]
    ticket = make(world)
    for role in ROLES:
        actions = request_available_actions(user=world.users[role], obj=ticket)
        assert actions == frozenset(expected.get(role, set())), (state, role)


def test_the_other_tenant_may_do_nothing(world, foreign):
    ticket = submitted_ticket(world)
    for role in ROLES:
        assert request_available_actions(user=foreign.users[role], obj=ticket) == frozenset()


@pytest.mark.parametrize(
    ("role", "action", "error"),
    [
        ("supervisor", "approve", ActionForbidden),  # not yet their step
        ("system_admin", "approve", ActionForbidden),  # 三员分立
        ("bureau", "cancel", ActionForbidden),
        ("department", "submit", InvalidTransition),  # already submitted
        ("vendor", "deliver", InvalidTransition),  # the vendor's step, but not approved yet
        ("bureau", "deliver", ActionForbidden),
    ],
)
def test_require_raises_what_the_service_raises(world, role, action, error):
    ticket = submitted_ticket(world)
    with pytest.raises(error) as raised:
        REQUEST_ACTIONS.require(action, world.users[role], ticket)
    assert not REQUEST_ACTIONS.allows(action, world.users[role], ticket)
    assert isinstance(raised.value, ApplicationError)


def test_what_is_offered_is_what_the_service_accepts(world):
    """Every offered action of a submitted ticket succeeds through its service."""
    ticket = submitted_ticket(world)
    bureau = world.users["bureau"]
    assert "approve" in request_available_actions(user=bureau, obj=ticket)
    ticket = services.request_approve(actor=bureau, ticket=ticket)
    assert request_available_actions(user=bureau, obj=ticket) == frozenset()
    supervisor = world.users["supervisor"]
    assert "approve" in request_available_actions(user=supervisor, obj=ticket)
    ticket = services.request_approve(actor=supervisor, ticket=ticket)
    assert ticket.status == RequestStatus.APPROVED


# ---------------------------------------------------------------- overdue: one rule


def test_overdue_queryset_and_instance_method_agree(world):
    with time_machine.travel(at(2026, 9, 28, 10, 0), tick=False):
        waiting = submitted_ticket(world, system_name="甲系统")
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        open_late = approved_ticket(world, system_name="乙系统")  # due 10-10 00:00
    late = breached_ticket(world)
    with time_machine.travel(at(2026, 10, 12, 9, 30), tick=False):
        on_time = approved_ticket(world, system_name="丙系统")
    now = at(2026, 10, 12, 10, 0)
    overdue = set(ResourceRequest.objects.overdue(now).values_list("pk", flat=True))
    assert overdue == {open_late.pk, late.pk}
    assert set(ResourceRequest.objects.not_overdue(now).values_list("pk", flat=True)) == {
        waiting.pk,
        on_time.pk,
    }
    for ticket in ResourceRequest.objects.all():
        assert ticket.is_overdue(now) == (ticket.pk in overdue), ticket.number
    # The deadline instant itself is already late.
    open_late.refresh_from_db()
    assert open_late.is_overdue(open_late.due_at)
    assert ResourceRequest.objects.overdue(open_late.due_at).filter(pk=open_late.pk).exists()


# ---------------------------------------------------------------- composite steps


def test_update_and_submit_is_one_step(world):
    ticket = services.request_return(
        actor=world.users["bureau"], ticket=submitted_ticket(world), comment="补充材料"
    )
    item_id = ticket.lines.get().catalog_item_id
    ticket = services.request_update(
        actor=world.users["department"],
        ticket=ticket,
        reason="已补充",
        lines=[services.LineInput(catalog_item_id=item_id, quantity=4)],
        system_id=ticket.system_id,
        submit=True,
    )
    assert ticket.status == RequestStatus.SUBMITTED
    assert ticket.lines.get().quantity == 4
