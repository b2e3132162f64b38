"""Every write to a ticket: create, submit, review, extend, deliver, exempt.

The portal, the API, the admin and Celery all call these functions; each locks the ticket,
enforces its step through ``requests_app.actions.REQUEST_ACTIONS`` (who may act, from which
state), audits, and notifies through the outbox after commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import CatalogItem, Resource, ResourceChange, ResourceStatus
from billing.money import quantize_yuan
from billing.services.system_test_periods import delivery_billing_start
from govcloud.audit import audit_log, snapshot
from govcloud.dates import business_date
from govcloud.exceptions import ApplicationError
from govcloud.joint import joint_confirm, joint_open, joint_restart, required_roles
from govcloud.models import (
    BusinessSystem,
    Contract,
    ContractParty,
    JointConfirmation,
    JointSubject,
    Organization,
    PricePeriod,
    User,
)
from requests_app import notifications
from requests_app.actions import (
    REQUEST_ACTIONS,
    current_reviewer_party,
    require_may_request,
    require_transition,
)
from requests_app.clocks import due_for, elapsed_working_days, extended_due, has_clock
from requests_app.models import (
    EDITABLE_STATES,
    OPEN_REVIEW_STATES,
    ExtensionRequest,
    ExtensionStatus,
    RequestAttachment,
    RequestKind,
    RequestLine,
    RequestStatus,
    ResourceRequest,
    Review,
    ReviewDecision,
)

AUDIT_FIELDS = (
    "status",
    "review_step",
    "approved_at",
    "due_at",
    "due_provisional",
    "extended",
    "delivered_at",
    "breached",
    "exempted",
)
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_ATTACHMENT_SUFFIXES = (
    ".pdf",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".png",
    ".jpg",
    ".jpeg",
    ".txt",
    ".zip",
)


@dataclass(frozen=True)
class LineInput:
    """One line as the department enters it (ids, validated by the service)."""

    catalog_item_id: int | None = None
    quantity: int | None = None
    resource_id: int | None = None
    note: str = ""


# ---------------------------------------------------------------- helpers


def _set_status(ticket: ResourceRequest, target: str) -> None:
    require_transition(ticket, target)
    ticket.status = target


def _audit(
    actor: Any, action: str, ticket: ResourceRequest, before: dict[str, Any], **extra: Any
) -> None:
    after = snapshot(ticket, AUDIT_FIELDS)
    after.update(extra)
    audit_log(
        actor=actor, action=action, obj=ticket, before=before, after=after, contract=ticket.contract
    )


def _lock(ticket: ResourceRequest) -> tuple[ResourceRequest, dict[str, Any]]:
    locked = (
        ResourceRequest.objects.select_for_update(of=("self",))
        .select_related("contract", "department", "system", "created_by")
        .get(pk=ticket.pk)
    )
    return locked, snapshot(locked, AUDIT_FIELDS)


def _reviewer_party(ticket: ResourceRequest) -> ContractParty:
    """The party reviewing now (``REQUEST_ACTIONS.require`` has checked there is one)."""
    party = current_reviewer_party(ticket)
    if party is None:
        raise RuntimeError(f"工单 {ticket.number} 当前没有审核方。")
    return party


def _approved_at(ticket: ResourceRequest) -> datetime:
    """When the ticket was approved (set, with the deadline, by the final approval)."""
    if ticket.approved_at is None:
        raise RuntimeError(f"工单 {ticket.number} 没有批准时间。")
    return ticket.approved_at


def _due_at(ticket: ResourceRequest) -> datetime:
    """The delivery deadline (set, with the approval time, by the final approval)."""
    if ticket.due_at is None:
        raise RuntimeError(f"工单 {ticket.number} 没有交付截止时间。")
    return ticket.due_at


def _quantity(line: RequestLine) -> int:
    """The quantity of an opening or changing line (validation requires it; releases have none)."""
    if line.quantity is None:
        raise RuntimeError(f"工单明细 {line.pk} 没有数量。")
    return line.quantity


def _system_for(
    department: Organization, *, system_id: int | None, system_name: str
) -> BusinessSystem:
    if system_id:
        system = BusinessSystem.objects.filter(pk=system_id, department=department).first()
        if system is None:
            raise ApplicationError(_("所选业务系统不属于本单位。"), extra={"field": "system"})
        return system
    name = (system_name or "").strip()
    if not name:
        raise ApplicationError(_("请选择或填写业务系统。"), extra={"field": "system"})
    system, _created = BusinessSystem.objects.get_or_create(department=department, name=name[:120])
    return system


def _validate_lines(
    *,
    contract: Contract,
    department: Organization,
    kind: str,
    lines: list[LineInput],
    exclude_ticket: int | None,
) -> list[RequestLine]:
    if not lines:
        raise ApplicationError(_("工单至少需要一条明细。"), extra={"field": "lines"})
    errors: list[str] = []
    built: list[RequestLine] = []
    items = {
        i.pk: i
        for i in CatalogItem.objects.filter(
            contract=contract, pk__in=[ln.catalog_item_id for ln in lines if ln.catalog_item_id]
        )
    }
    resources = {
        r.pk: r
        for r in Resource.objects.select_related("catalog_item").filter(
            contract=contract,
            department=department,
            pk__in=[ln.resource_id for ln in lines if ln.resource_id],
        )
    }
    busy = set(
        RequestLine.objects.filter(
            resource_id__in=list(resources),
            request__status__in=[*OPEN_REVIEW_STATES, RequestStatus.APPROVED, *EDITABLE_STATES],
        )
        .exclude(request_id=exclude_ticket)
        .values_list("resource_id", flat=True)
    )
    seen_resources: set[int] = set()
    for number, line in enumerate(lines, start=1):
        prefix = _("第 %(n)s 行：") % {"n": number}
        if kind == RequestKind.NEW:
            item = items.get(line.catalog_item_id or -1)
            if item is None or not item.is_active:
                errors.append(prefix + _("请选择本合同服务目录中的可申请项目。"))
                continue
            if not line.quantity or line.quantity < 1:
                errors.append(prefix + _("数量必须是正整数。"))
                continue
            built.append(
                RequestLine(catalog_item=item, quantity=line.quantity, note=line.note[:200])
            )
            continue
        resource = resources.get(line.resource_id or -1)
        if resource is None or resource.status != ResourceStatus.ACTIVE:
            errors.append(prefix + _("请选择本单位在本合同下的在用资源。"))
            continue
        if resource.pk in busy or resource.pk in seen_resources:
            errors.append(prefix + _("资源 #%(id)s 已在其他未完成的工单中。") % {"id": resource.pk})
            continue
        seen_resources.add(resource.pk)
        if kind == RequestKind.RELEASE:
            built.append(
                RequestLine(
                    catalog_item=resource.catalog_item,
                    resource=resource,
                    previous_item=resource.catalog_item,
                    previous_quantity=resource.quantity,
                    note=line.note[:200],
                )
            )
            continue
        item = items.get(line.catalog_item_id) if line.catalog_item_id else resource.catalog_item
        if item is None or not item.is_active:
            errors.append(prefix + _("变更后的规格必须是本合同服务目录中的可申请项目。"))
            continue
        if item.section != resource.catalog_item.section or item.unit != resource.catalog_item.unit:
            errors.append(prefix + _("只能变更为同类、同计量单位的目录项。"))
            continue
        if not line.quantity or line.quantity < 1:
            errors.append(prefix + _("变更后的数量必须是正整数。"))
            continue
        if item.pk == resource.catalog_item_id and line.quantity == resource.quantity:
            errors.append(prefix + _("变更后的配置与当前相同。"))
            continue
        built.append(
            RequestLine(
                catalog_item=item,
                quantity=line.quantity,
                resource=resource,
                previous_item=resource.catalog_item,
                previous_quantity=resource.quantity,
                note=line.note[:200],
            )
        )
    if errors:
        raise ApplicationError(_("工单明细有误，未保存。"), extra={"errors": errors})
    return built


def _attach(actor: User, ticket: ResourceRequest, files: list[UploadedFile]) -> None:
    for upload in files:
        name = upload.name or "attachment"
        if upload.size is None:  # Django's upload handlers always set it
            raise RuntimeError(f"附件 {name} 没有大小。")
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise ApplicationError(_("附件 %(n)s 超过 10 MB。") % {"n": name})
        if not name.lower().endswith(ALLOWED_ATTACHMENT_SUFFIXES):
            raise ApplicationError(_("附件 %(n)s 的类型不允许上传。") % {"n": name})
        RequestAttachment.objects.create(
            request=ticket, file=upload, name=name[:200], uploaded_by=actor
        )


def estimate_monthly_cost(*, contract: Contract, kind: str, lines: list[RequestLine]) -> Decimal:
    """Approximate monthly cost (discount applied) a ticket adds; negative when it saves money."""
    total = Decimal(0)
    for line in lines:
        item = line.catalog_item
        per_month = item.unit_price if item.period == PricePeriod.MONTH else item.unit_price / 12
        if kind == RequestKind.NEW:
            total += per_month * _quantity(line)
        elif kind in (RequestKind.CHANGE, RequestKind.RELEASE):
            # The configuration the ticket started from, not the resource's current one
            # (delivery has already changed that).
            old = line.previous_item or (line.resource.catalog_item if line.resource else item)
            old_qty = line.previous_quantity
            if old_qty is None:
                old_qty = line.resource.quantity if line.resource else 0
            old_month = old.unit_price if old.period == PricePeriod.MONTH else old.unit_price / 12
            new_total = per_month * _quantity(line) if kind == RequestKind.CHANGE else 0
            total += new_total - old_month * old_qty
    return quantize_yuan(total * contract.discount_factor)


# ---------------------------------------------------------------- department


@transaction.atomic
def request_create(
    *,
    actor: User,
    contract: Contract,
    kind: str,
    reason: str,
    lines: list[LineInput],
    system_id: int | None = None,
    system_name: str = "",
    attachments: list[UploadedFile] | None = None,
    submit: bool = False,
) -> ResourceRequest:
    """A department drafts a ticket (and optionally submits it at once)."""
    require_may_request(actor, contract)
    department = actor.organization
    if department is None:  # ``require_may_request`` admits department users only
        raise RuntimeError(f"用户 {actor.pk} 不属于任何单位。")
    if kind not in RequestKind.values:
        raise ApplicationError(_("工单类型无效。"), extra={"field": "kind"})
    if not (reason or "").strip():
        raise ApplicationError(_("请填写申请理由。"), extra={"field": "reason"})
    system = _system_for(department, system_id=system_id, system_name=system_name)
    built = _validate_lines(
        contract=contract, department=department, kind=kind, lines=lines, exclude_ticket=None
    )
    ticket = ResourceRequest(
        number=f"tmp-{uuid.uuid4().hex}",
        contract=contract,
        department=department,
        system=system,
        kind=kind,
        reason=reason.strip(),
        created_by=actor,
    )
    ticket.full_clean(exclude=["number"])
    ticket.save()
    ticket.number = f"{contract.code}-{ticket.pk:06d}"
    ticket.save(update_fields=["number"])
    for line in built:
        line.request = ticket
    RequestLine.objects.bulk_create(built)
    _attach(actor, ticket, attachments or [])
    audit_log(
        actor=actor,
        action="request.create",
        obj=ticket,
        after={**snapshot(ticket, ("kind", "status")), "lines": [str(line) for line in built]},
        contract=contract,
    )
    if submit:
        return request_submit(actor=actor, ticket=ticket)
    return ticket


@transaction.atomic
def request_update(
    *,
    actor: User,
    ticket: ResourceRequest,
    reason: str,
    lines: list[LineInput],
    system_id: int | None = None,
    system_name: str = "",
    attachments: list[UploadedFile] | None = None,
    submit: bool = False,
) -> ResourceRequest:
    """Edit a draft or a returned ticket; lines are replaced as a whole.

    With ``submit`` the edited ticket is also submitted: both or neither.
    """
    ticket, before = _lock(ticket)
    REQUEST_ACTIONS.require("edit", actor, ticket)
    if not (reason or "").strip():
        raise ApplicationError(_("请填写申请理由。"), extra={"field": "reason"})
    system = _system_for(ticket.department, system_id=system_id, system_name=system_name)
    built = _validate_lines(
        contract=ticket.contract,
        department=ticket.department,
        kind=ticket.kind,
        lines=lines,
        exclude_ticket=ticket.pk,
    )
    ticket.lines.all().delete()
    for line in built:
        line.request = ticket
    RequestLine.objects.bulk_create(built)
    ticket.reason = reason.strip()
    ticket.system = system
    ticket.save(update_fields=["reason", "system"])
    _attach(actor, ticket, attachments or [])
    _audit(actor, "request.update", ticket, before, lines=[str(line) for line in built])
    if submit:
        return request_submit(actor=actor, ticket=ticket)
    return ticket


@transaction.atomic
def request_submit(*, actor: User, ticket: ResourceRequest) -> ResourceRequest:
    ticket, before = _lock(ticket)
    REQUEST_ACTIONS.require("submit", actor, ticket)
    _set_status(ticket, RequestStatus.SUBMITTED)
    ticket.submitted_at = timezone.now()
    ticket.review_step = 0
    ticket.save(update_fields=["status", "submitted_at", "review_step"])
    _audit(actor, "request.submit", ticket, before)
    return ticket


@transaction.atomic
def request_cancel(*, actor: User, ticket: ResourceRequest, comment: str = "") -> ResourceRequest:
    ticket, before = _lock(ticket)
    REQUEST_ACTIONS.require("cancel", actor, ticket)
    _set_status(ticket, RequestStatus.CANCELLED)
    ticket.save(update_fields=["status"])
    _audit(actor, "request.cancel", ticket, before, comment=comment)
    return ticket


# ---------------------------------------------------------------- review chain


@transaction.atomic
def request_approve(*, actor: User, ticket: ResourceRequest, comment: str = "") -> ResourceRequest:
    """Approve the current review step; the last approval starts the delivery clock (if any)."""
    ticket, before = _lock(ticket)
    REQUEST_ACTIONS.require("approve", actor, ticket)
    party = _reviewer_party(ticket)
    chain = ticket.contract.review_chain
    Review.objects.create(
        request=ticket,
        step=ticket.review_step,
        party_role=party.role,
        reviewer=actor,
        decision=ReviewDecision.APPROVED,
        comment=comment.strip(),
    )
    ticket.last_comment = comment.strip()
    if ticket.review_step + 1 < len(chain):
        _set_status(ticket, RequestStatus.IN_REVIEW)
        ticket.review_step += 1
        ticket.save(update_fields=["status", "review_step", "last_comment"])
        _audit(actor, "request.review_approve", ticket, before, comment=comment)
        return ticket
    _set_status(ticket, RequestStatus.APPROVED)
    ticket.approved_at = timezone.now()
    # No deadline where the contract sets no clock (及时): approval is still recorded.
    ticket.due_at, ticket.due_provisional = due_for(ticket.contract, ticket.approved_at)
    ticket.review_step = len(chain)
    ticket.save(
        update_fields=[
            "status",
            "review_step",
            "last_comment",
            "approved_at",
            "due_at",
            "due_provisional",
        ]
    )
    _audit(actor, "request.approve", ticket, before, comment=comment)
    transaction.on_commit(lambda: notifications.notify_approved(ticket))
    return ticket


def _close_review(
    actor: User, ticket: ResourceRequest, *, action: str, decision: str, target: str, comment: str
) -> ResourceRequest:
    ticket, before = _lock(ticket)
    REQUEST_ACTIONS.require(action, actor, ticket)
    party = _reviewer_party(ticket)
    if not comment.strip():
        raise ApplicationError(_("退回或驳回时必须填写意见。"), extra={"field": "comment"})
    Review.objects.create(
        request=ticket,
        step=ticket.review_step,
        party_role=party.role,
        reviewer=actor,
        decision=decision,
        comment=comment.strip(),
    )
    _set_status(ticket, target)
    ticket.last_comment = comment.strip()
    ticket.review_step = 0
    ticket.save(update_fields=["status", "last_comment", "review_step"])
    _audit(actor, f"request.{decision}", ticket, before, comment=comment)
    event = "returned" if target == RequestStatus.RETURNED else "rejected"
    transaction.on_commit(lambda: notifications.notify_department(ticket, event, comment.strip()))
    return ticket


@transaction.atomic
def request_return(*, actor: User, ticket: ResourceRequest, comment: str) -> ResourceRequest:
    return _close_review(
        actor,
        ticket,
        action="return",
        decision=ReviewDecision.RETURNED,
        target=RequestStatus.RETURNED,
        comment=comment,
    )


@transaction.atomic
def request_reject(*, actor: User, ticket: ResourceRequest, comment: str) -> ResourceRequest:
    return _close_review(
        actor,
        ticket,
        action="reject",
        decision=ReviewDecision.REJECTED,
        target=RequestStatus.REJECTED,
        comment=comment,
    )


# ---------------------------------------------------------------- vendor: extension and delivery


@transaction.atomic
def extension_request(
    *, actor: User, ticket: ResourceRequest, reason: str, expected_completion: datetime
) -> ExtensionRequest:
    """The vendor asks, before the deadline, for the contract's extended delivery period.

    Only under a contract with a clock and an extended period (``REQUEST_ACTIONS`` says why not).
    """
    ticket, _before = _lock(ticket)
    REQUEST_ACTIONS.require("request_extension", actor, ticket)
    now = timezone.now()
    if not (reason or "").strip():
        raise ApplicationError(_("请填写延期理由。"), extra={"field": "reason"})
    if expected_completion is None or timezone.is_naive(expected_completion):
        raise ApplicationError(_("请填写预计完成时间。"), extra={"field": "expected_completion"})
    if expected_completion <= now:
        raise ApplicationError(
            _("预计完成时间必须晚于当前时间。"), extra={"field": "expected_completion"}
        )
    longest, _prov = extended_due(ticket.contract, _approved_at(ticket))
    if expected_completion > longest:
        raise ApplicationError(
            _("预计完成时间不能晚于延期后的截止时间 %(due)s。")
            % {"due": timezone.localtime(longest).strftime("%Y-%m-%d %H:%M")},
            extra={"field": "expected_completion"},
        )
    extension = ExtensionRequest.objects.create(
        request=ticket,
        requested_by=actor,
        reason=reason.strip(),
        expected_completion=expected_completion,
    )
    audit_log(
        actor=actor,
        action="request.extension_request",
        obj=ticket,
        contract=ticket.contract,
        after={
            "extension": extension.pk,
            "reason": extension.reason,
            "expected_completion": expected_completion.isoformat(),
        },
    )
    transaction.on_commit(
        lambda: notifications.notify_extension_requested(ticket, extension.reason)
    )
    return extension


@transaction.atomic
def extension_decide(
    *, actor: User, extension: ExtensionRequest, approve: bool, comment: str = ""
) -> ExtensionRequest:
    """The bureau approves (deadline → the contract's extended period from the same approval
    instant, BT-2025: 5 working days) or refuses."""
    extension = ExtensionRequest.objects.select_for_update(of=("self",)).get(pk=extension.pk)
    ticket, before = _lock(extension.request)
    REQUEST_ACTIONS.require("decide_extension", actor, ticket)
    if extension.status != ExtensionStatus.PENDING:
        raise ApplicationError(_("该延期申请已处理。"))
    if not approve and not comment.strip():
        raise ApplicationError(_("不批准延期时请填写意见。"), extra={"field": "comment"})
    extension.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    extension.decided_by = actor
    extension.decided_at = timezone.now()
    extension.decision_comment = comment.strip()
    extension.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    if approve:
        ticket.due_at, ticket.due_provisional = extended_due(ticket.contract, _approved_at(ticket))
        ticket.extended = True
        ticket.reminder_sent_for = None
        ticket.save(update_fields=["due_at", "due_provisional", "extended", "reminder_sent_for"])
    _audit(
        actor,
        "request.extension_approve" if approve else "request.extension_reject",
        ticket,
        before,
        extension=extension.pk,
        comment=comment,
    )
    return extension


@dataclass(frozen=True)
class DeliveryInput:
    line_id: int
    vendor_ref: str = ""


def _billing_start(ticket: ResourceRequest, delivered_at: datetime, *, actor: User) -> datetime:
    """When billing starts for what this ticket opens: the system's test period decides
    (``billing.services.system_test_periods``; the first delivery of a new system starts one,
    包头 §5.1.2). Changes and releases open nothing: their instant is the delivery's."""
    if ticket.kind != RequestKind.NEW:
        return delivered_at
    return delivery_billing_start(
        actor=actor,
        contract=ticket.contract,
        system=ticket.system,
        delivered_at=delivered_at,
    )


