"""The inventory-correction links on a resource's page (``requests_app/resource_detail.html``):
``{% correction_links resource %}`` — the resource's corrections, and "propose" for the users
the service lets propose (``inventory_correction_may_propose``, the same check)."""

from __future__ import annotations

from typing import Any

from django import template

from billing import selectors
from billing.services.corrections import inventory_correction_may_propose

register = template.Library()


@register.inclusion_tag("billing/partials/_correction_links.html", takes_context=True)
def correction_links(context: Any, resource: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    visible = (
        user is not None
        and selectors.correction_contract_ids(user).filter(pk=resource.contract_id).exists()
    )
    corrections = (
        list(
            selectors.correction_list_for_user(user=user)
            .filter(resource_id=resource.pk)
            .order_by("-proposed_at", "-pk")[:10]
        )
        if visible
        else []
    )
    return {
        "resource": resource,
        "visible": visible,
        "corrections": corrections,
        "may_propose": visible and inventory_correction_may_propose(user=user, resource=resource),
    }
