"""Portal pages of satisfaction surveys: list, open, answer, close."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from govcloud.access import role_on_contract
from govcloud.models import PartyRole
from govcloud.web import page_of, run_service
from sla import selectors
from sla.forms import SurveyForm, SurveyResponseForm
from sla.models import SatisfactionSurvey
from sla.services import actions, surveys
from sla.views.common import require_contract_action, year_of_request, years_context


@login_required
def survey_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.sla_contract_get(user=request.user, pk=contract_pk)
    role = role_on_contract(request.user, contract)
    qs = selectors.survey_list_for_user(user=request.user).filter(contract=contract)
    answered = set()
    if role == "department":
        answered = set(qs.filter(responses__respondent=request.user).values_list("pk", flat=True))
    rows = []
    for survey in qs.annotate(answers=Count("responses")).order_by("-service_year"):
        survey.contract = contract  # one contract (and its parties) for every row's rule check
        rows.append(
            {
                "survey": survey,
                "answered": survey.pk in answered,
                "actions": actions.survey_available_actions(user=request.user, obj=survey),
            }
        )
    return render(
        request,
        "sla/survey_list.html",
        {
            "contract": contract,
            "rows": rows,
            "role": role,
            "actions": actions.contract_sla_actions(user=request.user, contract=contract),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    require_contract_action(request.user, contract, "survey_create")
    year = year_of_request(request, contract)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: surveys.survey_open(
                actor=request.user,
                contract=contract,
                year=year.label,
                title=data["title"],
                instructions=data["instructions"],
                closes_on=data["closes_on"],
            ),
            _("满意度调查已发起，已通知使用单位。"),
            to=lambda created: reverse("sla_survey_detail", args=[created.pk]),
            form=form,
        )
        if ok:
            return response
    return render(
        request,
        "sla/record_form.html",
        {
            **years_context(contract, year),
            "form": form,
            "title": _("发起 %(y)s 服务年度用户满意度调查") % {"y": year.label},
            "back": reverse("sla_survey_list", args=[contract.pk]),
            "multipart": False,
            "year_choice": True,
        },
    )


def _survey(request: HttpRequest, pk: int) -> SatisfactionSurvey:
    return selectors.get_for_user(selectors.survey_list_for_user(user=request.user), pk)


def _detail_page(
    request: HttpRequest, survey: SatisfactionSurvey, form: SurveyResponseForm | None = None
) -> HttpResponse:
    contract = survey.contract
    role = role_on_contract(request.user, contract)
    mine = (
        survey.responses.filter(respondent=request.user).first() if role == "department" else None
    )
    sees_answers = role in (PartyRole.BUREAU, PartyRole.AUDITOR, PartyRole.SUPERVISOR)
    responses = (
        page_of(
            request,
            survey.responses.select_related("respondent", "department").order_by("answered_at"),
        )
        if sees_answers
        else None
    )
    return render(
        request,
        "sla/survey_detail.html",
        {
            "contract": contract,
            "survey": survey,
            "stats": surveys.survey_stats(survey) if role != "department" else None,
            "form": form or SurveyResponseForm(),
            "mine": mine,
            "page": responses,
            "role": role,
            "actions": actions.survey_available_actions(user=request.user, obj=survey),
        },
    )


@login_required
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _survey(request, pk))


@login_required
@require_POST
def survey_respond(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    form = SurveyResponseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: surveys.survey_respond(
                actor=request.user, survey=survey, score=data["score"], comment=data["comment"]
            ),
            _("感谢您的反馈，答卷已提交。"),
            to=reverse("sla_survey_detail", args=[survey.pk]),
            form=form,
        )
        if ok:
            return response
    return _detail_page(request, survey, form)


@login_required
@require_POST
def survey_close(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    _ok, response = run_service(
        request,
        lambda: surveys.survey_close(actor=request.user, survey=survey),
        _("满意度调查已结束。"),
        to=reverse("sla_survey_detail", args=[survey.pk]),
    )
    return response or _detail_page(request, survey)
