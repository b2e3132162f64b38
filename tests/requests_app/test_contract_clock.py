"""The delivery clock is a contract term (DESIGN §3, §4a).

A contract without one (JZ-2026 四.5: 乙方应及时……开通资源并交付) records approval and
delivery and shows the working days between them: no deadline, no reminder, no breach, no
overdue, no extension, no exemption. A contract with one (BT-2025 附件2 §2) keeps its 2 / 5
working days, and every deadline shown cites the clause.

Dates on the official 2026 calendar: National Day 10-01…10-07 off, 09-20 (Sun) and 10-10 (Sat)
make-up working days.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from billing.contracts import load_reference_contracts
from govcloud.exceptions import ApplicationError
from govcloud.models import (
    AuditEvent,
    Contract,
    ContractClause,
    Organization,
    OrganizationKind,
    OutboxEmail,
    PartyRole,
    User,
)
from requests_app import services
from requests_app.actions import REQUEST_ACTIONS, request_available_actions
from requests_app.models import RequestStatus, ResourceRequest
from tests.conftest import World, verified_client
from tests.factories import UserFactory, contract_with_parties, make_totp
from tests.requests_app.factories import approved_ticket

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")

JZ_QUOTE = "乙方应及时按照甲方提供的资源使用需求开通资源并交付"
BT_QUOTE = "资源交付服务响应时间不超过2个工作日"
BT_EXT_QUOTE = "获得甲方的书面批准，可延长至5个工作日"

APPROVED = (2026, 9, 29, 10, 0)  # a Tuesday, the day before the National Day run
DELIVERED = (2026, 10, 13, 9, 0)  # 09-30, 10-08, 10-09, 10-10 (make-up Sat), 10-12, 10-13


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def _world(contract: Contract, orgs: dict[str, Organization]) -> World:
    world = World(contract=contract, orgs=orgs)
    for key, org in orgs.items():
        world.users[key] = UserFactory(organization=org)
        if world.users[key].requires_two_factor:
            make_totp(world.users[key])
    return world


@pytest.fixture
def jz(db) -> World:
    """A JZ-like contract: no delivery clock, no extension, no SLA annex, bureau-only review."""
    contract, orgs = contract_with_parties(
        supervisor=False,
        auditor=False,
        delivery_working_days=None,
        extended_delivery_working_days=None,
        scorecard="",
    )
    ContractClause.objects.create(
        contract=contract, term="delivery_working_days", clause="四.5", quote=JZ_QUOTE
    )
    return _world(contract, orgs)


@pytest.fixture
def bt(world) -> World:
    """The shared world (the Baotou regime) with the clauses of its delivery terms."""
    ContractClause.objects.create(
        contract=world.contract, term="delivery_working_days", clause="附件2 §2", quote=BT_QUOTE
    )
    ContractClause.objects.create(
        contract=world.contract,
        term="extended_delivery_working_days",
        clause="附件2 §2",
        quote=BT_EXT_QUOTE,
    )
    return world


def deliver(world: World, ticket: ResourceRequest) -> ResourceRequest:
    items = [
        services.DeliveryInput(line_id=line.pk, vendor_ref=f"i-{line.pk}")
        for line in ticket.lines.all()
    ]
    return services.request_deliver(actor=world.users["vendor"], ticket=ticket, items=items)


def approved_then_delivered(world: World) -> ResourceRequest:
    with time_machine.travel(at(*APPROVED), tick=False):
        ticket = approved_ticket(world)
    with time_machine.travel(at(*DELIVERED), tick=False):
        return deliver(world, ticket)


def page(world: World, role: str, url: str) -> str:
    response = verified_client(world.users[role]).get(url)
    assert response.status_code == 200
    return response.content.decode()


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    return client


# ---------------------------------------------------------------- services


def test_approval_is_recorded_without_a_deadline(jz, django_capture_on_commit_callbacks):
    with (
        time_machine.travel(at(*APPROVED), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = approved_ticket(jz)

    assert ticket.status == RequestStatus.APPROVED
    assert ticket.approved_at == at(*APPROVED)
    assert (ticket.due_at, ticket.due_provisional) == (None, False)
    mail = OutboxEmail.objects.get(
        key__startswith=f"ticket:{ticket.pk}:approved", recipient=jz.users["vendor"].email
    )
    assert "请及时交付" in mail.subject
    assert "本合同未约定交付时限" in mail.body
    assert f"四.5“{JZ_QUOTE}”" in mail.body
    assert "截止" not in mail.body


def test_delivered_six_working_days_later_is_no_breach(jz):
    ticket = approved_then_delivered(jz)

    assert ticket.status == RequestStatus.DELIVERED
    assert ticket.delivered_at == at(*DELIVERED)
    assert (ticket.due_at, ticket.breached) == (None, False)
    assert ticket.is_overdue(at(*DELIVERED)) is False
    assert not ResourceRequest.objects.overdue(at(*DELIVERED)).filter(pk=ticket.pk).exists()
    delivery = AuditEvent.objects.get(object_id=str(ticket.pk), action="request.deliver")
    assert delivery.after["elapsed_working_days"] == 6
    assert delivery.after["elapsed_provisional"] is False


def test_the_same_dates_breach_the_two_day_clock(world):
    """The control: under BT's terms the 2-day deadline ended with 10-08."""
    ticket = approved_then_delivered(world)

    assert ticket.due_at == at(2026, 10, 9, 0, 0)
    assert ticket.breached is True
    assert ticket.is_overdue() is True