@transaction.atomic
def request_deliver(
    *,
    actor: User,
    ticket: ResourceRequest,
    items: list[DeliveryInput] | None = None,
    delivered_at: datetime | None = None,
) -> ResourceRequest:
    """The vendor delivers: the inventory that billing reads changes at ``delivered_at``."""
    ticket, before = _lock(ticket)
    REQUEST_ACTIONS.require("deliver", actor, ticket)
    _set_status(ticket, RequestStatus.DELIVERED)
    now = timezone.now()
    delivered_at = delivered_at or now
    if timezone.is_naive(delivered_at):
        raise ApplicationError(_("交付时间必须带时区。"))
    if delivered_at > now or delivered_at < _approved_at(ticket):
        raise ApplicationError(
            _("交付时间必须在批准时间之后、且不晚于当前时间。"), extra={"field": "delivered_at"}
        )
    refs = {i.line_id: (i.vendor_ref or "").strip()[:200] for i in items or []}
    lines = list(ticket.lines.select_related("catalog_item", "resource").order_by("id"))
    unknown = set(refs) - {line.pk for line in lines}
    if unknown:
        raise ApplicationError(_("交付明细不属于该工单：%(ids)s") % {"ids": sorted(unknown)})
    if ticket.kind == RequestKind.NEW:
        missing = [line.pk for line in lines if not refs.get(line.pk)]
        if missing:
            raise ApplicationError(
                _("请为每条开通明细填写乙方资源标识（如实例 ID）。"),
                extra={"missing_lines": missing},
            )
    starts = _billing_start(ticket, delivered_at, actor=actor)
    for line in lines:
        ref = refs.get(line.pk, "")
        if ticket.kind == RequestKind.NEW:
            resource = Resource(
                contract=ticket.contract,
                department=ticket.department,
                system=ticket.system,
                catalog_item=line.catalog_item,
                quantity=_quantity(line),
                vendor_ref=ref,
                online_at=delivered_at,
                billing_starts_at=starts,
            )
            resource.full_clean()
            resource.save()
        else:
            if line.resource_id is None:  # change and release lines name their resource
                raise RuntimeError(f"工单明细 {line.pk} 没有关联资源。")
            resource = Resource.objects.select_for_update(of=("self",)).get(pk=line.resource_id)
            if resource.status != ResourceStatus.ACTIVE:
                raise ApplicationError(_("资源 #%(id)s 已释放。") % {"id": resource.pk})
            if ticket.kind == RequestKind.CHANGE:
                resource.quantity = _quantity(line)
                resource.catalog_item = line.catalog_item
                if ref:
                    resource.vendor_ref = ref
                resource.save(update_fields=["quantity", "catalog_item", "vendor_ref"])
            else:
                if delivered_at <= resource.online_at:
                    raise ApplicationError(_("释放时间必须晚于资源上线时间。"))
                resource.status = ResourceStatus.RELEASED
                resource.offline_at = delivered_at
                resource.save(update_fields=["status", "offline_at"])
        if ticket.kind != RequestKind.RELEASE:
            line.resource_change = ResourceChange.objects.create(
                resource=resource,
                catalog_item=line.catalog_item,
                quantity=_quantity(line),
                delivered_at=delivered_at,
            )
        line.delivered_resource = resource
        line.vendor_ref = ref
        line.save(update_fields=["delivered_resource", "vendor_ref", "resource_change"])
    ticket.delivered_at = delivered_at
    ticket.delivered_by = actor
    # Late only against a deadline the contract sets; a ticket approved before its contract
    # recorded a clock has none and cannot be late.
    ticket.breached = (
        has_clock(ticket.contract) and ticket.due_at is not None and delivered_at > ticket.due_at
    )
    ticket.save(update_fields=["status", "delivered_at", "delivered_by", "breached"])
    elapsed, elapsed_provisional = elapsed_working_days(_approved_at(ticket), delivered_at)
    _audit(
        actor,
        "request.deliver",
        ticket,
        before,
        new_system_test_period=ticket.kind == RequestKind.NEW and starts != delivered_at,
        elapsed_working_days=elapsed,
        elapsed_provisional=elapsed_provisional,
    )
    transaction.on_commit(lambda: notifications.notify_department(ticket, "delivered"))
    return ticket


