"""Ticket and resource REST API: 401 / 403 / cross-tenant 404 first, then the workflow by API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from billing.models import Resource, ResourceChange
from govcloud.models import BusinessSystem, OutboxEmail, User
from requests_app import services
from requests_app.models import (
    ExtensionRequest,
    ExtensionStatus,
    ResourceRequest,
    Review,
)
from tests.api_clients import token_client
from tests.conftest import verified_client
from tests.requests_app.factories import (
    approved_ticket,
    delivered_ticket,
    submitted_ticket,
    vcpu_item,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
BASE = "/api/v1"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture(autouse=True)
def clock():
    """Every test starts on a fixed working day, with the clock stopped; tests move it."""
    traveller = time_machine.travel(at(2026, 9, 1, 10, 0), tick=False)
    coordinates = traveller.start()
    yield coordinates
    traveller.stop()


def api(user: User | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        # A fresh instance per client, so nothing cached on the user hides a query.
        client.force_authenticate(User.objects.get(pk=user.pk))
    return client


def token_api(user: User) -> APIClient:
    """How vendor systems call the API: a service account's token, no session."""
    return token_client(user)


def error(response, status_code: int) -> dict:
    assert response.status_code == status_code, response.content.decode()
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert body["message"]
    return body


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def state(ticket: ResourceRequest) -> tuple:
    """What an action could change, re-read from the database."""
    fresh = ResourceRequest.objects.get(pk=ticket.pk)
    return (
        fresh.status,
        fresh.review_step,
        fresh.due_at,
        fresh.extended,
        fresh.delivered_at,
        fresh.breached,
        fresh.exempted,
        Review.objects.filter(request=fresh).count(),
        ExtensionRequest.objects.filter(request=fresh).values_list("status", flat=True).first(),
        Resource.objects.filter(department=fresh.department).count(),
    )


def draft_ticket(world) -> ResourceRequest:
    return services.request_create(
        actor=world.users["department"],
        contract=world.contract,
        kind="new",
        reason="新系统上云",
        system_name="不动产登记系统",
        lines=[services.LineInput(catalog_item_id=vcpu_item(world.contract).pk, quantity=8)],
    )


def returned_ticket(world) -> ResourceRequest:
    ticket = submitted_ticket(world)
    return services.request_return(actor=world.users["bureau"], ticket=ticket, comment="补充材料")


def pending_extension(world) -> ResourceRequest:
    ticket = approved_ticket(world)
    services.extension_request(
        actor=world.users["vendor"],
        ticket=ticket,
        reason="设备到货延迟",
        expected_completion=ticket.due_at,
    )
    return ticket


def breached_ticket(world, clock) -> ResourceRequest:
    clock.move_to(at(2026, 9, 30, 10, 0))
    ticket = approved_ticket(world)
    clock.move_to(at(2026, 10, 12, 9, 0))
    lines = [services.DeliveryInput(line_id=ln.pk, vendor_ref="i-1") for ln in ticket.lines.all()]
    return services.request_deliver(actor=world.users["vendor"], ticket=ticket, items=lines)


def ext_id(ticket: ResourceRequest) -> int:
    extension = ticket.extensions.first()
    return extension.pk if extension else 1


# ---------------------------------------------------------------- the endpoint table


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: Callable[[ResourceRequest], str]
    make: Callable[..., ResourceRequest]  # (world, clock) -> ticket in the state it needs
    role: str  # who may do it in its own tenant
    payload: dict | None = None


def _resource_path(ticket: ResourceRequest) -> str:
    return f"{BASE}/resources/{ticket.lines.get().delivered_resource_id}/"


