"""The billing admin is read-only: statements cannot change there, whoever asks."""

from __future__ import annotations

from django.urls import reverse

from billing.services.statements import statement_generate, statement_submit
from govcloud.models import Role, User
from tests.billing.conftest import add_resource, password, sh, signing_passphrase
from tests.conftest import verified_client
from tests.factories import UserFactory, make_totp


def test_statement_admin_is_read_only(bt):
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 1, 1))
    statement = statement_generate(
        actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
    )
    statement_submit(
        actor=bt.users["vendor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(bt.users["vendor"]),
    )
    superuser = User.objects.create_superuser("root", "root@example.test", "x")
    make_totp(superuser)
    for user in (bt.users["bureau"], superuser):
        client = verified_client(user)
        assert client.get(reverse("admin:billing_statement_changelist")).status_code == 200
        change = reverse("admin:billing_statement_change", args=[statement.pk])
        page = client.get(change)
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert client.post(change, {"total": "0.01"}).status_code == 403
        assert client.get(reverse("admin:billing_statement_add")).status_code == 403
        delete = reverse("admin:billing_statement_delete", args=[statement.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        lines = reverse("admin:billing_statementline_changelist")
        assert client.get(lines, {"statement__id__exact": statement.pk}).status_code == 200
    statement.refresh_from_db()
    assert statement.total > 1


def test_billing_admin_hidden_from_non_bureau_and_scoped(bt, jz):
    add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 7, 1))
    foreign = statement_generate(actor=jz.users["vendor"], contract=jz.contract, year=2026, month=7)
    client = verified_client(bt.users["bureau"])
    # Another bureau's statement does not exist for this admin: 404 (it used to redirect).
    assert (
        client.get(reverse("admin:billing_statement_change", args=[foreign.pk])).status_code == 404
    )
    admin = UserFactory(organization=bt.contract.bureau, role=Role.SECURITY_ADMIN)
    make_totp(admin)
    assert (
        verified_client(admin).get(reverse("admin:billing_statement_changelist")).status_code == 403
    )
