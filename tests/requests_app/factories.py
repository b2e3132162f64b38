"""Helpers that drive tickets through the real services."""

from __future__ import annotations

from decimal import Decimal

from requests_app import services
from requests_app.models import ResourceRequest
from tests.factories import CatalogItemFactory


def vcpu_item(contract):
    existing = contract.catalog_items.filter(code="ecs.general.vcpu").first()
    return existing or CatalogItemFactory(
        contract=contract, code="ecs.general.vcpu", unit="核", unit_price=Decimal("21.60")
    )


def submitted_ticket(world, *, item=None, quantity: int = 8, system_name: str = "不动产登记系统"):
    item = item or vcpu_item(world.contract)
    return services.request_create(
        actor=world.users["department"],
        contract=world.contract,
        kind="new",
        reason="新系统上云",
        system_name=system_name,
        lines=[services.LineInput(catalog_item_id=item.pk, quantity=quantity)],
        submit=True,
    )


def approved_ticket(world, **kwargs) -> ResourceRequest:
    ticket = submitted_ticket(world, **kwargs)
    ticket = services.request_approve(actor=world.users["bureau"], ticket=ticket)
    if "supervisor" in world.orgs:
        ticket = services.request_approve(actor=world.users["supervisor"], ticket=ticket)
    return ticket


def delivered_ticket(world, **kwargs) -> ResourceRequest:
    ticket = approved_ticket(world, **kwargs)
    items = [
        services.DeliveryInput(line_id=line.pk, vendor_ref=f"i-{line.pk}")
        for line in ticket.lines.all()
    ]
    return services.request_deliver(actor=world.users["vendor"], ticket=ticket, items=items)