@pytest.mark.parametrize(
    ("approved", "now", "elapsed"),
    [
        pytest.param(at(2026, 9, 29, 10, 0), at(2026, 9, 29, 17, 0), 0, id="same-day"),
        pytest.param(at(2026, 9, 30, 10, 0), at(2026, 10, 7, 18, 0), 0, id="through-national-day"),
        pytest.param(at(2026, 9, 30, 10, 0), at(2026, 10, 8, 9, 0), 1, id="first-day-after"),
        pytest.param(at(2026, 9, 30, 10, 0), at(2026, 10, 10, 9, 0), 3, id="makeup-saturday-1010"),
        pytest.param(at(2026, 9, 30, 10, 0), at(2026, 10, 11, 9, 0), 3, id="sunday-1011-is-off"),
        pytest.param(at(2026, 9, 19, 16, 0), at(2026, 9, 21, 9, 0), 2, id="makeup-sunday-0920"),
    ],
)
def test_elapsed_working_days_while_open(jz, approved, now, elapsed):
    with time_machine.travel(approved, tick=False):
        ticket = approved_ticket(jz)
    with time_machine.travel(now, tick=False):
        body = api(jz.users["vendor"]).get(f"/api/v1/requests/{ticket.pk}/").json()
    assert body["elapsed_working_days"] == elapsed
    assert (body["due_at"], body["deadline"], body["is_overdue"]) == (None, None, False)


def test_no_reminder_and_no_breach_notice(jz, django_capture_on_commit_callbacks):
    with time_machine.travel(at(*APPROVED), tick=False):
        ticket = approved_ticket(jz)
    for moment in (at(2026, 9, 30, 9, 0), at(2026, 10, 8, 9, 0), at(2026, 10, 20, 9, 0)):
        assert services.request_check_clocks(now=moment) == {"reminded": 0, "breached": 0}
    assert not OutboxEmail.objects.filter(key__contains="due-reminder").exists()
    assert not OutboxEmail.objects.filter(key__contains="breached").exists()
    ticket.refresh_from_db()
    assert (ticket.reminder_sent_for, ticket.breach_notified_at) == (None, None)


def test_overdue_never_matches_a_contract_without_a_clock(jz, bt):
    """Not even a ticket that carries a deadline or a breach from before the term was set."""
    with time_machine.travel(at(*APPROVED), tick=False):
        open_ticket = approved_ticket(jz, system_name="甲系统")
        late_ticket = approved_ticket(jz, system_name="乙系统")
        bt_ticket = approved_ticket(bt)
    with time_machine.travel(at(*DELIVERED), tick=False):
        late_ticket = deliver(jz, late_ticket)
    ResourceRequest.objects.filter(pk=open_ticket.pk).update(due_at=at(2026, 10, 9))
    ResourceRequest.objects.filter(pk=late_ticket.pk).update(breached=True)
    now = at(2026, 10, 20, 9, 0)

    overdue = set(ResourceRequest.objects.overdue(now).values_list("pk", flat=True))
    assert overdue == {bt_ticket.pk}
    for ticket in ResourceRequest.objects.filter(pk__in=[open_ticket.pk, late_ticket.pk]):
        assert ticket.is_overdue(now) is False
    assert services.request_check_clocks(now=now) == {"reminded": 0, "breached": 1}
    # A recomputation follows the contract's terms: the stale deadline goes.
    assert services.request_recompute_clocks() == 1
    open_ticket.refresh_from_db()
    assert (open_ticket.due_at, open_ticket.due_provisional) == (None, False)


