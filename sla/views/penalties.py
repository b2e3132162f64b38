"""Portal pages of penalty records: list, record, acknowledge, withdraw."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from govcloud.access import role_on_contract
from govcloud.web import page_of, run_service
from sla import selectors
from sla.forms import PenaltyForm, ReasonForm
from sla.models import Penalty, PenaltyStatus
from sla.services import actions, penalties
from sla.views.common import require_contract_action, status_filter, year_of_request, years_context


@login_required
def penalty_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    qs = selectors.penalty_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    qs, status = status_filter(request, qs, PenaltyStatus.choices)
    role = role_on_contract(request.user, contract)
    return render(
        request,
        "sla/penalty_list.html",
        {
            **years_context(contract, year),
            "page": page_of(request, qs.order_by("-occurred_on", "-pk")),
            "status": status,
            "statuses": PenaltyStatus.choices,
            "role": role,
            "actions": actions.contract_sla_actions(user=request.user, contract=contract),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def penalty_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    require_contract_action(request.user, contract, "penalty_create")
    form = PenaltyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: penalties.penalty_record(
                actor=request.user,
                contract=contract,
                occurred_on=data["occurred_on"],
                reason=data["reason"],
                clause=data["clause"],
                amount=data["amount"],
                points=data["points"],
                area=data["area"],
            ),
            _("罚则已记录，待乙方签认。"),
            to=lambda created: reverse("sla_penalty_detail", args=[created.pk]),
            form=form,
        )
        if ok:
            return response
    return render(
        request,
        "sla/record_form.html",
        {
            "contract": contract,
            "form": form,
            "title": _("记录罚则"),
            "back": reverse("sla_penalty_list", args=[contract.pk]),
            "multipart": False,
        },
    )


def _penalty(request: HttpRequest, pk: int) -> Penalty:
    return selectors.get_for_user(
        selectors.penalty_list_for_user(user=request.user).select_related("acknowledged_by"), pk
    )


def _detail_page(
    request: HttpRequest, penalty: Penalty, reason_form: ReasonForm | None = None
) -> HttpResponse:
    return render(
        request,
        "sla/penalty_detail.html",
        {
            "contract": penalty.contract,
            "penalty": penalty,
            "reason_form": reason_form or ReasonForm(),
            "actions": actions.penalty_available_actions(user=request.user, obj=penalty),
        },
    )


@login_required
def penalty_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _penalty(request, pk))


@login_required
@require_POST
def penalty_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    penalty = _penalty(request, pk)
    _ok, response = run_service(
        request,
        lambda: penalties.penalty_acknowledge(actor=request.user, penalty=penalty),
        _("已签认。"),
        to=reverse("sla_penalty_detail", args=[penalty.pk]),
    )
    return response or _detail_page(request, penalty)


@login_required
@require_POST
def penalty_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    penalty = _penalty(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        ok, response = run_service(
            request,
            lambda: penalties.penalty_withdraw(
                actor=request.user, penalty=penalty, reason=form.cleaned_data["reason"]
            ),
            _("已撤销。"),
            to=reverse("sla_penalty_detail", args=[penalty.pk]),
            form=form,
        )
        if ok:
            return response
    return _detail_page(request, penalty, form)
