"""Portal pages of resource request tickets: lists, the ticket form, the ticket page and actions.

Reads go through ``requests_app.selectors`` (scoped to the user, 404 for foreign objects),
writes through ``requests_app.services``; a refused action shows the service's message and
changes nothing. The action panel reads ``request_available_actions``: the services' own
checks, so it offers exactly what would succeed right now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet, prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from billing.models import CatalogItem, Resource, ResourceStatus
from govcloud.access import require_staff
from govcloud.dates import deadline_label
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.joint import joint_for
from govcloud.lifecycle import open_contracts
from govcloud.models import Contract, JointSubject, OrganizationKind, PartyRole, User
from govcloud.selectors import (
    contract_list_for_user,
    departments_for_user,
    get_or_404,
    require_business_reader,
)
from govcloud.web import contract_choices, error_text, page_of, run_service, serve_file
from govcloud.workdays import CalendarYearMissing, working_days_remaining
from requests_app import selectors, services
from requests_app.actions import (
    REQUEST_ACTIONS,
    may_request,
    request_available_actions,
    require_may_request,
)
from requests_app.clocks import elapsed_working_days, extended_due, ticket_elapsed
from requests_app.delivery_integrity import DELIVERY_ACTIONS, delivery_available_actions
from requests_app.forms import (
    ClaimReviseForm,
    CommentForm,
    DeliverForm,
    DeliveryFilterForm,
    ExemptForm,
    ExtensionDecideForm,
    ExtensionForm,
    LineFormSet,
    ReceiptConfirmForm,
    ReceiptProblemForm,
    RequestFilterForm,
    RequestForm,
    ResourceFilterForm,
    ReviewFilterForm,
)
from requests_app.models import (
    AttachmentPurpose,
    DeliveryClaimStatus,
    ExtensionRequest,
    ExtensionStatus,
    ReceiptProblem,
    ReceiptStatus,
    RequestKind,
    RequestLine,
    RequestStatus,
    ResourceRequest,
    unexempted_breach_q,
)

REVIEWER_KINDS = (OrganizationKind.BUREAU, OrganizationKind.SUPERVISOR)

ACTION_LABELS = {
    "request.create": gettext_lazy("创建工单"),
    "request.update": gettext_lazy("修改工单"),
    "request.submit": gettext_lazy("提交审核"),
    "request.review_approve": gettext_lazy("审核同意（转下一审核方）"),
    "request.approve": gettext_lazy("审核同意，工单批准"),
    "request.returned": gettext_lazy("退回修改"),
    "request.rejected": gettext_lazy("驳回"),
    "request.cancel": gettext_lazy("撤销工单"),
    "request.extension_request": gettext_lazy("申请延期交付"),
    "request.extension_approve": gettext_lazy("批准延期"),
    "request.extension_reject": gettext_lazy("不批准延期"),
    "request.deliver": gettext_lazy("交付资源"),
    "request.exempt": gettext_lazy("认定超时非乙方原因"),
    "request.exempt_propose": gettext_lazy("提议认定超时非乙方原因（待会签）"),
    "request.deadline_recomputed": gettext_lazy("按法定节假日安排重算截止时间"),
    "request.breach_detected": gettext_lazy("超过交付时限未交付"),
    "request.delivery_time_confirmed": gettext_lazy("申报的交付时间经会签确认生效"),
    "request.delivery_time_objected": gettext_lazy("申报的交付时间被提出异议"),
    "request.delivery_claim_revise": gettext_lazy("修改交付时间申报，重新提请确认"),
    "request.receipt_confirm": gettext_lazy("使用单位签收"),
    "request.receipt_problem": gettext_lazy("使用单位反馈交付问题"),
}


# ---------------------------------------------------------------- delivery clocks


@dataclass(frozen=True)
class Clock:
    """What a page shows of a ticket's delivery clock.

    With a contract clock: the deadline and the working days left. Without one (及时): no
    deadline, the working days elapsed since approval (to delivery, or to now while open).
    """

    days_left: int | None
    overdue: bool
    provisional: bool
    due_label: str = ""
    has_clock: bool = True
    elapsed_days: int | None = None


#: A deadline as people read it (2026-10-09 24:00); the e-mails write it the same way.
due_label = deadline_label


def clock_for(ticket: ResourceRequest, now: datetime) -> Clock:
    """Working days left for an approved ticket; never a silent weekends-only count."""
    if not ticket.has_delivery_clock:
        elapsed, provisional = ticket_elapsed(ticket, now)
        return Clock(None, False, provisional, has_clock=False, elapsed_days=elapsed)
    label = due_label(ticket.due_at)
    overdue = ticket.is_overdue(now)
    if ticket.status != RequestStatus.APPROVED or ticket.due_at is None:
        return Clock(None, overdue, ticket.due_provisional, label)
    provisional = ticket.due_provisional
    try:
        days = working_days_remaining(now, ticket.due_at, provisional=provisional)
    except CalendarYearMissing:
        provisional = True
        days = working_days_remaining(now, ticket.due_at, provisional=True)
    return Clock(days, overdue, provisional, label)


def _attach_clocks(tickets: list[ResourceRequest], now: datetime) -> list[ResourceRequest]:
    # Rows cite their contract's delivery term: one query for the clauses of every contract.
    prefetch_related_objects(tickets, "contract__clauses")
    for ticket in tickets:
        ticket.clock = clock_for(ticket, now)
    return tickets


# ---------------------------------------------------------------- list filters


def _department_choices(user: User) -> list[tuple[int, str]] | None:
    if user.kind == OrganizationKind.DEPARTMENT:
        return None
    return list(departments_for_user(user=user).order_by("name").values_list("pk", "name"))


def _pending_extension() -> Exists:
    return Exists(
        ExtensionRequest.objects.filter(request_id=OuterRef("pk"), status=ExtensionStatus.PENDING)
    )


def _filter_tickets(
    qs: QuerySet[ResourceRequest], form: RequestFilterForm, now: datetime
) -> QuerySet[ResourceRequest]:
    status = form.value("status")
    if status == "open":
        qs = qs.filter(selectors.open_tickets_q())
    elif status == "overdue":
        qs = qs.overdue(now)
    elif status == "breached":
        qs = qs.filter(unexempted_breach_q())
    elif status == "extension":
        qs = qs.filter(_pending_extension())
    elif status == "receipt":
        qs = qs.filter(
            status=RequestStatus.DELIVERED,
            receipt_status__in=[ReceiptStatus.PENDING, ReceiptStatus.PROBLEM],
        )
    elif status == "delivery_claim":
        qs = qs.filter(delivery_claim_status=DeliveryClaimStatus.PENDING)
    elif status:
        qs = qs.filter(status=status)
    if kind := form.value("kind"):
        qs = qs.filter(kind=kind)
    if contract := form.value("contract"):
        qs = qs.filter(contract_id=contract)
    if department := form.value("department"):
        qs = qs.filter(department_id=department)
    if q := (form.value("q") or "").strip():
        qs = qs.filter(Q(number__icontains=q) | Q(system__name__icontains=q))
    if date_from := form.value("date_from"):
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to := form.value("date_to"):
        qs = qs.filter(created_at__date__lte=date_to)
    return qs


# ---------------------------------------------------------------- lists


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_business_reader(user)
    now = timezone.now()
    form = RequestFilterForm(
        request.GET or None,
        contracts=contract_choices(user),
        departments=_department_choices(user),
    )
    qs = _filter_tickets(selectors.request_list_for_user(user=user), form, now)
    page = page_of(request, qs)
    return render(
        request,
        "requests_app/request_list.html",
        {
            "page": page,
            "tickets": _attach_clocks(list(page), now),
            "form": form,
            "can_create": may_request(user),
        },
    )


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_staff(user)
    if user.kind not in REVIEWER_KINDS:
        raise PermissionDenied(_("只有甲方和监理单位审核资源申请。"))
    form = ReviewFilterForm(
        request.GET or None,
        contracts=contract_choices(user),
        departments=_department_choices(user),
    )
    qs = _filter_tickets(selectors.review_queue_for_user(user=user), form, timezone.now())
    page = page_of(request, qs)
    return render(
        request,
        "requests_app/review_queue.html",
        {"page": page, "tickets": list(page), "form": form},
    )


@login_required
def delivery_queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_staff(user)
    if user.kind != OrganizationKind.VENDOR:
        raise PermissionDenied(_("交付队列只对乙方开放。"))
    now = timezone.now()
    form = DeliveryFilterForm(
        request.GET or None,
        contracts=contract_choices(user),
        departments=_department_choices(user),
    )
    qs = selectors.delivery_queue_for_user(user=user).annotate(
        pending_extension=_pending_extension()
    )
    if contract := form.value("contract"):
        qs = qs.filter(contract_id=contract)
    if department := form.value("department"):
        qs = qs.filter(department_id=department)
    if form.value("overdue"):
        qs = qs.overdue(now)
    page = page_of(request, qs)
    return render(
        request,
        "requests_app/delivery_queue.html",
        {"page": page, "tickets": _attach_clocks(list(page), now), "form": form},
    )


@login_required
def resource_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_business_reader(user)
    form = ResourceFilterForm(
        request.GET or None,
        contracts=contract_choices(user),
        departments=_department_choices(user),
    )
    qs = selectors.resource_list_for_user(user=user)
    if contract := form.value("contract"):
        qs = qs.filter(contract_id=contract)
    if department := form.value("department"):
        qs = qs.filter(department_id=department)
    if system := (form.value("system") or "").strip():
        qs = qs.filter(system__name__icontains=system)
    if status := form.value("status"):
        qs = qs.filter(status=status)
    if item := (form.value("item") or "").strip():
        qs = qs.filter(catalog_item__code__icontains=item)
    page = page_of(request, qs)
    return render(
        request,
        "requests_app/resource_list.html",
        {"page": page, "resources": list(page), "form": form},
    )


@login_required
def resource_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    require_business_reader(user, hide=True)
    resource = selectors.resource_get_for_user(user=user, pk=pk)
    changes = resource.changes.select_related("catalog_item", "request_line__request").order_by(
        "delivered_at", "id"
    )
    # Change/release tickets point at the resource; the ticket that opened it delivered it.
    visible = selectors.request_list_for_user(user=user).values("pk")
    lines = (
        RequestLine.objects.filter(Q(resource=resource) | Q(delivered_resource=resource))
        .filter(request_id__in=visible)
        .select_related("request", "catalog_item")
        .order_by("request__created_at", "id")
    )
    return render(
        request,
        "requests_app/resource_detail.html",
        {"resource": resource, "changes": changes, "lines": lines},
    )


# ---------------------------------------------------------------- the ticket form


def _item_label(item: CatalogItem) -> str:
    spec = f"（{item.spec}）" if item.spec else ""
    return f"{item.code} · {item.name}{spec} · {item.price_label}"


def _resource_label(resource: Resource) -> str:
    ref = f" [{resource.vendor_ref}]" if resource.vendor_ref else ""
    return (
        f"#{resource.pk} {resource.system.name} · {resource.catalog_item.code} "
        f"× {resource.quantity} {resource.catalog_item.unit}{ref}"
    )


@dataclass
class LineOptions:
    """What a line may name: the contract's active items, the department's active resources."""

    kind: str
    items: dict[int, CatalogItem] = field(default_factory=dict)
    resources: dict[int, Resource] = field(default_factory=dict)

    @classmethod
    def load(cls, *, user: User, contract: Contract, kind: str) -> LineOptions:
        options = cls(kind=kind)
        if kind != RequestKind.RELEASE:
            items = contract.catalog_items.filter(is_active=True).order_by("sort_order", "code")
            options.items = {item.pk: item for item in items}
        if kind != RequestKind.NEW:
            resources = (
                selectors.resource_list_for_user(user=user)
                .filter(contract=contract, status=ResourceStatus.ACTIVE)
                .order_by("system__name", "id")
            )
            options.resources = {r.pk: r for r in resources}
        return options

    def form_kwargs(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "item_choices": [(pk, _item_label(i)) for pk, i in self.items.items()],
            "resource_choices": [(pk, _resource_label(r)) for pk, r in self.resources.items()],
            "items": self.items,
            "resources": self.resources,
        }

    def line_inputs(self, formset: Any) -> list[services.LineInput]:
        lines = []
        for form in formset.forms:
            if form.is_blank():
                continue
            data = form.cleaned_data
            lines.append(
                services.LineInput(
                    catalog_item_id=data.get("catalog_item") or None,
                    quantity=data.get("quantity"),
                    resource_id=data.get("resource") or None,
                    note=data.get("note") or "",
                )
            )
        return lines

    def unsaved_lines(self, formset: Any) -> tuple[list[RequestLine], int]:
        """Lines complete enough to price, and how many rows were left out."""
        lines: list[RequestLine] = []
        incomplete = 0
        for form in formset.forms:
            if not form.is_valid():
                incomplete += 1
                continue
            if form.is_blank():
                continue
            data = form.cleaned_data
            item = self.items.get(data.get("catalog_item") or 0)
            resource = self.resources.get(data.get("resource") or 0)
            quantity = data.get("quantity")
            if self.kind == RequestKind.NEW and item and quantity:
                lines.append(RequestLine(catalog_item=item, quantity=quantity))
            elif self.kind == RequestKind.CHANGE and resource and quantity:
                lines.append(
                    RequestLine(
                        catalog_item=item or resource.catalog_item,
                        quantity=quantity,
                        resource=resource,
                    )
                )
            elif self.kind == RequestKind.RELEASE and resource:
                lines.append(RequestLine(catalog_item=resource.catalog_item, resource=resource))
            else:
                incomplete += 1
        return lines, incomplete


def _kind_from(value: str | None) -> str:
    return value if value in RequestKind.values else RequestKind.NEW


def _add_service_error(form: RequestForm, exc: ApplicationError) -> None:
    target = {"system": "system_name", "reason": "reason"}.get(exc.extra.get("field", ""))
    form.add_error(target, exc.message)
    for error in exc.extra.get("errors", []):
        form.add_error(None, str(error))


def _ticket_form_page(
    request: HttpRequest,
    *,
    contract: Contract,
    kind: str,
    contracts: list[Contract],
    ticket: ResourceRequest | None = None,
) -> HttpResponse:
    user = request.user
    options = LineOptions.load(user=user, contract=contract, kind=kind)
    form_kwargs = options.form_kwargs()
    if request.method == "POST":
        form = RequestForm(request.POST, request.FILES, department_id=user.organization_id)
        formset = LineFormSet(request.POST, prefix="lines", form_kwargs=form_kwargs)
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            submit = "submit" in request.POST
            common = {
                "actor": user,
                "reason": data["reason"],
                "lines": options.line_inputs(formset),
                "system_id": data["system"].pk if data["system"] else None,
                "system_name": data["system_name"],
                "attachments": data["attachments"],
            }
            try:
                if ticket is None:
                    saved = services.request_create(
                        contract=contract, kind=kind, submit=submit, **common
                    )
                else:
                    saved = services.request_update(ticket=ticket, submit=submit, **common)
            except ApplicationError as exc:
                _add_service_error(form, exc)
            else:
                if submit:
                    messages.success(request, _("工单 %(n)s 已提交审核。") % {"n": saved.number})
                else:
                    messages.success(request, _("工单 %(n)s 已保存。") % {"n": saved.number})
                return redirect("request_detail", pk=saved.pk)
    else:
        if ticket is None:
            initial: dict[str, Any] = {}
            lines_initial: list[dict[str, Any]] = [{}]
        else:
            initial = {"system": ticket.system_id, "reason": ticket.reason}
            lines_initial = [
                {
                    "resource": line.resource_id,
                    "catalog_item": line.catalog_item_id,
                    "quantity": line.quantity,
                    "note": line.note,
                }
                for line in ticket.lines.all()
            ] or [{}]
        form = RequestForm(initial=initial, department_id=user.organization_id)
        formset = LineFormSet(prefix="lines", initial=lines_initial, form_kwargs=form_kwargs)
    return render(
        request,
        "requests_app/request_form.html",
        {
            "form": form,
            "formset": formset,
            "contract": contract,
            "contracts": contracts,
            "kind": kind,
            "kind_label": RequestKind(kind).label,
            "kinds": RequestKind.choices,
            "ticket": ticket,
            "attachments": list(ticket.attachments.all()) if ticket else [],
            "no_resources": kind != RequestKind.NEW and not options.resources,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_may_request(user)
    contracts = open_contracts(contract_list_for_user(user=user).select_related("successor"))
    wanted = request.POST.get("contract") or request.GET.get("contract")
    contract = None
    if wanted:
        contract = next((c for c in contracts if str(c.pk) == wanted), None)
        if contract is None:
            raise Http404(_("合同不存在或不属于本单位的主管部门。"))
    elif len(contracts) == 1:
        contract = contracts[0]
    kind = _kind_from(request.POST.get("kind") or request.GET.get("kind"))
    if contract is None:
        return render(
            request,
            "requests_app/request_form.html",
            {"contracts": contracts, "contract": None, "kind": kind, "kinds": RequestKind.choices},
        )
    return _ticket_form_page(request, contract=contract, kind=kind, contracts=contracts)


@login_required
@require_http_methods(["GET", "POST"])
def request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    ticket = selectors.request_get_for_user(user=user, pk=pk)
    try:
        REQUEST_ACTIONS.require("edit", user, ticket)
    except ActionForbidden:
        raise  # the wrong person: the 403 page with the reason
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("request_detail", pk=ticket.pk)
    return _ticket_form_page(
        request, contract=ticket.contract, kind=ticket.kind, contracts=[], ticket=ticket
    )


@login_required
@require_POST
def request_estimate(request: HttpRequest) -> HttpResponse:
    """htmx: the monthly cost of the lines as currently entered (nothing is saved)."""
    user = request.user
    require_may_request(user)
    contract = get_or_404(
        contract_list_for_user(user=user), pk=request.POST.get("contract") or None
    )
    kind = _kind_from(request.POST.get("kind"))
    options = LineOptions.load(user=user, contract=contract, kind=kind)
    formset = LineFormSet(request.POST, prefix="lines", form_kwargs=options.form_kwargs())
    lines, incomplete = options.unsaved_lines(formset)
    rows = [
        (line, services.estimate_monthly_cost(contract=contract, kind=kind, lines=[line]))
        for line in lines
    ]
    total = services.estimate_monthly_cost(contract=contract, kind=kind, lines=lines)
    return render(
        request,
        "requests_app/partials/_estimate.html",
        {
            "contract": contract,
            "kind": kind,
            "rows": rows,
            "total": total,
            "total_abs": abs(total),
            "incomplete": incomplete,
        },
    )


# ---------------------------------------------------------------- the ticket page


@dataclass
class TimelineEntry:
    at: datetime
    actor: str
    organization: str
    label: str
    status_from: str = ""
    status_to: str = ""
    due_from: str = ""
    due_to: str = ""
    due_term: str = ""  # the contract term the new deadline comes from (cited on the page)
    note: str = ""
    details: list[str] = field(default_factory=list)


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return parse_datetime(value) if isinstance(value, str) else None


def _timeline_entry(event: Any) -> TimelineEntry:
    before, after = event.before or {}, event.after or {}
    labels = dict(RequestStatus.choices)
    entry = TimelineEntry(
        at=event.at,
        actor=str(event.actor) if event.actor else event.actor_repr,
        organization=event.organization.name if event.organization else "",
        label=str(ACTION_LABELS.get(event.action, event.action)),
        note=str(after.get("comment") or after.get("reason") or ""),
    )
    if "status" in before and before.get("status") != after.get("status"):
        entry.status_from = str(labels.get(before["status"], before["status"]))
        entry.status_to = str(labels.get(after.get("status"), after.get("status") or ""))
    due_from, due_to = _as_datetime(before.get("due_at")), _as_datetime(after.get("due_at"))
    if due_from != due_to:
        entry.due_from, entry.due_to = due_label(due_from), due_label(due_to)
        if due_to is not None:
            entry.due_term = (
                "extended_delivery_working_days"
                if after.get("extended")
                else "delivery_working_days"
            )
    if expected := _as_datetime(after.get("expected_completion")):
        entry.details.append(
            _("预计完成：%(t)s") % {"t": timezone.localtime(expected).strftime("%Y-%m-%d %H:%M")}
        )
    if after.get("lines"):
        entry.details.append(_("明细：%(l)s") % {"l": "；".join(map(str, after["lines"]))})
    if after.get("new_system_test_period"):
        entry.details.append(_("新系统，测试期内不计费"))
    if event.action == "request.deliver" and after.get("breached"):
        entry.details.append(_("超过交付时限"))
    if event.action == "request.deliver" and after.get("elapsed_working_days") is not None:
        entry.details.append(_("批准后用时 %(n)s 个工作日") % {"n": after["elapsed_working_days"]})
    claimed = _as_datetime(after.get("delivery_claimed_at"))
    if event.action == "request.deliver" and claimed is not None:
        entry.details.append(
            _("申报交付时间 %(t)s，早于登记时刻减容差，待审核方确认；确认前以登记时刻为准")
            % {"t": timezone.localtime(claimed).strftime("%Y-%m-%d %H:%M")}
        )
    if event.action == "request.delivery_time_confirmed":
        old = _as_datetime(before.get("delivered_at"))
        new = _as_datetime(after.get("delivered_at"))
        if old and new:
            entry.details.append(
                _("交付时间：%(a)s → %(b)s")
                % {
                    "a": timezone.localtime(old).strftime("%Y-%m-%d %H:%M"),
                    "b": timezone.localtime(new).strftime("%Y-%m-%d %H:%M"),
                }
            )
        if before.get("breached") != after.get("breached"):
            entry.details.append(
                _("超时交付：%(a)s → %(b)s")
                % {
                    "a": _("是") if before.get("breached") else _("否"),
                    "b": _("是") if after.get("breached") else _("否"),
                }
            )
        if after.get("elapsed_working_days") is not None:
            elapsed = (after.get("elapsed_working_days_before"), after["elapsed_working_days"])
            entry.details.append(
                _("批准后用时：%(a)s → %(b)s 个工作日") % {"a": elapsed[0], "b": elapsed[1]}
            )
    if event.action == "request.receipt_problem" and after.get("problem") in ReceiptProblem.values:
        entry.details.append(str(ReceiptProblem(after["problem"]).label))
    return entry


def _local_input(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    require_business_reader(user, hide=True)
    ticket = selectors.request_get_for_user(user=user, pk=pk)
    return _render_detail(request, ticket)


def _delivery_time_context(ticket: ResourceRequest, attachments: list[Any]) -> dict[str, Any]:
    """What the page shows of the delivery time: recorded, claimed, the claim and its proof."""
    recorded_elapsed = None
    if ticket.approved_at and ticket.delivery_recorded_at and ticket.delivery_claimed_at:
        recorded_elapsed, _prov = elapsed_working_days(
            ticket.approved_at, ticket.delivery_recorded_at
        )
    return {
        "delivery_time_confirmation": joint_for(ticket, JointSubject.DELIVERY_TIME),
        "evidence": [a for a in attachments if a.purpose == AttachmentPurpose.DELIVERY_EVIDENCE],
        "recorded_elapsed": recorded_elapsed,
    }


def _render_detail(
    request: HttpRequest,
    ticket: ResourceRequest,
    *,
    deliver_form: DeliverForm | None = None,
    problem_form: ReceiptProblemForm | None = None,
    revise_form: ClaimReviseForm | None = None,
) -> HttpResponse:
    """The ticket page; an action refused with field errors re-renders it with its form."""
    user = request.user
    contract = ticket.contract
    prefetch_related_objects([contract], "parties__organization", "clauses")
    now = timezone.now()
    actions = request_available_actions(user=user, obj=ticket) | delivery_available_actions(
        user=user, obj=ticket
    )
    lines = list(
        ticket.lines.select_related(
            "catalog_item",
            "previous_item",
            "resource__catalog_item",
            "resource__system",
            "delivered_resource",
        )
    )
    for line in lines:
        # A delivery refused with field errors keeps what the vendor typed.
        line.posted_ref = request.POST.get(f"vendor_ref_{line.pk}", "") if deliver_form else ""
    priced = [
        (line, services.estimate_monthly_cost(contract=contract, kind=ticket.kind, lines=[line]))
        for line in lines
    ]
    total = services.estimate_monthly_cost(contract=contract, kind=ticket.kind, lines=lines)
    extensions = list(ticket.extensions.select_related("requested_by", "decided_by"))
    chain = contract.review_chain
    steps = []
    for index, party in enumerate(chain):
        if ticket.status in (RequestStatus.APPROVED, RequestStatus.DELIVERED):
            state = "done"
        elif ticket.status in (RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW):
            state = (
                "done"
                if index < ticket.review_step
                else "current"
                if index == ticket.review_step
                else "pending"
            )
        else:
            state = "pending"
        steps.append({"party": party, "state": state})
    events = selectors.timeline_for(ticket).select_related("actor")
    reviews = list(ticket.reviews.select_related("reviewer__organization"))
    party_labels = dict(PartyRole.choices)
    for review in reviews:
        review.party_label = party_labels.get(review.party_role, review.party_role)
    attachments = list(ticket.attachments.select_related("uploaded_by"))
    deliver_form = deliver_form or DeliverForm(
        tolerance_hours=contract.delivery_time_tolerance_hours, now=now
    )
    context = {
        "ticket": ticket,
        "contract": contract,
        "lines": priced,
        "total": total,
        "attachments": [a for a in attachments if a.purpose == AttachmentPurpose.REQUEST],
        "reviews": reviews,
        "steps": steps,
        "extensions": extensions,
        "clock": clock_for(ticket, now),
        "timeline": [_timeline_entry(e) for e in events],
        "actions": actions,
        "pending_extension": next(
            (e for e in extensions if e.status == ExtensionStatus.PENDING), None
        ),
        "new_kind": ticket.kind == RequestKind.NEW,
        "comment_form": CommentForm(),
        "extension_form": ExtensionForm(),
        "decide_form": ExtensionDecideForm(),
        "deliver_form": deliver_form,
        "tolerance_threshold_label": timezone.localtime(deliver_form.threshold).strftime(
            "%Y-%m-%d %H:%M"
        ),
        "problem_form": problem_form or ReceiptProblemForm(),
        "revise_form": revise_form or ClaimReviseForm(),
        "exempt_form": ExemptForm(),
        "exemption_confirmation": joint_for(ticket, JointSubject.LATE_DELIVERY_EXEMPTION),
        "now_input": _local_input(now),
        **_delivery_time_context(ticket, attachments),
    }
    if "request_extension" in actions and ticket.approved_at is not None:
        longest, _provisional = extended_due(contract, ticket.approved_at)
        context["extended_due_label"] = due_label(longest)
        context["extended_due_input"] = _local_input(longest)
    if "deliver" in actions:
        context["approved_input"] = _local_input(ticket.approved_at)
    return render(request, "requests_app/request_detail.html", context)


@login_required
def request_attachment(request: HttpRequest, pk: int, att_pk: int) -> FileResponse:
    user = request.user
    require_business_reader(user, hide=True)
    ticket = selectors.request_get_for_user(user=user, pk=pk)
    attachment = get_or_404(ticket.attachments.all(), pk=att_pk)
    return serve_file(attachment.file, attachment.name)


# ---------------------------------------------------------------- actions (POST only)


def _act(request: HttpRequest, pk: int, success: str, action: Any) -> HttpResponse:
    """Fetch the ticket in scope, run the service, tell the user what happened."""
    require_business_reader(request.user)
    ticket = selectors.request_get_for_user(user=request.user, pk=pk)
    to = reverse("request_detail", kwargs={"pk": ticket.pk})
    _ok, response = run_service(
        request, lambda: action(ticket), success % {"n": ticket.number}, to=to
    )
    return response or redirect(to)


def _comment(request: HttpRequest) -> str:
    form = CommentForm(request.POST)
    return form.cleaned_data["comment"] if form.is_valid() else ""


@login_required
@require_POST
def request_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        _("工单 %(n)s 已提交审核。"),
        lambda t: services.request_submit(actor=request.user, ticket=t),
    )


@login_required
@require_POST
def request_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        _("工单 %(n)s 已撤销。"),
        lambda t: services.request_cancel(actor=request.user, ticket=t, comment=_comment(request)),
    )


@login_required
@require_POST
def request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        _("已同意工单 %(n)s。"),
        lambda t: services.request_approve(actor=request.user, ticket=t, comment=_comment(request)),
    )


@login_required
@require_POST
def request_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        _("工单 %(n)s 已退回使用单位修改。"),
        lambda t: services.request_return(actor=request.user, ticket=t, comment=_comment(request)),
    )


@login_required
@require_POST
def request_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        _("工单 %(n)s 已驳回。"),
        lambda t: services.request_reject(actor=request.user, ticket=t, comment=_comment(request)),
    )


@login_required
@require_POST
def request_extension(request: HttpRequest, pk: int) -> HttpResponse:
    form = ExtensionForm(request.POST)
    form.is_valid()
    data = form.cleaned_data

    def run(ticket: ResourceRequest) -> None:
        if "expected_completion" in form.errors:
            raise ApplicationError(_("预计完成时间格式不正确。"))
        services.extension_request(
            actor=request.user,
            ticket=ticket,
            reason=data.get("reason", ""),
            expected_completion=data.get("expected_completion"),
        )

    return _act(request, pk, _("已为工单 %(n)s 提交延期申请，等待甲方审批。"), run)


@login_required
@require_POST
def request_extension_decide(request: HttpRequest, pk: int, ext_pk: int) -> HttpResponse:
    require_business_reader(request.user)
    ticket = selectors.request_get_for_user(user=request.user, pk=pk)
    extension = get_or_404(ticket.extensions.all(), pk=ext_pk)
    form = ExtensionDecideForm(request.POST)
    form.is_valid()
    decision = form.cleaned_data.get("decision")

    def decide() -> None:
        if decision not in ("approve", "reject"):
            raise ApplicationError(_("请选择批准或不批准。"))
        services.extension_decide(
            actor=request.user,
            extension=extension,
            approve=decision == "approve",
            comment=form.cleaned_data.get("comment", ""),
        )

    success = (
        _("已批准延期，交付截止时间已更新。") if decision == "approve" else _("已不批准延期。")
    )
    to = reverse("request_detail", kwargs={"pk": ticket.pk})
    _ok, response = run_service(request, decide, success, to=to)
    return response or redirect(to)


@login_required
@require_POST
def request_deliver(request: HttpRequest, pk: int) -> HttpResponse:
    """Deliver; a time earlier than the tolerance needs a reason and evidence, and every
    missing piece is shown at once on the re-rendered ticket page. Any other refusal is the
    message on the ticket page, as for every action."""
    require_business_reader(request.user)
    ticket = selectors.request_get_for_user(user=request.user, pk=pk)
    refused = _refusal(
        request, ticket, lambda: REQUEST_ACTIONS.require("deliver", request.user, ticket)
    )
    if refused is not None:
        return refused
    form = DeliverForm(
        request.POST,
        request.FILES,
        tolerance_hours=ticket.contract.delivery_time_tolerance_hours,
    )
    items = [
        services.DeliveryInput(line_id=int(key.removeprefix("vendor_ref_")), vendor_ref=value)
        for key, value in request.POST.items()
        if key.startswith("vendor_ref_") and key.removeprefix("vendor_ref_").isdigit()
    ]
    if not form.is_valid():
        messages.error(request, _("交付未保存，请按提示修改。"))
        return _render_detail(request, ticket, deliver_form=form)
    data = form.cleaned_data
    try:
        services.request_deliver(
            actor=request.user,
            ticket=ticket,
            items=items,
            delivered_at=data.get("delivered_at"),
            claim_reason=data.get("claim_reason") or "",
            evidence=data.get("evidence") or [],
        )
    except ApplicationError as exc:
        messages.error(request, error_text(exc))
        named = exc.extra.get("fields") or [exc.extra.get("field")]
        fields = [f for f in named if f in form.fields]
        if not fields:
            return redirect("request_detail", pk=ticket.pk)
        for name in fields:
            form.add_error(name, exc.message)
        return _render_detail(request, ticket, deliver_form=form)
    messages.success(request, _("工单 %(n)s 已交付，资源已入库。") % {"n": ticket.number})
    return redirect("request_detail", pk=ticket.pk)


def _refusal(request: HttpRequest, ticket: ResourceRequest, check: Any) -> HttpResponse | None:
    """Is the step open to this user now? If not, the rule's reason on the ticket page (as
    ``run_service`` shows every refusal), before any form is looked at; None when it is."""
    try:
        check()
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("request_detail", pk=ticket.pk)
    return None


@login_required
@require_POST
def request_delivery_claim_revise(request: HttpRequest, pk: int) -> HttpResponse:
    """After an objection the vendor revises the claimed time's reason and evidence."""
    require_business_reader(request.user)
    ticket = selectors.request_get_for_user(user=request.user, pk=pk)
    refused = _refusal(
        request,
        ticket,
        lambda: DELIVERY_ACTIONS.require("revise_delivery_claim", request.user, ticket),
    )
    if refused is not None:
        return refused
    form = ClaimReviseForm(request.POST, request.FILES)
    form.is_valid()
    to = reverse("request_detail", kwargs={"pk": ticket.pk})
    ok, response = run_service(
        request,
        lambda: services.delivery_claim_revise(
            actor=request.user,
            ticket=ticket,
            reason=form.cleaned_data.get("claim_reason") or "",
            evidence=form.cleaned_data.get("evidence") or [],
        ),
        _("已修改交付时间申报，重新提请审核方确认。"),
        to=to,
        form=form,
    )
    if ok and response is not None:
        return response
    return _render_detail(request, ticket, revise_form=form)


