"""Joint confirmation (会签): only the named parties, each once per round, objections with a
reason and a restart, the roles snapshotted when opened, cross-tenant 404 on pages and API.

This module is also the URLconf of its page tests (``urlpatterns`` below): the project's root
URLconf with the joint-confirmation routes included, as ``govcloud/urls.py`` will have them.
"""

from __future__ import annotations

import pytest
from django.urls import include, path, reverse

from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.joint import (
    is_confirmed,
    joint_available_actions,
    joint_confirm,
    joint_confirmed,
    joint_for,
    joint_object,
    joint_open,
    joint_restart,
    required_roles,
)
from govcloud.models import (
    AuditEvent,
    JointConfirmation,
    JointStatus,
    JointSubject,
    Organization,
)
from govcloud.urls import urlpatterns as _root
from tests.api_clients import person_api
from tests.conftest import World, verified_client

urlpatterns = [
    path("joint/", include("govcloud.joint_urls")),
    path("api/v1/", include("govcloud.joint_api_urls")),
    *_root,
]
URLCONF = "tests.govcloud.test_joint"

pytestmark = pytest.mark.django_db

SUBJECT = JointSubject.IMPROVEMENT_REPORT
THREE = ["bureau", "supervisor", "auditor"]


def _open(world: World, roles=THREE, subject=SUBJECT) -> JointConfirmation:
    world.contract.joint_confirmations = {str(subject): roles}
    world.contract.save(update_fields=["joint_confirmations"])
    target: Organization = world.orgs["department"]
    confirmation = joint_open(
        actor=world.users["bureau"],
        contract=world.contract,
        subject=subject,
        obj=target,
        title="整改报告 #1",
    )
    assert confirmation is not None
    return confirmation


# ------------------------------------------------------------------------------ the mechanism


def test_subject_not_in_terms_is_single_party_rule(world):
    """JZ lists no joint confirmations: nothing is opened and the record counts as it is."""
    world.contract.joint_confirmations = {}
    world.contract.save(update_fields=["joint_confirmations"])
    target = world.orgs["department"]
    opened = joint_open(
        actor=world.users["bureau"], contract=world.contract, subject=SUBJECT, obj=target, title="x"
    )
    assert opened is None
    assert is_confirmed(target, SUBJECT, contract=world.contract)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        # The world's contract reviews bureau → supervisor and signs bureau → vendor → supervisor.
        (JointSubject.DELIVERY_TIME, ["bureau", "supervisor"]),
        (JointSubject.INVENTORY_CORRECTION, ["bureau", "vendor", "supervisor"]),
    ],
)
def test_workflow_subjects_fall_back_on_the_contract_workflow(world, subject, expected):
    """Where the terms are silent, a backdated delivery is confirmed by the review chain and an
    inventory correction by the statement's signers; named terms still win."""
    world.contract.joint_confirmations = {}
    world.contract.save(update_fields=["joint_confirmations"])
    assert required_roles(world.contract, subject) == expected
    world.contract.joint_confirmations = {str(subject): ["bureau"]}
    assert required_roles(world.contract, subject) == ["bureau"]


def test_open_is_idempotent(world):
    first = _open(world)
    second = _open(world)
    assert first.pk == second.pk
    assert JointConfirmation.objects.count() == 1


def test_counts_only_when_every_named_party_confirmed(world):
    confirmation = _open(world)
    heard = []

    def receiver(sender, confirmation, **kwargs):
        heard.append(confirmation.pk)

    joint_confirmed.connect(receiver)
    try:
        joint_confirm(actor=world.users["bureau"], confirmation=confirmation)
        joint_confirm(actor=world.users["supervisor"], confirmation=confirmation)
        target = world.orgs["department"]
        assert not is_confirmed(target, SUBJECT, contract=world.contract)
        assert heard == []
        joint_confirm(actor=world.users["auditor"], confirmation=confirmation)
    finally:
        joint_confirmed.disconnect(receiver)
    confirmation.refresh_from_db()
    assert confirmation.status == JointStatus.CONFIRMED
    assert confirmation.confirmed_at is not None
    assert is_confirmed(world.orgs["department"], SUBJECT, contract=world.contract)
    assert heard == [confirmation.pk]
    assert AuditEvent.objects.filter(action="joint.confirm").count() == 3