@transaction.atomic
def request_exempt(*, actor: User, ticket: ResourceRequest, reason: str) -> ResourceRequest:
    """Rule a breach not the vendor's cause — or, where the terms ask a joint confirmation of
    late-delivery exemptions (BT 附件2 §2: bureau and supervisor), propose it: the proposer's
    confirmation is its first entry and the ticket is exempted when the last named party
    confirms (``on_exemption_confirmed``). After an objection a new proposal restarts the round.

    Without a joint confirmation the one judge decides alone (the supervisor, else the bureau).
    Only where the contract sets a clock: without one nothing is late (``REQUEST_ACTIONS``).
    """
    ticket, before = _lock(ticket)
    REQUEST_ACTIONS.require("exempt", actor, ticket)
    if not (reason or "").strip():
        raise ApplicationError(_("请填写认定理由。"), extra={"field": "reason"})
    ticket.exemption_reason = reason.strip()
    ticket.exempted_by = actor
    subject = JointSubject.LATE_DELIVERY_EXEMPTION
    joint = required_roles(ticket.contract, subject) is not None
    if not joint:
        ticket.exempted = True
    try:
        ticket.full_clean()
    except ValidationError as exc:
        raise ApplicationError("；".join(exc.messages)) from exc
    ticket.save(update_fields=["exempted", "exemption_reason", "exempted_by"])
    _audit(
        actor,
        "request.exempt_propose" if joint else "request.exempt",
        ticket,
        before,
        reason=reason,
    )
    if joint:
        confirmation = joint_open(
            actor=actor,
            contract=ticket.contract,
            subject=subject,
            obj=ticket,
            title=_("工单 %(n)s 超时为非乙方原因") % {"n": ticket.number},
        )
        if confirmation is None:
            raise RuntimeError("The terms name parties, yet no confirmation was opened.")
        confirmation = joint_restart(actor=actor, confirmation=confirmation, note=reason.strip())
        joint_confirm(actor=actor, confirmation=confirmation)
        ticket.refresh_from_db(fields=["exempted"])
    return ticket


