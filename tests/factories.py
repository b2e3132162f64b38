"""Factories shared by every app's tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing.models import CatalogItem
from govcloud.models import (
    Contract,
    ContractParty,
    Organization,
    OrganizationKind,
    PartialDay,
    PartyRole,
    PricePeriod,
    Proration,
    Role,
    SettlementCadence,
    User,
)

PASSWORD = "Test-pass-2026!"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"测试单位{n}")
    kind = OrganizationKind.BUREAU
    email = factory.Sequence(lambda n: f"org{n}@example.test")


class DepartmentFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"测试使用单位{n}")
    kind = OrganizationKind.DEPARTMENT
    parent = factory.SubFactory(OrganizationFactory, kind=OrganizationKind.BUREAU)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.STAFF
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def finish(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    code = factory.Sequence(lambda n: f"T-{n:04d}")
    name = factory.Sequence(lambda n: f"测试合同{n}")
    service_start = date(2026, 1, 1)
    service_end = date(2026, 12, 31)
    billing_from = date(2026, 1, 1)
    price_period = PricePeriod.MONTH
    proration = Proration.DAYS_IN_MONTH
    partial_day_rule = PartialDay.HALF_DAY_UNDER_12H
    discount_factor = Decimal("0.9999")
    settlement_cadence = SettlementCadence.HALF_YEARLY
    # The Baotou regime, stated explicitly (a contract without terms has no clock, no SLA).
    delivery_working_days = 2
    extended_delivery_working_days = 5
    scorecard = "sla100"
    utilization_threshold_pct = 30
    utilization_charge_pct = Decimal("20")
    maintenance_approvers = factory.LazyFunction(lambda: ["bureau", "supervisor"])
    improvement_working_days = 10
    dispute_escalation_working_days = 3
    statement_due_working_day = 5
    statement_is_deliverable = True


class CatalogItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogItem

    contract = factory.SubFactory(ContractFactory)
    code = factory.Sequence(lambda n: f"item.{n}")
    section = "计算服务"
    name = "测试资源"
    unit = "核"
    unit_price = Decimal("21.60")
    period = PricePeriod.MONTH


def add_party(contract: Contract, org: Organization, role: str, **kwargs) -> ContractParty:
    return ContractParty.objects.create(contract=contract, organization=org, role=role, **kwargs)


def make_totp(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def contract_with_parties(*, supervisor: bool = True, auditor: bool = True, **kwargs):
    """A contract with a bureau, vendor and (optionally) supervisor and auditor."""
    bureau = OrganizationFactory(kind=OrganizationKind.BUREAU)
    vendor = OrganizationFactory(kind=OrganizationKind.VENDOR)
    contract = ContractFactory(**kwargs)
    add_party(contract, bureau, PartyRole.BUREAU, review_order=1, signoff_order=1)
    add_party(contract, vendor, PartyRole.VENDOR, signoff_order=2)
    orgs = {"bureau": bureau, "vendor": vendor}
    if supervisor:
        sup = OrganizationFactory(kind=OrganizationKind.SUPERVISOR)
        add_party(contract, sup, PartyRole.SUPERVISOR, review_order=2, signoff_order=3)
        orgs["supervisor"] = sup
    if auditor:
        aud = OrganizationFactory(kind=OrganizationKind.AUDITOR)
        add_party(contract, aud, PartyRole.AUDITOR)
        orgs["auditor"] = aud
    orgs["department"] = DepartmentFactory(parent=bureau)
    return contract, orgs
