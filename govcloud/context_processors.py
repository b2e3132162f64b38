"""Template context every portal page needs: the navigation the user may see."""

from __future__ import annotations

from django.http import HttpRequest

from govcloud.navigation import nav_for


def portal(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    return {"nav_items": nav_for(user)}
