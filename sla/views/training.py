"""Portal pages of training: the year's plan and the sessions held, with their reviews."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govcloud.access import role_on_contract
from govcloud.models import Contract
from govcloud.web import page_of, run_service, serve_file
from sla import selectors
from sla.forms import DecisionForm, TrainingPlanForm, TrainingSessionForm
from sla.models import SessionStatus, TrainingPlan
from sla.services import actions, training
from sla.views.common import year_of_request, years_context


def _training_page(
    request: HttpRequest,
    contract: Contract,
    *,
    plan_form: TrainingPlanForm | None = None,
    session_form: TrainingSessionForm | None = None,
) -> HttpResponse:
    year = year_of_request(request, contract)
    plan = (
        selectors.training_plan_list_for_user(user=request.user)
        .filter(contract=contract, service_year=year.label)
        .select_related("reviewed_by")
        .first()
    )
    sessions = selectors.training_session_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    page = page_of(request, sessions.order_by("-held_on", "-pk"))
    for session in page:
        session.contract = contract  # one contract (and its parties) for every row's rule check
    rows = [
        {
            "session": s,
            "actions": actions.training_session_available_actions(user=request.user, obj=s),
        }
        for s in page
    ]
    subject = plan or TrainingPlan(contract=contract, service_year=year.label)
    role = role_on_contract(request.user, contract)
    return render(
        request,
        "sla/training_list.html",
        {
            **years_context(contract, year),
            "plan": plan,
            "page": page,
            "rows": rows,
            "confirmed": sessions.filter(status=SessionStatus.CONFIRMED).count(),
            "role": role,
            "plan_actions": actions.training_plan_available_actions(user=request.user, obj=subject),
            # The review column shows when some session on the page may be reviewed by the user.
            "reviews_sessions": any("review" in row["actions"] for row in rows),
            "contract_actions": actions.contract_sla_actions(user=request.user, contract=contract),
            "plan_form": plan_form or TrainingPlanForm(),
            "session_form": session_form or TrainingSessionForm(),
        },
    )


def _training_here(contract: Contract, year: int) -> str:
    return reverse("sla_training_list", args=[contract.pk]) + f"?year={year}"


@login_required
def training_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    return _training_page(request, contract)


@login_required
@require_POST
def training_plan_submit(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    form = TrainingPlanForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: training.training_plan_submit(
                actor=request.user,
                contract=contract,
                year=year.label,
                description=data["description"],
                document=data["document"],
            ),
            _("培训计划已提交，待甲方评审。"),
            to=_training_here(contract, year.label),
            form=form,
        )
        if ok:
            return response
    return _training_page(request, contract, plan_form=form)


@login_required
@require_POST
def training_session_record(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    form = TrainingSessionForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: training.training_session_record(
                actor=request.user,
                contract=contract,
                held_on=data["held_on"],
                topic=data["topic"],
                attendees=data["attendees"],
                materials=data["materials"],
            ),
            _("培训记录已登记，待甲方确认。"),
            to=_training_here(contract, year.label),
            form=form,
        )
        if ok:
            return response
    return _training_page(request, contract, session_form=form)


@login_required
@require_POST
def training_plan_review(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_for_user(selectors.training_plan_list_for_user(user=request.user), pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        _ok, response = run_service(
            request,
            lambda: training.training_plan_review(
                actor=request.user,
                plan=plan,
                approve=form.accepted,
                comment=form.cleaned_data["comment"],
            ),
            _("已评审培训计划。"),
            to=_training_here(plan.contract, plan.service_year),
        )
        if response is not None:
            return response
    return _training_page(request, plan.contract)


@login_required
@require_POST
def training_session_review(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.get_for_user(
        selectors.training_session_list_for_user(user=request.user), pk
    )
    form = DecisionForm(request.POST)
    if form.is_valid():
        _ok, response = run_service(
            request,
            lambda: training.training_session_review(
                actor=request.user,
                session=session,
                confirm=form.accepted,
                comment=form.cleaned_data["comment"],
            ),
            _("已处理培训记录。"),
            to=_training_here(session.contract, session.service_year),
        )
        if response is not None:
            return response
    return _training_page(request, session.contract)


@login_required
def training_plan_file(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_for_user(selectors.training_plan_list_for_user(user=request.user), pk)
    return serve_file(plan.document)


@login_required
def training_session_file(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.get_for_user(
        selectors.training_session_list_for_user(user=request.user), pk
    )
    return serve_file(session.materials)