def test_no_extension_can_be_requested(jz):
    with time_machine.travel(at(*APPROVED), tick=False):
        ticket = approved_ticket(jz)
        vendor = jz.users["vendor"]
        assert "request_extension" not in request_available_actions(user=vendor, obj=ticket)
        assert "deliver" in request_available_actions(user=vendor, obj=ticket)
        with pytest.raises(ApplicationError, match="本合同未约定交付时限（及时交付），不适用延期"):
            REQUEST_ACTIONS.require("request_extension", vendor, ticket)
        with pytest.raises(ApplicationError, match="不适用延期"):
            services.extension_request(
                actor=vendor,
                ticket=ticket,
                reason="设备到货延迟",
                expected_completion=at(2026, 10, 9, 18, 0),
            )
    assert not ticket.extensions.exists()


def test_a_clock_without_an_extended_period_allows_no_extension(db):
    contract, orgs = contract_with_parties(extended_delivery_working_days=None)
    world = _world(contract, orgs)
    with time_machine.travel(at(*APPROVED), tick=False):
        ticket = approved_ticket(world)
        assert ticket.due_at == at(2026, 10, 9)
        with pytest.raises(ApplicationError, match="未约定延期交付时限"):
            services.extension_request(
                actor=world.users["vendor"],
                ticket=ticket,
                reason="设备到货延迟",
                expected_completion=at(2026, 10, 8, 18, 0),
            )


def test_the_late_delivery_exemption_does_not_apply(jz):
    ticket = approved_then_delivered(jz)
    ResourceRequest.objects.filter(pk=ticket.pk).update(breached=True)  # stale, from before
    ticket.refresh_from_db()
    bureau = jz.users["bureau"]  # the judge where there is no supervisor
    assert "exempt" not in request_available_actions(user=bureau, obj=ticket)
    with pytest.raises(ApplicationError, match="不存在超时交付"):
        services.request_exempt(actor=bureau, ticket=ticket, reason="非乙方原因")
    ticket.refresh_from_db()
    assert ticket.exempted is False
    awaiting_ruling = page(jz, "bureau", reverse("request_list") + "?status=breached")
    assert ticket.number not in awaiting_ruling


# ---------------------------------------------------------------- API


def test_api_shows_elapsed_days_and_no_deadline(jz):
    ticket = approved_then_delivered(jz)
    client = api(jz.users["bureau"])

    with time_machine.travel(at(2026, 10, 20, 9, 0), tick=False):
        body = client.get(f"/api/v1/requests/{ticket.pk}/").json()
        listed = client.get("/api/v1/requests/", {"overdue": "true"}).json()
        breached = client.get("/api/v1/requests/", {"breached": "true"}).json()

    assert body["elapsed_working_days"] == 6  # to delivery, not to now
    assert (body["due_at"], body["deadline"], body["working_days_remaining"]) == (None, None, None)
    assert (body["breached"], body["is_overdue"], body["extended"]) == (False, False, False)
    term = body["delivery_term"]
    assert (term["working_days"], term["extended_working_days"]) == (None, None)
    assert term["text"] == "本合同未约定交付时限（及时交付）"
    assert (term["citation"]["clause"], term["citation"]["quote"]) == ("四.5", JZ_QUOTE)
    assert term["citation"]["url"].endswith("#term-delivery_working_days")
    assert term["extended_citation"] is None
    assert "request_extension" not in body["available_actions"]
    assert (listed["count"], breached["count"]) == (0, 0)


def test_api_refuses_an_extension_with_the_reason(jz):
    with time_machine.travel(at(*APPROVED), tick=False):
        ticket = approved_ticket(jz)
        response = api(jz.users["vendor"]).post(
            f"/api/v1/requests/{ticket.pk}/request-extension/",
            {"reason": "设备到货延迟", "expected_completion": "2026-10-09T18:00:00+08:00"},
            format="json",
        )
    assert response.status_code == 400, response.content
    assert "本合同未约定交付时限" in response.json()["message"]


