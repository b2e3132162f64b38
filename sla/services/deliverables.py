"""Deliverables (交付成果, 附件2 §10): due dates, uploads, acceptance and rejection.

"未提供符合要求的或符合质量标准的服务成果…每项每次扣1分；未按照规定期限提供符合要求的服务
成果，每项每次扣1分": a deliverable first submitted after its due date (or still missing once
it passed) is late once; every rejected submission counts on its own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.audit import audit_log, snapshot
from govcloud.dates import month_end, month_start
from govcloud.exceptions import ApplicationError, InvalidTransition
from govcloud.models import Contract, PartyRole, User
from sla import notifications
from sla.models import (
    DELIVERABLE_TRANSITIONS,
    Decision,
    Deliverable,
    DeliverableKind,
    DeliverableStatus,
    DeliverableSubmission,
)
from sla.services.actions import CONTRACT_ACTIONS, DELIVERABLE_ACTIONS
from sla.services.clocks import end_of_day, monthly_due
from sla.services.common import (
    full_clean,
    require_text,
    set_status,
    validate_upload,
    year_of_day,
)

AUDIT_FIELDS = ("status", "due_date", "due_provisional", "first_submitted_at", "accepted_at")


def _clamped_year(contract: Contract, day: date) -> int:
    """Deliverables due just after the service period still belong to its last year."""
    day = min(max(day, contract.service_start), contract.service_end)
    return year_of_day(contract, day)


@transaction.atomic
def deliverable_create(
    *,
    actor: User,
    contract: Contract,
    kind: str,
    title: str = "",
    period_month: date | None = None,
    due_date: date | None = None,
    document: UploadedFile | None = None,
) -> Deliverable:
    """Register a deliverable the vendor owes (the bureau or the vendor itself).

    With ``document`` (the vendor registering what it delivers) the first submission is made
    in the same transaction: both happen, or neither.

    A monthly operations report needs its month and is due on the 5th working day of the next
    month; every other kind needs an explicit due date.
    """
    CONTRACT_ACTIONS.require("deliverable_create", actor, contract)
    if kind not in DeliverableKind.values:
        raise ApplicationError(_("交付物类型无效。"), extra={"field": "kind"})
    provisional = False
    if kind == DeliverableKind.MONTHLY_REPORT:
        if period_month is None:
            raise ApplicationError(
                _("运维服务月报须指明所属月份。"), extra={"field": "period_month"}
            )
        period_month = month_start(period_month)
        if month_end(period_month) < contract.service_start or (
            period_month > contract.service_end
        ):
            raise ApplicationError(_("所属月份不在合同服务期内。"), extra={"field": "period_month"})
        due_date, provisional = monthly_due(period_month)
        service_year = _clamped_year(contract, max(period_month, contract.service_start))
        title = title.strip() or _("%(m)s 政务云运维服务月报") % {"m": f"{period_month:%Y-%m}"}
    else:
        if due_date is None:
            raise ApplicationError(_("请填写截止日期。"), extra={"field": "due_date"})
        period_month = None
        service_year = _clamped_year(contract, due_date)
        title = require_text(title, _("请填写交付物名称。"), "title")
    deliverable = Deliverable(
        contract=contract,
        service_year=service_year,
        kind=kind,
        title=title[:200],
        period_month=period_month,
        due_date=due_date,
        due_at=end_of_day(due_date),
        due_provisional=provisional,
        created_by=actor,
    )
    full_clean(deliverable, exclude=["contract"])
    try:
        with transaction.atomic():
            deliverable.save()
    except IntegrityError:
        raise ApplicationError(
            _("该月份的同类交付物已登记。"), extra={"field": "period_month"}
        ) from None
    audit_log(
        actor=actor,
        action="deliverable.create",
        obj=deliverable,
        after=snapshot(deliverable, AUDIT_FIELDS),
        contract=contract,
    )
    if document is not None:
        deliverable_submit(actor=actor, deliverable=deliverable, document=document)
    return deliverable


def _lock(deliverable: Deliverable) -> tuple[Deliverable, dict[str, Any]]:
    locked = (
        Deliverable.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=deliverable.pk)
    )
    return locked, snapshot(locked, AUDIT_FIELDS)


@transaction.atomic
def deliverable_submit(
    *, actor: User, deliverable: Deliverable, document: UploadedFile | None, note: str = ""
) -> DeliverableSubmission:
    """The vendor uploads the deliverable (again, after a rejection)."""
    deliverable, before = _lock(deliverable)
    DELIVERABLE_ACTIONS.require("submit", actor, deliverable)
    validate_upload(document, required=True, field="document")
    set_status(deliverable, DELIVERABLE_TRANSITIONS, DeliverableStatus.SUBMITTED)
    now = timezone.now()
    number = deliverable.submissions.count() + 1
    submission = DeliverableSubmission.objects.create(
        deliverable=deliverable,
        number=number,
        document=document,
        note=note.strip(),
        submitted_by=actor,
        submitted_at=now,
    )
    if deliverable.first_submitted_at is None:
        deliverable.first_submitted_at = now
    deliverable.save(update_fields=["status", "first_submitted_at", "updated_at"])
    audit_log(
        actor=actor,
        action="deliverable.submit",
        obj=deliverable,
        before=before,
        after={**snapshot(deliverable, AUDIT_FIELDS), "submission": number},
    )
    late = _("（已超过截止日期）") if deliverable.is_late(now) else ""
    notifications.send(
        key=f"deliverable:{deliverable.pk}:submitted:{number}",
        contract=deliverable.contract,
        recipients=notifications.party_emails(deliverable.contract, PartyRole.BUREAU),
        subject=_("乙方提交交付物：%(t)s") % {"t": deliverable.title},
        body=_("第 %(n)s 次提交%(late)s，请审核。") % {"n": number, "late": late},
        url=notifications.link("sla_deliverable_detail", deliverable.pk),
    )
    return submission


@transaction.atomic
def deliverable_review(
    *, actor: User, deliverable: Deliverable, accept: bool, reason: str = ""
) -> Deliverable:
    """The bureau accepts the latest submission, or rejects it with a reason (−1 each)."""
    deliverable, before = _lock(deliverable)
    DELIVERABLE_ACTIONS.require("review", actor, deliverable)
    if not accept:
        reason = require_text(reason, _("退回时须填写理由。"), "reason")
    set_status(
        deliverable,
        DELIVERABLE_TRANSITIONS,
        DeliverableStatus.ACCEPTED if accept else DeliverableStatus.REJECTED,
    )
    submission = deliverable.submissions.select_for_update(of=("self",)).order_by("-number").first()
    if submission is None or submission.decision:
        raise InvalidTransition(_("没有待审核的提交。"))
    now = timezone.now()
    submission.decision = Decision.ACCEPTED if accept else Decision.REJECTED
    submission.reason = reason.strip()
    submission.reviewed_by, submission.reviewed_at = actor, now
    submission.save(update_fields=["decision", "reason", "reviewed_by", "reviewed_at"])
    if accept:
        deliverable.accepted_at = now
    deliverable.save(update_fields=["status", "accepted_at", "updated_at"])
    audit_log(
        actor=actor,
        action="deliverable.accept" if accept else "deliverable.reject",
        obj=deliverable,
        before=before,
        after={
            **snapshot(deliverable, AUDIT_FIELDS),
            "submission": submission.number,
            "reason": reason,
        },
    )
    if not accept:
        notifications.send(
            key=f"deliverable:{deliverable.pk}:rejected:{submission.number}",
            contract=deliverable.contract,
            recipients=notifications.party_emails(deliverable.contract, PartyRole.VENDOR),
            subject=_("交付物被退回：%(t)s") % {"t": deliverable.title},
            body=_("第 %(n)s 次提交未通过审核。理由：%(r)s\n请修改后重新提交。")
            % {"n": submission.number, "r": reason},
            url=notifications.link("sla_deliverable_detail", deliverable.pk),
        )
    return deliverable
