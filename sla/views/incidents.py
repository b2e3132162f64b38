"""Portal pages of security incidents: list, report, assess, evidence."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from govcloud.joint import joint_for
from govcloud.models import JointSubject
from govcloud.web import page_of, run_service, serve_file
from sla import selectors
from sla.forms import AssessIncidentForm, IncidentForm
from sla.models import IncidentStatus, SecurityIncident
from sla.services import actions, incidents
from sla.views.common import require_contract_action, status_filter, year_of_request, years_context


@login_required
def incident_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    qs = selectors.incident_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    qs, status = status_filter(request, qs, IncidentStatus.choices)
    level = request.GET.get("level", "")
    if level.isdigit():
        qs = qs.filter(level=int(level))
    return render(
        request,
        "sla/incident_list.html",
        {
            **years_context(contract, year),
            "page": page_of(request, qs.order_by("-occurred_at", "-pk")),
            "status": status,
            "level": level,
            "statuses": IncidentStatus.choices,
            "actions": actions.contract_sla_actions(user=request.user, contract=contract),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def incident_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    require_contract_action(request.user, contract, "incident_create")
    form = IncidentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: incidents.incident_report(
                actor=request.user,
                contract=contract,
                level=data["level"],
                title=data["title"],
                description=data["description"],
                occurred_at=data["occurred_at"],
                reported_at=data["reported_at"],
                resolved_at=data["resolved_at"],
                affected_systems=data["affected_systems"],
                evidence=data["evidence"],
            ),
            _("安全事件已报告。"),
            to=lambda created: reverse("sla_incident_detail", args=[created.pk]),
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
            "title": _("报告安全事件"),
            "back": reverse("sla_incident_list", args=[contract.pk]),
            "multipart": True,
        },
    )


def _incident(request: HttpRequest, pk: int) -> SecurityIncident:
    return selectors.get_for_user(
        selectors.incident_list_for_user(user=request.user).select_related("assessed_by"), pk
    )


def _detail_page(
    request: HttpRequest, incident: SecurityIncident, form: AssessIncidentForm | None = None
) -> HttpResponse:
    return render(
        request,
        "sla/incident_detail.html",
        {
            "contract": incident.contract,
            "incident": incident,
            "form": form or AssessIncidentForm(),
            "actions": actions.incident_available_actions(user=request.user, obj=incident),
            "level_confirmation": joint_for(incident, JointSubject.INCIDENT_LEVEL),
        },
    )


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _incident(request, pk))


@login_required
@require_POST
def incident_assess(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    form = AssessIncidentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: incidents.incident_assess(
                actor=request.user,
                incident=incident,
                fully_reported=data["fully_reported"],
                vendor_caused=data["vendor_caused"],
                comment=data["comment"],
            ),
            _("已认定。"),
            to=reverse("sla_incident_detail", args=[incident.pk]),
            form=form,
        )
        if ok:
            return response
    return _detail_page(request, incident, form)


@login_required
def incident_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    incident = selectors.get_for_user(selectors.incident_list_for_user(user=request.user), pk)
    return serve_file(incident.evidence)
