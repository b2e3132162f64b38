"""The SLA landing pages (contracts, a contract's overview) and the annual scorecard."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from govcloud.access import role_on_contract
from govcloud.dates import business_today, month_end, month_start, previous_month
from govcloud.joint import joint_for
from govcloud.web import run_service, serve_file
from sla import periods, selectors
from sla.forms import (
    FinaliseForm,
    FinaliseOverrideForm,
    PenaltyWaiveForm,
    RectificationDecideForm,
    RectificationOpenForm,
    RectificationReportForm,
    RescoreForm,
)
from sla.models import (
    AdviceStatus,
    DeliverableStatus,
    IncidentStatus,
    NoticeStatus,
    OutageStatus,
    PenaltyStatus,
    RightsizingReport,
    ShortfallStatus,
    SurveyStatus,
)
from sla.models.scorecard import ScorecardRectification
from sla.services import actions
from sla.services import scorecard as scorecard_services
from sla.services.common import contract_years, has_scorecard, no_scorecard_message
from sla.services.reports import scorecard_render as scorecard_render_pdf
from sla.services.reports import scorecard_view_model
from sla.services.rightsizing import contract_averages
from sla.services.signed_months import months_text, unsigned_months
from sla.views.common import year_of_request, years_context
from sla.views.utilization import low_metrics, utilization_context


@login_required
def index(request: HttpRequest) -> HttpResponse:
    contracts = selectors.sla_contracts_for_user(user=request.user)
    if not selectors.is_party_user(request.user) and not selectors.is_department_user(request.user):
        raise PermissionDenied(_("管理员账号不办理合同业务（三员分立）。"))
    return render(request, "sla/index.html", {"contracts": contracts})


def month_utilization(contract, month) -> dict:
    """The month's contract-wide averages: the submitted/drafted report's, else computed."""
    report = RightsizingReport.objects.filter(contract=contract, month=month).first()
    if report is not None:
        cpu, mem = report.avg_cpu_pct, report.avg_mem_pct
    else:
        averages = contract_averages(contract, month, month_end(month))
        cpu, mem = averages.cpu_pct, averages.mem_pct
    return {
        "month": month,
        "cpu": cpu,
        "mem": mem,
        "low": low_metrics(contract, cpu, mem),
        "report": report,
        **utilization_context(contract),
    }


def _dashboard_month(contract, today) -> date:
    """Last month, kept inside the service period (an ended contract shows its last month)."""
    month = previous_month(today)
    month = min(month, month_start(contract.service_end))
    return max(month, month_start(contract.service_start))


@login_required
def contract_overview(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.sla_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    role = role_on_contract(request.user, contract)
    user = request.user
    today = business_today()
    context = {
        **years_context(contract, year),
        "role": role,
        "has_scorecard": has_scorecard(contract),
        "no_scorecard": "" if has_scorecard(contract) else no_scorecard_message(contract),
    }
    if role == "department":
        context["surveys"] = [
            {"survey": s, "answered": s.answered}
            for s in selectors.survey_list_for_user(user=user)
            .filter(contract=contract, status=SurveyStatus.OPEN)
            .annotate(answered=Count("responses", filter=Q(responses__respondent=user)))
        ]
        context["advice_open"] = (
            selectors.advice_list_for_user(user=user)
            .filter(report__contract=contract, status=AdviceStatus.SUBMITTED)
            .count()
        )
        return render(request, "sla/contract_overview.html", context)
    base = {"contract": contract, "service_year": year.label}
    counts = {
        "outages": selectors.outage_list_for_user(user=user)
        .filter(**base)
        .aggregate(all=Count("pk"), open=Count("pk", filter=Q(status=OutageStatus.REPORTED))),
        "incidents": selectors.incident_list_for_user(user=user)
        .filter(**base)
        .aggregate(all=Count("pk"), open=Count("pk", filter=Q(status=IncidentStatus.REPORTED))),
        "deliverables": selectors.deliverable_list_for_user(user=user)
        .filter(**base)
        .aggregate(all=Count("pk"), open=Count("pk", filter=Q(status=DeliverableStatus.SUBMITTED))),
        "notices": selectors.notice_list_for_user(user=user)
        .filter(**base)
        .aggregate(all=Count("pk"), open=Count("pk", filter=~Q(status=NoticeStatus.CONFIRMED))),
        "penalties": selectors.penalty_list_for_user(user=user)
        .filter(**base)
        .aggregate(all=Count("pk"), open=Count("pk", filter=Q(status=PenaltyStatus.RECORDED))),
    }
    counts["shortfalls"] = (
        selectors.shortfall_list_for_user(user=user)
        .filter(**base)
        .aggregate(all=Count("pk"), open=Count("pk", filter=Q(status=ShortfallStatus.OPEN)))
    )
    context.update(
        {
            "counts": counts,
            "utilization": month_utilization(contract, _dashboard_month(contract, today)),
            "scorecard": selectors.scorecard_list_for_user(user=user).filter(**base).first(),
        }
    )
    return render(request, "sla/contract_overview.html", context)


def _year_or_404(contract, year: int) -> periods.ServiceYear:
    for candidate in contract_years(contract):
        if candidate.label == year:
            return candidate
    raise Http404(_("该合同没有这个服务年度。"))


def _scorecard_of(request: HttpRequest, contract_pk: int, year: int):
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    service_year = _year_or_404(contract, year)
    if not has_scorecard(contract):
        return contract, service_year, None
    card = scorecard_services.scorecard_for(contract=contract, year=service_year.label)
    return contract, service_year, card


def _no_scorecard_page(request: HttpRequest, contract, service_year) -> HttpResponse:
    """A contract without an SLA annex: the page says so and cites the contract."""
    return render(
        request,
        "sla/scorecard.html",
        {
            **years_context(contract, service_year),
            "card": None,
            "no_scorecard": no_scorecard_message(contract),
        },
    )


#: The forms of the steps after finalising, by the action each posts.
FOLLOWUP_FORMS = {
    "rectification_open": RectificationOpenForm,
    "rectification_report": RectificationReportForm,
    "rectification_decide": RectificationDecideForm,
    "rescore": RescoreForm,
    "penalty_waive": PenaltyWaiveForm,
}


def _followup_context(request: HttpRequest, card, forms: dict | None = None) -> dict:
    """Rounds, the rectification of the latest round and the 违约金 (附件2 §11)."""
    if not card.is_final:
        return {"followup": None}
    rect = scorecard_services.current_rectification(card)
    available = scorecard_services.rectification_available_actions(user=request.user, obj=card)
    shown = {name: form() for name, form in FOLLOWUP_FORMS.items() if name in available}
    shown.update({k: v for k, v in (forms or {}).items() if k in available})
    return {
        "followup": {
            "rounds": card.round_history,
            "rectification": rect,
            "rectification_state": scorecard_services.rectification_state(rect) if rect else "",
            "rectification_confirmation": (
                joint_for(rect, scorecard_services.REPORT_SUBJECT) if rect else None
            ),
            "rectifications": list(card.rectifications.order_by("round_number")),
            "penalty": scorecard_services.penalty_offer(card),
            "actions": available,
            "forms": shown,
        }
    }


def _scorecard_page(
    request: HttpRequest,
    contract,
    service_year,
    card,
    *,
    form: FinaliseForm | None = None,
    forms: dict | None = None,
) -> HttpResponse:
    data = scorecard_view_model(scorecard_services.scorecard_data(card))
    available = actions.scorecard_available_actions(user=request.user, obj=card)
    unsigned = [] if card.is_final else unsigned_months(contract, service_year)
    if form is None:
        form = FinaliseOverrideForm() if "override_finalise" in available else FinaliseForm()
    return render(
        request,
        "sla/scorecard.html",
        {
            **years_context(contract, service_year),
            "card": card,
            "data": data,
            "form": form,
            "unsigned_months": months_text(unsigned),
            "actions": available,
            "awaits_year_end": actions.scorecard_awaits_year_end(user=request.user, obj=card),
            **_followup_context(request, card, forms),
        },
    )


@login_required
@require_GET
def scorecard(request: HttpRequest, contract_pk: int, year: int) -> HttpResponse:
    contract, service_year, card = _scorecard_of(request, contract_pk, year)
    if card is None:
        return _no_scorecard_page(request, contract, service_year)
    return _scorecard_page(request, contract, service_year, card)


@login_required
@require_POST
def scorecard_finalise(request: HttpRequest, contract_pk: int, year: int) -> HttpResponse:
    contract, service_year, card = _scorecard_of(request, contract_pk, year)
    if card is None:
        messages.error(request, no_scorecard_message(contract))
        return _no_scorecard_page(request, contract, service_year)
    available = actions.scorecard_available_actions(user=request.user, obj=card)
    override = "override_finalise" in available
    form = FinaliseOverrideForm(request.POST) if override else FinaliseForm(request.POST)
    # The page shows the form (and so its errors) only to who may finalise; others get a message.
    shown = override or "finalise" in available
    if form.is_valid():
        pct = form.cleaned_data["ratio_pct"]
        ratio = None if pct is None else (pct / Decimal(100))
        reason = form.cleaned_data.get("override_reason", "")
        ok, response = run_service(
            request,
            lambda: scorecard_services.scorecard_finalise(
                actor=request.user,
                contract=contract,
                year=service_year.label,
                ratio=ratio,
                override_reason=reason,
            ),
            _("考核已定稿，扣款已计入结算。"),
            to=reverse("sla_scorecard", args=[contract.pk, service_year.label]),
            form=form if shown else None,
        )
        if ok:
            return response
    return _scorecard_page(request, contract, service_year, card, form=form)


@login_required
@require_POST
def scorecard_render(request: HttpRequest, contract_pk: int, year: int) -> HttpResponse:
    contract, service_year, card = _scorecard_of(request, contract_pk, year)
    if card is None:
        messages.error(request, no_scorecard_message(contract))
        return _no_scorecard_page(request, contract, service_year)
    ok, response = run_service(
        request,
        lambda: scorecard_render_pdf(actor=request.user, card=card),
        _("PDF 已生成。"),
        to=reverse("sla_scorecard", args=[contract.pk, service_year.label]),
    )
    if ok:
        return response
    return _scorecard_page(request, contract, service_year, card)


@login_required
def scorecard_pdf(request: HttpRequest, contract_pk: int, year: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    service_year = _year_or_404(contract, year)
    card = (
        selectors.scorecard_list_for_user(user=request.user)
        .filter(contract=contract, service_year=service_year.label)
        .first()
    )
    if card is None or not card.pdf:
        raise Http404(_("PDF 尚未生成。"))
    return serve_file(card.pdf, f"服务水平考核-{contract.code}-{service_year.label}.pdf")


# ---------------------------------------------------------------- after finalising (附件2 §11)


def _followup_post(
    request: HttpRequest,
    contract_pk: int,
    year: int,
    action: str,
    run,
    success: str,
) -> HttpResponse:
    """One step after finalising: parse the step's form, run the service, redirect or re-show.

    ``run(card, cleaned_data)`` calls the service. A contract without an SLA annex says so;
    another tenant's contract is a 404 (``_scorecard_of``).
    """
    contract, service_year, card = _scorecard_of(request, contract_pk, year)
    if card is None:
        messages.error(request, no_scorecard_message(contract))
        return _no_scorecard_page(request, contract, service_year)
    form_class = FOLLOWUP_FORMS.get(action)
    form = form_class(request.POST, request.FILES) if form_class else None
    available = scorecard_services.rectification_available_actions(user=request.user, obj=card)
    if form is None or form.is_valid():
        data = form.cleaned_data if form is not None else {}
        ok, response = run_service(
            request,
            lambda: run(card, data),
            success,
            to=reverse("sla_scorecard", args=[contract.pk, service_year.label]),
            form=form if action in available else None,
        )
        if ok:
            return response
    return _scorecard_page(
        request, contract, service_year, card, forms={action: form} if form is not None else None
    )


@login_required
@require_POST
def scorecard_rectification_open(request: HttpRequest, contract_pk: int, year: int):
    return _followup_post(
        request,
        contract_pk,
        year,
        "rectification_open",
        lambda card, d: scorecard_services.scorecard_rectification_open(
            actor=request.user, card=card, requirements=d["requirements"]
        ),
        _("整改要求已发出，已通知乙方和监理方。"),
    )


@login_required
@require_POST
def scorecard_rectification_report(request: HttpRequest, contract_pk: int, year: int):
    return _followup_post(
        request,
        contract_pk,
        year,
        "rectification_report",
        lambda card, d: scorecard_services.scorecard_rectification_report(
            actor=request.user, card=card, report=d["report"], document=d.get("document")
        ),
        _("整改报告已提交。"),
    )


@login_required
@require_POST
def scorecard_rectification_decide(request: HttpRequest, contract_pk: int, year: int):
    return _followup_post(
        request,
        contract_pk,
        year,
        "rectification_decide",
        lambda card, d: scorecard_services.scorecard_rectification_decide(
            actor=request.user, card=card, accept=d["accept"], comment=d["comment"]
        ),
        _("已记录整改确认意见。"),
    )


@login_required
@require_POST
def scorecard_rescore(request: HttpRequest, contract_pk: int, year: int):
    def run(card, d):
        pct = d["ratio_pct"]
        return scorecard_services.scorecard_rescore(
            actor=request.user, card=card, ratio=None if pct is None else pct / Decimal(100)
        )

    return _followup_post(
        request, contract_pk, year, "rescore", run, _("已再评分，新一轮考核已定稿。")
    )


@login_required
@require_POST
def scorecard_penalty_claim(request: HttpRequest, contract_pk: int, year: int):
    return _followup_post(
        request,
        contract_pk,
        year,
        "penalty_claim",
        lambda card, d: scorecard_services.scorecard_penalty_claim(actor=request.user, card=card),
        _("违约金已主张，扣款通知已计入结算。"),
    )


@login_required
@require_POST
def scorecard_penalty_waive(request: HttpRequest, contract_pk: int, year: int):
    return _followup_post(
        request,
        contract_pk,
        year,
        "penalty_waive",
        lambda card, d: scorecard_services.scorecard_penalty_waive(
            actor=request.user, card=card, reason=d["reason"]
        ),
        _("已记录放弃主张违约金及原因。"),
    )


@login_required
@require_GET
def scorecard_rectification_file(
    request: HttpRequest, contract_pk: int, year: int, pk: int
) -> HttpResponse:
    """The vendor's rectification report file (parties of the contract; others 404)."""
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    service_year = _year_or_404(contract, year)
    rect = (
        ScorecardRectification.objects.filter(
            card__contract=contract, card__service_year=service_year.label, pk=pk
        )
        .select_related("card")
        .first()
    )
    if rect is None:
        raise Http404(_("整改记录不存在。"))
    return serve_file(rect.report_document)
