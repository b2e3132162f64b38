"""三员分立: security, audit and system admins each reach only their own admin pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from govcloud.models import AuditEvent
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db

PAGES = {
    "users": "admin:govcloud_user_changelist",
    "user_add": "admin:govcloud_user_add",
    "audit": "admin:govcloud_auditevent_changelist",
    "contracts": "admin:govcloud_contract_changelist",
    "contract_add": "admin:govcloud_contract_add",
    "catalog": "admin:billing_catalogitem_changelist",
    "lockouts": "admin:axes_accessattempt_changelist",
}

ALLOWED = {
    "security_admin": {"users", "user_add", "lockouts"},
    "audit_admin": {"audit"},
    "system_admin": {"contracts", "contract_add", "catalog"},
    "bureau": {"contracts", "catalog"},  # bureau staff read contracts and catalogs
}

CASES = [(role, page) for role in [*ALLOWED, "vendor", "department"] for page in PAGES]


@pytest.mark.parametrize(("role", "page"), CASES, ids=[f"{r}-{p}" for r, p in CASES])
def test_admin_pages_by_role(world, role, page):
    response = verified_client(world.users[role]).get(reverse(PAGES[page]))
    if page in ALLOWED.get(role, set()):
        assert response.status_code == 200
    else:
        assert response.status_code in (302, 403)


def test_audit_admin_cannot_change_or_delete_events(world):
    event = AuditEvent.objects.create(action="x.test", actor_repr="t", contract=world.contract)
    client = verified_client(world.users["audit_admin"])
    assert (
        client.get(reverse("admin:govcloud_auditevent_change", args=[event.pk])).status_code == 200
    )
    assert (
        client.post(
            reverse("admin:govcloud_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_system_admin_edit_of_a_contract_is_audited(world):
    client = verified_client(world.users["system_admin"])
    contract = world.contract
    url = reverse("admin:govcloud_contract_change", args=[contract.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "name": "改名后的合同",
            "discount_factor": "0.9990",
            "parties-TOTAL_FORMS": "0",
            "parties-INITIAL_FORMS": "0",
            "installments-TOTAL_FORMS": "0",
            "installments-INITIAL_FORMS": "0",
            "clauses-TOTAL_FORMS": "0",
            "clauses-INITIAL_FORMS": "0",
        }
    )
    for key in ("service_start", "service_end", "billing_from"):
        data[key] = str(getattr(contract, key))
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="contract.admin_change")
    assert event.before["name"] != event.after["name"] == "改名后的合同"
    assert event.actor == world.users["system_admin"]


def test_security_admin_sees_only_users_of_own_bureau(world, foreign):
    client = verified_client(world.users["security_admin"])
    page = client.get(reverse("admin:govcloud_user_changelist")).content.decode()
    assert world.users["department"].username in page
    assert foreign.users["department"].username not in page
    url = reverse("admin:govcloud_user_change", args=[foreign.users["vendor"].pk])
    assert client.get(url).status_code in (302, 404)


def test_admin_roles_cannot_be_given_outside_the_bureau(world):
    from django.core.exceptions import ValidationError

    user = world.users["vendor"]
    user.role = "security_admin"
    with pytest.raises(ValidationError):
        user.full_clean()
