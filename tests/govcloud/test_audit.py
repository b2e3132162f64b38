"""The audit trail is append-only and records who, what, before/after, when and from where."""

from __future__ import annotations

import pytest
from django.urls import reverse

from govcloud.audit import audit_log
from govcloud.models import AuditEvent
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def test_events_cannot_be_changed_or_deleted(world):
    event = audit_log(actor=world.users["bureau"], action="x.done", obj=world.contract)
    event.action = "tampered"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "x.done"


def test_event_records_actor_organisation_object_and_contract(world):
    user = world.users["bureau"]
    event = audit_log(
        actor=user, action="contract.touch", obj=world.contract, before={"a": 1}, after={"a": 2}
    )
    assert event.actor == user
    assert event.organization == world.orgs["bureau"]
    assert event.object_type == "govcloud.contract"
    assert event.object_id == str(world.contract.pk)
    assert event.contract == world.contract
    assert (event.before, event.after) == ({"a": 1}, {"a": 2})


def test_requests_record_the_client_ip(world):
    client = verified_client(world.users["department"])
    client.post(reverse("logout"), REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.filter(action="auth.logout").latest("id")
    assert event.ip_address == "10.1.2.3"


def test_audit_admin_filters_the_trail(world):
    audit_log(actor=world.users["bureau"], action="contract.touch", obj=world.contract)
    client = verified_client(world.users["audit_admin"])
    page = client.get(reverse("admin:govcloud_auditevent_changelist"), {"action": "contract.touch"})
    assert page.status_code == 200
    assert "contract.touch" in page.content.decode()


@pytest.mark.skipif(
    __import__("django.db").db.connection.vendor != "postgresql",
    reason="the database trigger exists on PostgreSQL only",
)
def test_postgresql_refuses_raw_updates_of_audit_rows(world):
    from django.db import DatabaseError, connection, transaction

    event = audit_log(actor=world.users["bureau"], action="x.raw", obj=world.contract)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE govcloud_auditevent SET action = 'x' WHERE id = %s", [event.pk])
