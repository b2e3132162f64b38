"""Helpers of the SLA tests: resources, samples and records built through the real services."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from billing.models import CatalogItem, Resource
from govcloud.models import BusinessSystem, Contract, Organization
from govcloud.workdays import BUSINESS_TZ
from sla.models import UtilizationSample
from tests.factories import CatalogItemFactory


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """An aware instant in Beijing time."""
    return datetime(y, m, d, hh, mm, tzinfo=BUSINESS_TZ)


def pdf(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 test", content_type="application/pdf")


def item(contract: Contract, code: str, **kwargs) -> CatalogItem:
    existing = contract.catalog_items.filter(code=code).first()
    if existing:
        return existing
    defaults = {"unit": "核", "unit_price": Decimal("21.60"), "section": "计算服务"}
    defaults.update(kwargs)
    return CatalogItemFactory(contract=contract, code=code, **defaults)


def vcpu_item(contract: Contract) -> CatalogItem:
    return item(contract, "ecs.general.vcpu", unit="核")


def mem_item(contract: Contract) -> CatalogItem:
    return item(contract, "ecs.general.mem", unit="GB")


def disk_item(contract: Contract) -> CatalogItem:
    return item(contract, "ebs.ssd", unit="GB", unit_price=Decimal("0.45"), section="存储服务")


def flavour(contract: Contract, vcpus: int, memory_gb: int, price: str) -> CatalogItem:
    return item(
        contract,
        f"ecs.{vcpus}c{memory_gb}g",
        unit="台",
        unit_price=Decimal(price),
        vcpus=vcpus,
        memory_gb=memory_gb,
    )


def system(department: Organization, name: str = "不动产登记系统", **kwargs) -> BusinessSystem:
    found, _created = BusinessSystem.objects.get_or_create(
        department=department, name=name, defaults=kwargs
    )
    return found


def resource(
    contract: Contract,
    department: Organization,
    catalog_item: CatalogItem,
    quantity: int,
    *,
    system_name: str = "不动产登记系统",
    online: datetime | None = None,
    **system_kwargs,
) -> Resource:
    online = online or at(2025, 1, 1)
    return Resource.objects.create(
        contract=contract,
        department=department,
        system=system(department, system_name, **system_kwargs),
        catalog_item=catalog_item,
        quantity=quantity,
        online_at=online,
        billing_starts_at=online,
    )


def samples(
    res: Resource,
    first: date,
    days: int,
    *,
    cpu: str = "50",
    mem: str = "50",
    disk: str = "50",
    used: str | None = None,
    user=None,
) -> None:
    """``days`` daily samples from ``first`` with the given percentages."""
    user = user or _vendor_user(res.contract)
    UtilizationSample.objects.bulk_create(
        [
            UtilizationSample(
                resource=res,
                day=first + timedelta(days=i),
                cpu_pct=Decimal(cpu),
                mem_pct=Decimal(mem),
                disk_pct=Decimal(disk),
                disk_used_gb=Decimal(used) if used is not None else None,
                pushed_by=user,
            )
            for i in range(days)
        ]
    )


def _vendor_user(contract: Contract):
    from govcloud.models import PartyRole, User

    vendor = contract.parties.get(role=PartyRole.VENDOR).organization
    return User.objects.filter(organization=vendor).first()
