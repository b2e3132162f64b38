"""Fixtures for billing: the reference contracts with a user per party, inventory helpers, and
the parties' signing keys (development CA in the test's tmp folder, demo passphrases)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings

from billing.contracts import load_reference_contracts
from billing.models import CatalogItem, Resource, ResourceChange
from billing.pricing import BUSINESS_TZ
from billing.services.reauth import Reauth
from govcloud.models import BusinessSystem, Contract, Organization, OrganizationKind, User
from govcloud.pdf import signing as pdf_signing
from govcloud.pdf.signing import SigningSecret, create_dev_ca, demo_signing_passphrase, dev_party
from tests.factories import PASSWORD, UserFactory, make_totp

HEADER = "department,system,item,quantity,online_at,offline_at,billing_starts_at\n"


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A business-local (Asia/Shanghai) instant."""
    return datetime(year, month, day, hour, minute, tzinfo=BUSINESS_TZ)


def password() -> Reauth:
    return Reauth(method="password", value=PASSWORD)


def signing_passphrase(user: User) -> str:
    """The passphrase of the user's organisation's signing key — its demo passphrase
    (``demo_signing_passphrase``, what ``create_dev_ca`` and the demo use) — issuing the key in
    ``settings.SIGNING_DIR`` first when the organisation has none yet."""
    assert user.organization_id is not None
    ensure_signing_key(user.organization)
    return demo_signing_passphrase(user.organization_id)


def signing_secret(user: User) -> SigningSecret:
    return SigningSecret(signing_passphrase(user))


def ensure_signing_key(*organizations: Organization) -> None:
    directory = Path(settings.SIGNING_DIR)
    missing = [
        o
        for o in dict.fromkeys(organizations)
        if not (directory / f"{pdf_signing.party_key(o.pk)}.p12").exists()
    ]
    if missing:
        create_dev_ca(directory, [dev_party(o.pk, o.name) for o in missing])


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def _statement_pdfs(statement_pdfs_fast) -> None:
    """Every billing test: fast keys and a small stand-in PDF (see ``tests/conftest.py``)."""


@dataclass
class Parties:
    """A reference contract with one staff user per party and one department."""

    contract: Contract
    users: dict[str, User] = field(default_factory=dict)
    department: Organization | None = None


def _parties(code: str) -> Parties:
    contract = Contract.objects.prefetch_related("parties__organization").get(code=code)
    result = Parties(contract=contract)
    for party in contract.parties.all():
        if party.role in result.users:
            continue  # JZ's second (non-lead) vendor
        user = UserFactory(organization=party.organization)
        make_totp(user)
        result.users[party.role] = user
    # every party's key, issued with its demo passphrase (the signers know it, the server not)
    ensure_signing_key(*(p.organization for p in contract.parties.all()))
    bureau = contract.bureau
    result.department = Organization.objects.create(
        name=f"{code} 测试局", kind=OrganizationKind.DEPARTMENT, parent=bureau
    )
    return result


@pytest.fixture
def reference(db) -> dict[str, Contract]:
    load_reference_contracts()
    return {c.code: c for c in Contract.objects.all()}


@pytest.fixture
def bt(reference) -> Parties:
    return _parties("BT-2025")


@pytest.fixture
def jz(reference) -> Parties:
    return _parties("JZ-2026")


def add_resource(
    contract: Contract,
    department: Organization,
    code: str,
    quantity: int,
    online_at: datetime,
    *,
    system: str = "政务服务平台",
    billing_starts_at: datetime | None = None,
    offline_at: datetime | None = None,
    changes: list[tuple[datetime, int] | tuple[datetime, int, str]] = (),
) -> Resource:
    """A resource with its delivery as the first history row, plus later changes
    (``(delivered_at, quantity)`` or ``(delivered_at, quantity, item code)``)."""
    item = CatalogItem.objects.get(contract=contract, code=code)
    system_obj, _ = BusinessSystem.objects.get_or_create(department=department, name=system)
    resource = Resource.objects.create(
        contract=contract,
        department=department,
        system=system_obj,
        catalog_item=item,
        quantity=quantity,
        online_at=online_at,
        billing_starts_at=billing_starts_at or online_at,
        offline_at=offline_at,
    )
    ResourceChange.objects.create(
        resource=resource, catalog_item=item, quantity=quantity, delivered_at=online_at
    )
    for change in changes:
        at, new_quantity = change[0], change[1]
        new_item = (
            CatalogItem.objects.get(contract=contract, code=change[2]) if len(change) > 2 else item
        )
        ResourceChange.objects.create(
            resource=resource, catalog_item=new_item, quantity=new_quantity, delivered_at=at
        )
        resource.quantity, resource.catalog_item = new_quantity, new_item
    resource.save(update_fields=["quantity", "catalog_item"])
    return resource
