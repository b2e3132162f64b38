"""Portal pages of utilization metrics and the monthly right-sizing advice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from govcloud.access import role_on_contract
from govcloud.dates import business_today, month_end, parse_month, previous_month, shift_month
from govcloud.joint import required_roles
from govcloud.models import Contract, JointStatus, JointSubject, PartyRole
from govcloud.web import page_of, run_service, serve_file
from sla import selectors
from sla.forms import AdviceBulkForm, MetricsUploadForm, ReasonForm
from sla.models import AdviceAction, AdviceStatus, RightsizingAdvice, RightsizingReport
from sla.rules import utilization_low
from sla.services import actions, metrics, rightsizing, utilization_months
from sla.services.common import has_scorecard, utilization_rule
from sla.services.reports import advice_view_model, rightsizing_pdf_store, rightsizing_render
from sla.views.common import year_of_request, years_context


def _month_of_request(request: HttpRequest, default: date) -> date:
    try:
        return parse_month(request.GET.get("month", ""))
    except ValueError:
        return default


def low_metrics(contract: Contract, cpu: Decimal | None, mem: Decimal | None) -> list[str]:
    """Which contract-wide averages are below the contract's utilization threshold (none where
    the contract has no utilization rule; BT-2025 附件2 7.3: 30 %)."""
    rule = utilization_rule(contract)
    return utilization_low(cpu, mem, rule[0] if rule else None)


def utilization_context(contract: Contract) -> dict[str, object]:
    """The contract's utilization rule for the templates (threshold, charge; None: no rule)."""
    rule = utilization_rule(contract)
    return {
        "has_scorecard": has_scorecard(contract),
        "threshold": rule[0] if rule else None,
        "charge": rule[1] if rule else None,
    }


