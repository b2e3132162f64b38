"""Portal page of maintenance notice-duty records (计划维护通知不足), and the bureau's note."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govcloud.web import page_of, run_service
from sla import selectors
from sla.forms import CommentForm
from sla.models import MaintenanceNoticeShortfall, ShortfallStatus
from sla.services import actions, outages
from sla.views.common import status_filter, year_of_request, years_context


def _list_page(
    request: HttpRequest, contract, *, form: CommentForm | None = None, failed: int | None = None
) -> HttpResponse:
    year = year_of_request(request, contract)
    qs = selectors.shortfall_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    qs, status = status_filter(request, qs, ShortfallStatus.choices)
    page = page_of(request, qs.order_by("-started_at", "-pk"))
    rows = [
        {
            "record": r,
            "actions": actions.shortfall_available_actions(user=request.user, obj=r),
            "form": form if failed == r.pk and form is not None else CommentForm(),
        }
        for r in page
    ]
    return render(
        request,
        "sla/shortfall_list.html",
        {
            **years_context(contract, year),
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": ShortfallStatus.choices,
        },
    )


@login_required
def shortfall_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    return _list_page(request, contract)


@login_required
@require_POST
def shortfall_note(request: HttpRequest, pk: int) -> HttpResponse:
    record: MaintenanceNoticeShortfall = selectors.get_for_user(
        selectors.shortfall_list_for_user(user=request.user), pk
    )
    form = CommentForm(request.POST)
    if form.is_valid():
        ok, response = run_service(
            request,
            lambda: outages.shortfall_note(
                actor=request.user, record=record, note=form.cleaned_data["comment"]
            ),
            _("已知悉。"),
            to=reverse("sla_shortfall_list", args=[record.contract_id])
            + f"?year={record.service_year}",
            form=form,
        )
        if ok:
            return response
    return _list_page(request, record.contract, form=form, failed=record.pk)