@pytest.mark.parametrize("who", ["vendor", "department"])
def test_parties_not_named_may_not_confirm(world, who):
    confirmation = _open(world)
    with pytest.raises(ActionForbidden):
        joint_confirm(actor=world.users[who], confirmation=confirmation)
    assert not joint_available_actions(user=world.users[who], obj=confirmation)


def test_each_party_once_per_round(world):
    confirmation = _open(world)
    joint_confirm(actor=world.users["bureau"], confirmation=confirmation)
    with pytest.raises(InvalidTransition):
        joint_confirm(actor=world.users["bureau"], confirmation=confirmation)
    assert "confirm" not in joint_available_actions(user=world.users["bureau"], obj=confirmation)


def test_foreign_party_of_same_role_refused(world, foreign):
    confirmation = _open(world)
    with pytest.raises(ActionForbidden):
        joint_confirm(actor=foreign.users["bureau"], confirmation=confirmation)


def test_objection_needs_reason_and_stops_until_restart(world):
    confirmation = _open(world)
    joint_confirm(actor=world.users["bureau"], confirmation=confirmation)
    with pytest.raises(ApplicationError):
        joint_object(actor=world.users["auditor"], confirmation=confirmation, reason="  ")
    confirmation = joint_object(
        actor=world.users["auditor"], confirmation=confirmation, reason="附件缺少复测记录"
    )
    assert confirmation.status == JointStatus.OBJECTED
    with pytest.raises(InvalidTransition):
        joint_confirm(actor=world.users["supervisor"], confirmation=confirmation)

    # The originator revises: a new round, everyone confirms again (the bureau too).
    confirmation = joint_restart(
        actor=world.users["vendor"], confirmation=confirmation, note="补充复测"
    )
    assert (confirmation.status, confirmation.round) == (JointStatus.OPEN, 2)
    for who in ("bureau", "supervisor"):
        joint_confirm(actor=world.users[who], confirmation=confirmation)
    confirmation.refresh_from_db()
    assert confirmation.status == JointStatus.OPEN
    joint_confirm(actor=world.users["auditor"], confirmation=confirmation)
    confirmation.refresh_from_db()
    assert confirmation.status == JointStatus.CONFIRMED
    assert confirmation.entries.filter(round=1).count() == 2  # the history stays


def test_roles_snapshotted_when_opened(world):
    confirmation = _open(world, roles=["bureau", "supervisor"])
    # The terms change afterwards: the record under way keeps its parties.
    world.contract.joint_confirmations = {str(SUBJECT): THREE}
    world.contract.save(update_fields=["joint_confirmations"])
    joint_confirm(actor=world.users["bureau"], confirmation=confirmation)
    joint_confirm(actor=world.users["supervisor"], confirmation=confirmation)
    confirmation.refresh_from_db()
    assert confirmation.required_roles == ["bureau", "supervisor"]
    assert confirmation.status == JointStatus.CONFIRMED
    assert joint_for(world.orgs["department"], SUBJECT).pk == confirmation.pk


# ------------------------------------------------------------------------------ pages


