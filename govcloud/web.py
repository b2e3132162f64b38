"""Helpers every portal page uses: paging, error text, contract choices, running a service.

One copy for all apps (DESIGN §2): a page that lists, refuses or downloads behaves the same
whichever app it belongs to.
"""

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
from govcloud.selectors import contract_list_for_user

__all__ = [
    "PAGE_SIZE",
    "contract_choices",
    "error_text",
    "page_of",
    "run_service",
    "serve_file",
]

PAGE_SIZE = 50


def page_of(request: HttpRequest, queryset: QuerySet | list, size: int = PAGE_SIZE) -> Page:
    """The ``?page=`` page of ``queryset`` (out-of-range and junk pages give the nearest one)."""
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def error_text(exc: ApplicationError) -> str:
    """One line for a refusal: the message, then each listed error (rows named by number)."""
    parts = []
    for error in exc.extra.get("errors") or []:
        if isinstance(error, dict) and "row" in error:
            detail = error.get("errors") or []
            text = "；".join(str(e) for e in detail) if isinstance(detail, list) else str(detail)
            parts.append(_("第 %(n)s 行：%(e)s") % {"n": error["row"], "e": text})
        else:
            parts.append(str(error))
    return "：".join([exc.message, "；".join(parts)]) if parts else exc.message


def contract_choices(user: Any) -> list[tuple[int, str]]:
    """``(pk, code)`` of the contracts the user sees, for filter and form choices."""
    qs = contract_list_for_user(user=user).prefetch_related(None)
    return [(c.pk, c.code) for c in qs.only("pk", "code")]


def run_service(
    request: HttpRequest,
    action: Callable[[], Any],
    success: str,
    *,
    to: str | Callable[[Any], str],
    form: Any = None,
    explain: Callable[[ApplicationError], str] = error_text,
) -> tuple[bool, HttpResponse | None]:
    """Run a service; on success flash ``success`` and redirect to ``to`` — a URL, or a function
    of what the service returned (e.g. the detail page of the record it created).

    On refusal nothing was changed (the service is atomic): the reason goes onto ``form`` (on
    the field the service names, else as a form error) or into the messages, and the caller
    re-renders. Returns ``(ok, redirect or None)``.
    """
    try:
        result = action()
    except ApplicationError as exc:
        if form is not None:
            field = exc.extra.get("field")
            if field and field in getattr(form, "fields", {}):
                form.add_error(field, exc.message)
            else:
                form.add_error(None, explain(exc))
        else:
            messages.error(request, explain(exc))
        return False, None
    messages.success(request, success)
    return True, redirect(to(result) if callable(to) else to)


def serve_file(
    field: FieldFile | None, name: str = "", *, missing: str = "", inline: bool = False
) -> FileResponse:
    """Send a stored file: a download, or ``inline`` for the browser's viewer (PDFs).

    404 with ``missing`` (or a generic message) when there is no file or it is gone.
    """
    if not field:
        raise Http404(missing or _("文件不存在。"))
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("文件已不存在。")) from None
    filename = name or field.name.rsplit("/", 1)[-1]
    return FileResponse(handle, as_attachment=not inline, filename=filename)
