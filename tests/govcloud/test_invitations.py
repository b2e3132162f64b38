"""A party's user administrator is invited once, accepts with a password and an authenticator,
and from then on administers its own users — the inviter never touches that account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp

from govcloud.invitations import invitation_create, invitation_resend, invitation_revoke
from govcloud.models import (
    AuditEvent,
    Invitation,
    InvitationStatus,
    OrganizationKind,
    OutboxEmail,
    Role,
    User,
)
from tests.conftest import verified_client
from tests.factories import OrganizationFactory, UserFactory, make_totp

pytestmark = pytest.mark.django_db

STRONG = "Qz-strong-pass-2026!"


@pytest.fixture
def operator(db):
    platform = OrganizationFactory(kind=OrganizationKind.PLATFORM)
    user = UserFactory(organization=platform, role=Role.PLATFORM_OPERATOR)
    make_totp(user)
    return user


def invite_in_admin(client, organization, username="vendor-admin"):
    return client.post(
        reverse("admin:govcloud_invitation_add"),
        {
            "organization": organization.pk,
            "username": username,
            "full_name": "乙方管理员",
            "email": "admin@vendor.example.test",
        },
    )


def link_from_mail() -> str:
    mail = OutboxEmail.objects.get(recipient="admin@vendor.example.test")
    return re.search(r"https?://\S+/accounts/invitation/\S+/", mail.body).group(0)


def path_of(link: str) -> str:
    return link[link.index("/accounts/") :]


def code(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_operator_invites_and_the_person_accepts(world, operator, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.test"
    response = invite_in_admin(verified_client(operator), world.orgs["vendor"])
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    user = invitation.user
    assert (user.role, user.organization, user.is_active) == (
        Role.USER_ADMIN,
        world.orgs["vendor"],
        False,
    )
    assert not user.has_usable_password()
    link = link_from_mail()
    assert link.startswith("https://portal.example.test/accounts/invitation/")
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in invitation.token_hash  # only a hash is stored
    assert AuditEvent.objects.filter(action="invitation.create", actor=operator).exists()

    person = Client()
    step1 = person.get(path_of(link))
    assert step1.status_code == 200
    assert (
        person.post(path_of(link), {"new_password1": STRONG, "new_password2": STRONG}).status_code
        == 302
    )
    user.refresh_from_db()
    assert user.check_password(STRONG)
    assert not user.is_active  # not before the authenticator is enrolled
    assert (
        Client().post(reverse("login"), {"username": user.username, "password": STRONG}).status_code
        == 200
    )

    step2 = person.get(path_of(link))
    assert "data:image/svg+xml;base64," in step2.content.decode()
    device = user.totpdevice_set.get(confirmed=False)
    done = person.post(path_of(link), {"token": code(device)})
    assert done.status_code == 302
    user.refresh_from_db()
    invitation.refresh_from_db()
    assert user.is_active
    assert user.is_staff
    assert invitation.status == InvitationStatus.ACCEPTED
    assert person.get(reverse("admin:govcloud_user_changelist")).status_code == 200
    # The link is spent.
    assert Client().get(path_of(link)).status_code == 404


def test_the_link_expires_after_seven_days(world, operator):
    invitation_create(
        actor=operator,
        organization=world.orgs["vendor"],
        username="late",
        email="admin@vendor.example.test",
    )
    link = link_from_mail()
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        assert Client().get(path_of(link)).status_code == 404


def test_resend_replaces_the_link_and_revoke_kills_it(world, operator):
    invitation, first = invitation_create(
        actor=operator,
        organization=world.orgs["supervisor"],
        username="sup-admin",
        email="admin@vendor.example.test",
    )
    invitation, second = invitation_resend(actor=operator, invitation=invitation)
    assert Client().get(reverse("invitation_accept", args=[first])).status_code == 404
    assert Client().get(reverse("invitation_accept", args=[second])).status_code == 200
    invitation_revoke(actor=operator, invitation=invitation)
    assert Client().get(reverse("invitation_accept", args=[second])).status_code == 404
    assert not User.objects.filter(username="sup-admin").exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"invitation.create", "invitation.resend", "invitation.revoke"} <= actions


def test_bureau_invites_only_parties_on_its_own_contracts(world, foreign):
    admin_user = world.users["security_admin"]
    client = verified_client(admin_user)
    form = client.get(reverse("admin:govcloud_invitation_add")).context["adminform"].form
    offered = set(form.fields["organization"].queryset)
    assert offered == {world.orgs["vendor"], world.orgs["supervisor"], world.orgs["auditor"]}
    refused = invite_in_admin(client, foreign.orgs["vendor"])
    assert "选择一个有效的选项" in refused.content.decode()
    assert not Invitation.objects.exists()
    assert AuditEvent.objects.filter(action="admin.forbidden_attempt", actor=admin_user).exists()
    assert invite_in_admin(client, world.orgs["vendor"]).status_code == 302


def test_the_inviter_never_touches_the_accepted_user(world):
    admin_user = world.users["security_admin"]
    invitation, _token = invitation_create(
        actor=admin_user,
        organization=world.orgs["vendor"],
        username="vendor-admin",
        email="admin@vendor.example.test",
    )
    invited = invitation.user
    client = verified_client(admin_user)
    for name in ("admin:govcloud_user_change", "admin:auth_user_password_change"):
        assert client.get(reverse(name, args=[invited.pk])).status_code == 404
    # Invited once: while an invitation is pending (or the party has its admin), no second one.
    again = invite_in_admin(client, world.orgs["vendor"], username="another")
    assert again.status_code == 200
    assert Invitation.objects.count() == 1


def test_operator_and_vendor_admin_cannot_invite_for_anyone_else(world):
    vendor_admin = UserFactory(organization=world.orgs["vendor"], role=Role.USER_ADMIN)
    make_totp(vendor_admin)
    response = verified_client(vendor_admin).get(reverse("admin:govcloud_invitation_add"))
    assert response.status_code == 403
