"""Portal pages of outages and planned maintenance: list, report, edit, confirm, approve."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from govcloud.models import PartyRole
from govcloud.web import page_of, run_service
from sla import selectors
from sla.forms import CommentForm, ConfirmOutageForm, OutageForm
from sla.models import MaintenanceNoticeShortfall, Outage, OutageSignoff, OutageStatus
from sla.services import actions, outages
from sla.services.common import confirming_roles, maintenance_rule_text
from sla.views.common import (
    require_contract_action,
    require_record_action,
    status_filter,
    year_of_request,
    years_context,
)


@login_required
def outage_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    qs = selectors.outage_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    qs, status = status_filter(request, qs, OutageStatus.choices)
    kind = request.GET.get("kind", "")
    if kind == "planned":
        qs = qs.filter(planned=True)
    elif kind == "unplanned":
        qs = qs.filter(planned=False)
    page = page_of(request, qs.select_related("notice_shortfall").order_by("-started_at", "-pk"))
    return render(
        request,
        "sla/outage_list.html",
        {
            **years_context(contract, year),
            "page": page,
            "status": status,
            "kind": kind,
            "statuses": OutageStatus.choices,
            "actions": actions.contract_sla_actions(user=request.user, contract=contract),
            "maintenance_rule": maintenance_rule_text(contract),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def outage_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    require_contract_action(request.user, contract, "outage_create")
    form = OutageForm(request.POST or None, contract=contract)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: outages.outage_report(
                actor=request.user,
                contract=contract,
                title=data["title"],
                started_at=data["started_at"],
                ended_at=data["ended_at"],
                cause=data["cause"],
                scope=data["scope"],
                system_ids=[s.pk for s in data["systems"]],
                planned=data["planned"],
                backup_restore_failed=data["backup_restore_failed"],
            ),
            _("已报告，已通知甲方和监理确认。"),
            to=lambda created: reverse("sla_outage_detail", args=[created.pk]),
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
            "title": _("报告服务中断 / 计划内停机"),
            "back": reverse("sla_outage_list", args=[contract.pk]),
            "multipart": False,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def outage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    outage = selectors.get_for_user(selectors.outage_list_for_user(user=request.user), pk)
    contract = outage.contract
    require_record_action(actions.OUTAGE_ACTIONS, "edit", request.user, outage)
    initial = {
        "title": outage.title,
        "started_at": timezone.localtime(outage.started_at),
        "ended_at": timezone.localtime(outage.ended_at),
        "scope": outage.scope,
        "cause": outage.cause,
        "backup_restore_failed": outage.backup_restore_failed,
        "systems": list(outage.systems.all()),
    }
    form = OutageForm(request.POST or None, contract=contract, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: outages.outage_update(
                actor=request.user,
                outage=outage,
                title=data["title"],
                started_at=data["started_at"],
                ended_at=data["ended_at"],
                cause=data["cause"],
                scope=data["scope"],
                system_ids=[s.pk for s in data["systems"]],
                backup_restore_failed=data["backup_restore_failed"],
            ),
            _("已修改。"),
            to=reverse("sla_outage_detail", args=[outage.pk]),
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
            "title": _("修改中断记录 #%(id)s") % {"id": outage.pk},
            "back": reverse("sla_outage_detail", args=[outage.pk]),
            "multipart": False,
        },
    )


def _outage(request: HttpRequest, pk: int) -> Outage:
    return selectors.get_for_user(
        selectors.outage_list_for_user(user=request.user).prefetch_related(
            "systems__department",
            Prefetch("signoffs", queryset=OutageSignoff.objects.select_related("user")),
            "contract__parties__organization",
        ),
        pk,
    )


def _detail_page(
    request: HttpRequest,
    outage: Outage,
    *,
    confirm_form: ConfirmOutageForm | None = None,
    comment_form: CommentForm | None = None,
) -> HttpResponse:
    contract = outage.contract
    return render(
        request,
        "sla/outage_detail.html",
        {
            "contract": contract,
            "outage": outage,
            "signoffs": list(outage.signoffs.all()),
            "actions": actions.outage_available_actions(user=request.user, obj=outage),
            "confirm_form": confirm_form or ConfirmOutageForm(),
            "comment_form": comment_form or CommentForm(),
            "confirmers": [PartyRole(r).label for r in confirming_roles(contract)],
            "approvers": [PartyRole(r).label for r in contract.maintenance_approvers],
            "maintenance_rule": maintenance_rule_text(contract),
            "shortfall": MaintenanceNoticeShortfall.objects.filter(outage=outage).first(),
        },
    )


@login_required
def outage_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _outage(request, pk))


@login_required
@require_POST
def outage_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    outage = _outage(request, pk)
    form = ConfirmOutageForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: outages.outage_confirm(
                actor=request.user,
                outage=outage,
                vendor_caused=data["attribution"] == "vendor",
                comment=data["comment"],
            ),
            _("已确认。"),
            to=reverse("sla_outage_detail", args=[outage.pk]),
            form=form,
        )
        if ok:
            return response
    return _detail_page(request, outage, confirm_form=form)


@login_required
@require_POST
def outage_approve(request: HttpRequest, pk: int) -> HttpResponse:
    outage = _outage(request, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        ok, response = run_service(
            request,
            lambda: outages.outage_approve_maintenance(
                actor=request.user, outage=outage, comment=form.cleaned_data["comment"]
            ),
            _("已同意该维护计划。"),
            to=reverse("sla_outage_detail", args=[outage.pk]),
            form=form,
        )
        if ok:
            return response
    return _detail_page(request, outage, comment_form=form)