@login_required
def utilization(request: HttpRequest, contract_pk: int) -> HttpResponse:
    """Monthly averages per resource (mean of daily averages), and the contract-wide lines."""
    contract = selectors.sla_contract_get(user=request.user, pk=contract_pk)
    role = role_on_contract(request.user, contract)
    today = business_today()
    month = _month_of_request(request, previous_month(today))
    first, last = month, month_end(month)
    resources = (
        selectors.resources_for_user(user=request.user)
        .filter(contract=contract, utilization_samples__day__gte=first)
        .filter(utilization_samples__day__lte=last)
        .distinct()
        .order_by("department__name", "system__name", "pk")
    )
    page = page_of(request, resources)
    sums = rightsizing.resource_averages([r.pk for r in page], first, last)
    rows = []
    for r in page:
        avg = sums.get(r.pk) or rightsizing.Averages()
        rows.append(
            {
                "resource": r,
                "kind": rightsizing.classify(r.catalog_item) or "",
                "days": avg.days,
                "cpu": avg.mean("cpu"),
                "mem": avg.mean("mem"),
                "disk": avg.mean("disk"),
                "disk_used": avg.mean("disk_used"),
            }
        )
    overall = None
    if role != "department":
        overall = rightsizing.contract_averages(contract, first, last, confirmed_only=True)
    joint_months = (
        utilization_months.month_confirmations(contract)
        if required_roles(contract, JointSubject.UTILIZATION_DATA) is not None
        else None
    )
    return render(
        request,
        "sla/utilization.html",
        {
            "contract": contract,
            "month": month,
            "previous": shift_month(month, -1),
            "following": shift_month(month, 1) if shift_month(month, 1) <= today else None,
            "page": page,
            "rows": rows,
            "overall": overall,
            "low": low_metrics(contract, overall.cpu_pct, overall.mem_pct) if overall else [],
            "actions": actions.contract_sla_actions(user=request.user, contract=contract),
            "role": role,
            "joint_months": joint_months,
            "unconfirmed": [
                (record, c)
                for record, c in joint_months or []
                if c is None or c.status != JointStatus.CONFIRMED
            ],
            "month_confirmation": utilization_months.month_confirmation(contract, month),
            **utilization_context(contract),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def metrics_upload(request: HttpRequest, contract_pk: int) -> HttpResponse:
    """The vendor uploads daily metrics as CSV (same service and rules as the API)."""
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    if "metrics_upload" not in actions.contract_sla_actions(user=request.user, contract=contract):
        raise PermissionDenied(_("只有乙方可以上传资源使用率数据。"))
    form = MetricsUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.add_error("file", _("文件须为 UTF-8 编码的 CSV。"))
        else:
            result: list[metrics.PushResult] = []
            ok, response = run_service(
                request,
                lambda: result.append(metrics.metrics_upload_csv(actor=request.user, text=text)),
                _("已导入。"),
                to=reverse("sla_utilization", args=[contract.pk]),
                form=form,
            )
            if ok:
                messages.info(
                    request,
                    _("新增 %(c)s 条，更新 %(u)s 条。")
                    % {"c": result[0].created, "u": result[0].updated},
                )
                return response
    return render(
        request,
        "sla/record_form.html",
        {
            "contract": contract,
            "form": form,
            "title": _("上传资源使用率（CSV）"),
            "back": reverse("sla_utilization", args=[contract.pk]),
            "multipart": True,
            "help": _(
                "每行为一项资源一天的平均使用率：resource 为资源编号，day 为日期（YYYY-MM-DD），"
                "cpu_pct / mem_pct / disk_pct 为 0–100 的百分比，disk_used_gb 可留空。"
                "同一资源同一天再次上传将覆盖原值；任何一行有误则整个文件不导入。"
            ),
        },
    )


@login_required
def report_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.sla_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    role = role_on_contract(request.user, contract)
    qs = selectors.report_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    advice_filter = Q()
    if role == "department":
        advice_filter = Q(advice__department_id=request.user.organization_id)
    qs = qs.annotate(
        changes=Count("advice", filter=advice_filter & Q(advice__action=AdviceAction.CHANGE)),
        open_advice=Count(
            "advice", filter=advice_filter & Q(advice__status=AdviceStatus.SUBMITTED)
        ),
    ).order_by("-month")
    now = timezone.now()
    page = page_of(request, qs)
    rows = [
        {
            "report": r,
            "late": r.is_late(now),
            "low": low_metrics(contract, r.avg_cpu_pct, r.avg_mem_pct),
        }
        for r in page
    ]
    return render(
        request,
        "sla/report_list.html",
        {
            **years_context(contract, year),
            "page": page,
            "rows": rows,
            "role": role,
            **utilization_context(contract),
        },
    )


def _report(request: HttpRequest, pk: int) -> RightsizingReport:
    return selectors.get_for_user(selectors.report_list_for_user(user=request.user), pk)


def _report_page(
    request: HttpRequest, report: RightsizingReport, *, wrong_form: ReasonForm | None = None
) -> HttpResponse:
    contract = report.contract
    role = role_on_contract(request.user, contract)
    advice = selectors.advice_list_for_user(user=request.user).filter(report=report)
    selected = request.GET.get("action", "")
    if selected in AdviceAction.values:
        advice = advice.filter(action=selected)
    status = request.GET.get("status", "")
    if status in AdviceStatus.values:
        advice = advice.filter(status=status)
    page = page_of(request, advice.order_by("department__name", "system__name", "resource_id"))
    model = advice_view_model(report, list(page)) if role != "department" else {}
    is_party = role in (PartyRole.BUREAU, PartyRole.VENDOR, PartyRole.SUPERVISOR, PartyRole.AUDITOR)
    return render(
        request,
        "sla/report_detail.html",
        {
            **model,
            "contract": contract,
            "report": report,
            "page": page,
            "late": report.is_late(),
            "low": low_metrics(contract, report.avg_cpu_pct, report.avg_mem_pct),
            **utilization_context(contract),
            "advice_actions": AdviceAction.choices,
            "statuses": AdviceStatus.choices,
            "selected_action": selected,
            "selected_status": status,
            "wrong_form": wrong_form or ReasonForm(),
            "is_party": is_party,
            # ``report_pdf`` serves the file to exactly these users.
            "pdf_downloadable": selectors.is_party_user(request.user),
            "actions": actions.report_available_actions(user=request.user, obj=report),
        },
    )


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_page(request, _report(request, pk))


def _report_action(request: HttpRequest, pk: int, service, success: str) -> HttpResponse:
    report = _report(request, pk)
    ok, response = run_service(
        request,
        lambda: service(actor=request.user, report=report),
        success,
        to=reverse("sla_report_detail", args=[report.pk]),
    )
    return response if ok else _report_page(request, report)


@login_required
@require_POST
def report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_action(
        request,
        pk,
        rightsizing.rightsizing_submit,
        _("资源调整建议已提交，已通知相关使用单位。"),
    )


@login_required
@require_POST
def report_recompute(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_action(
        request, pk, rightsizing.rightsizing_recompute, _("已按最新数据重新计算。")
    )


@login_required
@require_POST
def report_render(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_action(request, pk, rightsizing_render, _("PDF 已生成。"))


@login_required
@require_POST
def report_mark_wrong(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    form = ReasonForm(request.POST)
    # The page shows the form (and so its errors) only to who may act; others get a message.
    shown = "mark_wrong" in actions.report_available_actions(user=request.user, obj=report)
    if form.is_valid():
        ok, response = run_service(
            request,
            lambda: rightsizing.rightsizing_mark_wrong(
                actor=request.user, report=report, reason=form.cleaned_data["reason"]
            ),
            _("已认定该月调整建议存在计算错误。"),
            to=reverse("sla_report_detail", args=[report.pk]),
            form=form if shown else None,
        )
        if ok:
            return response
    return _report_page(request, report, wrong_form=form)


@login_required
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.get_for_user(selectors.report_list_for_user(user=request.user), pk)
    if not selectors.is_party_user(request.user):
        raise PermissionDenied(_("调整建议 PDF 含全部使用单位的资源，仅合同各方可下载。"))
    if not report.pdf:
        rightsizing_pdf_store(report_id=report.pk)
        report.refresh_from_db()
    return serve_file(report.pdf, f"资源调整建议-{report.contract.code}-{report.month:%Y-%m}.pdf")


def _advice(request: HttpRequest, pk: int) -> RightsizingAdvice:
    return selectors.get_for_user(selectors.advice_list_for_user(user=request.user), pk)


def _advice_page(
    request: HttpRequest, advice: RightsizingAdvice, *, decline_form: ReasonForm | None = None
) -> HttpResponse:
    return render(
        request,
        "sla/advice_detail.html",
        {
            "contract": advice.report.contract,
            "advice": advice,
            "report": advice.report,
            "decline_form": decline_form or ReasonForm(),
            "actions": actions.advice_available_actions(user=request.user, obj=advice),
        },
    )


@login_required
def advice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _advice_page(request, _advice(request, pk))


@login_required
@require_POST
def advice_accept(request: HttpRequest, pk: int) -> HttpResponse:
    advice = _advice(request, pk)
    ok, response = run_service(
        request,
        lambda: rightsizing.rightsizing_accept(actor=request.user, advice=advice),
        _("已接受建议，并生成变更工单草稿，请核对后提交。"),
        to=reverse("sla_advice_detail", args=[advice.pk]),
    )
    return response if ok else _advice_page(request, advice)


@login_required
@require_POST
def advice_decline(request: HttpRequest, pk: int) -> HttpResponse:
    advice = _advice(request, pk)
    form = ReasonForm(request.POST)
    shown = "decline" in actions.advice_available_actions(user=request.user, obj=advice)
    if form.is_valid():
        ok, response = run_service(
            request,
            lambda: rightsizing.rightsizing_decline(
                actor=request.user, advice=advice, reason=form.cleaned_data["reason"]
            ),
            _("已拒绝该建议。"),
            to=reverse("sla_advice_detail", args=[advice.pk]),
            form=form if shown else None,
        )
        if ok:
            return response
    return _advice_page(request, advice, decline_form=form)


# ---------------------------------------------------------------- advice across months


def _advice_list_page(
    request: HttpRequest,
    *,
    bulk_form: AdviceBulkForm | None = None,
    selected: frozenset[int] = frozenset(),
) -> HttpResponse:
    """Every advice the user sees, across months and contracts (``?status=``, ``?contract=``);
    a department answers several at once from here."""
    qs = selectors.advice_list_for_user(user=request.user)
    state = request.GET.get("status", "")
    if state in AdviceStatus.values:
        qs = qs.filter(status=state)
    else:
        state = ""
    contract = request.GET.get("contract", "")
    if contract.isdigit():
        qs = qs.filter(report__contract_id=int(contract))
    else:
        contract = ""
    page = page_of(
        request, qs.order_by("-report__month", "department__name", "system__name", "resource_id")
    )
    answerable = {
        a.pk
        for a in page
        if {"accept", "decline"} & actions.advice_available_actions(user=request.user, obj=a)
    }
    return render(
        request,
        "sla/advice_list.html",
        {
            "page": page,
            "statuses": AdviceStatus.choices,
            "status": state,
            "contract": contract,
            "contracts": selectors.sla_contracts_for_user(user=request.user).only("pk", "code"),
            "answerable": answerable,
            "selected": selected,
            "bulk_form": bulk_form or AdviceBulkForm(),
            "bulk_limit": rightsizing.BULK_LIMIT,
        },
    )


@login_required
def advice_list(request: HttpRequest) -> HttpResponse:
    return _advice_list_page(request)


@login_required
@require_POST
def advice_bulk(request: HttpRequest) -> HttpResponse:
    """Accept or decline the checked advice with one reason (all or nothing, as the API)."""
    form = AdviceBulkForm(request.POST)
    ids = request.POST.getlist("advice")
    selected = frozenset(int(i) for i in ids if i.isdigit())
    back = request.POST.get("next", "")
    to = reverse("sla_advice_list") + (back if back.startswith("?") else "")
    if form.is_valid():
        decision = form.cleaned_data["decision"]
        done = (
            _("已接受 %(n)s 条建议，并为每条生成了变更工单草稿，请核对后提交。")
            if decision == "accept"
            else _("已拒绝 %(n)s 条建议。")
        )
        ok, response = run_service(
            request,
            lambda: rightsizing.rightsizing_answer_bulk(
                actor=request.user,
                advice_ids=ids,
                decision=decision,
                reason=form.cleaned_data["reason"],
            ),
            done % {"n": len(selected)},
            to=to,
            form=form,
        )
        if ok:
            return response
    return _advice_list_page(request, bulk_form=form, selected=selected)
