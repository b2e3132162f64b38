"""The security-mechanism checklist (安全机制, 附件2 §3): five items per service year.

The vendor submits evidence for each item (应急预案, 应急演练, 等保三级测评, 商用密码安全性评估,
云计算服务安全评估); the bureau accepts or rejects it, or waives an item it finds not to be the
vendor's responsibility ("经甲方…认定非乙方责任不包含在内"). Items not accepted or waived are
missing (−2 each).
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.audit import audit_log, snapshot
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract, PartyRole, User
from sla import notifications
from sla.models import (
    CHECKLIST_TRANSITIONS,
    ChecklistStatus,
    SecurityItem,
    SecurityMechanismItem,
)
from sla.services.actions import SECURITY_ITEM_ACTIONS
from sla.services.common import (
    require_text,
    service_year,
    set_status,
    validate_upload,
)

AUDIT_FIELDS = ("item", "status", "submitted_at", "reviewed_at", "review_comment")


def _row(contract: Contract, year: int, item: str) -> SecurityMechanismItem | None:
    if item not in SecurityItem.values:
        raise ApplicationError(_("安全机制考核项无效。"), extra={"field": "item"})
    service_year(contract, year)
    return (
        SecurityMechanismItem.objects.select_for_update(of=("self",))
        .filter(contract=contract, service_year=year, item=item)
        .first()
    )


def _unsubmitted(contract: Contract, year: int, item: str) -> SecurityMechanismItem:
    """The unsaved row the checks read while nothing was submitted for the item yet."""
    return SecurityMechanismItem(contract=contract, service_year=year, item=item, status="")


@transaction.atomic
def security_item_submit(
    *,
    actor: User,
    contract: Contract,
    year: int,
    item: str,
    evidence: UploadedFile | None,
    note: str = "",
) -> SecurityMechanismItem:
    """The vendor submits (or, after a rejection, resubmits) an item's evidence."""
    row = _row(contract, year, item)
    SECURITY_ITEM_ACTIONS.require("submit", actor, row or _unsubmitted(contract, year, item))
    validate_upload(evidence, required=True, field="evidence")
    before = snapshot(row, AUDIT_FIELDS) if row else None
    if row is None:
        row = SecurityMechanismItem(
            contract=contract, service_year=year, item=item, status=ChecklistStatus.SUBMITTED
        )
    else:
        set_status(row, CHECKLIST_TRANSITIONS, ChecklistStatus.SUBMITTED)
    row.evidence = evidence
    row.note = note.strip()
    row.submitted_by = actor
    row.submitted_at = timezone.now()
    row.reviewed_by, row.reviewed_at, row.review_comment = None, None, ""
    row.save()
    audit_log(
        actor=actor,
        action="security_item.submit",
        obj=row,
        before=before,
        after=snapshot(row, AUDIT_FIELDS),
        contract=contract,
    )
    notifications.send(
        key=f"security-item:{row.pk}:submitted:{row.submitted_at.isoformat()}",
        contract=contract,
        recipients=notifications.party_emails(contract, PartyRole.BUREAU),
        subject=_("乙方提交安全机制材料：%(item)s") % {"item": row.get_item_display()},
        body=_("请审核 %(year)s 服务年度的“%(item)s”证明材料。")
        % {"year": year, "item": row.get_item_display()},
        url=notifications.link("sla_security_list", contract.pk),
    )
    return row


@transaction.atomic
def security_item_review(
    *, actor: User, item: SecurityMechanismItem, accept: bool, comment: str = ""
) -> SecurityMechanismItem:
    """The bureau accepts the evidence, or rejects it with a reason."""
    row = (
        SecurityMechanismItem.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=item.pk)
    )
    before = snapshot(row, AUDIT_FIELDS)
    SECURITY_ITEM_ACTIONS.require("review", actor, row)
    if not accept:
        comment = require_text(comment, _("不予通过时须填写意见。"), "comment")
    set_status(
        row, CHECKLIST_TRANSITIONS, ChecklistStatus.ACCEPTED if accept else ChecklistStatus.REJECTED
    )
    row.reviewed_by, row.reviewed_at, row.review_comment = actor, timezone.now(), comment.strip()
    row.save()
    audit_log(
        actor=actor,
        action="security_item.review",
        obj=row,
        before=before,
        after=snapshot(row, AUDIT_FIELDS),
    )
    if not accept:
        notifications.send(
            key=f"security-item:{row.pk}:rejected:{row.reviewed_at.isoformat()}",
            contract=row.contract,
            recipients=notifications.party_emails(row.contract, PartyRole.VENDOR),
            subject=_("安全机制材料未通过：%(item)s") % {"item": row.get_item_display()},
            body=_("审核意见：%(c)s") % {"c": comment},
            url=notifications.link("sla_security_list", row.contract_id),
        )
    return row


@transaction.atomic
def security_item_waive(
    *, actor: User, contract: Contract, year: int, item: str, reason: str
) -> SecurityMechanismItem:
    """The bureau finds an item not to be the vendor's responsibility: no deduction."""
    row = _row(contract, year, item)
    SECURITY_ITEM_ACTIONS.require("waive", actor, row or _unsubmitted(contract, year, item))
    reason = require_text(reason, _("请填写认定理由。"), "reason")
    before = snapshot(row, AUDIT_FIELDS) if row else None
    now = timezone.now()
    if row is None:
        row = SecurityMechanismItem(
            contract=contract, service_year=year, item=item, status=ChecklistStatus.WAIVED
        )
    else:
        set_status(row, CHECKLIST_TRANSITIONS, ChecklistStatus.WAIVED)
    row.reviewed_by, row.reviewed_at, row.review_comment = actor, now, reason
    row.save()
    audit_log(
        actor=actor,
        action="security_item.waive",
        obj=row,
        before=before,
        after=snapshot(row, AUDIT_FIELDS),
        contract=contract,
    )
    return row
