"""Every URL that names an object, with how to build it and who may see it.

``tests/govcloud/test_scoping.py`` walks the URLconf: a route with a path parameter that is
missing here fails the suite, so no view can be added without its cross-tenant matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ALL_ROLES = frozenset(
    {
        "bureau",
        "vendor",
        "supervisor",
        "auditor",
        "department",
        "security_admin",
        "audit_admin",
        "system_admin",
    }
)


@dataclass(frozen=True)
class ScopedUrl:
    build: Callable[[object], dict[str, object]]  # world -> URL kwargs
    visible_to: frozenset[str] = ALL_ROLES
    method: str = "get"


SCOPED_URLS: dict[str, ScopedUrl] = {
    "contract_detail": ScopedUrl(lambda w: {"pk": w.contract.pk}),
    "api_contract_detail": ScopedUrl(lambda w: {"pk": w.contract.pk}),
    "api_contract_catalog": ScopedUrl(lambda w: {"pk": w.contract.pk}),
}

# Routes with parameters that are not tenant objects (admin has its own matrix test).
EXEMPT_PREFIXES = ("admin:", "i18n")