def on_exemption_confirmed(sender: Any, confirmation: JointConfirmation, **kwargs: Any) -> None:
    """Every named party confirmed the proposal: the breach is exempted (no points, 附件2 §2)."""
    if confirmation.subject != JointSubject.LATE_DELIVERY_EXEMPTION:
        return
    if confirmation.content_type.model_class() is not ResourceRequest:
        return
    ticket = ResourceRequest.objects.select_for_update().get(pk=confirmation.object_id)
    before = snapshot(ticket, AUDIT_FIELDS)
    ticket.exempted = True
    ticket.save(update_fields=["exempted"])
    last = confirmation.entries.order_by("-at", "-pk").first()
    _audit(
        last.user if last else "会签",
        "request.exempt",
        ticket,
        before,
        reason=ticket.exemption_reason,
        joint_confirmation=confirmation.pk,
    )


# ---------------------------------------------------------------- clocks (Celery, calendar)


def request_recompute_clocks(*, year: int | None = None) -> int:
    """Recompute open tickets' deadlines after a calendar change; returns how many moved.

    The deadline follows the contract's current terms: a ticket of a contract without a clock
    loses a deadline it was given before the term was recorded.
    """
    moved = 0
    open_ids = list(
        ResourceRequest.objects.filter(status=RequestStatus.APPROVED).values_list("pk", flat=True)
    )
    for pk in open_ids:
        with transaction.atomic():
            ticket = (
                ResourceRequest.objects.select_for_update(of=("self",))
                .select_related("contract")
                .get(pk=pk)
            )
            if ticket.status != RequestStatus.APPROVED:
                continue
            due, provisional = due_for(
                ticket.contract, _approved_at(ticket), extended=ticket.extended
            )
            if (due, provisional) == (ticket.due_at, ticket.due_provisional):
                continue
            before = snapshot(ticket, AUDIT_FIELDS)
            ticket.due_at, ticket.due_provisional = due, provisional
            ticket.reminder_sent_for = None
            ticket.save(update_fields=["due_at", "due_provisional", "reminder_sent_for"])
            _audit("日历更新", "request.deadline_recomputed", ticket, before, calendar_year=year)
            moved += 1
    return moved


