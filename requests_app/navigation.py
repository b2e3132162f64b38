"""Menu entries of the ticket pages, registered from ``RequestsAppConfig.ready``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from govcloud.access import is_business_staff
from govcloud.models import OrganizationKind
from govcloud.navigation import NavItem, register

PARTY_AND_DEPARTMENT_KINDS = frozenset(OrganizationKind.values)


def _staff(user: object) -> bool:
    # The three administrators do administration only (三员分立), never tickets.
    return is_business_staff(user)


def _sees_tickets(user: object) -> bool:
    return _staff(user) and (
        getattr(user, "kind", None) in PARTY_AND_DEPARTMENT_KINDS
        or getattr(user, "is_superuser", False)
    )


def _reviews(user: object) -> bool:
    return _staff(user) and getattr(user, "kind", None) in (
        OrganizationKind.BUREAU,
        OrganizationKind.SUPERVISOR,
    )


def _delivers(user: object) -> bool:
    return _staff(user) and getattr(user, "kind", None) == OrganizationKind.VENDOR


def register_navigation() -> None:
    for item in (
        NavItem(_("资源申请"), "request_list", _sees_tickets),
        NavItem(_("待我审核"), "review_queue", _reviews),
        NavItem(_("交付队列"), "delivery_queue", _delivers),
        NavItem(_("云资源"), "resource_list", _sees_tickets),
    ):
        register(item, before="contract_list")
