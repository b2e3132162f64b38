"""API tokens: per service account, named, scoped, expiring, issued and revoked by the
account's own organisation administrator, audited (issue: trust boundaries, item 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from govcloud.api_tokens import api_token_create, api_token_revoke
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import ApiToken, AuditEvent, Role, TokenScope
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def vendor_admin(world):
    return UserFactory(organization=world.orgs["vendor"], role=Role.USER_ADMIN)


@pytest.fixture
def vendor_system(world):
    user = UserFactory(organization=world.orgs["vendor"], is_service_account=True)
    user.set_unusable_password()
    user.save()
    return user


def _client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_the_vendors_user_admin_issues_a_named_expiring_token_shown_once(
    world, vendor_admin, vendor_system
):
    issued = api_token_create(
        actor=vendor_admin, user=vendor_system, name="运维平台对接", scope=TokenScope.VENDOR_WRITE
    )

    token = ApiToken.objects.get()
    assert issued.secret.startswith("gct_")
    assert issued.secret not in {token.key_hash, token.prefix}  # only the hash is stored
    assert token.expires_at - token.created_at == timedelta(days=90)
    assert "***" in repr(issued)
    event = AuditEvent.objects.get(action="api_token.create")
    assert issued.secret not in str(event.after)
    response = _client(issued.secret).get("/api/v1/contracts/")
    assert response.status_code == 200
    assert [c["code"] for c in response.json()["results"]] == [world.contract.code]


def test_tokens_are_for_service_accounts_only(world, vendor_admin):
    person = world.users["vendor"]
    with pytest.raises(ApplicationError, match="服务账号"):
        api_token_create(actor=vendor_admin, user=person, name="x", scope=TokenScope.READ)


@pytest.mark.parametrize("actor_key", ["bureau", "security_admin", "supervisor", "vendor"])
def test_only_the_accounts_own_organisation_admin_issues_tokens(world, vendor_system, actor_key):
    with pytest.raises(ActionForbidden):
        api_token_create(
            actor=world.users[actor_key], user=vendor_system, name="x", scope=TokenScope.READ
        )
    assert not ApiToken.objects.exists()


def test_the_bureau_security_admin_issues_tokens_for_its_own_service_accounts(world):
    system = UserFactory(organization=world.orgs["bureau"], is_service_account=True)
    issued = api_token_create(
        actor=world.users["security_admin"], user=system, name="报表系统", scope=TokenScope.READ
    )
    assert _client(issued.secret).get("/api/v1/contracts/").status_code == 200
    with pytest.raises(ApplicationError, match="乙方"):
        api_token_create(
            actor=world.users["security_admin"],
            user=system,
            name="写",
            scope=TokenScope.VENDOR_WRITE,
        )


def test_a_read_token_cannot_write(world, vendor_admin, vendor_system):
    issued = api_token_create(
        actor=vendor_admin, user=vendor_system, name="只读", scope=TokenScope.READ
    )
    response = _client(issued.secret).post("/api/v1/requests/1/approve/", {}, format="json")
    assert response.status_code == 403
    assert set(response.json()) == {"message", "extra"}


def test_expired_and_revoked_tokens_are_refused(world, vendor_admin, vendor_system):
    issued = api_token_create(
        actor=vendor_admin, user=vendor_system, name="短期", scope=TokenScope.READ, days=1
    )
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert _client(issued.secret).get("/api/v1/contracts/").status_code == 401

    other = api_token_create(
        actor=vendor_admin, user=vendor_system, name="将吊销", scope=TokenScope.READ
    )
    api_token_revoke(actor=vendor_admin, token=other.token)
    response = _client(other.secret).get("/api/v1/contracts/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1


def test_a_stranger_cannot_revoke(world, foreign, vendor_admin, vendor_system):
    issued = api_token_create(
        actor=vendor_admin, user=vendor_system, name="对接", scope=TokenScope.READ
    )
    with pytest.raises(ActionForbidden):
        api_token_revoke(actor=foreign.users["security_admin"], token=issued.token)
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


def test_a_service_account_never_signs_in_with_a_password(world):
    system = UserFactory(organization=world.orgs["vendor"], is_service_account=True)
    system.set_password(PASSWORD)
    system.save()
    response = Client().post(
        "/accounts/login/", {"username": system.username, "password": PASSWORD}
    )
    assert response.status_code == 200  # the form again, not a redirect into the portal
    assert "_auth_user_id" not in Client().session


def test_the_admin_issues_a_token_and_shows_the_secret_once(world, vendor_system):
    from tests.conftest import verified_client

    admin = world.users["security_admin"]
    bureau_system = UserFactory(organization=world.orgs["bureau"], is_service_account=True)
    client = verified_client(admin)
    page = client.get("/admin/govcloud/apitoken/issue/")
    assert page.status_code == 200
    choices = [str(u.pk) for u in page.context["form"].fields["user"].queryset]
    assert choices == [str(bureau_system.pk)]  # not the vendor's system, not people

    response = client.post(
        "/admin/govcloud/apitoken/issue/",
        {"user": vendor_system.pk, "name": "伪造", "scope": "read", "days": 90},
    )
    assert "user" in response.context["form"].errors  # a foreign account is not a choice
    assert not ApiToken.objects.exists()

    response = client.post(
        "/admin/govcloud/apitoken/issue/",
        {"user": bureau_system.pk, "name": "报表", "scope": "read", "days": 30},
    )
    secret = response.context["secret"]
    assert secret.startswith("gct_")
    assert _client(secret).get("/api/v1/contracts/").status_code == 200
    listing = client.get("/admin/govcloud/apitoken/")
    assert secret not in listing.content.decode()


@pytest.mark.parametrize("role", ["security_admin", "audit_admin", "system_admin"])
def test_administrators_do_no_business_through_the_api(world, role):
    from tests.api_clients import person_api

    client = person_api(world.users[role])
    assert client.get("/api/v1/me/").status_code == 200
    for url in (
        "/api/v1/contracts/",
        f"/api/v1/contracts/{world.contract.pk}/",
        "/api/v1/requests/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "三员分立" in response.json()["message"]
