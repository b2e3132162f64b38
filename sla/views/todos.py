"""The lists behind the SLA's home-page to-do counts (``sla.home.TODOS``): each page lists
exactly the rows its count counts, across the user's contracts and service years."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from govcloud.web import page_of
from sla import selectors
from sla.home import TODOS

__all__ = ["TODOS", "todo_list"]


def _row_url(detail: str, obj) -> str:
    if detail:
        return reverse(detail, args=[obj.pk])
    return reverse("sla_shortfall_list", args=[obj.contract_id])


@login_required
def todo_list(request: HttpRequest, key: str) -> HttpResponse:
    todo = TODOS[key]  # the URLconf passes only known keys
    if not selectors.is_party_user(request.user) and not selectors.is_department_user(request.user):
        raise PermissionDenied(_("管理员账号不办理合同业务（三员分立）。"))
    page = page_of(request, todo.rows(request.user).order_by("contract__code", "-pk"))
    rows = [
        {
            "obj": obj,
            "url": _row_url(todo.detail, obj),
            "status": obj.get_status_display() if hasattr(obj, "get_status_display") else "",
        }
        for obj in page
    ]
    return render(request, "sla/todo_list.html", {"todo": todo, "page": page, "rows": rows})