@login_required
@require_POST
def request_receipt_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReceiptConfirmForm(request.POST)
    form.is_valid()
    return _act(
        request,
        pk,
        _("已签收工单 %(n)s。"),
        lambda t: services.request_receipt_confirm(
            actor=request.user, ticket=t, note=form.cleaned_data.get("note", "")
        ),
    )


@login_required
@require_POST
def request_receipt_problem(request: HttpRequest, pk: int) -> HttpResponse:
    """Report a problem; a missing type or reason re-renders the page with both errors."""
    require_business_reader(request.user)
    ticket = selectors.request_get_for_user(user=request.user, pk=pk)
    refused = _refusal(
        request,
        ticket,
        lambda: DELIVERY_ACTIONS.require("report_receipt_problem", request.user, ticket),
    )
    if refused is not None:
        return refused
    form = ReceiptProblemForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("问题反馈未提交，请按提示填写。"))
        return _render_detail(request, ticket, problem_form=form)
    to = reverse("request_detail", kwargs={"pk": ticket.pk})
    ok, response = run_service(
        request,
        lambda: services.request_receipt_problem(
            actor=request.user,
            ticket=ticket,
            problem=form.cleaned_data["problem"],
            reason=form.cleaned_data["reason"],
        ),
        _("已反馈问题，乙方和甲方将收到通知。"),
        to=to,
        form=form,
    )
    if ok and response is not None:
        return response
    return _render_detail(request, ticket, problem_form=form)


@login_required
@require_POST
def request_exempt(request: HttpRequest, pk: int) -> HttpResponse:
    form = ExemptForm(request.POST)
    form.is_valid()
    return _act(
        request,
        pk,
        _("已认定（或已提请各方会签）工单 %(n)s 的超时为非乙方原因。"),
        lambda t: services.request_exempt(
            actor=request.user, ticket=t, reason=form.cleaned_data.get("reason", "")
        ),
    )