ENDPOINTS: dict[str, Endpoint] = {
    "detail": Endpoint(
        "get", lambda t: f"{BASE}/requests/{t.pk}/", lambda w, c: submitted_ticket(w), "department"
    ),
    "submit": Endpoint(
        "post",
        lambda t: f"{BASE}/requests/{t.pk}/submit/",
        lambda w, c: draft_ticket(w),
        "department",
    ),
    "approve": Endpoint(
        "post",
        lambda t: f"{BASE}/requests/{t.pk}/approve/",
        lambda w, c: submitted_ticket(w),
        "bureau",
        {"comment": "同意"},
    ),
    "return": Endpoint(
        "post",
        lambda t: f"{BASE}/requests/{t.pk}/return/",
        lambda w, c: submitted_ticket(w),
        "bureau",
        {"comment": "请补充材料"},
    ),
    "reject": Endpoint(
        "post",
        lambda t: f"{BASE}/requests/{t.pk}/reject/",
        lambda w, c: submitted_ticket(w),
        "bureau",
        {"comment": "不符合条件"},
    ),
    "cancel": Endpoint(
        "post",
        lambda t: f"{BASE}/requests/{t.pk}/cancel/",
        lambda w, c: submitted_ticket(w),
        "department",
        {"comment": "不再需要"},
    ),
    "request-extension": Endpoint(
        "post",
        lambda t: f"{BASE}/requests/{t.pk}/request-extension/",
        lambda w, c: approved_ticket(w),
        "vendor",
        {"reason": "设备到货延迟", "expected_completion": "2026-09-03T18:00:00+08:00"},
    ),
    "decide-extension": Endpoint(
        "post",
        lambda t: f"{BASE}/requests/{t.pk}/extensions/{ext_id(t)}/decide/",
        lambda w, c: pending_extension(w),
        "bureau",
        {"approve": True, "comment": "同意"},
    ),
    "deliver": Endpoint(
        "post",
        lambda t: f"{BASE}/requests/{t.pk}/deliver/",
        lambda w, c: approved_ticket(w),
        "vendor",
        None,  # built from the ticket's lines
    ),
    "exempt": Endpoint(
        "post",
        lambda t: f"{BASE}/requests/{t.pk}/exempt/",
        breached_ticket,
        "supervisor",
        {"reason": "使用单位机房停电"},
    ),
    "resource-detail": Endpoint(
        "get", _resource_path, lambda w, c: delivered_ticket(w), "department"
    ),
}

# The same role of the ticket's own tenant, but not the party whose turn it is.
WRONG_ROLE = {
    "submit": "bureau",  # on a returned ticket the bureau can see
    "approve": "supervisor",  # step 1 is the bureau's
    "return": "auditor",
    "reject": "department",
    "cancel": "bureau",
    "request-extension": "department",
    "decide-extension": "supervisor",
    "deliver": "department",
    "exempt": "vendor",
}


def _payload(name: str, ticket: ResourceRequest) -> dict:
    spec = ENDPOINTS[name]
    if name == "deliver":
        return {"items": [{"line": ln.pk, "vendor_ref": "i-1"} for ln in ticket.lines.all()]}
    return spec.payload or {}


def _call(client: APIClient, name: str, ticket: ResourceRequest):
    spec = ENDPOINTS[name]
    if spec.method == "get":
        return client.get(spec.path(ticket))
    return client.post(spec.path(ticket), _payload(name, ticket), format="json")


LIST_URLS = ["requests/", "reviews/", "deliveries/", "resources/"]


# ---------------------------------------------------------------- 401, 403, 404 first


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_anonymous_callers_get_401_on_every_object_endpoint(name, world, clock):
    ticket = ENDPOINTS[name].make(world, clock)
    before = state(ticket)

    response = _call(APIClient(), name, ticket)

    error(response, 401)
    assert response["WWW-Authenticate"] == "Token"
    assert state(ticket) == before


@pytest.mark.parametrize("url", LIST_URLS)
def test_anonymous_callers_get_401_on_every_list(url, world):
    error(APIClient().get(f"{BASE}/{url}"), 401)


def test_anonymous_callers_cannot_create(world):
    item = vcpu_item(world.contract)
    response = APIClient().post(
        f"{BASE}/requests/",
        {
            "contract": world.contract.pk,
            "kind": "new",
            "reason": "x",
            "system_name": "s",
            "lines": [{"catalog_item": item.pk, "quantity": 1}],
        },
        format="json",
    )
    error(response, 401)
    assert not ResourceRequest.objects.exists()


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_the_other_tenant_gets_404_and_changes_nothing(name, world, foreign, clock):
    spec = ENDPOINTS[name]
    ticket = spec.make(world, clock)
    before = state(ticket)

    response = _call(api(foreign.users[spec.role]), name, ticket)

    assert error(response, 404) == {"message": "对象不存在。", "extra": {}}
    assert state(ticket) == before


