"""Who may do business, and which party a user's organisation plays on a contract.

Services call ``require_staff``; views and templates read the same predicates, so the rule
"the three administrators do no business" (三员分立) is written once.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from govcloud.exceptions import ActionForbidden
from govcloud.models import Contract, OrganizationKind, Role

__all__ = ["is_business_staff", "party_role_of", "require_staff", "role_on_contract"]


def is_business_staff(user: Any) -> bool:
    """An active business user: not one of the security, audit or system administrators."""
    return bool(getattr(user, "is_active", False)) and getattr(user, "role", None) == Role.STAFF


def require_staff(actor: Any) -> None:
    """Refuse the three administrators (三员分立) and inactive users: ActionForbidden (403)."""
    if getattr(actor, "pk", None) is None or not getattr(actor, "is_active", False):
        raise ActionForbidden(_("需要以本人账号登录办理。"))
    if not is_business_staff(actor):
        raise ActionForbidden(_("管理员账号不能办理业务（三员分立）。"))


def party_role_of(user: Any, contract: Contract) -> str | None:
    """The role the user's organisation plays on the contract, or None (reads ``parties``).

    Department users are not parties: their answer is None.
    """
    organization_id = getattr(user, "organization_id", None)
    if organization_id is None:
        return None
    for party in contract.parties.all():
        if party.organization_id == organization_id:
            return party.role
    return None


def role_on_contract(user: Any, contract: Contract) -> str | None:
    """Like ``party_role_of``, but "department" for the users of the contract's departments."""
    if not getattr(user, "is_authenticated", False):
        return None
    role = party_role_of(user, contract)
    if role is None and getattr(user, "kind", None) == OrganizationKind.DEPARTMENT:
        return "department"
    return role
