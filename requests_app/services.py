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

from billing.models import (
    CatalogItem,
    Resource,
    ResourceChange,
    ResourceStatus,
    Statement,
    StatementStatus,
    SystemTestPeriod,
)
from billing.money import quantize_yuan
from billing.pricing import billing_start, local_midnight, test_period_end
from billing.services.system_test_periods import delivery_billing_start
from govcloud.access import party_role_of
from govcloud.audit import audit_log, snapshot
from govcloud.dates import business_date
from govcloud.exceptions import ApplicationError, InvalidTransition
from govcloud.joint import joint_confirm, joint_for, joint_open, joint_restart, required_roles
from govcloud.lifecycle import require_open_for_delivery, require_open_for_requests
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
from requests_app.delivery_integrity import (
    DELIVERY_ACTIONS,
    needs_confirmation,
    tolerance_threshold,
)
from requests_app.models import (
    EDITABLE_STATES,
    OPEN_REVIEW_STATES,
    AttachmentPurpose,
    DeliveryClaimStatus,
    ExtensionRequest,
    ExtensionStatus,
    ReceiptProblem,
    ReceiptStatus,
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
    "delivery_recorded_at",
    "delivery_claimed_at",
    "delivery_claim_status",
    "receipt_status",
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
    # "One open ticket per resource" is a check-then-act: the resources are locked (in pk order)
    # until the ticket is saved, so two tickets filed at once for one resource cannot both pass.
    resources = {
        r.pk: r
        for r in Resource.objects.select_related("catalog_item")
        .select_for_update(of=("self",))
        .filter(
            contract=contract,
            department=department,
            pk__in=[ln.resource_id for ln in lines if ln.resource_id],
        )
        .order_by("pk")
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
            if refusal := item.quantity_refusal(line.quantity):
                errors.append(prefix + refusal)
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
        if refusal := item.quantity_refusal(line.quantity):
            errors.append(prefix + refusal)
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


def _attach(
    actor: User,
    ticket: ResourceRequest,
    files: list[UploadedFile],
    *,
    purpose: str = AttachmentPurpose.REQUEST,
) -> None:
    for upload in files:
        name = upload.name or "attachment"
        if upload.size is None:  # Django's upload handlers always set it
            raise RuntimeError(f"附件 {name} 没有大小。")
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise ApplicationError(_("附件 %(n)s 超过 10 MB。") % {"n": name})
        if not name.lower().endswith(ALLOWED_ATTACHMENT_SUFFIXES):
            raise ApplicationError(_("附件 %(n)s 的类型不允许上传。") % {"n": name})
        RequestAttachment.objects.create(
            request=ticket, file=upload, name=name[:200], uploaded_by=actor, purpose=purpose
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
    require_open_for_requests(contract)
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
    require_open_for_requests(ticket.contract)
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
    require_open_for_requests(ticket.contract)
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
    notifications.notify_approved(ticket)
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
    notifications.notify_department(ticket, event, comment.strip())
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
    notifications.notify_extension_requested(ticket, extension.reason)
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
    claim_reason: str = "",
    evidence: list[UploadedFile] | None = None,
) -> ResourceRequest:
    """The vendor delivers: the inventory that billing reads changes at the delivery time.

    ``delivered_at`` (default: now) not earlier than now minus the contract's
    ``delivery_time_tolerance_hours`` is the delivery time. An earlier one is a *claim*
    (``requests_app.delivery_integrity``): it needs ``claim_reason`` and at least one
    ``evidence`` file, the delivery counts from now — the recorded moment — for breach, elapsed
    days and billing, and a joint confirmation (``DELIVERY_TIME``) is opened; the claimed time
    takes effect only when it is confirmed (``on_delivery_time_confirmed``).
    """
    ticket, before = _lock(ticket)
    REQUEST_ACTIONS.require("deliver", actor, ticket)
    require_open_for_delivery(ticket.contract)
    _set_status(ticket, RequestStatus.DELIVERED)
    now = timezone.now()
    delivered_at = delivered_at or now
    if timezone.is_naive(delivered_at):
        raise ApplicationError(_("交付时间必须带时区。"))
    if delivered_at > now or delivered_at < _approved_at(ticket):
        raise ApplicationError(
            _("交付时间必须在批准时间之后、且不晚于当前时间。"), extra={"field": "delivered_at"}
        )
    tolerance = ticket.contract.delivery_time_tolerance_hours
    claimed_at = (
        delivered_at
        if needs_confirmation(delivered_at=delivered_at, recorded_at=now, tolerance_hours=tolerance)
        else None
    )
    claim_reason = (claim_reason or "").strip()
    evidence = list(evidence or [])
    if claimed_at is not None:
        _require_claim_support(ticket, now=now, reason=claim_reason, evidence=evidence)
        delivered_at = now  # the recorded moment counts until the claim is confirmed
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
    if claimed_at is not None:
        _require_claim_fits(lines, claimed_at, kind=ticket.kind)
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
    ticket.delivery_recorded_at = now
    ticket.receipt_status = ReceiptStatus.PENDING
    # Late only against a deadline the contract sets; a ticket approved before its contract
    # recorded a clock has none and cannot be late.
    ticket.breached = _is_breach(ticket, delivered_at)
    fields = ["status", "delivered_at", "delivered_by", "breached", "delivery_recorded_at"]
    if claimed_at is not None:
        ticket.delivery_claimed_at = claimed_at
        ticket.delivery_claim_reason = claim_reason
        ticket.delivery_claim_status = DeliveryClaimStatus.PENDING
        fields += ["delivery_claimed_at", "delivery_claim_reason", "delivery_claim_status"]
        _attach(actor, ticket, evidence, purpose=AttachmentPurpose.DELIVERY_EVIDENCE)
    ticket.save(update_fields=[*fields, "receipt_status"])
    elapsed, elapsed_provisional = elapsed_working_days(_approved_at(ticket), delivered_at)
    _audit(
        actor,
        "request.deliver",
        ticket,
        before,
        new_system_test_period=ticket.kind == RequestKind.NEW and starts != delivered_at,
        elapsed_working_days=elapsed,
        elapsed_provisional=elapsed_provisional,
        tolerance_hours=tolerance,
        **({"claim_reason": claim_reason} if claimed_at is not None else {}),
    )
    notifications.notify_department(ticket, "delivered")
    if claimed_at is not None:
        _open_delivery_claim(actor, ticket)
        ticket.refresh_from_db()
    return ticket


def _is_breach(ticket: ResourceRequest, delivered_at: datetime) -> bool:
    """Delivered after the deadline the contract sets (never without a clock or a deadline)."""
    return has_clock(ticket.contract) and ticket.due_at is not None and delivered_at > ticket.due_at


# ---------------------------------------------------------------- delivery time claims


def _require_claim_support(
    ticket: ResourceRequest, *, now: datetime, reason: str, evidence: list[UploadedFile]
) -> None:
    """A claimed delivery time needs a reason and evidence: both reported at once."""
    errors: list[str] = []
    fields: list[str] = []
    if not reason:
        errors.append(_("请填写补录理由。"))
        fields.append("claim_reason")
    if not evidence:
        errors.append(_("请上传至少一份证明材料（如开通记录截图、使用单位确认）。"))
        fields.append("evidence")
    if errors:
        threshold = tolerance_threshold(now, ticket.contract.delivery_time_tolerance_hours)
        raise ApplicationError(
            _(
                "交付时间早于 %(t)s（登记时刻减合同约定的 %(h)s 小时容差），"
                "须说明理由并附证明，经审核方确认后生效。"
            )
            % {
                "t": timezone.localtime(threshold).strftime("%Y-%m-%d %H:%M"),
                "h": ticket.contract.delivery_time_tolerance_hours,
            },
            extra={"errors": errors, "fields": fields, "field": fields[0]},
        )


def _require_claim_fits(lines: list[RequestLine], claimed_at: datetime, *, kind: str) -> None:
    """A claimed time of a change or release must follow the resource's history: after its
    online time and its last configuration (else the inventory would contradict itself)."""
    if kind == RequestKind.NEW:
        return
    for line in lines:
        resource = line.resource
        if resource is None:
            continue
        last = resource.changes.order_by("-delivered_at").values_list("delivered_at", flat=True)
        latest = max([resource.online_at, *last[:1]])
        if claimed_at <= latest:
            raise ApplicationError(
                _("申报的交付时间须晚于资源 #%(id)s 的上线或上次变更时间（%(t)s）。")
                % {
                    "id": resource.pk,
                    "t": timezone.localtime(latest).strftime("%Y-%m-%d %H:%M"),
                },
                extra={"field": "delivered_at"},
            )


def _open_delivery_claim(actor: User, ticket: ResourceRequest) -> None:
    """Open the joint confirmation of the claimed time; a named claimant confirms its own."""
    confirmation = joint_open(
        actor=actor,
        contract=ticket.contract,
        subject=JointSubject.DELIVERY_TIME,
        obj=ticket,
        title=_("工单 %(n)s 交付时间 %(t)s（登记于 %(r)s）")
        % {
            "n": ticket.number,
            "t": timezone.localtime(ticket.delivery_claimed_at).strftime("%Y-%m-%d %H:%M"),
            "r": timezone.localtime(ticket.delivery_recorded_at).strftime("%Y-%m-%d %H:%M"),
        },
    )
    if confirmation is None:  # DELIVERY_TIME always has parties (the review chain at least)
        raise RuntimeError("No parties confirm a delivery time.")
    if party_role_of(actor, ticket.contract) in confirmation.required_roles:
        joint_confirm(actor=actor, confirmation=confirmation)
    notifications.notify_delivery_claim(ticket, "claimed")


@transaction.atomic
def delivery_claim_revise(
    *,
    actor: User,
    ticket: ResourceRequest,
    reason: str,
    evidence: list[UploadedFile] | None = None,
) -> ResourceRequest:
    """After an objection the vendor revises its claim (reason, more evidence) and asks the
    parties again: a new round of the same confirmation. The claimed time itself stays."""
    ticket, before = _lock(ticket)
    DELIVERY_ACTIONS.require("revise_delivery_claim", actor, ticket)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写修改后的补录理由。"), extra={"field": "claim_reason"})
    _attach(actor, ticket, list(evidence or []), purpose=AttachmentPurpose.DELIVERY_EVIDENCE)
    ticket.delivery_claim_reason = reason
    ticket.delivery_claim_status = DeliveryClaimStatus.PENDING
    ticket.delivery_claim_decided_at = None
    ticket.save(
        update_fields=[
            "delivery_claim_reason",
            "delivery_claim_status",
            "delivery_claim_decided_at",
        ]
    )
    _audit(actor, "request.delivery_claim_revise", ticket, before, claim_reason=reason)
    confirmation = joint_for(ticket, JointSubject.DELIVERY_TIME)
    if confirmation is None:
        raise RuntimeError(f"工单 {ticket.number} 没有交付时间会签记录。")
    joint_restart(actor=actor, confirmation=confirmation, note=reason)
    notifications.notify_delivery_claim(ticket, "claimed")
    return ticket


@dataclass(frozen=True)
class _Shift:
    """One stored instant the confirmed delivery time moves."""

    obj: Any
    field: str
    old: datetime
    new: datetime


def _claim_shifts(ticket: ResourceRequest, recorded: datetime, claimed: datetime) -> list[_Shift]:
    """Every inventory instant that was the recorded delivery and becomes the claimed one.

    New resources: online time, billing start, their first configuration row. A test period
    this delivery started moves its start (and its contractual end; the end too unless the
    bureau changed it), and the billing start of every resource it covers follows the one rule
    (``billing.pricing.billing_start``). A test period started by another delivery keeps its
    dates; the resource then bills as ``delivery_billing_start`` would have at the claimed
    time. Changes: the configuration row. Releases: the offline time.
    """
    shifts: list[_Shift] = []
    lines = list(
        ticket.lines.select_related("delivered_resource", "resource_change").order_by("id")
    )
    if ticket.kind == RequestKind.RELEASE:
        for line in lines:
            if line.delivered_resource_id is None:  # a release line always names its resource
                continue
            resource = Resource.objects.select_for_update(of=("self",)).get(
                pk=line.delivered_resource_id
            )
            if resource.offline_at == recorded:
                shifts.append(_Shift(resource, "offline_at", recorded, claimed))
        return shifts
    for line in lines:
        change = line.resource_change
        if change is not None and change.delivered_at == recorded:
            shifts.append(_Shift(change, "delivered_at", recorded, claimed))
    if ticket.kind != RequestKind.NEW:
        return shifts
    own = {
        r.pk: r
        for r in Resource.objects.select_for_update(of=("self",)).filter(
            pk__in=[line.delivered_resource_id for line in lines]
        )
    }
    period = (
        SystemTestPeriod.objects.select_for_update(of=("self",))
        .filter(contract_id=ticket.contract_id, system_id=ticket.system_id)
        .first()
    )
    ends_at = period.ends_at if period else None
    if period is not None and period.started_at == recorded:
        contract_end = test_period_end(claimed, ticket.contract.test_period_months)
        shifts.append(_Shift(period, "started_at", recorded, claimed))
        if period.ends_at == period.contract_ends_at:
            shifts.append(_Shift(period, "ends_at", period.ends_at, contract_end))
            ends_at = contract_end
        shifts.append(_Shift(period, "contract_ends_at", period.contract_ends_at, contract_end))
        covered = Resource.objects.select_for_update(of=("self",)).filter(
            contract_id=ticket.contract_id,
            system_id=ticket.system_id,
            imported=False,
            online_at__gte=recorded,
        )
        for resource in covered.exclude(pk__in=list(own)):
            new = billing_start(resource.online_at, test_period_ends_at=ends_at)
            if new != resource.billing_starts_at:
                old = resource.billing_starts_at
                shifts.append(_Shift(resource, "billing_starts_at", old, new))
        start_from: datetime | None = claimed
    else:
        start_from = period.started_at if period is not None else None
    for resource in own.values():
        if resource.online_at != recorded:
            continue
        shifts.append(_Shift(resource, "online_at", recorded, claimed))
        in_period = start_from is not None and claimed >= start_from
        new = billing_start(claimed, test_period_ends_at=ends_at if in_period else None)
        if new != resource.billing_starts_at:
            shifts.append(_Shift(resource, "billing_starts_at", resource.billing_starts_at, new))
    return shifts


def _months_of(shifts: list[_Shift]) -> list[tuple[int, int]]:
    """The calendar months (business time) any shifted stretch touches."""
    months: set[tuple[int, int]] = set()
    for shift in shifts:
        low, high = min(shift.old, shift.new), max(shift.old, shift.new)
        first, last = business_date(low), business_date(high)
        if high > low and high == local_midnight(last):
            last -= timedelta(days=1)
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            months.add((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return sorted(months)


def _refuse_signed_months(ticket: ResourceRequest, months: list[tuple[int, int]]) -> None:
    signed = sorted(
        {
            (y, m)
            for y, m in Statement.objects.filter(
                contract_id=ticket.contract_id, status=StatementStatus.SIGNED
            ).values_list("year", "month")
            if (y, m) in set(months)
        }
    )
    if signed:
        labels = [f"{y:04d}-{m:02d}" for y, m in signed]
        raise InvalidTransition(
            _(
                "确认该交付时间会改变已签认的 %(months)s 月度服务资源统计表，未予确认。"
                "已签认的统计表不能更改：请提出异议，改走资源清单更正（更正经各方确认后，"
                "相关月份出具新版本统计表）。"
            )
            % {"months": "、".join(labels)},
            extra={"signed_months": labels},
        )


def _apply_shifts(actor: Any, ticket: ResourceRequest, shifts: list[_Shift]) -> dict[str, Any]:
    """Write the shifts; audit each changed inventory row with before/after."""
    by_obj: dict[tuple[str, int], list[_Shift]] = {}
    for shift in shifts:
        by_obj.setdefault((shift.obj._meta.label_lower, shift.obj.pk), []).append(shift)
    summary: dict[str, Any] = {}
    for (label, pk), group in by_obj.items():
        obj = group[0].obj
        before = {s.field: s.old.isoformat() for s in group}
        after = {s.field: s.new.isoformat() for s in group}
        type(obj).objects.filter(pk=pk).update(**{s.field: s.new for s in group})
        audit_log(
            actor=actor,
            action="inventory.delivery_time_confirmed",
            obj=obj,
            before=before,
            after={**after, "request": ticket.number},
            contract=ticket.contract,
        )
        summary[f"{label}:{pk}"] = {"before": before, "after": after}
    return summary


def on_delivery_time_confirmed(sender: Any, confirmation: JointConfirmation, **kwargs: Any) -> None:
    """Every named party confirmed the claimed delivery time: it takes effect everywhere.

    The inventory (``_claim_shifts``), the breach against the deadline and the elapsed working
    days follow the claimed time, audited with before and after. Refused — and with it the
    last confirmation — when a month it touches has a signed statement: that is an inventory
    correction's job.
    """
    if confirmation.subject != JointSubject.DELIVERY_TIME:
        return
    if confirmation.content_type.model_class() is not ResourceRequest:
        return
    ticket = (
        ResourceRequest.objects.select_for_update(of=("self",))
        .select_related("contract", "system")
        .get(pk=confirmation.object_id)
    )
    claimed, recorded = ticket.delivery_claimed_at, ticket.delivered_at
    if ticket.delivery_claim_status != DeliveryClaimStatus.PENDING or claimed is None:
        raise InvalidTransition(_("该工单没有待确认的交付时间申报。"))
    if recorded is None:
        raise RuntimeError(f"工单 {ticket.number} 没有交付时间。")
    before = snapshot(ticket, AUDIT_FIELDS)
    before_elapsed, _prov = elapsed_working_days(_approved_at(ticket), recorded)
    shifts = _claim_shifts(ticket, recorded, claimed)
    months = _months_of([*shifts, _Shift(ticket, "delivered_at", recorded, claimed)])
    _refuse_signed_months(ticket, months)
    last = confirmation.entries.order_by("-at", "-pk").first()
    actor: Any = last.user if last else "会签"
    moved = _apply_shifts(actor, ticket, shifts)
    ticket.delivered_at = claimed
    ticket.breached = _is_breach(ticket, claimed)
    if not ticket.breached and ticket.exempted:
        ticket.exempted = False  # nothing late left to exempt
    ticket.delivery_claim_status = DeliveryClaimStatus.CONFIRMED
    ticket.delivery_claim_decided_at = timezone.now()
    ticket.save(
        update_fields=[
            "delivered_at",
            "breached",
            "exempted",
            "delivery_claim_status",
            "delivery_claim_decided_at",
        ]
    )
    elapsed, elapsed_provisional = elapsed_working_days(_approved_at(ticket), claimed)
    _audit(
        actor,
        "request.delivery_time_confirmed",
        ticket,
        before,
        joint_confirmation=confirmation.pk,
        elapsed_working_days_before=before_elapsed,
        elapsed_working_days=elapsed,
        elapsed_provisional=elapsed_provisional,
        months=[f"{y:04d}-{m:02d}" for y, m in months],
        inventory=moved,
    )
    notifications.notify_delivery_claim(ticket, "confirmed")


def on_delivery_time_objected(
    sender: Any, confirmation: JointConfirmation, entry: Any = None, **kwargs: Any
) -> None:
    """A named party objected: the recorded moment stays the delivery time (the vendor may
    revise and ask again, ``delivery_claim_revise``)."""
    if confirmation.subject != JointSubject.DELIVERY_TIME:
        return
    if confirmation.content_type.model_class() is not ResourceRequest:
        return
    ticket = ResourceRequest.objects.select_for_update(of=("self",)).get(pk=confirmation.object_id)
    if ticket.delivery_claim_status != DeliveryClaimStatus.PENDING:
        return
    before = snapshot(ticket, AUDIT_FIELDS)
    ticket.delivery_claim_status = DeliveryClaimStatus.OBJECTED
    ticket.delivery_claim_decided_at = timezone.now()
    ticket.save(update_fields=["delivery_claim_status", "delivery_claim_decided_at"])
    reason = getattr(entry, "reason", "")
    _audit(
        getattr(entry, "user", None) or "会签",
        "request.delivery_time_objected",
        ticket,
        before,
        reason=reason,
        joint_confirmation=confirmation.pk,
    )
    notifications.notify_delivery_claim(ticket, "objected", reason)


# ---------------------------------------------------------------- department: receipt (签收)


@transaction.atomic
def request_receipt_confirm(
    *, actor: User, ticket: ResourceRequest, note: str = ""
) -> ResourceRequest:
    """The requesting department confirms it received what the ticket asked for (签收).

    A record (who, when), also after a reported problem was resolved; it changes neither
    billing nor the delivery clock (``requests_app.delivery_integrity``).
    """
    ticket, before = _lock(ticket)
    DELIVERY_ACTIONS.require("confirm_receipt", actor, ticket)
    ticket.receipt_status = ReceiptStatus.RECEIVED
    ticket.receipt_by = actor
    ticket.receipt_at = timezone.now()
    ticket.receipt_problem = ""
    ticket.receipt_note = (note or "").strip()[:2000]
    ticket.save(
        update_fields=[
            "receipt_status",
            "receipt_by",
            "receipt_at",
            "receipt_problem",
            "receipt_note",
        ]
    )
    _audit(actor, "request.receipt_confirm", ticket, before, comment=ticket.receipt_note)
    return ticket


@transaction.atomic
def request_receipt_problem(
    *, actor: User, ticket: ResourceRequest, problem: str, reason: str
) -> ResourceRequest:
    """The department reports a problem with the delivery (not received / not as requested),
    with its reason; the vendor and the bureau are told."""
    ticket, before = _lock(ticket)
    DELIVERY_ACTIONS.require("report_receipt_problem", actor, ticket)
    errors: list[str] = []
    fields: list[str] = []
    if problem not in ReceiptProblem.values:
        errors.append(_("请选择问题类型（未收到资源 / 与申请不符）。"))
        fields.append("problem")
    reason = (reason or "").strip()
    if not reason:
        errors.append(_("请填写问题说明。"))
        fields.append("reason")
    if errors:
        raise ApplicationError(
            _("问题反馈不完整，未提交。"),
            extra={"errors": errors, "fields": fields, "field": fields[0]},
        )
    ticket.receipt_status = ReceiptStatus.PROBLEM
    ticket.receipt_by = actor
    ticket.receipt_at = timezone.now()
    ticket.receipt_problem = problem
    ticket.receipt_note = reason[:2000]
    ticket.save(
        update_fields=[
            "receipt_status",
            "receipt_by",
            "receipt_at",
            "receipt_problem",
            "receipt_note",
        ]
    )
    _audit(actor, "request.receipt_problem", ticket, before, problem=problem, reason=reason)
    notifications.notify_receipt_problem(ticket)
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
    if not ticket.breached:
        # A confirmed delivery time may have undone the breach since the proposal.
        raise InvalidTransition(_("该工单已不再是超时交付，无需认定非乙方原因。"))
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
