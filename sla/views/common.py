"""Shared pieces of the SLA portal pages: years, roles, pagination, running a service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from govcloud.exceptions import ApplicationError
from govcloud.models import Contract, User
from sla import periods
from sla.services.common import contract_years, current_year_label, party_role

PAGE_SIZE = 50


def page_of(request: HttpRequest, queryset: QuerySet) -> Page:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def year_of_request(request: HttpRequest, contract: Contract) -> periods.ServiceYear:
    """The service year chosen with ``?year=`` (default: the current one)."""
    years = contract_years(contract)
    raw = request.GET.get("year") or request.POST.get("year") or ""
    if raw.isdigit():
        for year in years:
            if year.label == int(raw):
                return year
    label = current_year_label(contract)
    return next(y for y in years if y.label == label)


def role_of(user: User, contract: Contract) -> str | None:
    """The user's party role on the contract ("department" for its departments' users)."""
    if not user.is_authenticated:
        return None
    role = party_role(user, contract)
    if role is None and user.kind == "department":
        return "department"
    return role


def error_text(exc: ApplicationError) -> str:
    errors = exc.extra.get("errors") or []
    parts = []
    for error in errors:
        if isinstance(error, dict):
            parts.append(
                _("第 %(n)s 行：%(e)s") % {"n": error.get("row"), "e": "；".join(error["errors"])}
            )
        else:
            parts.append(str(error))
    return "：".join([exc.message, "；".join(parts)]) if parts else exc.message


def run(
    request: HttpRequest,
    action: Callable[[], Any],
    success: str,
    *,
    to: str,
    form: Any = None,
) -> tuple[bool, HttpResponse | None]:
    """Run a service; on success message + redirect, on refusal keep the page with the reason.

    Returns ``(ok, response)``: the redirect on success; ``None`` on refusal (the caller
    re-renders, with the message attached to ``form`` when given).
    """
    try:
        action()
    except ApplicationError as exc:
        if form is not None:
            field = exc.extra.get("field")
            if field and field in getattr(form, "fields", {}):
                form.add_error(field, exc.message)
            else:
                form.add_error(None, error_text(exc))
        else:
            messages.error(request, error_text(exc))
        return False, None
    messages.success(request, success)
    return True, redirect(to)


def serve(field: FieldFile | None, name: str = "") -> FileResponse:
    """Download a stored file (404 when it is gone)."""
    if not field:
        raise Http404(_("文件不存在。"))
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("文件已不存在。")) from None
    filename = name or field.name.rsplit("/", 1)[-1]
    return FileResponse(handle, as_attachment=True, filename=filename)


def years_context(contract: Contract, year: periods.ServiceYear) -> dict[str, Any]:
    return {"contract": contract, "year": year, "years": contract_years(contract)}
