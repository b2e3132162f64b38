"""Statement and bill REST API: 401 / 403 / cross-tenant 404 first, then the sign-off by API
with re-authentication, versions, lines, bills, and the immutability of a signed statement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from billing.models import DepartmentBill, Resource, Statement, StatementStatus
from billing.services.statements import statement_dispute
from govcloud.models import User
from tests.api_clients import token_client
from tests.billing.conftest import add_resource, sh, signing_passphrase
from tests.billing.test_views import (
    PARTIES,
    _bare_statements,
    _bills,
    code_for,
    draft_statement,
    own_bill,
    password,
    signed_statement,
    state,
    submitted_statement,
    world_inventory,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
BASE = "/api/v1"


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


#: For calls refused before the signing key is opened (who, what state): any passphrase.
NOT_REACHED = "not-reached"


def reauth(value: str = PASSWORD, method: str = "password", passphrase: str = NOT_REACHED) -> dict:
    """The re-authentication and the passphrase of the caller's organisation's signing key."""
    return {"reauth": {"method": method, "value": value}, "signing_passphrase": passphrase}


# ---------------------------------------------------------------- the endpoint table


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: Callable[[Statement], str]
    make: Callable[..., Statement]  # world -> statement in the state it needs
    role: str  # who may do it in its own tenant
    payload: dict | None = None


def _bill_path(suffix: str = "") -> Callable[[Statement], str]:
    def build(statement: Statement) -> str:
        bill = DepartmentBill.objects.filter(statement=statement).order_by("pk").first()
        return f"{BASE}/bills/{bill.pk}/{suffix}"

    return build


ENDPOINTS: dict[str, Endpoint] = {
    "detail": Endpoint(
        "get", lambda s: f"{BASE}/statements/{s.pk}/", submitted_statement, "auditor"
    ),
    "lines": Endpoint(
        "get", lambda s: f"{BASE}/statements/{s.pk}/lines/", submitted_statement, "auditor"
    ),
    "submit": Endpoint(
        "post", lambda s: f"{BASE}/statements/{s.pk}/submit/", draft_statement, "vendor", reauth()
    ),
    "confirm": Endpoint(
        "post",
        lambda s: f"{BASE}/statements/{s.pk}/confirm/",
        submitted_statement,
        "bureau",
        reauth(),
    ),
    "dispute": Endpoint(
        "post",
        lambda s: f"{BASE}/statements/{s.pk}/dispute/",
        submitted_statement,
        "bureau",
        {**reauth(), "comment": "数量不符"},
    ),
    "comment": Endpoint(
        "post",
        lambda s: f"{BASE}/statements/{s.pk}/comment/",
        submitted_statement,
        "auditor",
        {"text": "请说明"},
    ),
    "decide": Endpoint(
        "post",
        lambda s: f"{BASE}/statements/{s.pk}/decide/",
        submitted_statement,
        "auditor",
        {**reauth(), "decision": "uphold_vendor", "comment": "维持"},
    ),
    "supersede": Endpoint(
        "post",
        lambda s: f"{BASE}/statements/{s.pk}/supersede/",
        signed_statement,
        "vendor",
        {"reason": "数量录入错误"},
    ),
    "bill-detail": Endpoint("get", _bill_path(), signed_statement, "department"),
    "bill-lines": Endpoint("get", _bill_path("lines/"), signed_statement, "department"),
}

# The same tenant, a party that may see the statement but not do this step now.
WRONG_ROLE = {
    "submit": "bureau",
    "confirm": "vendor",
    "dispute": "auditor",
    "comment": "department",  # departments don't see statements at all: 404
    "decide": "bureau",
    "supersede": "supervisor",
}


def _call(client: APIClient, name: str, statement: Statement):
    spec = ENDPOINTS[name]
    if spec.method == "get":
        return client.get(spec.path(statement))
    return client.post(spec.path(statement), spec.payload or {}, format="json")


LIST_URLS = ["statements/", "bills/"]


# ---------------------------------------------------------------- 401, 403, 404 first


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_anonymous_callers_get_401_on_every_object_endpoint(name, world):
    statement = ENDPOINTS[name].make(world)
    before = state(statement)

    response = _call(APIClient(), name, statement)

    error(response, 401)
    assert response["WWW-Authenticate"] == "Token"
    assert state(statement) == before


@pytest.mark.parametrize("url", LIST_URLS)
def test_anonymous_callers_get_401_on_every_list(url, world):
    error(APIClient().get(f"{BASE}/{url}"), 401)


def test_anonymous_callers_cannot_generate(world):
    world_inventory(world)
    response = APIClient().post(
        f"{BASE}/statements/generate/",
        {"contract": world.contract.pk, "year": 2026, "month": 3},
        format="json",
    )
    error(response, 401)
    assert not Statement.objects.exists()


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_the_other_tenant_gets_404_and_changes_nothing(name, world, foreign):
    spec = ENDPOINTS[name]
    statement = spec.make(world)
    before = state(statement)

    response = _call(api(foreign.users[spec.role]), name, statement)

    assert error(response, 404) == {"message": "对象不存在。", "extra": {}}
    assert state(statement) == before


@pytest.mark.parametrize("name", sorted(WRONG_ROLE))
def test_the_wrong_party_of_the_same_tenant_is_refused_and_nothing_changes(name, world):
    spec = ENDPOINTS[name]
    statement = spec.make(world)
    before = state(statement)
    role = WRONG_ROLE[name]

    response = _call(api(world.users[role]), name, statement)

    error(response, 404 if role == "department" else 403)
    assert state(statement) == before


@pytest.mark.parametrize("role", ["security_admin", "audit_admin", "system_admin"])
def test_bureau_administrators_see_nothing_of_billing(role, world):
    """三员分立: the administrators administer; the API refuses them billing outright."""
    statement = signed_statement(world)
    bill = own_bill(world, statement)
    client = api(world.users[role])
    for path in ("statements/", "bills/", f"statements/{statement.pk}/", f"bills/{bill.pk}/"):
        assert "三员分立" in error(client.get(f"{BASE}/{path}"), 403)["message"]


def test_a_department_sees_only_its_own_bills_and_no_statement(world):
    statement = signed_statement(world)
    mine = own_bill(world, statement)
    theirs = DepartmentBill.objects.exclude(pk=mine.pk).get(statement=statement)
    client = api(world.users["department"])

    assert client.get(f"{BASE}/statements/").json()["count"] == 0
    error(client.get(f"{BASE}/statements/{statement.pk}/"), 404)
    error(client.get(f"{BASE}/statements/{statement.pk}/lines/"), 404)
    error(client.get(f"{BASE}/bills/{theirs.pk}/"), 404)
    error(client.get(f"{BASE}/bills/{theirs.pk}/lines/"), 404)
    assert [b["id"] for b in client.get(f"{BASE}/bills/").json()["results"]] == [mine.pk]

    body = client.get(f"{BASE}/bills/{mine.pk}/").json()
    assert (body["subtotal"], body["total"], body["vat"]) == (
        "344.85",
        str(mine.total),
        str(mine.vat),
    )
    assert body["statement_total"] == "494.65"
    assert [s["subtotal"] for s in body["systems"]] == ["344.85"]
    lines = client.get(f"{BASE}/bills/{mine.pk}/lines/").json()
    assert sorted(line["amount"] for line in lines["results"]) == ["119.85", "225.00"]


def test_a_missing_statement_is_the_same_404(world):
    error(api(world.users["bureau"]).get(f"{BASE}/statements/987654321/"), 404)
    error(
        api(world.users["vendor"]).post(
            f"{BASE}/statements/987654321/submit/", reauth(), format="json"
        ),
        404,
    )


def test_a_foreign_contract_cannot_be_named_for_generation(world, foreign):
    world_inventory(world)
    response = api(foreign.users["vendor"]).post(
        f"{BASE}/statements/generate/",
        {"contract": world.contract.pk, "year": 2026, "month": 3},
        format="json",
    )
    assert error(response, 400)["extra"]["fields"]["contract"]
    assert not Statement.objects.exists()


# ---------------------------------------------------------------- the flow by API


def test_the_whole_signoff_by_api_with_totp(world):
    """A vendor system with a token generates and submits; the parties confirm in order."""
    with time_machine.travel(sh(2026, 4, 7, 10), tick=False) as clock:
        world_inventory(world)
        vendor = token_api(world.users["vendor"])
        created = vendor.post(
            f"{BASE}/statements/generate/",
            {"contract": world.contract.pk, "year": 2026, "month": 3},
            format="json",
        )
        assert created.status_code == 201, created.content
        body = created.json()
        pk = body["id"]
        assert (body["version"], body["status"], body["total"], body["lines_count"]) == (
            1,
            "draft",
            "494.65",
            3,
        )
        assert body["next_party"] == world.contract.parties.get(role="vendor").pk

        # A wrong code is refused with 403 and changes nothing
        statement = Statement.objects.get(pk=pk)
        before = state(statement)
        wrong = vendor.post(
            f"{BASE}/statements/{pk}/submit/", reauth("000000", "totp"), format="json"
        )
        assert error(wrong, 403)["message"] == "身份验证失败"
        assert state(statement) == before

        clock.shift(timedelta(seconds=5))  # django-otp throttles after the failure
        submitted = vendor.post(
            f"{BASE}/statements/{pk}/submit/",
            reauth(
                code_for(world.users["vendor"]),
                "totp",
                passphrase=signing_passphrase(world.users["vendor"]),
            ),
            format="json",
        )
        assert submitted.status_code == 200, submitted.content
        assert submitted.json()["status"] == "submitted"
        assert submitted.json()["is_late"] is False

        for role in ("bureau", "supervisor"):
            response = api(world.users[role]).post(
                f"{BASE}/statements/{pk}/confirm/",
                {
                    **reauth(
                        code_for(world.users[role]),
                        "totp",
                        passphrase=signing_passphrase(world.users[role]),
                    ),
                    "comment": f"{role} 确认",
                },
                format="json",
            )
            assert response.status_code == 200, response.content

    body = api(world.users["auditor"]).get(f"{BASE}/statements/{pk}/").json()
    assert body["status"] == "signed"
    assert [(s["party_role"], s["action"], s["reauth_method"]) for s in body["signoffs"]] == [
        ("vendor", "confirm", "totp"),
        ("bureau", "confirm", "totp"),
        ("supervisor", "confirm", "totp"),
    ]
    assert [(s["role"], s["state"]) for s in body["signoff_steps"]] == [
        ("bureau", "done"),
        ("vendor", "done"),
        ("supervisor", "done"),
    ]
    assert body["next_party"] is None
    assert [v["version"] for v in body["versions"]] == [1]
    assert sorted(d["subtotal"] for d in body["subtotals"]) == ["149.85", "344.85"]
    assert sum(Decimal(b["total"]) for b in body["department_bills"]) == Decimal("494.65")
    # every party's signature is in the PDF as soon as its request answered
    assert body["document"]["signatures"] == 3


def test_the_detail_lists_what_the_caller_may_do_now(world):
    statement = submitted_statement(world)
    path = f"{BASE}/statements/{statement.pk}/"
    expected = {
        "vendor": ["comment"],
        "bureau": ["comment", "confirm", "dispute"],
        "supervisor": ["comment", "dispute"],  # the bureau confirms first
        "auditor": ["comment"],
    }
    for role, actions in expected.items():
        assert api(world.users[role]).get(path).json()["available_actions"] == actions, role


def test_dispute_by_api_then_a_new_version(world):
    statement = submitted_statement(world)
    vcpu = statement.lines.get(item_code="ecs.general.vcpu")
    response = api(world.users["supervisor"]).post(
        f"{BASE}/statements/{statement.pk}/dispute/",
        {**reauth(), "comment": "3月12日才交付", "line_ids": [vcpu.pk]},
        format="json",
    )
    assert response.json()["status"] == "disputed"
    assert response.json()["comments"][0]["line_position"] == vcpu.position

    Resource.objects.filter(catalog_item__code="ecs.general.vcpu").update(
        online_at=sh(2026, 3, 12, 9), billing_starts_at=sh(2026, 3, 12, 9)
    )
    again = api(world.users["vendor"]).post(
        f"{BASE}/statements/generate/",
        {"contract": world.contract.pk, "year": 2026, "month": 3},
        format="json",
    )
    assert again.status_code == 201
    body = again.json()
    assert (body["version"], body["status"], body["total"]) == (2, "draft", "486.28")
    assert [(v["version"], v["status"]) for v in body["versions"]] == [
        (1, "disputed"),
        (2, "draft"),
    ]


def test_dispute_needs_lines_of_the_statement(world, foreign):
    statement = submitted_statement(world)
    other = submitted_statement(foreign)
    before = state(statement)
    response = api(world.users["bureau"]).post(
        f"{BASE}/statements/{statement.pk}/dispute/",
        {**reauth(), "comment": "有误", "line_ids": [other.lines.first().pk]},
        format="json",
    )
    assert "不属于该统计表" in error(response, 400)["message"]
    assert state(statement) == before


def test_reauth_is_required_for_acts_with_legal_weight(world):
    statement = draft_statement(world)
    before = state(statement)
    response = api(world.users["vendor"]).post(
        f"{BASE}/statements/{statement.pk}/submit/", {}, format="json"
    )
    assert "reauth" in error(response, 400)["extra"]["fields"]
    wrong = api(world.users["vendor"]).post(
        f"{BASE}/statements/{statement.pk}/submit/", reauth("nope"), format="json"
    )
    assert error(wrong, 403)["message"] == "身份验证失败"
    assert state(statement) == before


def test_escalated_dispute_is_decided_by_the_auditor_by_api(world):
    from billing.services.statements import statement_escalate_overdue_disputes

    with time_machine.travel(sh(2026, 4, 7, 10), tick=False) as clock:
        statement = submitted_statement(world)
        statement_dispute(
            actor=world.users["bureau"], statement=statement, reauth=password(), comment="有误"
        )
        clock.move_to(sh(2026, 4, 14, 9))
        statement_escalate_overdue_disputes()
        response = api(world.users["auditor"]).post(
            f"{BASE}/statements/{statement.pk}/decide/",
            {**reauth(), "decision": "uphold_dispute", "comment": "异议成立"},
            format="json",
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "disputed"
    assert body["escalations"][0]["decision"] == "uphold_dispute"


def test_lines_are_paginated_and_filtered(world):
    other = world_inventory(world)
    for i in range(250):
        add_resource(world.contract, other, "ebs.ssd", 10 + i, sh(2026, 1, 5, 9), system="天网")
    from billing.services.statements import statement_generate

    statement = statement_generate(
        actor=world.users["vendor"], contract=world.contract, year=2026, month=3
    )
    client = api(world.users["bureau"])
    page = client.get(f"{BASE}/statements/{statement.pk}/lines/").json()
    assert (page["count"], len(page["results"])) == (253, 200)
    assert page["results"][0]["position"] == 1
    department = world.orgs["department"].pk
    own = client.get(f"{BASE}/statements/{statement.pk}/lines/", {"department": department})
    assert own.json()["count"] == 2
    vcpu = client.get(f"{BASE}/statements/{statement.pk}/lines/", {"item": "ecs.general.vcpu"})
    assert [line["amount"] for line in vcpu.json()["results"]] == ["119.85"]


def test_statement_list_filters(world):
    statement = submitted_statement(world)
    client = api(world.users["supervisor"])
    assert client.get(f"{BASE}/statements/", {"status": "submitted"}).json()["count"] == 1
    assert client.get(f"{BASE}/statements/", {"status": "signed"}).json()["count"] == 0
    assert client.get(f"{BASE}/statements/", {"year": 2026, "month": 3}).json()["count"] == 1
    assert client.get(f"{BASE}/statements/", {"month": 4}).json()["count"] == 0
    body = client.get(f"{BASE}/statements/", {"contract": world.contract.pk}).json()
    assert body["results"][0]["id"] == statement.pk
    assert body["results"][0]["due_date"] == "2026-04-08"


# ---------------------------------------------------------------- immutability

SIGNED_ACTIONS = [
    ("submit", "vendor", reauth()),
    ("confirm", "bureau", reauth()),
    ("confirm", "supervisor", reauth()),
    ("dispute", "bureau", {**reauth(), "comment": "晚了"}),
    ("comment", "auditor", {"text": "晚了"}),
    ("decide", "auditor", {**reauth(), "decision": "uphold_dispute", "comment": "晚了"}),
]


@pytest.mark.parametrize(
    ("action", "role", "payload"), SIGNED_ACTIONS, ids=[f"{a}-{r}" for a, r, _p in SIGNED_ACTIONS]
)
def test_a_signed_statement_cannot_be_changed_through_the_api(world, action, role, payload):
    statement = signed_statement(world)
    before = state(statement)

    response = api(world.users[role]).post(
        f"{BASE}/statements/{statement.pk}/{action}/", payload, format="json"
    )

    assert "已签认" in error(response, 409)["message"]
    assert state(statement) == before


def test_generating_a_signed_month_again_is_refused_by_api(world):
    statement = signed_statement(world)
    before = state(statement)
    response = api(world.users["vendor"]).post(
        f"{BASE}/statements/generate/",
        {"contract": world.contract.pk, "year": 2026, "month": 3},
        format="json",
    )
    assert "已签认" in error(response, 409)["message"]
    assert state(statement) == before
    assert Statement.objects.count() == 1


def test_a_correction_leaves_the_signed_version_as_it_was(world):
    statement = signed_statement(world)
    before = state(statement)
    response = api(world.users["vendor"]).post(
        f"{BASE}/statements/{statement.pk}/supersede/", {"reason": "数量录入错误"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["version"], body["status"], body["supersedes"]) == (2, "draft", statement.pk)
    assert body["supersede_reason"] == "数量录入错误"
    assert state(statement) == before
    assert Statement.objects.get(pk=statement.pk).status == StatementStatus.SIGNED


# ---------------------------------------------------------------- constant queries


def _measure(client: APIClient, path: str) -> tuple[int, int]:
    client.get(path)  # warm what the process caches on a first request
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries), response.json()["count"]


def test_statement_list_queries_do_not_grow(world):
    client = api(world.users["bureau"])
    _bare_statements(world, 3)
    few, count = _measure(client, f"{BASE}/statements/")
    assert count == 3
    _bare_statements(world, 9)
    many, count = _measure(client, f"{BASE}/statements/")
    assert (many, count) == (few, 12)


def test_bill_list_queries_do_not_grow(world):
    client = api(world.users["bureau"])
    _bills(world, 1)
    few, count = _measure(client, f"{BASE}/bills/")
    assert count == 3
    _bills(world, 9)
    many, count = _measure(client, f"{BASE}/bills/")
    assert (many, count) == (few, 12)


def test_line_list_queries_do_not_grow(world):
    statement = draft_statement(world)
    client = api(world.users["vendor"])
    path = f"{BASE}/statements/{statement.pk}/lines/"
    few, count = _measure(client, path)
    assert count == 3
    from billing.services.statements import statement_generate

    for i in range(9):
        add_resource(world.contract, world.orgs["department"], "ebs.ssd", 1 + i, sh(2026, 2, 1))
    statement_generate(actor=world.users["vendor"], contract=world.contract, year=2026, month=3)
    many, count = _measure(client, path)
    assert (many, count) == (few, 12)


def test_session_users_who_passed_two_factor_use_the_api_too(world):
    from tests.conftest import verified_client

    statement = submitted_statement(world)
    for role in PARTIES:
        response = verified_client(world.users[role]).get(f"{BASE}/statements/{statement.pk}/")
        assert response.status_code == 200, role
