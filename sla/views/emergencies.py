"""Portal page of emergency periods (no right-sizing in them): list and register."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from govcloud.web import page_of, run_service
from sla import selectors
from sla.forms import EmergencyForm
from sla.services import actions, rightsizing


@login_required
@require_http_methods(["GET", "POST"])
def emergency_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    form = EmergencyForm(request.POST or None, contract=contract)
    here = reverse("sla_emergency_list", args=[contract.pk])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: rightsizing.emergency_period_create(
                actor=request.user,
                contract=contract,
                start_date=data["start_date"],
                end_date=data["end_date"],
                reason=data["reason"],
                system_ids=[s.pk for s in data["systems"]],
            ),
            _("紧急保障期已登记：期内不适用资源调整规则。"),
            to=here,
            form=form,
        )
        if ok:
            return response
    periods = selectors.emergency_list_for_user(user=request.user).filter(contract=contract)
    return render(
        request,
        "sla/emergency_list.html",
        {
            "contract": contract,
            "page": page_of(
                request,
                periods.prefetch_related("systems").order_by("-start_date", "-pk"),
            ),
            "form": form,
            "actions": actions.contract_sla_actions(user=request.user, contract=contract),
        },
    )