def test_api_deadline_cites_the_clause_under_a_clock(bt):
    with time_machine.travel(at(*APPROVED), tick=False):
        ticket = approved_ticket(bt)
        client = api(bt.users["vendor"])
        body = client.get(f"/api/v1/requests/{ticket.pk}/").json()
        assert body["deadline"]["due_at"] == "2026-10-09T00:00:00+08:00"
        assert (body["deadline"]["working_days"], body["deadline"]["extended"]) == (2, False)
        assert body["deadline"]["citation"]["clause"] == "附件2 §2"
        assert body["deadline"]["citation"]["quote"] == BT_QUOTE
        assert body["elapsed_working_days"] == 0
        assert (
            body["delivery_term"]["text"]
            == "批准后 2 个工作日内交付，经甲方批准可延长至 5 个工作日"
        )
        assert body["delivery_term"]["extended_citation"]["quote"] == BT_EXT_QUOTE
        extension = services.extension_request(
            actor=bt.users["vendor"],
            ticket=ticket,
            reason="设备到货延迟",
            expected_completion=at(2026, 10, 12, 18, 0),
        )
        services.extension_decide(actor=bt.users["bureau"], extension=extension, approve=True)
        body = client.get(f"/api/v1/requests/{ticket.pk}/").json()
    # 5 working days: 09-30, 10-08, 10-09, 10-10 (make-up), 10-12.
    assert body["deadline"]["due_at"] == "2026-10-13T00:00:00+08:00"
    assert (body["deadline"]["working_days"], body["deadline"]["extended"]) == (5, True)
    assert body["deadline"]["citation"]["term"] == "extended_delivery_working_days"


def test_openapi_declares_the_clock_fields():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for name in ("RequestList", "RequestDetail"):
        props = components[name]["properties"]
        assert props["elapsed_working_days"]["type"] == "integer"
        assert props["elapsed_working_days"]["nullable"] is True
        assert props["elapsed_working_days"]["readOnly"] is True
        assert props["deadline"]["readOnly"] is True
        assert "deadline" in components[name]["required"]
    deadline = components["RequestDeadline"]["properties"]
    assert {"due_at", "working_days", "extended", "provisional", "citation"} <= set(deadline)
    assert "delivery_term" in components["RequestDetail"]["properties"]


# ---------------------------------------------------------------- pages


def test_ticket_page_says_there_is_no_deadline_and_cites_the_clause(jz):
    ticket = approved_then_delivered(jz)
    url = reverse("request_detail", args=[ticket.pk])

    with time_machine.travel(at(2026, 10, 20, 9, 0), tick=False):
        html = page(jz, "department", url)

    assert "本合同未约定交付时限（及时交付）" in html
    assert f"/contracts/{jz.contract.pk}/terms/#term-delivery_working_days" in html
    assert "〔四.5〕" in html
    assert JZ_QUOTE in html  # the link's title
    assert "交付用时" in html
    assert "6 个工作日" in html
    assert "交付截止" not in html
    assert "超时交付" not in html
    assert "批准后用时 6 个工作日" in html  # the delivery in the ticket's history


def test_open_ticket_page_and_vendor_queue_show_the_elapsed_days(jz):
    with time_machine.travel(at(*APPROVED), tick=False):
        ticket = approved_ticket(jz)
    detail = reverse("request_detail", args=[ticket.pk])

    with time_machine.travel(at(2026, 10, 10, 11, 0), tick=False):  # make-up Saturday
        html = page(jz, "vendor", detail)
        queue = page(jz, "vendor", reverse("delivery_queue"))
        overdue = page(jz, "vendor", reverse("delivery_queue") + "?overdue=on")
        listing = page(jz, "bureau", reverse("request_list"))

    assert "已用工作日" in html
    assert "4 个工作日" in html
    assert reverse("request_extension", args=[ticket.pk]) not in html
    assert reverse("request_deliver", args=[ticket.pk]) in html
    for text in (queue, listing):
        assert ticket.number in text
        assert "未约定时限（及时交付）" in text
        assert "已用 4 个工作日" in text
        assert "〔四.5〕" in text
        assert 'text-bg-danger">已超时' not in text
        assert "table-danger" not in text
        assert "剩 " not in text
    assert ticket.number not in overdue


def test_bt_pages_cite_the_delivery_terms(bt):
    with time_machine.travel(at(*APPROVED), tick=False):
        ticket = approved_ticket(bt)
    detail = reverse("request_detail", args=[ticket.pk])

    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        html = page(bt, "vendor", detail)
        queue = page(bt, "vendor", reverse("delivery_queue"))

    assert "2026-10-08 24:00" in html
    assert "〔附件2 §2〕" in html
    assert "#term-delivery_working_days" in html
    assert "#term-extended_delivery_working_days" in html  # the extension form's limit
    assert reverse("request_extension", args=[ticket.pk]) in html
    assert "本合同未约定交付时限" not in html
    assert "2026-10-08 24:00 " in queue
    assert "〔附件2 §2〕" in queue
    assert "剩 1 个工作日" in queue