def request_check_clocks(*, now: datetime | None = None) -> dict[str, int]:
    """Remind the vendor on the last working day; tell bureau and supervisor of breaches.

    Only contracts with a delivery clock: under one that says 及时 nothing is ever due.
    """
    now = now or timezone.now()
    today = business_date(now)
    reminded = breached = 0
    open_tickets = ResourceRequest.objects.filter(
        status=RequestStatus.APPROVED,
        due_at__isnull=False,
        contract__delivery_working_days__isnull=False,
    )
    for ticket in open_tickets.select_related("contract", "department", "system", "created_by"):
        due_at = _due_at(ticket)  # the query excludes tickets without one
        last_day = business_date(due_at - timedelta(microseconds=1))
        if now < due_at and last_day == today and ticket.reminder_sent_for != due_at:
            with transaction.atomic():
                updated = (
                    ResourceRequest.objects.filter(pk=ticket.pk)
                    .exclude(reminder_sent_for=due_at)
                    .update(reminder_sent_for=due_at)
                )
                if updated:
                    notifications.notify_due_today(ticket)
                    reminded += 1
        if now >= due_at and ticket.breach_notified_at is None:
            with transaction.atomic():
                updated = ResourceRequest.objects.filter(
                    pk=ticket.pk, breach_notified_at__isnull=True
                ).update(breach_notified_at=now)
                if updated:
                    audit_log(
                        actor="交付时钟",
                        action="request.breach_detected",
                        obj=ticket,
                        contract=ticket.contract,
                        after={"due_at": due_at.isoformat()},
                    )
                    notifications.notify_breached(ticket)
                    breached += 1
    return {"reminded": reminded, "breached": breached}
