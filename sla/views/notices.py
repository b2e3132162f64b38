"""Portal pages of improvement notices: list, issue, fix, confirm, download."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from govcloud.access import role_on_contract
from govcloud.joint import joint_for
from govcloud.models import JointSubject
from govcloud.web import page_of, run_service, serve_file
from sla import selectors
from sla.forms import DecisionForm, FixForm, NoticeForm
from sla.models import ImprovementNotice, NoticeStatus
from sla.services import actions, notices
from sla.views.common import require_contract_action, status_filter, year_of_request, years_context


@login_required
def notice_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    qs = selectors.notice_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    qs, status = status_filter(request, qs, NoticeStatus.choices)
    role = role_on_contract(request.user, contract)
    return render(
        request,
        "sla/notice_list.html",
        {
            **years_context(contract, year),
            "page": page_of(request, qs.order_by("-issued_at", "-pk")),
            "status": status,
            "statuses": NoticeStatus.choices,
            "role": role,
            "actions": actions.contract_sla_actions(user=request.user, contract=contract),
            "now": timezone.now(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def notice_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    require_contract_action(request.user, contract, "notice_create")
    form = NoticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: notices.notice_issue(
                actor=request.user,
                contract=contract,
                title=data["title"],
                description=data["description"],
            ),
            _("整改通知已发出，已通知乙方。"),
            to=lambda created: reverse("sla_notice_detail", args=[created.pk]),
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
            "title": _("发出整改通知（%(n)s个工作日内整改）")
            % {"n": contract.improvement_working_days or "—"},
            "back": reverse("sla_notice_list", args=[contract.pk]),
            "multipart": False,
        },
    )


def _notice(request: HttpRequest, pk: int) -> ImprovementNotice:
    return selectors.get_for_user(
        selectors.notice_list_for_user(user=request.user).select_related(
            "fixed_by", "confirmed_by"
        ),
        pk,
    )


def _detail_page(
    request: HttpRequest,
    notice: ImprovementNotice,
    *,
    fix_form: FixForm | None = None,
    decision_form: DecisionForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "sla/notice_detail.html",
        {
            "contract": notice.contract,
            "notice": notice,
            "overdue": notice.is_unfixed_in_time(),
            "fix_form": fix_form or FixForm(),
            "decision_form": decision_form or DecisionForm(),
            "actions": actions.notice_available_actions(user=request.user, obj=notice),
            "report_confirmation": joint_for(notice, JointSubject.IMPROVEMENT_REPORT),
        },
    )


@login_required
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _notice(request, pk))


@login_required
@require_POST
def notice_fix(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    form = FixForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: notices.notice_fix(
                actor=request.user, notice=notice, report=data["report"], document=data["document"]
            ),
            _("整改报告已提交。"),
            to=reverse("sla_notice_detail", args=[notice.pk]),
            form=form,
        )
        if ok:
            return response
    return _detail_page(request, notice, fix_form=form)


@login_required
@require_POST
def notice_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        ok, response = run_service(
            request,
            lambda: notices.notice_confirm(
                actor=request.user,
                notice=notice,
                accept=form.accepted,
                comment=form.cleaned_data["comment"],
            ),
            _("已处理。"),
            to=reverse("sla_notice_detail", args=[notice.pk]),
            form=form,
        )
        if ok:
            return response
    return _detail_page(request, notice, decision_form=form)


@login_required
def notice_file(request: HttpRequest, pk: int) -> HttpResponse:
    notice = selectors.get_for_user(selectors.notice_list_for_user(user=request.user), pk)
    return serve_file(notice.fix_document)