@pytest.mark.urls(URLCONF)
def test_pages_show_who_confirmed_and_offer_buttons(world):
    confirmation = _open(world)
    joint_confirm(actor=world.users["bureau"], confirmation=confirmation)
    client = verified_client(world.users["supervisor"])
    page = client.get(reverse("joint_detail", args=[confirmation.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert str(world.users["bureau"]) in text
    assert "确认无误" in text
    listing = client.get(reverse("joint_list"))
    assert "整改报告 #1" in listing.content.decode()

    response = client.post(reverse("joint_decide", args=[confirmation.pk]), {"decision": "confirm"})
    assert response.status_code == 302
    assert confirmation.entries.filter(role="supervisor").exists()

    auditor = verified_client(world.users["auditor"])
    auditor.post(reverse("joint_decide", args=[confirmation.pk]), {"decision": "object"})
    confirmation.refresh_from_db()
    assert confirmation.status == JointStatus.OPEN  # an objection without a reason is refused


@pytest.mark.urls(URLCONF)
@pytest.mark.parametrize("who", ["bureau", "vendor", "supervisor", "auditor", "department"])
def test_pages_cross_tenant_404(world, foreign, who):
    confirmation = _open(world)
    client = verified_client(foreign.users[who])
    assert client.get(reverse("joint_detail", args=[confirmation.pk])).status_code == 404
    response = client.post(reverse("joint_decide", args=[confirmation.pk]), {"decision": "confirm"})
    assert response.status_code == 404
    assert "整改报告 #1" not in client.get(reverse("joint_list")).content.decode()


# ------------------------------------------------------------------------------ API


@pytest.mark.urls(URLCONF)
def test_api_requires_authentication(world):
    from rest_framework.test import APIClient

    confirmation = _open(world)
    response = APIClient().get(reverse("api_joint_detail", args=[confirmation.pk]))
    assert response.status_code == 401


@pytest.mark.urls(URLCONF)
@pytest.mark.parametrize("who", ["bureau", "supervisor", "auditor", "department"])
def test_api_cross_tenant_404(world, foreign, who):
    confirmation = _open(world)
    api = person_api(foreign.users[who])
    assert api.get(reverse("api_joint_detail", args=[confirmation.pk])).status_code == 404
    assert api.post(reverse("api_joint_confirm", args=[confirmation.pk])).status_code == 404
    response = api.post(
        reverse("api_joint_object", args=[confirmation.pk]), {"reason": "x"}, format="json"
    )
    assert response.status_code == 404
    assert api.get(reverse("api_joint_list")).json()["count"] == 0


@pytest.mark.urls(URLCONF)
def test_api_confirm_and_object(world):
    confirmation = _open(world)
    vendor = person_api(world.users["vendor"])
    response = vendor.post(reverse("api_joint_confirm", args=[confirmation.pk]))
    assert response.status_code == 403
    assert response.json()["message"]

    bureau = person_api(world.users["bureau"])
    body = bureau.get(reverse("api_joint_detail", args=[confirmation.pk])).json()
    assert body["available_actions"] == ["confirm", "object"]
    body = bureau.post(reverse("api_joint_confirm", args=[confirmation.pk])).json()
    assert [e["role"] for e in body["entries"]] == ["bureau"]

    auditor = person_api(world.users["auditor"])
    response = auditor.post(reverse("api_joint_object", args=[confirmation.pk]), {}, format="json")
    assert response.status_code == 400
    body = auditor.post(
        reverse("api_joint_object", args=[confirmation.pk]), {"reason": "数据不符"}, format="json"
    ).json()
    assert body["status"] == "objected"
    assert body["entries"][-1]["reason"] == "数据不符"


@pytest.mark.urls(URLCONF)
@pytest.mark.parametrize("role", ["security_admin", "audit_admin", "system_admin"])
def test_administrators_see_no_joint_confirmations(world, role):
    confirmation = _open(world)
    client = verified_client(world.users[role])
    assert client.get(reverse("joint_list")).status_code == 403
    assert client.get(reverse("joint_detail", args=[confirmation.pk])).status_code == 404
    response = client.post(reverse("joint_decide", args=[confirmation.pk]), {"decision": "confirm"})
    assert response.status_code == 403
    api = person_api(world.users[role])
    assert api.get(reverse("api_joint_detail", args=[confirmation.pk])).status_code == 403
