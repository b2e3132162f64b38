"""Trust boundaries in the admin: nobody administers, or writes into, another organisation.

Each test replays a finding of the issue "Trust boundaries: no organisation can act, sign or
administer for another" and asserts it is refused — and that the attempt is in the audit trail.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from govcloud.models import AuditEvent, BusinessSystem, Role, User
from tests.conftest import verified_client
from tests.factories import PASSWORD, UserFactory, make_totp
from tests.requests_app.factories import vcpu_item

pytestmark = pytest.mark.django_db

STRONG = "Qz-strong-pass-2026!"


def forbidden_attempts(user) -> int:
    return AuditEvent.objects.filter(action="admin.forbidden_attempt", actor=user).count()


def user_add(client, **fields):
    data = {
        "username": "new-user",
        "full_name": "新用户",
        "email": "new@example.test",
        "password1": STRONG,
        "password2": STRONG,
        **fields,
    }
    return client.post(reverse("admin:govcloud_user_add"), data)


# --------------------------------------------------------------------------- users (item 1, 2)


def test_security_admin_user_form_offers_only_own_bureau_and_departments(world, foreign):
    client = verified_client(world.users["security_admin"])
    form = client.get(reverse("admin:govcloud_user_add")).context["adminform"].form
    offered = set(form.fields["organization"].queryset)
    assert offered == {world.orgs["bureau"], world.orgs["department"]}
    roles = {value for value, _label in form.fields["role"].choices if value}
    assert roles == {Role.STAFF, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN, Role.SYSTEM_ADMIN}


def test_forged_user_add_for_another_bureau_is_refused_and_audited(world, foreign):
    """Acceptance: the Baotou security admin cannot create a system admin in Jiaozuo."""
    admin_user = world.users["security_admin"]
    client = verified_client(admin_user)
    response = user_add(
        client, organization=foreign.orgs["bureau"].pk, role=Role.SYSTEM_ADMIN, username="jz-sys"
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not User.objects.filter(username="jz-sys").exists()
    event = AuditEvent.objects.get(action="admin.forbidden_attempt", actor=admin_user)
    assert event.after["field"] == "organization"
    assert event.after["value"] == str(foreign.orgs["bureau"].pk)


@pytest.mark.parametrize("party", ["vendor", "supervisor", "auditor"])
def test_bureau_cannot_create_users_in_a_partys_organisation(world, party):
    admin_user = world.users["security_admin"]
    client = verified_client(admin_user)
    response = user_add(client, organization=world.orgs[party].pk, role=Role.STAFF)
    assert "选择一个有效的选项" in response.content.decode()
    assert not User.objects.filter(username="new-user").exists()
    assert forbidden_attempts(admin_user) == 1


def test_a_department_gets_no_administrator_roles(world):
    admin_user = world.users["security_admin"]
    client = verified_client(admin_user)
    response = user_add(client, organization=world.orgs["department"].pk, role=Role.SYSTEM_ADMIN)
    assert response.status_code == 200
    assert not User.objects.filter(username="new-user").exists()
    assert forbidden_attempts(admin_user) == 1
    ok = user_add(client, organization=world.orgs["department"].pk, role=Role.STAFF)
    assert ok.status_code == 302
    created = User.objects.get(username="new-user")
    assert created.organization == world.orgs["department"]
    assert AuditEvent.objects.filter(action="user.admin_create", object_id=str(created.pk)).exists()


@pytest.mark.parametrize("party", ["vendor", "supervisor", "auditor"])
def test_bureau_cannot_reset_or_deactivate_a_partys_users(world, party):
    client = verified_client(world.users["security_admin"])
    target = world.users[party]
    for url in (
        reverse("admin:govcloud_user_change", args=[target.pk]),
        reverse("admin:auth_user_password_change", args=[target.pk]),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, {"password1": STRONG, "password2": STRONG}).status_code == 404
    target.refresh_from_db()
    assert target.is_active
    assert target.check_password(PASSWORD)
    assert forbidden_attempts(world.users["security_admin"]) == 2


def test_security_admin_resets_a_department_users_password_audited(world):
    admin_user = world.users["security_admin"]
    target = world.users["department"]
    url = reverse("admin:auth_user_password_change", args=[target.pk])
    response = verified_client(admin_user).post(
        url, {"password1": STRONG, "password2": STRONG, "usable_password": "true"}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password(STRONG)
    assert AuditEvent.objects.filter(
        action="user.admin_password_reset", actor=admin_user, object_id=str(target.pk)
    ).exists()


def _change_data(client, user):
    url = reverse("admin:govcloud_user_change", args=[user.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.pop("password", None)
    return url, data


def test_nobody_changes_their_own_role_organisation_or_status(world):
    me = world.users["security_admin"]
    client = verified_client(me)
    url, data = _change_data(client, me)
    form = client.get(url).context["adminform"].form
    assert not {"role", "organization", "is_active"} & set(form.fields)
    data.update(
        {"role": Role.SYSTEM_ADMIN, "organization": world.orgs["department"].pk, "full_name": "我"}
    )
    response = client.post(url, data)
    assert response.status_code == 302
    me.refresh_from_db()
    assert (me.role, me.organization, me.is_active) == (
        Role.SECURITY_ADMIN,
        world.orgs["bureau"],
        True,
    )
    assert me.full_name == "我"
    assert forbidden_attempts(me) == 2  # role and organisation


def test_party_user_admin_manages_only_its_own_organisation(world, foreign):
    vendor_admin = UserFactory(organization=world.orgs["vendor"], role=Role.USER_ADMIN)
    make_totp(vendor_admin)
    vendor_admin.refresh_from_db()
    assert vendor_admin.is_staff
    client = verified_client(vendor_admin)
    form = client.get(reverse("admin:govcloud_user_add")).context["adminform"].form
    assert set(form.fields["organization"].queryset) == {world.orgs["vendor"]}
    roles = {value for value, _label in form.fields["role"].choices if value}
    assert roles == {Role.STAFF, Role.USER_ADMIN}
    ok = user_add(client, organization=world.orgs["vendor"].pk, role=Role.STAFF)
    assert ok.status_code == 302
    assert User.objects.get(username="new-user").organization == world.orgs["vendor"]
    # Not the bureau's users, nor the supervisor's.
    for other in (world.users["department"], world.users["supervisor"], world.users["bureau"]):
        assert client.get(reverse("admin:govcloud_user_change", args=[other.pk])).status_code == 404
    refused = user_add(
        client, organization=world.orgs["supervisor"].pk, role=Role.STAFF, username="sup-x"
    )
    assert "选择一个有效的选项" in refused.content.decode()
    assert not User.objects.filter(username="sup-x").exists()


def test_deactivation_by_the_security_admin_is_audited(world):
    admin_user = world.users["security_admin"]
    client = verified_client(admin_user)
    target = world.users["department"]
    url, data = _change_data(client, target)
    data.pop("is_active")  # an unticked box is absent from the POST
    assert client.post(url, data).status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    event = AuditEvent.objects.get(action="user.admin_change", object_id=str(target.pk))
    assert event.before["is_active"] is True
    assert event.after["is_active"] is False


# ---------------------------------------------------------- contract data of another bureau (1)


def test_system_admin_cannot_write_into_another_bureaus_contract(world, foreign):
    admin_user = world.users["system_admin"]
    client = verified_client(admin_user)
    response = client.post(
        reverse("admin:billing_catalogitem_add"),
        {
            "contract": foreign.contract.pk,
            "code": "x.forged",
            "section": "计算服务",
            "name": "伪造",
            "unit": "核",
            "unit_price": "1.00",
            "period": "month",
            "sort_order": "0",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not foreign.contract.catalog_items.filter(code="x.forged").exists()

    response = client.post(
        reverse("admin:govcloud_businesssystem_add"),
        {"department": foreign.orgs["department"].pk, "name": "伪造系统"},
    )
    assert "选择一个有效的选项" in response.content.decode()
    assert not BusinessSystem.objects.filter(name="伪造系统").exists()

    response = client.post(
        reverse("admin:govcloud_organization_add"),
        {"name": "伪造处室", "kind": "department", "parent": foreign.orgs["bureau"].pk},
    )
    assert "选择一个有效的选项" in response.content.decode()
    assert forbidden_attempts(admin_user) == 3

    item = vcpu_item(foreign.contract)
    url = reverse("admin:billing_catalogitem_change", args=[item.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"unit_price": "0.01"}).status_code == 404
    assert forbidden_attempts(admin_user) == 4


def test_system_admin_cannot_open_another_bureaus_rightsizing_policy(world, foreign):
    from sla.models import RightsizingPolicy

    policy, _created = RightsizingPolicy.objects.get_or_create(contract=foreign.contract)
    client = verified_client(world.users["system_admin"])
    url = reverse("admin:sla_rightsizingpolicy_change", args=[policy.pk])
    assert client.get(url).status_code == 404
    form = client.get(reverse("admin:sla_rightsizingpolicy_add")).context["adminform"].form
    assert set(form.fields["contract"].queryset) == {world.contract}


def test_autocomplete_offers_only_the_asking_fields_scope(world, foreign):
    client = verified_client(world.users["system_admin"])
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "govcloud", "model_name": "businesssystem", "field_name": "department"},
    )
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert ids == {world.orgs["department"].pk}
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "govcloud", "model_name": "organization", "field_name": "parent"},
    )
    assert {int(r["id"]) for r in response.json()["results"]} == {world.orgs["bureau"].pk}


def test_a_new_contract_of_the_system_admin_is_its_bureaus(world):
    client = verified_client(world.users["system_admin"])
    response = client.post(
        reverse("admin:govcloud_contract_add"),
        {
            "code": "NEW-1",
            "name": "新合同",
            "status": "active",
            "service_start": "2027-01-01",
            "service_end": "2027-12-31",
            "billing_from": "2027-01-01",
            "price_period": "month",
            "proration": "days_in_month",
            "partial_day_rule": "half_day_under_12h",
            "discount_factor": "1",
            "discount_applies_to": "subtotal",
            "test_period_months": "0",
            "vat_rate": "0.06",
            "delivery_working_days": "2",
            "extended_delivery_working_days": "5",
            "delivery_time_tolerance_hours": "2",  # the form's initial value
            "settlement_cadence": "yearly",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    from govcloud.models import Contract

    assert Contract.objects.get(code="NEW-1").bureau == world.orgs["bureau"]


# ------------------------------------------------------------------------------ lockouts (3)


def _lock(username: str, ip: str) -> AccessAttempt:
    return AccessAttempt.objects.create(
        username=username,
        ip_address=ip,
        user_agent="t",
        http_accept="",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
    )


def test_lockouts_are_scoped_and_unlocks_audited(world, foreign):
    admin_user = world.users["security_admin"]
    own = _lock(world.users["department"].username, "10.0.0.1")
    other = _lock(foreign.users["department"].username, "10.0.0.2")
    client = verified_client(admin_user)
    page = client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert own.username in page
    assert other.username not in page
    delete_other = reverse("admin:axes_accessattempt_delete", args=[other.pk])
    assert client.post(delete_other, {"post": "yes"}).status_code == 404
    assert AccessAttempt.objects.filter(pk=other.pk).exists()
    delete_own = reverse("admin:axes_accessattempt_delete", args=[own.pk])
    assert client.post(delete_own, {"post": "yes"}).status_code == 302
    assert not AccessAttempt.objects.filter(pk=own.pk).exists()
    event = AuditEvent.objects.get(action="auth.unlock", actor=admin_user)
    assert event.before["username"] == own.username
    assert forbidden_attempts(admin_user) == 1


def _login(client: Client, username: str, password: str, ip: str):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_a_stranger_elsewhere_cannot_lock_an_account_out(world):
    user = world.users["department"]
    stranger = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        _login(stranger, user.username, "wrong-password", "203.0.113.9")
    assert _login(stranger, user.username, PASSWORD, "203.0.113.9").status_code in (403, 429)
    # The owner at the bureau's address still signs in.
    assert _login(Client(), user.username, PASSWORD, "10.20.30.40").status_code == 302


def test_a_spread_out_guess_is_capped_for_30_minutes(world, settings):
    settings.AXES_USERNAME_CAP = 6
    user = world.users["department"]
    for index in range(3):
        for _ in range(2):
            _login(Client(), user.username, "wrong-password", f"198.51.100.{index}")
    refused = _login(Client(), user.username, PASSWORD, "10.20.30.40")
    assert refused.status_code == 200
    assert "多处登录失败" in refused.content.decode()
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    assert _login(Client(), user.username, PASSWORD, "10.20.30.40").status_code == 302