@pytest.mark.parametrize("name", sorted(WRONG_ROLE))
def test_the_wrong_party_of_the_same_tenant_gets_403_and_changes_nothing(name, world, clock):
    ticket = returned_ticket(world) if name == "submit" else ENDPOINTS[name].make(world, clock)
    before = state(ticket)

    response = _call(api(world.users[WRONG_ROLE[name]]), name, ticket)

    error(response, 403)
    assert state(ticket) == before


@pytest.mark.parametrize("role", ["security_admin", "audit_admin", "system_admin"])
def test_bureau_administrators_cannot_do_business(role, world):
    """三员分立: administrator accounts see the bureau's tickets but cannot review them."""
    ticket = submitted_ticket(world)
    before = state(ticket)

    response = api(world.users[role]).post(f"{BASE}/requests/{ticket.pk}/approve/", format="json")

    error(response, 403)
    assert state(ticket) == before


def test_the_vendor_does_not_see_tickets_before_approval(world):
    ticket = submitted_ticket(world)
    vendor = token_api(world.users["vendor"])

    assert error(vendor.get(f"{BASE}/requests/{ticket.pk}/"), 404)
    assert ticket.pk not in [t["id"] for t in vendor.get(f"{BASE}/requests/").json()["results"]]


def test_an_extension_of_another_ticket_is_404(world):
    ticket = pending_extension(world)
    other = approved_ticket(world, system_name="其他系统")
    extension = ticket.extensions.get()

    response = api(world.users["bureau"]).post(
        f"{BASE}/requests/{other.pk}/extensions/{extension.pk}/decide/",
        {"approve": True},
        format="json",
    )

    error(response, 404)
    assert ExtensionRequest.objects.get(pk=extension.pk).status == ExtensionStatus.PENDING


def test_a_missing_ticket_is_the_same_404(world):
    response = api(world.users["bureau"]).post(f"{BASE}/requests/987654321/approve/", format="json")
    assert error(response, 404) == {"message": "对象不存在。", "extra": {}}


@pytest.mark.parametrize(
    ("url", "role", "make"),
    [
        pytest.param("requests/", "department", submitted_ticket, id="requests-department"),
        pytest.param("requests/", "supervisor", submitted_ticket, id="requests-supervisor"),
        pytest.param("reviews/", "bureau", submitted_ticket, id="reviews-bureau"),
        pytest.param("deliveries/", "vendor", approved_ticket, id="deliveries-vendor"),
        pytest.param("resources/", "department", delivered_ticket, id="resources-department"),
        pytest.param("resources/", "auditor", delivered_ticket, id="resources-auditor"),
    ],
)
def test_lists_show_nothing_of_the_other_tenant(url, role, make, world, foreign):
    make(world)
    own = api(world.users[role]).get(f"{BASE}/{url}").json()
    other = api(foreign.users[role]).get(f"{BASE}/{url}").json()
    assert own["count"] == 1
    assert other == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(
    ("url", "role", "make"),
    [
        pytest.param("reviews/", "supervisor", submitted_ticket, id="reviews-not-yet-supervisor"),
        pytest.param("reviews/", "department", submitted_ticket, id="reviews-department"),
        pytest.param("reviews/", "vendor", submitted_ticket, id="reviews-vendor"),
        pytest.param("deliveries/", "bureau", approved_ticket, id="deliveries-bureau"),
        pytest.param("deliveries/", "department", approved_ticket, id="deliveries-department"),
    ],
)
def test_queues_are_empty_for_parties_whose_turn_it_is_not(url, role, make, world):
    make(world)
    assert api(world.users[role]).get(f"{BASE}/{url}").json()["count"] == 0


