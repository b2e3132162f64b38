"""Which issued document an uploaded PDF is: a hook the apps that issue documents fill in.

The verification page (``govcloud.pdf.views``) hashes an upload and asks every registered
lookup whether it issued a document with that SHA-256 that the user may see. Billing registers
its statements and bills from ``BillingConfig.ready``; the core imports no app above it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

IssuedLookup = Callable[..., Any]  # (*, user, sha256) -> an object with .document, or None

_LOOKUPS: list[IssuedLookup] = []


def register_issued_lookup(lookup: IssuedLookup) -> None:
    if lookup not in _LOOKUPS:
        _LOOKUPS.append(lookup)


def find_issued(*, user: Any, sha256: str) -> Any:
    """The first registered lookup's answer, or None when no app issued this file."""
    for lookup in _LOOKUPS:
        found = lookup(user=user, sha256=sha256)
        if found is not None:
            return found
    return None