# ---------------------------------------------------------------- the reference contracts


def _reference_parties(code: str) -> dict[str, User]:
    contract = Contract.objects.get(code=code)
    users: dict[str, User] = {}
    for party in contract.parties.select_related("organization").order_by("id"):
        if party.role not in users:  # JZ's second vendor member is not needed
            users[party.role] = UserFactory(organization=party.organization)
    department = Organization.objects.create(
        name=f"{code} 测试单位", kind=OrganizationKind.DEPARTMENT, parent=contract.bureau
    )
    users["department"] = UserFactory(organization=department)
    for user in users.values():
        if user.requires_two_factor:
            make_totp(user)
    return users


def _approve_on(code: str) -> tuple[ResourceRequest, dict[str, User]]:
    contract = Contract.objects.get(code=code)
    users = _reference_parties(code)
    item = contract.catalog_items.filter(is_active=True).order_by("sort_order", "code").first()
    ticket = services.request_create(
        actor=users["department"],
        contract=contract,
        kind="new",
        reason="新系统上云",
        system_name="政务服务平台",
        lines=[services.LineInput(catalog_item_id=item.pk, quantity=1)],
        submit=True,
    )
    for party in contract.review_chain:
        ticket = services.request_approve(actor=users[party.role], ticket=ticket)
    return ticket, users


def test_reference_contracts_jz_has_no_deadline_and_bt_two_working_days(db):
    load_reference_contracts()
    with time_machine.travel(at(*APPROVED), tick=False):
        jz_ticket, _jz_users = _approve_on("JZ-2026")
    # BT-2025 closed after its continuation (2026-07-31): its ticket is approved while it ran,
    # on Tue 2026-03-10.
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False):
        bt_ticket, _bt_users = _approve_on("BT-2025")

    assert jz_ticket.status == bt_ticket.status == RequestStatus.APPROVED
    assert (jz_ticket.approved_at, jz_ticket.due_at) == (at(*APPROVED), None)
    assert not jz_ticket.has_delivery_clock
    # BT-2025 附件2 §2: 2 working days → 03-11 and 03-12, so the end of 03-12.
    assert bt_ticket.due_at == at(2026, 3, 13, 0, 0)
    assert bt_ticket.contract.delivery_working_days == 2
    assert bt_ticket.contract.extended_delivery_working_days == 5
    assert [p.role for p in bt_ticket.contract.review_chain] == [
        PartyRole.BUREAU,
        PartyRole.SUPERVISOR,
    ]
    with time_machine.travel(at(2026, 3, 20, 9, 0), tick=False):
        overdue = set(ResourceRequest.objects.overdue().values_list("pk", flat=True))
    assert overdue == {bt_ticket.pk}


def test_reference_jz_page_cites_clause_four_five(db):
    load_reference_contracts()
    with time_machine.travel(at(*APPROVED), tick=False):
        ticket, users = _approve_on("JZ-2026")
    with time_machine.travel(at(*DELIVERED), tick=False):
        response = verified_client(users["bureau"]).get(reverse("request_detail", args=[ticket.pk]))
    html = response.content.decode()
    assert "本合同未约定交付时限（及时交付）" in html
    assert "〔四.5〕" in html
    assert "乙方应及时按照甲方提供的资源使用需求开通资源并交付" in html
    assert "已用工作日" in html
    assert "6 个工作日" in html


def test_an_approved_extension_cites_the_extended_term_in_the_history(bt):
    with time_machine.travel(at(*APPROVED), tick=False):
        ticket = approved_ticket(bt)
        extension = services.extension_request(
            actor=bt.users["vendor"],
            ticket=ticket,
            reason="设备到货延迟",
            expected_completion=at(2026, 10, 12, 18, 0),
        )
        services.extension_decide(actor=bt.users["bureau"], extension=extension, approve=True)
        html = page(bt, "bureau", reverse("request_detail", args=[ticket.pk]))

    assert "已批准（5 个工作日）" in html
    cited = html.split("交付截止：2026-10-08 24:00 → 2026-10-12 24:00", 1)[1].split("</div>")[0]
    assert "#term-extended_delivery_working_days" in cited
    assert "〔附件2 §2〕" in cited
