"""No new requests outside active, expiring and continuation (issue 12 item 7).

BT-2025 ended 2026-06-19; BT 2.2 lets the service continue up to 30 working days — on the
official 2026 calendar June 22–30 (7) and July's 23 working days, so through **2026-07-31**
(see ``tests/govcloud/test_lifecycle.py``). On 2026-12-04 it is closed: the request the issue
saw accepted, approved and delivered that day is refused, citing the term. A ticket approved
in time may still be delivered during the continuation, never after.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from billing.contracts import load_reference_contracts
from govcloud.exceptions import InvalidTransition
from govcloud.models import Contract, Organization, OrganizationKind
from requests_app import services
from requests_app.models import RequestStatus
from tests.conftest import World, verified_client
from tests.factories import CatalogItemFactory, UserFactory, make_totp

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def bt(db) -> World:
    """BT-2025 as loaded from its contract file, with a user per party and a department."""
    load_reference_contracts()
    contract = Contract.objects.get(code="BT-2025")
    orgs = {p.role: p.organization for p in contract.parties.all()}
    orgs["department"] = Organization.objects.create(
        name="包头测试局", kind=OrganizationKind.DEPARTMENT, parent=contract.bureau
    )
    world = World(contract=contract, orgs=orgs)
    for key, org in orgs.items():
        world.users[key] = UserFactory(organization=org)
        if world.users[key].requires_two_factor:
            make_totp(world.users[key])
    return world


def create(world: World, *, submit: bool = True):
    item = world.contract.catalog_items.get(code="ecs.general.vcpu")
    return services.request_create(
        actor=world.users["department"],
        contract=world.contract,
        kind="new",
        reason="新系统上云",
        system_name="不动产登记系统",
        lines=[services.LineInput(catalog_item_id=item.pk, quantity=8)],
        submit=submit,
    )


def approve(world: World, ticket):
    ticket = services.request_approve(actor=world.users["bureau"], ticket=ticket)
    return services.request_approve(actor=world.users["supervisor"], ticket=ticket)


def deliver(world: World, ticket):
    items = [
        services.DeliveryInput(line_id=line.pk, vendor_ref=f"i-{line.pk}")
        for line in ticket.lines.all()
    ]
    return services.request_deliver(actor=world.users["vendor"], ticket=ticket, items=items)


def test_bt_2025_refuses_a_new_request_on_2026_12_04(bt):
    with (
        time_machine.travel(at(2026, 12, 4, 10), tick=False),
        pytest.raises(InvalidTransition) as refused,
    ):
        create(bt)
    message = refused.value.message
    assert "服务期已于 2026-06-19 届满" in message
    assert "最多 30 个工作日（合同第 2.2 条）" in message
    assert "已于 2026-07-31 结束" in message
    assert "不再受理资源申请" in message
    assert refused.value.extra == {"contract_state": "closed"}
    assert not bt.contract.requests.exists()


def test_requests_are_accepted_approved_and_delivered_during_continuation(bt):
    with time_machine.travel(at(2026, 7, 15, 10), tick=False):
        ticket = approve(bt, create(bt))
    assert ticket.status == RequestStatus.APPROVED
    with time_machine.travel(at(2026, 7, 31, 16), tick=False):  # the 30th working day
        ticket = deliver(bt, ticket)
    assert ticket.status == RequestStatus.DELIVERED


def test_an_approved_ticket_cannot_be_delivered_once_closed(bt):
    with time_machine.travel(at(2026, 7, 30, 10), tick=False):
        ticket = approve(bt, create(bt))
    with (
        time_machine.travel(at(2026, 8, 3, 9), tick=False),
        pytest.raises(InvalidTransition, match="不能再交付资源"),
    ):
        deliver(bt, ticket)
    ticket.refresh_from_db()
    assert ticket.status == RequestStatus.APPROVED


def test_a_ticket_submitted_in_time_is_not_approved_after_the_close(bt):
    with time_machine.travel(at(2026, 7, 31, 10), tick=False):
        ticket = create(bt)
    with (
        time_machine.travel(at(2026, 8, 1, 9), tick=False),
        pytest.raises(InvalidTransition, match="2026-07-31 结束"),
    ):
        services.request_approve(actor=bt.users["bureau"], ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.status == RequestStatus.SUBMITTED


def test_a_draft_ticket_is_not_submitted_after_the_close(bt):
    with time_machine.travel(at(2026, 7, 31, 10), tick=False):
        ticket = create(bt, submit=False)
    with time_machine.travel(at(2026, 8, 1, 9), tick=False), pytest.raises(InvalidTransition):
        services.request_submit(actor=bt.users["department"], ticket=ticket)


@pytest.mark.parametrize(
    ("changes", "on", "expected"),
    [
        pytest.param(
            {"activated_at": None}, date(2026, 3, 2), "尚未生效（待甲方启用）", id="draft"
        ),
        pytest.param(
            {"termination_notice_on": date(2026, 1, 2), "terminates_on": date(2026, 3, 31)},
            date(2026, 4, 1),
            "已于 2026-03-31 提前终止",
            id="terminated",
        ),
        pytest.param(
            {"continuation_working_days": None},
            date(2026, 6, 20),
            "合同未约定期满后继续服务",
            id="no-continuation-term",
        ),
    ],
)
def test_draft_terminated_and_ended_contracts_refuse(bt, changes, on, expected):
    Contract.objects.filter(pk=bt.contract.pk).update(**changes)
    bt.contract.refresh_from_db()
    with (
        time_machine.travel(at(on.year, on.month, on.day, 10), tick=False),
        pytest.raises(InvalidTransition, match=expected),
    ):
        create(bt)


def test_the_request_form_offers_only_open_contracts(bt):
    jz = Contract.objects.get(code="JZ-2026")
    department = bt.users["department"]
    # A department of JZ-2026's bureau too? No: each bureau its own. Give the department's
    # bureau a second, open contract instead.
    open_contract = Contract.objects.create(
        **{
            f.name: getattr(jz, f.name)
            for f in Contract._meta.concrete_fields
            if f.name not in ("id", "code", "predecessor", "created_at", "updated_at")
        },
        code="BT-OPEN",
    )
    open_contract.parties.create(organization=bt.contract.bureau, role="bureau", review_order=1)
    CatalogItemFactory(contract=open_contract, code="ecs.general.vcpu")
    url = reverse("request_create")
    with time_machine.travel(at(2026, 12, 4, 10), tick=False):
        html = verified_client(department).get(url).content.decode()
        picked = verified_client(department).get(url, {"contract": bt.contract.pk})
    assert "BT-OPEN" in html
    assert "BT-2025" not in html
    assert picked.status_code == 404
