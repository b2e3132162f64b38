"""Fixtures for billing: the reference contracts with a user per party, and inventory helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest

from billing.models import CatalogItem, Resource, ResourceChange
from billing.pricing import BUSINESS_TZ
from billing.reference import load_reference_contracts
from billing.services.reauth import Reauth
from govcloud.models import BusinessSystem, Contract, Organization, OrganizationKind, User
from tests.factories import PASSWORD, UserFactory, make_totp

HEADER = "department,system,item,quantity,online_at,offline_at,billing_starts_at\n"


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A business-local (Asia/Shanghai) instant."""
    return datetime(year, month, day, hour, minute, tzinfo=BUSINESS_TZ)


def password() -> Reauth:
    return Reauth(method="password", value=PASSWORD)


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
