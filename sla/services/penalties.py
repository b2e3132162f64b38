"""Penalty records (罚则记录, 附件3 五(三)): kept by the supervisor, signed by the vendor.

"所有罚款记录由监理方负责记录，被处罚方签字确认后，甲方从年度服务费中直接扣除": a penalty counts
once the vendor has acknowledged it. On a contract without a supervisor the bureau records.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.money import format_yuan
from govcloud.audit import audit_log, snapshot
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract, PartyRole, User
from sla import notifications
from sla.models import PENALTY_TRANSITIONS, AreaChoice, Penalty, PenaltyStatus
from sla.services.actions import CONTRACT_ACTIONS, PENALTY_ACTIONS
from sla.services.common import (
    full_clean,
    require_text,
    set_status,
    year_of_day,
)

AUDIT_FIELDS = ("status", "amount", "points", "area", "acknowledged_at", "withdrawn_reason")


@transaction.atomic
def penalty_record(
    *,
    actor: User,
    contract: Contract,
    occurred_on: date,
    reason: str,
    clause: str,
    amount: Decimal | None = None,
    points: Decimal | None = None,
    area: str = "",
) -> Penalty:
    """The supervisor records a penalty: an amount in yuan, points of one area, or both."""
    CONTRACT_ACTIONS.require("penalty_create", actor, contract)
    reason = require_text(reason, _("请填写处罚事由。"), "reason")
    clause = require_text(clause, _("请填写依据条款。"), "clause")
    if amount is None and points is None:
        raise ApplicationError(_("请填写扣款金额或扣分。"), extra={"field": "amount"})
    for value, field in ((amount, "amount"), (points, "points")):
        if value is not None and (not isinstance(value, Decimal) or value <= 0):
            raise ApplicationError(_("扣款金额和扣分必须为正数。"), extra={"field": field})
    if points is not None and area not in AreaChoice.values:
        raise ApplicationError(_("扣分须指明考核项。"), extra={"field": "area"})
    if points is None:
        area = ""
    penalty = Penalty(
        contract=contract,
        service_year=year_of_day(contract, occurred_on, field="occurred_on"),
        occurred_on=occurred_on,
        reason=reason,
        clause=clause[:200],
        amount=amount,
        points=points,
        area=area,
        recorded_by=actor,
    )
    full_clean(penalty)
    penalty.save()
    audit_log(
        actor=actor,
        action="penalty.record",
        obj=penalty,
        after=snapshot(penalty, AUDIT_FIELDS),
        contract=contract,
    )
    notifications.send(
        key=f"penalty:{penalty.pk}:recorded",
        contract=contract,
        recipients=notifications.party_emails(contract, PartyRole.VENDOR, PartyRole.BUREAU),
        subject=_("罚则记录待签认"),
        body=_("事由：%(r)s\n依据：%(c)s\n扣款：%(a)s；扣分：%(p)s")
        % {
            "r": reason,
            "c": clause,
            "a": format_yuan(amount) if amount else "—",
            "p": points or "—",
        },
        url=notifications.link("sla_penalty_detail", penalty.pk),
    )
    return penalty


def _lock(penalty: Penalty) -> tuple[Penalty, dict[str, Any]]:
    locked = (
        Penalty.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=penalty.pk)
    )
    return locked, snapshot(locked, AUDIT_FIELDS)


@transaction.atomic
def penalty_acknowledge(*, actor: User, penalty: Penalty) -> Penalty:
    """The vendor signs the penalty record (被处罚方签字确认); from then on it counts."""
    penalty, before = _lock(penalty)
    PENALTY_ACTIONS.require("acknowledge", actor, penalty)
    set_status(penalty, PENALTY_TRANSITIONS, PenaltyStatus.ACKNOWLEDGED)
    penalty.acknowledged_by, penalty.acknowledged_at = actor, timezone.now()
    penalty.save()
    audit_log(
        actor=actor,
        action="penalty.acknowledge",
        obj=penalty,
        before=before,
        after=snapshot(penalty, AUDIT_FIELDS),
    )
    return penalty


@transaction.atomic
def penalty_withdraw(*, actor: User, penalty: Penalty, reason: str) -> Penalty:
    """The recording party withdraws a penalty the vendor has not signed yet."""
    penalty, before = _lock(penalty)
    PENALTY_ACTIONS.require("withdraw", actor, penalty)
    reason = require_text(reason, _("请填写撤销理由。"), "reason")
    set_status(penalty, PENALTY_TRANSITIONS, PenaltyStatus.WITHDRAWN)
    penalty.withdrawn_reason = reason
    penalty.save()
    audit_log(
        actor=actor,
        action="penalty.withdraw",
        obj=penalty,
        before=before,
        after=snapshot(penalty, AUDIT_FIELDS),
    )
    return penalty