# ---------------------------------------------------------------- create


def _create_body(world, **overrides) -> dict:
    item = vcpu_item(world.contract)
    body = {
        "contract": world.contract.pk,
        "kind": "new",
        "reason": "不动产登记系统上云",
        "system_name": "不动产登记系统",
        "lines": [{"catalog_item": item.pk, "quantity": 8, "note": "应用服务器"}],
        "submit": True,
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize("role", ["bureau", "vendor", "supervisor"])
def test_only_departments_create_tickets(role, world):
    response = api(world.users[role]).post(f"{BASE}/requests/", _create_body(world), format="json")
    error(response, 403)
    assert not ResourceRequest.objects.exists()


def test_a_foreign_contract_cannot_be_named(world, foreign):
    response = api(foreign.users["department"]).post(
        f"{BASE}/requests/", _create_body(world), format="json"
    )
    body = error(response, 400)
    assert set(body["extra"]["fields"]) == {"contract"}
    assert not ResourceRequest.objects.exists()


def test_department_creates_a_draft_for_an_existing_system(world):
    system = BusinessSystem.objects.create(department=world.orgs["department"], name="公积金系统")

    response = api(world.users["department"]).post(
        f"{BASE}/requests/",
        _create_body(world, system=system.pk, system_name="", submit=False),
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["system"], body["system_name"]) == (
        "draft",
        system.pk,
        "公积金系统",
    )
    assert body["lines"][0]["item_code"] == "ecs.general.vcpu"
    assert body["lines"][0]["quantity"] == 8
    # 21.60 × 8 × 0.9999 = 172.78 a month
    assert body["estimated_monthly_cost"] == "172.78"
    assert body["working_days_remaining"] is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"lines": []}, "lines", id="no-lines"),
        pytest.param({"kind": "upgrade"}, "kind", id="bad-kind"),
        pytest.param({"lines": [{"catalog_item": 1, "quantity": 0}]}, "lines", id="zero-qty"),
    ],
)
def test_invalid_input_is_refused_in_the_error_shape(overrides, field, world):
    response = api(world.users["department"]).post(
        f"{BASE}/requests/", _create_body(world, **overrides), format="json"
    )
    body = error(response, 400)
    assert field in body["extra"]["fields"]
    assert not ResourceRequest.objects.exists()


def test_service_refusals_list_every_bad_line(world):
    response = api(world.users["department"]).post(
        f"{BASE}/requests/",
        _create_body(world, lines=[{"catalog_item": 987654, "quantity": 2}]),
        format="json",
    )
    body = error(response, 400)
    assert body["message"] == "工单明细有误，未保存。"
    assert len(body["extra"]["errors"]) == 1
    assert not ResourceRequest.objects.exists()


# ---------------------------------------------------------------- the whole flow by API


