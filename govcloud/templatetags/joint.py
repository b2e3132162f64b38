"""The joint-confirmation panel in any page: ``{% joint_panel confirmation %}``.

Shows who confirmed when and who objected why, and the confirm / object buttons the acting user
may use now (``joint_available_actions``, the same check the services make).
"""

from __future__ import annotations

from typing import Any

from django import template

from govcloud.joint import joint_available_actions, joint_history, joint_rows

register = template.Library()


@register.inclusion_tag("govcloud/joint/_panel.html", takes_context=True)
def joint_panel(context: Any, confirmation: Any, next_url: str = "") -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "confirmation": confirmation,
        "rows": joint_rows(confirmation) if confirmation else [],
        "history": joint_history(confirmation) if confirmation else [],
        "actions": joint_available_actions(user=user, obj=confirmation) if confirmation else (),
        "next_url": next_url or (request.get_full_path() if request else ""),
        "csrf_token": context.get("csrf_token"),
    }
