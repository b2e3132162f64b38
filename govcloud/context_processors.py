"""Template context every portal page needs: the navigation the user may see."""

from __future__ import annotations

from django.http import HttpRequest

from govcloud.navigation import nav_for


def portal(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    if user.requires_two_factor and not user.is_verified():
        return {"nav_items": []}  # nothing to open before the second factor
    return {"nav_items": nav_for(user)}