def test_the_whole_flow_by_api(world, django_capture_on_commit_callbacks):
    department = api(world.users["department"])
    bureau = api(world.users["bureau"])
    supervisor = api(world.users["supervisor"])
    vendor = token_api(world.users["vendor"])
    with time_machine.travel(
        datetime(2026, 9, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    ) as traveller:
        # Given a department creates and submits a ticket
        created = department.post(f"{BASE}/requests/", _create_body(world), format="json")
        assert created.status_code == 201, created.content
        ticket = created.json()
        assert ticket["status"] == "submitted"
        assert ticket["number"] == f"{world.contract.code}-{ticket['id']:06d}"
        detail_url = f"{BASE}/requests/{ticket['id']}/"

        # When the bureau approves: step 2 (the supervisor) is next
        assert [t["id"] for t in bureau.get(f"{BASE}/reviews/").json()["results"]] == [ticket["id"]]
        body = bureau.post(detail_url + "approve/", {"comment": "同意"}, format="json").json()
        assert (body["status"], body["review_step"], body["due_at"]) == ("in_review", 1, None)
        assert bureau.get(f"{BASE}/reviews/").json()["count"] == 0

        # When the supervisor approves, the clock starts and the vendor is told
        assert supervisor.get(f"{BASE}/reviews/").json()["count"] == 1
        with django_capture_on_commit_callbacks(execute=True):
            response = supervisor.post(detail_url + "approve/", {"comment": "同意"}, format="json")
        body = response.json()
        assert response.status_code == 200
        assert body["status"] == "approved"
        # DESIGN §3: approved 2026-09-30 10:00 → end of 2026-10-09 (National Day, make-up 10-10)
        assert when(body["due_at"]) == at(2026, 10, 10, 0, 0)
        assert body["due_at"] == "2026-10-10T00:00:00+08:00"
        assert (body["due_provisional"], body["is_overdue"]) == (False, False)
        assert body["working_days_remaining"] == 2  # 10-08 and 10-09
        assert [r["party_role"] for r in body["reviews"]] == ["bureau", "supervisor"]
        vendor_email = world.users["vendor"].email
        row = OutboxEmail.objects.get(
            key__startswith=f"ticket:{ticket['id']}:approved", recipient=vendor_email
        )
        assert row.status == "sent"
        sent = [m for m in mail.outbox if vendor_email in m.to]
        assert len(sent) == 1
        assert ticket["number"] in sent[0].subject

        # The vendor's system sees it in its queue, with its token
        queue = vendor.get(f"{BASE}/deliveries/").json()
        assert [t["id"] for t in queue["results"]] == [ticket["id"]]

        # On the last working day the vendor asks for the extended period…
        traveller.move_to(at(2026, 10, 9, 9, 0))
        assert vendor.get(detail_url).json()["working_days_remaining"] == 0
        body = vendor.post(
            detail_url + "request-extension/",
            {"reason": "设备到货延迟", "expected_completion": "2026-10-13T18:00:00+08:00"},
            format="json",
        ).json()
        assert [e["status"] for e in body["extensions"]] == ["pending"]
        extension = body["extensions"][0]["id"]

        # …and the bureau grants it: 5 working days from the same approval instant
        body = bureau.post(
            detail_url + f"extensions/{extension}/decide/",
            {"approve": True, "comment": "同意延期"},
            format="json",
        ).json()
        assert when(body["due_at"]) == at(2026, 10, 14, 0, 0)
        assert body["extended"] is True
        assert body["extensions"][0]["status"] == "approved"

        # The vendor delivers with its token, on time
        traveller.move_to(at(2026, 10, 12, 15, 0))
        line = body["lines"][0]["id"]
        response = vendor.post(
            detail_url + "deliver/",
            {"items": [{"line": line, "vendor_ref": "ecs-8c-0001"}]},
            format="json",
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["status"], body["breached"], body["is_overdue"]) == ("delivered", False, False)
        assert when(body["delivered_at"]) == at(2026, 10, 12, 15, 0)
        assert vendor.get(f"{BASE}/deliveries/").json()["count"] == 0

    # Then the department has the resource, with its one quantity-history row
    resources = department.get(f"{BASE}/resources/").json()
    assert resources["count"] == 1
    resource = resources["results"][0]
    assert (resource["quantity"], resource["item_code"], resource["vendor_ref"]) == (
        8,
        "ecs.general.vcpu",
        "ecs-8c-0001",
    )
    detail = department.get(f"{BASE}/resources/{resource['id']}/").json()
    assert [(c["quantity"], c["request_number"]) for c in detail["changes"]] == [
        (8, ticket["number"])
    ]
    assert when(detail["changes"][0]["delivered_at"]) == at(2026, 10, 12, 15, 0)


def test_session_users_who_passed_two_factor_use_the_api_too(world):
    ticket = submitted_ticket(world)
    client = verified_client(world.users["bureau"])

    response = client.post(
        f"{BASE}/requests/{ticket.pk}/approve/",
        {"comment": "同意"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["review_step"] == 1


def test_return_resubmit_reject_and_cancel(world):
    department = api(world.users["department"])
    bureau = api(world.users["bureau"])
    ticket = submitted_ticket(world)
    url = f"{BASE}/requests/{ticket.pk}/"

    body = bureau.post(url + "return/", {"comment": "请补充材料"}, format="json").json()
    assert (body["status"], body["last_comment"]) == ("returned", "请补充材料")
    assert department.post(url + "submit/").json()["status"] == "submitted"
    body = bureau.post(url + "reject/", {"comment": "不符合条件"}, format="json").json()
    assert body["status"] == "rejected"
    assert [r["decision"] for r in body["reviews"]] == ["returned", "rejected"]

    other = submitted_ticket(world, system_name="其他系统")
    body = department.post(f"{BASE}/requests/{other.pk}/cancel/", {}, format="json").json()
    assert body["status"] == "cancelled"


def test_a_refused_extension_keeps_the_deadline(world, clock):
    clock.move_to(at(2026, 9, 30, 10, 0))
    ticket = pending_extension(world)
    extension = ticket.extensions.get()
    url = f"{BASE}/requests/{ticket.pk}/extensions/{extension.pk}/decide/"
    bureau = api(world.users["bureau"])

    # A refusal needs a reason
    error(bureau.post(url, {"approve": False}, format="json"), 400)
    body = bureau.post(url, {"approve": False, "comment": "理由不充分"}, format="json").json()

    assert body["extensions"][0]["status"] == "rejected"
    assert (when(body["due_at"]), body["extended"]) == (at(2026, 10, 10), False)


def test_late_delivery_is_breached_and_the_supervisor_exempts_it(world, clock):
    clock.move_to(at(2026, 9, 30, 10, 0))
    ticket = approved_ticket(world)
    url = f"{BASE}/requests/{ticket.pk}/"
    vendor = token_api(world.users["vendor"])

    clock.move_to(at(2026, 10, 10, 9, 0))
    assert vendor.get(url).json()["is_overdue"] is True
    line = ticket.lines.get()
    body = vendor.post(
        url + "deliver/", {"items": [{"line": line.pk, "vendor_ref": "i-9"}]}, format="json"
    ).json()
    assert (body["status"], body["breached"], body["is_overdue"]) == ("delivered", True, True)

    body = (
        api(world.users["supervisor"])
        .post(url + "exempt/", {"reason": "使用单位机房停电"}, format="json")
        .json()
    )
    assert (body["exempted"], body["exemption_reason"]) == (True, "使用单位机房停电")
    assert body["exempted_by"] == str(world.users["supervisor"])


# ---------------------------------------------------------------- refusals change nothing


def test_approval_by_the_wrong_party_is_refused(world):
    ticket = submitted_ticket(world)
    before = state(ticket)

    response = api(world.users["supervisor"]).post(
        f"{BASE}/requests/{ticket.pk}/approve/", {"comment": "同意"}, format="json"
    )

    assert error(response, 403)["message"] == "当前审核步骤不由您的单位办理。"
    assert state(ticket) == before


def test_delivering_twice_is_an_invalid_transition(world):
    ticket = delivered_ticket(world)
    before = state(ticket)
    payload = {"items": [{"line": ln.pk, "vendor_ref": "x"} for ln in ticket.lines.all()]}

    response = token_api(world.users["vendor"]).post(
        f"{BASE}/requests/{ticket.pk}/deliver/", payload, format="json"
    )

    body = error(response, 409)
    assert body["extra"] == {"status": "delivered", "target": "delivered"}
    assert state(ticket) == before
    assert ResourceChange.objects.count() == 1


def test_delivery_before_approval_is_refused(world):
    """Before approval the ticket does not exist for the vendor: 404, not a hint that it does."""
    ticket = submitted_ticket(world)
    before = state(ticket)
    payload = {"items": [{"line": ln.pk, "vendor_ref": "x"} for ln in ticket.lines.all()]}

    response = token_api(world.users["vendor"]).post(
        f"{BASE}/requests/{ticket.pk}/deliver/", payload, format="json"
    )

    error(response, 404)
    assert state(ticket) == before


def test_delivery_by_the_department_is_forbidden(world):
    ticket = approved_ticket(world)
    before = state(ticket)

    response = api(world.users["department"]).post(
        f"{BASE}/requests/{ticket.pk}/deliver/",
        {"items": [{"line": ticket.lines.get().pk, "vendor_ref": "x"}]},
        format="json",
    )

    error(response, 403)
    assert state(ticket) == before
    assert not Resource.objects.exists()


def test_no_extension_after_the_deadline(world, clock):
    clock.move_to(at(2026, 9, 30, 10, 0))
    ticket = approved_ticket(world)
    clock.move_to(at(2026, 10, 10, 0, 0))  # the deadline itself is already too late
    before = state(ticket)

    response = token_api(world.users["vendor"]).post(
        f"{BASE}/requests/{ticket.pk}/request-extension/",
        {"reason": "来不及", "expected_completion": "2026-10-12T18:00:00+08:00"},
        format="json",
    )

    assert error(response, 400)["message"] == "已超过交付截止时间，不能再申请延期。"
    assert state(ticket) == before
    assert not ExtensionRequest.objects.exists()


def test_expected_completion_needs_a_time_zone(world):
    ticket = approved_ticket(world)

    response = token_api(world.users["vendor"]).post(
        f"{BASE}/requests/{ticket.pk}/request-extension/",
        {"reason": "设备到货延迟", "expected_completion": "2026-09-03T18:00:00"},
        format="json",
    )

    body = error(response, 400)
    assert set(body["extra"]["fields"]) == {"expected_completion"}
    assert not ExtensionRequest.objects.exists()


def test_only_a_breach_can_be_exempted(world):
    ticket = delivered_ticket(world)
    before = state(ticket)

    response = api(world.users["supervisor"]).post(
        f"{BASE}/requests/{ticket.pk}/exempt/", {"reason": "非乙方原因"}, format="json"
    )

    assert error(response, 400)["message"] == "只有超时交付的工单可以认定为非乙方原因。"
    assert state(ticket) == before


# ---------------------------------------------------------------- detail, filters, queries


def test_working_days_remaining_falls_back_to_weekends_only_without_a_calendar(world, clock):
    from govcloud import workdays

    clock.move_to(at(2026, 9, 30, 10, 0))
    ticket = approved_ticket(world)
    real = workdays.get_calendar_provider()
    workdays.set_calendar_provider(lambda year: None if year == 2026 else real(year))
    try:
        body = api(world.users["bureau"]).get(f"{BASE}/requests/{ticket.pk}/").json()
    finally:
        workdays.set_calendar_provider(real)
    # Weekends only: 10-01, 10-02, 10-05 … 10-09 instead of the official 10-08 and 10-09.
    assert body["working_days_remaining"] == 7


def test_filters_and_ordering(world, clock):
    clock.move_to(at(2026, 9, 28, 10, 0))
    waiting = submitted_ticket(world, system_name="甲系统")
    clock.move_to(at(2026, 9, 30, 10, 0))
    open_late = approved_ticket(world, system_name="乙系统")  # due 10-10 00:00
    late = breached_ticket(world, clock)  # approved 09-30, delivered 10-12 09:00
    clock.move_to(at(2026, 10, 12, 9, 30))
    on_time = approved_ticket(world, system_name="丙系统")  # due 10-15 00:00
    clock.move_to(at(2026, 10, 12, 10, 0))
    department = api(world.users["department"])

    def ids(**params) -> list[int]:
        response = department.get(f"{BASE}/requests/", params)
        assert response.status_code == 200, response.content
        return [t["id"] for t in response.json()["results"]]

    assert set(ids(overdue="true")) == {open_late.pk, late.pk}
    assert set(ids(overdue="false")) == {waiting.pk, on_time.pk}
    assert ids(breached="true") == [late.pk]
    assert set(ids(breached="false")) == {waiting.pk, open_late.pk, on_time.pk}
    assert ids(status="submitted") == [waiting.pk]
    assert ids(system=on_time.system_id) == [on_time.pk]
    assert set(ids(contract=world.contract.pk)) == {waiting.pk, open_late.pk, on_time.pk, late.pk}
    assert len(ids(contract_code=world.contract.code)) == 4
    assert ids(contract_code="NOPE") == []
    assert len(ids(department=world.orgs["department"].pk, kind="new")) == 4
    assert ids(kind="release") == []
    assert set(ids(due_before="2026-10-11T00:00:00+08:00")) == {open_late.pk, late.pk}
    assert ids(due_after="2026-10-11T00:00:00+08:00") == [on_time.pk]
    assert ids(status="approved", ordering="due_at") == [open_late.pk, on_time.pk]
    assert ids(status="approved", ordering="-due_at") == [on_time.pk, open_late.pk]
    assert ids(ordering="-created_at")[-1] == waiting.pk
    assert ids(ordering="created_at")[0] == waiting.pk

    resources = department.get(
        f"{BASE}/resources/", {"item": "ecs.general.vcpu", "status": "active"}
    )
    assert resources.json()["count"] == 1
    assert department.get(f"{BASE}/resources/", {"item": "ebs.ssd"}).json()["count"] == 0


def test_delivery_queue_is_ordered_by_deadline(world, clock):
    clock.move_to(at(2026, 10, 8, 10, 0))
    later = approved_ticket(world, system_name="乙系统")  # due 10-11 (10-10 is worked)
    clock.move_to(at(2026, 9, 30, 10, 0))
    sooner = approved_ticket(world, system_name="甲系统")  # due 10-10
    results = token_api(world.users["vendor"]).get(f"{BASE}/deliveries/").json()["results"]
    assert [t["id"] for t in results] == [sooner.pk, later.pk]


def _make_resources(world, count: int) -> None:
    item = vcpu_item(world.contract)
    system, _created = BusinessSystem.objects.get_or_create(
        department=world.orgs["department"], name="不动产登记系统"
    )
    for _ in range(count):
        Resource.objects.create(
            contract=world.contract,
            department=world.orgs["department"],
            system=system,
            catalog_item=item,
            quantity=4,
            online_at=at(2026, 9, 1, 9, 0),
            billing_starts_at=at(2026, 9, 1, 9, 0),
        )


def _tickets(make: Callable) -> Callable:
    def build(world, count: int) -> None:
        for n in range(count):
            make(world, system_name=f"系统{ResourceRequest.objects.count()}-{n}")

    return build


@pytest.mark.parametrize(
    ("url", "role", "make"),
    [
        pytest.param("requests/", "department", _tickets(submitted_ticket), id="requests-dept"),
        pytest.param("requests/", "bureau", _tickets(submitted_ticket), id="requests-bureau"),
        pytest.param("requests/", "vendor", _tickets(approved_ticket), id="requests-vendor"),
        pytest.param("reviews/", "bureau", _tickets(submitted_ticket), id="reviews"),
        pytest.param("deliveries/", "vendor", _tickets(approved_ticket), id="deliveries"),
        pytest.param("resources/", "department", _make_resources, id="resources"),
    ],
)
def test_list_queries_do_not_grow_with_the_number_of_rows(url, role, make, world):
    def measure() -> tuple[int, int]:
        client = api(world.users[role])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{BASE}/{url}")
        assert response.status_code == 200
        return len(queries), response.json()["count"]

    make(world, 3)
    three, count = measure()
    assert count == 3
    make(world, 9)
    twelve, count = measure()
    assert count == 12
    assert three == twelve


def test_detail_lists_lines_reviews_and_extensions(world, clock):
    clock.move_to(at(2026, 9, 30, 10, 0))
    ticket = pending_extension(world)

    body = api(world.users["auditor"]).get(f"{BASE}/requests/{ticket.pk}/").json()

    assert body["estimated_monthly_cost"] == str(
        (Decimal("21.60") * 8 * world.contract.discount_factor).quantize(Decimal("0.01"))
    )
    assert [r["decision"] for r in body["reviews"]] == ["approved", "approved"]
    assert body["extensions"][0]["requested_by"] == str(world.users["vendor"])
    assert body["extensions"][0]["decided_by"] is None
    assert body["created_by"] == str(world.users["department"])
    assert body["lines"][0]["quantity"] == 8
    assert timedelta(0) < when(body["due_at"]) - when(body["approved_at"])
