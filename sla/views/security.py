"""Portal pages of the security-mechanism checklist: submit, review, waive, evidence."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govcloud.models import Contract
from govcloud.web import run_service, serve_file
from sla import selectors
from sla.forms import SecurityReviewForm, SecuritySubmitForm, SecurityWaiveForm
from sla.models import SecurityItem, SecurityMechanismItem
from sla.services import actions, security
from sla.views.common import year_of_request, years_context


def _security_page(
    request: HttpRequest,
    contract: Contract,
    *,
    submit_form: SecuritySubmitForm | None = None,
    waive_form: SecurityWaiveForm | None = None,
) -> HttpResponse:
    year = year_of_request(request, contract)
    rows = selectors.security_item_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    by_item = {row.item: row for row in rows.select_related("submitted_by", "reviewed_by")}
    items = []
    for code, label in SecurityItem.choices:
        row = by_item.get(code)
        subject = row or SecurityMechanismItem(
            contract=contract, service_year=year.label, item=code
        )
        items.append(
            {
                "code": code,
                "label": label,
                "row": row,
                "actions": actions.security_item_available_actions(user=request.user, obj=subject),
            }
        )
    missing = sum(1 for i in items if not (i["row"] and i["row"].fulfilled))
    can = frozenset().union(*(i["actions"] for i in items))
    return render(
        request,
        "sla/security_list.html",
        {
            **years_context(contract, year),
            "items": items,
            "missing": missing,
            "actions": can,
            "submit_form": submit_form or SecuritySubmitForm(),
            "waive_form": waive_form or SecurityWaiveForm(),
        },
    )


def _security_here(contract: Contract, year: int) -> str:
    return reverse("sla_security_list", args=[contract.pk]) + f"?year={year}"


@login_required
def security_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    return _security_page(request, contract)


@login_required
@require_POST
def security_submit(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    form = SecuritySubmitForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: security.security_item_submit(
                actor=request.user,
                contract=contract,
                year=year.label,
                item=data["item"],
                evidence=data["evidence"],
                note=data["note"],
            ),
            _("材料已提交，待甲方审核。"),
            to=_security_here(contract, year.label),
            form=form,
        )
        if ok:
            return response
    return _security_page(request, contract, submit_form=form)


@login_required
@require_POST
def security_waive(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    form = SecurityWaiveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: security.security_item_waive(
                actor=request.user,
                contract=contract,
                year=year.label,
                item=data["item"],
                reason=data["reason"],
            ),
            _("已认定为非乙方责任。"),
            to=_security_here(contract, year.label),
            form=form,
        )
        if ok:
            return response
    return _security_page(request, contract, waive_form=form)


@login_required
@require_POST
def security_review(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.get_for_user(selectors.security_item_list_for_user(user=request.user), pk)
    contract = row.contract
    form = SecurityReviewForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        if data["decision"] == "waive":
            call = lambda: security.security_item_waive(  # noqa: E731
                actor=request.user,
                contract=contract,
                year=row.service_year,
                item=row.item,
                reason=data["comment"],
            )
        else:
            call = lambda: security.security_item_review(  # noqa: E731
                actor=request.user,
                item=row,
                accept=data["decision"] == "accept",
                comment=data["comment"],
            )
        _ok, response = run_service(
            request, call, _("已处理。"), to=_security_here(contract, row.service_year)
        )
        if response is not None:
            return response
    return _security_page(request, contract)


@login_required
def security_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.get_for_user(selectors.security_item_list_for_user(user=request.user), pk)
    return serve_file(row.evidence)
