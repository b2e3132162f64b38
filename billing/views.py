"""Portal pages of billing: monthly statements and their sign-off, department bills, the
contract's settlement dashboard, and the test periods of new systems (the bureau's).

Reads go through ``billing.selectors`` (scoped to the user, 404 for foreign and missing alike),
writes through ``billing.services``; a refused action shows the service's message and changes
nothing. Acts with legal weight (submit, confirm, dispute, the auditor's decision) carry the
re-entered TOTP code or password to the service as a ``Reauth``; the service checks it. Those
that sign the PDF (submit, confirm, the auditor's ruling for the vendor) also carry the
passphrase of the signer's organisation's signing key (``签名密钥口令``) as a ``SigningSecret``:
the service opens the key with it for this request only. Both are hidden from error reports
(``sensitive_post_parameters``).
The action panel shows ``statement_available_actions`` — the services' own checks — and every
POST still goes through the service, which is the gate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet, prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from billing import selectors
from billing.filters import InventoryCorrectionFilter
from billing.forms import (
    BillFilterForm,
    CommentForm,
    ConfirmForm,
    DecideForm,
    DeductionForm,
    DeductionReissueForm,
    DisputeForm,
    GenerateForm,
    InventoryCorrectionForm,
    LineFilterForm,
    PaymentForm,
    ReasonForm,
    StatementFilterForm,
    SubmitForm,
    SupersedeForm,
    SystemTestPeriodEndEarlyForm,
    SystemTestPeriodExtendForm,
    WithdrawForm,
    form_error_text,
    parse_positions,
)
from billing.models import (
    CatalogItem,
    DepartmentBill,
    EscalationDecision,
    Payment,
    ReauthMethod,
    Resource,
    SignoffAction,
    Statement,
    StatementDocument,
    StatementSignoff,
    StatementStatus,
)
from billing.money import format_yuan, quantize_yuan, round_half_up
from billing.reports.deduction_notice import deduction_notice_pdf_bytes
from billing.services import corrections, settlement, system_test_periods
from billing.services import invoices as invoice_services
from billing.services import statements as services
from govcloud.access import is_business_staff, party_role_of
from govcloud.dates import business_today
from govcloud.exceptions import ApplicationError, InvalidTransition
from govcloud.joint import joint_for
from govcloud.models import Contract, OrganizationKind, PartyRole, User
from govcloud.pdf.charts import bar_chart_svg
from govcloud.selectors import contract_list_for_user, get_or_404
from govcloud.web import contract_choices, error_text, page_of, run_service, serve_file

LINE_PAGE_SIZE = 200
DIFF_LIMIT = 500
STATUS_LABELS = dict(StatementStatus.choices)
#: The actions that sign the statement PDF (they need it rendered).
SIGNING_ACTIONS = frozenset({"submit", "confirm", "decide"})


# ---------------------------------------------------------------- access helpers


def _require_statements(user: User) -> None:
    if not selectors.sees_statements(user):
        if not is_business_staff(user):
            raise PermissionDenied(_("管理员账号不办理合同业务（三员分立）。"))
        raise PermissionDenied(_("月度服务资源统计表只对合同当事方开放。"))


def _require_bills(user: User) -> None:
    if not selectors.sees_bills(user):
        raise PermissionDenied(_("管理员账号不办理合同业务（三员分立）。"))


def _explain(statement: Statement) -> Callable[[ApplicationError], str]:
    """``error_text``, with why a signed version refuses every step (``explain_refusal``)."""

    def explain(exc: ApplicationError) -> str:
        if isinstance(exc, InvalidTransition):
            exc = selectors.explain_refusal(statement, exc)
        return error_text(exc)

    return explain


def _vendor_contracts(user: User) -> list[tuple[int, str]]:
    """Contracts whose statements the user generates (the service's rule, read here)."""
    contracts = contract_list_for_user(user=user).order_by("code")
    return [
        (c.pk, c.code) for c in contracts if services.statement_may_generate(user=user, contract=c)
    ]


def _serve_pdf(document: StatementDocument | None, filename: str) -> FileResponse:
    return serve_file(
        document.file if document is not None else None,
        filename,
        missing=_("该报表的 PDF 尚未生成。"),
        inline=True,  # statements and bills open in the browser's PDF viewer
    )


# ---------------------------------------------------------------- statement list


def _filter_statements(qs: QuerySet[Statement], form: StatementFilterForm) -> QuerySet[Statement]:
    if contract := form.value("contract"):
        qs = qs.filter(contract_id=contract)
    if year := form.value("year"):
        qs = qs.filter(year=year)
    if month := form.value("month"):
        qs = qs.filter(month=month)
    if status := form.value("status"):
        qs = qs.filter(status=status)
    return qs


@login_required
def statement_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_statements(user)
    today = business_today()
    form = StatementFilterForm(request.GET or None, contracts=contract_choices(user))
    qs = _filter_statements(selectors.statement_list_for_user(user=user), form).order_by(
        "-year", "-month", "contract__code", "-version"
    )
    # The home page's to-dos link here: the statements awaiting the user's organisation, and
    # the disputes the vendor has not answered with a new version yet.
    if request.GET.get("awaiting") == "me":
        qs = qs.filter(pk__in=[s.pk for s in selectors.statements_awaiting(user=user)])
    if request.GET.get("unanswered"):
        qs = qs.exclude(selectors.answered_by_newer_version())
    page = page_of(request, qs)
    statements = list(page)
    for statement in statements:
        statement.overdue_now = (
            statement.submitted_at is None
            and statement.due_date is not None
            and today > statement.due_date
        )
    vendor_contracts = _vendor_contracts(user)
    generate_form = (
        GenerateForm(contracts=vendor_contracts, today=today) if vendor_contracts else None
    )
    return render(
        request,
        "billing/statement_list.html",
        {
            "page": page,
            "statements": statements,
            "form": form,
            "generate_form": generate_form,
        },
    )


@login_required
@require_POST
def statement_generate(request: HttpRequest) -> HttpResponse:
    """The vendor's "生成本月统计表": version 1, a recomputed draft, or the answer to a dispute."""
    user = request.user
    _require_statements(user)
    form = GenerateForm(request.POST, contracts=_vendor_contracts(user) or contract_choices(user))
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return redirect("statement_list")
    contract = get_or_404(contract_list_for_user(user=user), pk=form.cleaned_data["contract"])
    year, month = form.cleaned_data["month"]
    try:
        statement = services.statement_generate(
            actor=user, contract=contract, year=year, month=month
        )
    except ApplicationError as exc:
        messages.error(request, error_text(exc))
        return redirect("statement_list")
    messages.success(
        request,
        _("已生成 %(c)s %(p)s 第 %(v)s 版统计表（草稿），请核对后提交。")
        % {"c": contract.code, "p": statement.period, "v": statement.version},
    )
    return redirect("statement_detail", pk=statement.pk)


# ---------------------------------------------------------------- the statement page


def _line_filters(
    request: HttpRequest, groups: list[selectors.DepartmentTotal]
) -> tuple[LineFilterForm, int | None]:
    departments = [(d.department_id, d.department) for d in groups]
    wanted = request.GET.get("department")
    chosen = next((d for d in groups if str(d.department_id) == wanted), None)
    if chosen is not None:
        systems = [(s.system_id, s.system) for s in chosen.systems]
    else:
        systems = [(s.system_id, f"{d.department} · {s.system}") for d in groups for s in d.systems]
    form = LineFilterForm(request.GET or None, departments=departments, systems=systems)
    return form, chosen.department_id if chosen else None


def _filtered_lines(statement: Statement, form: LineFilterForm) -> QuerySet:
    qs = statement.lines.order_by("position")
    if department := form.value("department"):
        qs = qs.filter(department_id=department)
    if system := form.value("system"):
        qs = qs.filter(system_id=system)
    if item := (form.value("item") or "").strip():
        qs = qs.filter(item_code__icontains=item)
    return qs


@login_required
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    statement = selectors.statement_get_for_user(user=user, pk=pk)
    contract = statement.contract
    prefetch_related_objects([contract], "parties__organization", "clauses")
    signoffs = list(
        statement.signoffs.select_related(
            "party__organization", "on_behalf_of__organization", "user"
        ).order_by("at", "id")
    )
    steps = selectors.signoff_steps(statement, signoffs)
    versions = list(selectors.month_versions(statement))
    is_latest = versions[-1].pk == statement.pk
    # Why earlier versions were sent back, shown with the version history (one query).
    disputes: dict[int, list[StatementSignoff]] = {}
    for dispute in (
        StatementSignoff.objects.filter(
            statement__in=[v.pk for v in versions], action=SignoffAction.DISPUTE
        )
        .select_related("party__organization")
        .order_by("at", "id")
    ):
        disputes.setdefault(dispute.statement_id, []).append(dispute)
    for version in versions:
        version.disputes = disputes.get(version.pk, [])
    groups = selectors.subtotals(statement.lines.all())
    line_form, _department = _line_filters(request, groups)
    page = page_of(request, _filtered_lines(statement, line_form), LINE_PAGE_SIZE)
    comments = list(
        statement.comments.select_related("author__organization", "line").order_by("at", "id")
    )
    commented = {c.line_id for c in comments if c.line_id}
    lines = list(page)
    for line in lines:
        line.commented = line.pk in commented
    actions = services.statement_available_actions(user=user, obj=statement)
    next_party = selectors.next_party(steps)
    signed_like = statement.status in (StatementStatus.SIGNED, StatementStatus.SUPERSEDED)
    document = selectors.statement_document(statement)
    context = {
        "statement": statement,
        "contract": contract,
        "steps": steps,
        "signoffs": signoffs,
        "next_party": next_party,
        "versions": versions,
        "is_latest": is_latest,
        "groups": groups,
        "line_count": sum(d.lines for d in groups),
        "line_form": line_form,
        "page": page,
        "lines": lines,
        "comments": comments,
        "escalations": list(
            statement.escalations.select_related("disputing_party__organization", "decided_by")
        ),
        "document": document,
        # Signing needs the rendered PDF: say so instead of letting the form be refused.
        "pdf_pending": document is None and bool(actions & SIGNING_ACTIONS),
        "bills": list(statement.department_bills.all()) if signed_like else [],
        "corrections": [v for v in versions if v.supersedes_id == statement.pk],
        "inventory_corrections": list(
            statement.inventory_corrections.select_related("contract", "resource__catalog_item")
        ),
        # Applied after this version was computed: a version awaiting sign-off lacks them.
        "inventory_corrections_missing": list(corrections.corrections_pending_for(statement))
        if is_latest and statement.status in (StatementStatus.SUBMITTED, StatementStatus.ESCALATED)
        else [],
        "actions": actions,
        # A party that may dispute but not confirm yet waits for the one before it.
        "wait_for": next_party if "dispute" in actions and "confirm" not in actions else None,
        "comment_only": actions == {"comment"},
        "vat_percent": vat_percent(statement.vat_rate),
        "reauth_methods": ReauthMethod.choices,
        "decisions": EscalationDecision.choices,
    }
    return render(request, "billing/statement_detail.html", context)


@login_required
def statement_pdf(request: HttpRequest, pk: int) -> FileResponse:
    statement = selectors.statement_get_for_user(user=request.user, pk=pk)
    filename = f"{statement.contract.code}-{statement.period}-v{statement.version}.pdf"
    return _serve_pdf(selectors.statement_document(statement), filename)


@login_required
def statement_diff(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    user = request.user
    first = selectors.statement_get_for_user(user=user, pk=pk)
    second = selectors.statement_get_for_user(user=user, pk=other_pk)
    same_month = (first.contract_id, first.year, first.month) == (
        second.contract_id,
        second.year,
        second.month,
    )
    if not same_month:
        raise Http404(_("只能比较同一合同同一月份的不同版本。"))
    old, new = sorted((first, second), key=lambda s: s.version)
    diff = selectors.statement_diff(old, new)
    return render(
        request,
        "billing/statement_diff.html",
        {
            "statement": first,
            "contract": first.contract,
            "diff": diff,
            "versions": list(selectors.month_versions(first)),
            "limit": DIFF_LIMIT,
            "added": diff.added[:DIFF_LIMIT],
            "removed": diff.removed[:DIFF_LIMIT],
            "changed": diff.changed[:DIFF_LIMIT],
        },
    )


# ---------------------------------------------------------------- statement actions (POST)


def _act(request: HttpRequest, pk: int, success: str, action: Any) -> HttpResponse:
    """Fetch the statement in scope, run the service, tell the user what happened.

    ``action`` returns the statement to show next (a new version, a correction) or None.
    """
    statement = selectors.statement_get_for_user(user=request.user, pk=pk)
    try:
        result = action(statement)
    except ApplicationError as exc:
        messages.error(request, _explain(statement)(exc))
        return redirect("statement_detail", pk=statement.pk)
    target = result if isinstance(result, Statement) else statement
    messages.success(
        request,
        success % {"c": statement.contract.code, "p": statement.period, "v": target.version},
    )
    return redirect("statement_detail", pk=target.pk)


#: What the sign-off forms carry that must never show in an error report.
SECRET_FIELDS = ("reauth_value", "signing_passphrase")


@sensitive_post_parameters(*SECRET_FIELDS)
@login_required
@require_POST
def statement_submit(request: HttpRequest, pk: int) -> HttpResponse:
    form = SubmitForm(request.POST)
    form.is_valid()
    return _act(
        request,
        pk,
        _("%(c)s %(p)s 第 %(v)s 版统计表已提交并加盖乙方签名，等待其他签认方确认。"),
        lambda s: services.statement_submit(
            actor=request.user,
            statement=s,
            reauth=form.reauth(),
            signing_passphrase=form.signing_secret(),
        ),
    )


@sensitive_post_parameters(*SECRET_FIELDS)
@login_required
@require_POST
def statement_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    form = ConfirmForm(request.POST)
    form.is_valid()
    return _act(
        request,
        pk,
        _("已确认 %(c)s %(p)s 第 %(v)s 版统计表。"),
        lambda s: services.statement_confirm(
            actor=request.user,
            statement=s,
            reauth=form.reauth(),
            signing_passphrase=form.signing_secret(),
            comment=form.cleaned_data.get("comment", ""),
        ),
    )


def _line_ids(statement: Statement, form: DisputeForm) -> list[int]:
    """Ticked lines plus lines named by their position (序号) on the page."""
    ids = list(form.cleaned_data.get("line_ids") or [])
    if "line_ids" in form.errors:
        raise ApplicationError(_("所选明细不属于该统计表。"), extra={"field": "line_ids"})
    positions = parse_positions(form.cleaned_data.get("positions", ""))
    if positions is None:
        raise ApplicationError(
            _("明细序号应为数字，多个用逗号分隔。"), extra={"field": "positions"}
        )
    if positions:
        found = dict(statement.lines.filter(position__in=positions).values_list("position", "pk"))
        missing = sorted(set(positions) - set(found))
        if missing:
            raise ApplicationError(
                _("明细序号 %(p)s 不在该统计表中。") % {"p": "、".join(map(str, missing))},
                extra={"field": "positions"},
            )
        ids.extend(found.values())
    return sorted(set(ids))


@sensitive_post_parameters(*SECRET_FIELDS)
@login_required
@require_POST
def statement_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    form = DisputeForm(request.POST)
    form.is_valid()

    def run(statement: Statement) -> Statement:
        return services.statement_dispute(
            actor=request.user,
            statement=statement,
            reauth=form.reauth(),
            comment=form.cleaned_data.get("comment", ""),
            line_ids=_line_ids(statement, form),
        )

    return _act(request, pk, _("已对 %(c)s %(p)s 第 %(v)s 版统计表提出异议，已退回乙方。"), run)


@login_required
@require_POST
def statement_comment(request: HttpRequest, pk: int) -> HttpResponse:
    form = CommentForm(request.POST)
    form.is_valid()

    def run(statement: Statement) -> None:
        if "position" in form.errors:
            raise ApplicationError(_("明细序号应为正整数。"), extra={"field": "position"})
        line_id = None
        if position := form.cleaned_data.get("position"):
            line_id = statement.lines.filter(position=position).values_list("pk", flat=True).first()
            if line_id is None:
                raise ApplicationError(
                    _("明细序号 %(p)s 不在该统计表中。") % {"p": position},
                    extra={"field": "position"},
                )
        services.statement_comment(
            actor=request.user,
            statement=statement,
            text=form.cleaned_data.get("text", ""),
            line_id=line_id,
        )

    return _act(request, pk, _("留言已发布。"), run)


@sensitive_post_parameters(*SECRET_FIELDS)
@login_required
@require_POST
def statement_decide(request: HttpRequest, pk: int) -> HttpResponse:
    form = DecideForm(request.POST)
    form.is_valid()
    return _act(
        request,
        pk,
        _("已对 %(c)s %(p)s 第 %(v)s 版统计表的争议出具审计结论。"),
        lambda s: services.statement_decide_escalation(
            actor=request.user,
            statement=s,
            decision=form.cleaned_data.get("decision", ""),
            comment=form.cleaned_data.get("comment", ""),
            reauth=form.reauth(),
            signing_passphrase=form.signing_secret(),
        ),
    )


@login_required
@require_POST
def statement_regenerate(request: HttpRequest, pk: int) -> HttpResponse:
    """The vendor recomputes a draft, or answers a dispute with a new version."""
    return _act(
        request,
        pk,
        _("已按最新资源台账生成 %(c)s %(p)s 第 %(v)s 版统计表（草稿），请核对后提交。"),
        lambda s: services.statement_generate(
            actor=request.user, contract=s.contract, year=s.year, month=s.month
        ),
    )


@login_required
@require_POST
def statement_supersede(request: HttpRequest, pk: int) -> HttpResponse:
    form = SupersedeForm(request.POST)
    form.is_valid()
    return _act(
        request,
        pk,
        _("已出具 %(c)s %(p)s 的更正版本（第 %(v)s 版，草稿）；签认前原签认版本继续有效。"),
        lambda s: services.statement_supersede(
            actor=request.user, signed_statement=s, reason=form.cleaned_data.get("reason", "")
        ),
    )


# ---------------------------------------------------------------- department bills


@login_required
def bill_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_bills(user)
    is_department = user.kind == OrganizationKind.DEPARTMENT
    departments = None
    if not is_department:
        departments = list(
            selectors.bill_list_for_user(user=user)
            .order_by("department_name")
            .values_list("department_id", "department_name")
            .distinct()
        )
    form = BillFilterForm(
        request.GET or None,
        contracts=contract_choices(user),
        departments=departments,
    )
    qs = selectors.bill_list_for_user(user=user)
    if contract := form.value("contract"):
        qs = qs.filter(statement__contract_id=contract)
    if year := form.value("year"):
        qs = qs.filter(statement__year=year)
    if month := form.value("month"):
        qs = qs.filter(statement__month=month)
    if department := form.value("department"):
        qs = qs.filter(department_id=department)
    qs = qs.order_by(
        "-statement__year", "-statement__month", "statement__contract__code", "department_name"
    )
    page = page_of(request, qs)
    return render(
        request,
        "billing/bill_list.html",
        {"page": page, "bills": list(page), "form": form, "is_department": is_department},
    )


@login_required
def bill_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    bill = selectors.bill_get_for_user(user=user, pk=pk)
    statement = bill.statement
    lines_qs = selectors.bill_lines(bill)
    groups = selectors.subtotals(lines_qs)
    systems = groups[0].systems if groups else []
    system = request.GET.get("system")
    if system and system.isdigit():
        lines_qs = lines_qs.filter(system_id=int(system))
    page = page_of(request, lines_qs, LINE_PAGE_SIZE)
    return render(
        request,
        "billing/bill_detail.html",
        {
            "bill": bill,
            "statement": statement,
            "contract": statement.contract,
            "systems": systems,
            "system": system or "",
            "page": page,
            "lines": list(page),
            "document": selectors.bill_document(bill),
            "sees_statement": selectors.sees_statements(user),
            "total_display": format_yuan(bill.total),
            "share_pct": _percent(bill.total, statement.total) or Decimal(0),
            "vat_percent": vat_percent(statement.vat_rate),
        },
    )


@login_required
def bill_pdf(request: HttpRequest, pk: int) -> FileResponse:
    bill: DepartmentBill = selectors.bill_get_for_user(user=request.user, pk=pk)
    statement = bill.statement
    filename = f"{statement.contract.code}-{statement.period}-v{statement.version}-{bill.pk}.pdf"
    return _serve_pdf(selectors.bill_document(bill), filename)


# ---------------------------------------------------------------- the contract dashboard


def burn_step(ratio: Decimal | None) -> int:
    """A share (0.4321) as the nearest 10 % step for the ``burn-N`` CSS classes (0…100)."""
    if ratio is None or ratio <= 0:
        return 0
    step = round_half_up(ratio * 10, places=0) * 10
    return int(min(max(step, Decimal(0)), Decimal(100)))


def vat_percent(rate: Decimal) -> str:
    """0.0600 → "6%"."""
    return f"{(rate * 100).normalize():f}%"


def _percent(part: Decimal, whole: Decimal | None) -> Decimal | None:
    if not whole:
        return None
    return round_half_up(part / whole * 100, places=1)


def _dashboard_contract(user: User, pk: int) -> Contract:
    contract = selectors.dashboard_contract_for_user(user=user, pk=pk)
    if user.kind == OrganizationKind.DEPARTMENT:
        raise PermissionDenied(_("合同结算情况只对合同当事方开放。"))
    if party_role_of(user, contract) is None and not user.is_superuser:
        raise PermissionDenied(_("合同结算情况只对合同当事方开放。"))
    return contract


@login_required
def contract_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    contract = _dashboard_contract(user, pk)
    actions = settlement.settlement_available_actions(user=user, obj=contract)
    today = business_today()
    periods = settlement.contract_settlement_periods(contract)
    state = settlement.contract_settlement(contract)
    summaries = state.summaries
    overview = summaries[0] if summaries else None
    for summary in summaries:
        for deduction in summary.deductions:
            deduction.contract = contract  # parties read once
            deduction.actions = settlement.deduction_available_actions(user=user, obj=deduction)
            # The acknowledgement's joint record (who signed when): for the contract's parties.
            deduction.joint = (
                joint_for(deduction, settlement.ACK) if party_role_of(user, contract) else None
            )
    months = [m for s in summaries for m in s.months]
    ended = [m for m in months if (m.year, m.month) < (today.year, today.month)]
    chart_months = [m for m in months if m in ended or m.signed_total is not None]
    chart = bar_chart_svg(
        [m.period for m in chart_months],
        [quantize_yuan(m.signed_total or 0) for m in chart_months],
        title=_("已签认月度服务费"),
        unit=_("元"),
        value_format=format_yuan,
    )
    estimated = contract.estimated_amount
    burn = forecast_ratio = None
    if overview is not None and estimated:
        burn = overview.burn_ratio
        forecast_ratio = overview.forecast_total / estimated
    context = {
        "contract": contract,
        "state": state,
        "summaries": summaries,
        "reason_form": ReasonForm(),
        "reissue_form": DeductionReissueForm(),
        "overview": overview,
        "month_rows": [
            {
                "month": m,
                "label": STATUS_LABELS.get(m.status or "", ""),
                "future": (m.year, m.month) >= (today.year, today.month),
            }
            for m in months
        ],
        "ended_count": len(ended),
        "signed_count": sum(1 for m in months if m.signed_total is not None),
        "today": today,
        # Built by bar_chart_svg, which escapes every label and draws no script or style.
        "chart_svg": mark_safe(chart),  # noqa: S308
        "estimated": estimated,
        "burn_pct": _percent(overview.signed_to_date, estimated) if overview else None,
        "burn_step": burn_step(burn),
        "forecast_pct": _percent(overview.forecast_total, estimated) if overview else None,
        "forecast_step": burn_step(forecast_ratio),
        "forecast_over": bool(forecast_ratio and forecast_ratio > 1),
        "payments": list(
            Payment.objects.filter(contract=contract)
            .select_related("installment", "recorded_by")
            .order_by("paid_on", "id")
        ),
        "actions": actions | invoice_services.invoice_available_actions(user=user, obj=contract),
        "invoices": _invoices_with_actions(user, contract),
        "payment_clocks": invoice_services.contract_payment_clocks(contract, today=today),
        "period_choices": [(p.key, p.label) for p in periods],
        "installment_choices": list(contract.installments.order_by("sequence")),
        "manages_test_periods": contract.pk in selectors.system_test_period_contract_ids(user),
        "kpi": {
            "signed": format_yuan(overview.signed_to_date if overview else 0),
            "forecast": format_yuan(overview.forecast_total if overview else 0),
            "paid": format_yuan(overview.paid_total if overview else 0),
            "estimated": format_yuan(estimated) if estimated else "",
        },
    }
    if "deduction_create" in actions:
        context["deduction_form"] = DeductionForm(periods=[(p.key, p.label) for p in periods])
    if "payment_record" in actions:
        context["payment_form"] = PaymentForm(
            installments=[
                (i.installment_id, f"第{i.sequence}期 {i.label}") for i in overview.installments
            ]
            if overview
            else [],
            today=today,
            periods=[(p.key, p.label) for p in periods],
        )
    return render(request, "billing/contract_dashboard.html", context)


@login_required
@require_POST
def contract_deduction_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    contract = _dashboard_contract(user, pk)
    periods = settlement.contract_settlement_periods(contract)
    form = DeductionForm(request.POST, periods=[(p.key, p.label) for p in periods])
    target = reverse("contract_dashboard", kwargs={"pk": contract.pk})
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return redirect(target)
    data = form.cleaned_data
    _ok, done = run_service(
        request,
        lambda: settlement.deduction_create(
            actor=user,
            contract=contract,
            period_label=data["period_label"],
            amount=data["amount"],
            reason=data["reason"],
            event_on=data.get("event_on"),
        ),
        _("已录入扣款 %(a)s（%(p)s）。")
        % {"a": format_yuan(data["amount"]), "p": data["period_label"]},
        to=target,
    )
    return done or redirect(target)  # refused: the reason is in the messages


@login_required
@require_POST
def contract_payment_record(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    contract = _dashboard_contract(user, pk)
    installments = {i.pk: i for i in contract.installments.all()}
    form = PaymentForm(
        request.POST,
        installments=[(pk, f"第{i.sequence}期 {i.label}") for pk, i in installments.items()],
        today=business_today(),
        periods=[(p.key, p.label) for p in settlement.contract_settlement_periods(contract)],
    )
    target = reverse("contract_dashboard", kwargs={"pk": contract.pk})
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return redirect(target)
    data = form.cleaned_data
    _ok, done = run_service(
        request,
        lambda: settlement.payment_record(
            actor=user,
            contract=contract,
            installment=installments.get(data.get("installment") or 0),
            amount=data["amount"],
            paid_on=data["paid_on"],
            note=data.get("note", ""),
            period_label=data.get("period_label") or "",
        ),
        _("已登记付款 %(a)s（%(d)s）。") % {"a": format_yuan(data["amount"]), "d": data["paid_on"]},
        to=target,
    )
    return done or redirect(target)  # refused: the reason is in the messages


def _invoices_with_actions(user: User, contract: Contract) -> list[Any]:
    rows = list(contract.invoices.select_related("installment").order_by("issued_on", "pk"))
    for invoice in rows:
        invoice.contract = contract
        invoice.actions = invoice_services.invoice_available_actions(user=user, obj=invoice)
    return rows


def _post_date(request: HttpRequest, name: str) -> Any:
    try:
        return date.fromisoformat(request.POST.get(name, ""))
    except ValueError:
        raise ApplicationError(_("日期格式无效。"), extra={"field": name}) from None


def _post_installment(request: HttpRequest, contract: Contract) -> Any:
    raw = request.POST.get("installment") or ""
    if not raw:
        return None
    found = contract.installments.filter(pk=raw if raw.isdigit() else 0).first()
    if found is None:
        raise ApplicationError(_("付款期次不属于本合同。"), extra={"field": "installment"})
    return found


@login_required
@require_POST
def contract_invoice_register(request: HttpRequest, pk: int) -> HttpResponse:
    """The vendor registers an invoice against a period and/or installment."""
    user = request.user
    contract = _dashboard_contract(user, pk)
    target = reverse("contract_dashboard", kwargs={"pk": contract.pk})

    def run() -> Any:
        return invoice_services.invoice_register(
            actor=user,
            contract=contract,
            number=request.POST.get("number", ""),
            issued_on=_post_date(request, "issued_on"),
            amount=_post_decimal(request.POST.get("amount", "")),
            installment=_post_installment(request, contract),
            period_label=request.POST.get("period_label", ""),
        )

    _ok, response = run_service(request, run, _("已登记发票，等待甲方确认。"), to=target)
    return response or redirect(target)


@login_required
@require_POST
def contract_funds_arrival(request: HttpRequest, pk: int) -> HttpResponse:
    """The bureau records the day the fiscal funds for a node arrived."""
    user = request.user
    contract = _dashboard_contract(user, pk)
    target = reverse("contract_dashboard", kwargs={"pk": contract.pk})

    def run() -> Any:
        return invoice_services.funds_arrival_record(
            actor=user,
            contract=contract,
            arrived_on=_post_date(request, "arrived_on"),
            installment=_post_installment(request, contract),
            period_label=request.POST.get("period_label", ""),
        )

    _ok, response = run_service(
        request, run, _("已登记财政拨款到账日，付款期限已计算。"), to=target
    )
    return response or redirect(target)


@login_required
@require_POST
def invoice_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """The bureau confirms an invoice or sends it back with a reason."""
    user = request.user
    invoice = selectors.invoice_get_for_user(user=user, pk=pk)
    target = reverse("contract_dashboard", kwargs={"pk": invoice.contract_id})
    if action == "confirm":
        run = lambda: invoice_services.invoice_confirm(actor=user, invoice=invoice)  # noqa: E731
        done = _("已确认发票。")
    elif action == "reject":
        run = lambda: invoice_services.invoice_reject(  # noqa: E731
            actor=user, invoice=invoice, reason=request.POST.get("reason", "")
        )
        done = _("已退回发票。")
    else:
        raise Http404
    _ok, response = run_service(request, run, done, to=target)
    return response or redirect(target)


def _post_decimal(raw: str) -> Decimal:
    try:
        return Decimal(raw.strip())
    except (InvalidOperation, AttributeError):
        raise ApplicationError(_("金额无效。"), extra={"field": "amount"}) from None


DEDUCTION_STEPS: dict[str, tuple[Any, Callable[..., Any], str]] = {
    "acknowledge": (
        None,
        lambda user, d, data: settlement.deduction_acknowledge(actor=user, deduction=d),
        _("已签字确认扣款，扣款自现在起生效。"),
    ),
    "object": (
        ReasonForm,
        lambda user, d, data: settlement.deduction_object(
            actor=user, deduction=d, reason=data["reason"]
        ),
        _("已提出异议，等待甲方撤回或重新出具通知书。"),
    ),
    "withdraw": (
        ReasonForm,
        lambda user, d, data: settlement.deduction_withdraw(
            actor=user, deduction=d, reason=data["reason"]
        ),
        _("已撤回扣款。"),
    ),
    "reissue": (
        DeductionReissueForm,
        lambda user, d, data: settlement.deduction_reissue(
            actor=user, deduction=d, amount=data["amount"], reason=data["reason"]
        ),
        _("已重新出具扣款通知书，等待乙方确认。"),
    ),
}


@login_required
@require_POST
def deduction_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """The vendor acknowledges or objects to a deduction notice; the bureau withdraws or
    re-issues an objected one (包头 §7.1.2)."""
    user = request.user
    deduction = selectors.deduction_get_for_user(user=user, pk=pk)
    if action not in DEDUCTION_STEPS:
        raise Http404
    form_class, run, done = DEDUCTION_STEPS[action]
    target = reverse("contract_dashboard", kwargs={"pk": deduction.contract_id})
    data: dict[str, Any] = {}
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            messages.error(request, form_error_text(form))
            return redirect(target)
        data = form.cleaned_data
    _ok, response = run_service(request, lambda: run(user, deduction, data), done, to=target)
    return response or redirect(target)


@login_required
def deduction_notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The written notice of a deduction (扣款书面通知书), rendered on request."""
    deduction = selectors.deduction_get_for_user(user=request.user, pk=pk)
    response = HttpResponse(deduction_notice_pdf_bytes(deduction), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{deduction.notice_number}.pdf"'
    return response


# ---------------------------------------------------------------- test periods of new systems


@login_required
def contract_test_periods(request: HttpRequest, pk: int) -> HttpResponse:
    """The contract's test periods of new systems (包头 §5.1.2): the bureau ends one early or
    extends it, with a reason; the billing start of the resources it covers follows."""
    user = request.user
    contract = selectors.system_test_period_contract_for_user(user=user, pk=pk)
    periods = list(
        selectors.system_test_period_list_for_user(user=user)
        .filter(contract=contract)
        .prefetch_related("changes__actor")
        .order_by("-started_at", "-pk")
    )
    now = timezone.now()
    for period in periods:
        period.contract = contract  # parties read once
        period.actions = system_test_periods.system_test_period_available_actions(
            user=user, obj=period
        )
        period.running = period.started_at <= now < period.ends_at
        period.resources = list(
            system_test_periods.covered_resources(period).select_related("catalog_item")
        )
    return render(
        request,
        "billing/test_periods.html",
        {
            "contract": contract,
            "periods": periods,
            "end_form": SystemTestPeriodEndEarlyForm(),
            "extend_form": SystemTestPeriodExtendForm(),
        },
    )


def _period_action(
    request: HttpRequest, pk: int, form_class: Any, run: Any, done: str
) -> HttpResponse:
    user = request.user
    period = selectors.system_test_period_get_for_user(user=user, pk=pk)
    target = reverse("contract_test_periods", kwargs={"pk": period.contract_id})
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return redirect(target)
    _ok, response = run_service(
        request,
        lambda: run(user, period, form.cleaned_data),
        done % {"system": period.system.name},
        to=target,
    )
    return response or redirect(target)  # refused: the reason is in the messages


@login_required
@require_POST
def end_test_period_early(request: HttpRequest, pk: int) -> HttpResponse:
    return _period_action(
        request,
        pk,
        SystemTestPeriodEndEarlyForm,
        lambda user, period, data: system_test_periods.system_test_period_end_early(
            actor=user, period=period, cutover=data["cutover"], reason=data["reason"]
        ),
        _("已提前结束「%(system)s」的测试期，相关资源自切换上线时间起计费，已通知乙方和使用单位。"),
    )


@login_required
@require_POST
def extend_test_period(request: HttpRequest, pk: int) -> HttpResponse:
    return _period_action(
        request,
        pk,
        SystemTestPeriodExtendForm,
        lambda user, period, data: system_test_periods.system_test_period_extend(
            actor=user, period=period, ends_at=data["ends_at"], reason=data["reason"]
        ),
        _("已延长「%(system)s」的测试期，相关资源自新的结束时间起计费，已通知乙方和使用单位。"),
    )


# ---------------------------------------------------------------- inventory corrections


def _local_label(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


@login_required
def contract_inventory_corrections(request: HttpRequest, pk: int) -> HttpResponse:
    """A contract's inventory corrections (资源清单更正), filtered and paginated; the parties'
    staff read them, the bureau and the vendor propose them from a resource's page."""
    user = request.user
    contract = selectors.correction_contract_for_user(user=user, pk=pk)
    filterset = InventoryCorrectionFilter(
        request.GET or None,
        queryset=selectors.correction_list_for_user(user=user)
        .filter(contract=contract)
        .order_by("-proposed_at", "-pk"),
    )
    return render(
        request,
        "billing/inventory_correction_list.html",
        {
            "contract": contract,
            "filter_form": filterset.form,
            "page": page_of(request, filterset.qs),
            "required_roles": [
                PartyRole(r).label for r in corrections.correction_required_roles(contract)
            ],
        },
    )


def _correction_form(
    request: HttpRequest, resource: Resource, data: Any = None, files: Any = None
) -> InventoryCorrectionForm:
    changes = [
        (
            str(c.pk),
            f"{_local_label(c.delivered_at)} · {c.catalog_item.code} × {c.quantity}"
            + (_("（交付记录）") if i == 0 else ""),
        )
        for i, c in enumerate(
            resource.changes.select_related("catalog_item").order_by("delivered_at", "id")
        )
    ]
    items = [
        (i.pk, f"{i.code} {i.name}（{i.unit}）")
        for i in CatalogItem.objects.filter(contract_id=resource.contract_id).order_by(
            "sort_order", "code"
        )
    ]
    return InventoryCorrectionForm(data, files, changes=changes, items=items)


@login_required
def inventory_correction_create(request: HttpRequest, pk: int) -> HttpResponse:
    """The bureau or the vendor proposes a correction of one resource, with reason and
    evidence; the parties the terms name then confirm it on its page."""
    user = request.user
    resource = selectors.correction_resource_for_user(user=user, pk=pk)
    if not corrections.inventory_correction_may_propose(user=user, resource=resource):
        raise PermissionDenied(_("只有本合同甲方或乙方人员可以提出资源清单更正。"))
    if request.method == "POST":
        form = _correction_form(request, resource, request.POST, request.FILES)
        if form.is_valid():
            _ok, response = run_service(
                request,
                lambda: corrections.inventory_correction_propose(
                    actor=user,
                    resource=resource,
                    reason=form.cleaned_data["reason"],
                    evidence=form.cleaned_data["evidence"],
                    data=corrections.CorrectionInput(**form.correction_input()),
                ),
                _("已提出资源清单更正，待各方会签确认后生效。"),
                to=lambda c: reverse("inventory_correction_detail", args=[c.pk]),
                form=form,
            )
            if response is not None:
                return response
    else:
        form = _correction_form(request, resource)
    contract = resource.contract
    return render(
        request,
        "billing/inventory_correction_form.html",
        {
            "contract": contract,
            "resource": resource,
            "form": form,
            "history": list(
                resource.changes.select_related("catalog_item").order_by("delivered_at", "id")
            ),
            "required_roles": [
                PartyRole(r).label for r in corrections.correction_required_roles(contract)
            ],
        },
    )


@login_required
def inventory_correction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    correction = selectors.correction_get_for_user(user=user, pk=pk)
    contract = correction.contract
    prefetch_related_objects([contract], "parties__organization", "clauses")
    return render(
        request,
        "billing/inventory_correction_detail.html",
        {
            "correction": correction,
            "contract": contract,
            "resource": correction.resource,
            "diff": corrections.correction_diff(correction),
            "confirmation": corrections.correction_confirmation(correction),
            "evidence": list(correction.evidence.select_related("uploaded_by")),
            "statements": list(correction.statements.order_by("year", "month", "version")),
            "actions": corrections.inventory_correction_available_actions(
                user=user, obj=correction
            ),
            "withdraw_form": WithdrawForm(),
        },
    )


@login_required
@require_POST
def inventory_correction_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    correction = selectors.correction_get_for_user(user=user, pk=pk)
    form = WithdrawForm(request.POST)
    form.is_valid()
    target = reverse("inventory_correction_detail", args=[correction.pk])
    _ok, response = run_service(
        request,
        lambda: corrections.inventory_correction_withdraw(
            actor=user, correction=correction, reason=form.cleaned_data.get("reason", "")
        ),
        _("已撤回资源清单更正 %(n)s。") % {"n": correction.number},
        to=target,
    )
    return response or redirect(target)


@login_required
def inventory_correction_evidence(request: HttpRequest, pk: int, file_pk: int) -> FileResponse:
    correction = selectors.correction_get_for_user(user=request.user, pk=pk)
    document = get_or_404(correction.evidence.all(), pk=file_pk)
    return serve_file(document.file, document.name)
