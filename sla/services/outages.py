"""Outages (服务中断) and planned maintenance (计划内停机): report, approve, confirm.

附件2 §1: the interruption time is "由乙方报送相关报告，甲方（或甲方指定的管理部门）、监理方确认
得出结果"; planned maintenance is "经甲方…、监理方同意后，乙方进行的计划内…维护"; and time
"经甲方…、监理方认定由非乙方原因引起的…不包含在内". So the vendor reports, and the bureau and
(where the contract has one) the supervisor each confirm with an attribution. An outage is
attributed to someone other than the vendor only when every confirming party says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.audit import audit_log, snapshot
from govcloud.exceptions import ApplicationError
from govcloud.models import BusinessSystem, Contract, PartyRole, User
from sla import notifications
from sla.models import (
    OUTAGE_TRANSITIONS,
    Outage,
    OutageScope,
    OutageSignoff,
    OutageStatus,
    SignoffStage,
)
from sla.services.actions import CONTRACT_ACTIONS, OUTAGE_ACTIONS
from sla.services.common import (
    confirming_roles,
    full_clean,
    require_aware,
    require_party,
    require_text,
    set_status,
    year_of_moment,
)

AUDIT_FIELDS = (
    "status",
    "started_at",
    "ended_at",
    "scope",
    "planned",
    "notified_at",
    "maintenance_approved_at",
    "backup_restore_failed",
    "vendor_caused",
    "confirmed_at",
)


def _systems(contract: Contract, scope: str, system_ids: Sequence[int]) -> list[BusinessSystem]:
    if scope not in OutageScope.values:
        raise ApplicationError(_("影响范围无效。"), extra={"field": "scope"})
    if scope == OutageScope.PLATFORM:
        return []
    bureau = contract.bureau
    systems = list(
        BusinessSystem.objects.filter(
            pk__in=list(system_ids), department__parent_id=bureau.pk if bureau else None
        )
    )
    if not systems or len(systems) != len(set(system_ids)):
        raise ApplicationError(
            _("请选择本合同使用单位的受影响业务系统。"), extra={"field": "systems"}
        )
    return systems


def _check_times(started_at: datetime, ended_at: datetime, *, planned: bool) -> None:
    require_aware(started_at, _("请填写带时区的中断开始时间。"), "started_at")
    require_aware(ended_at, _("请填写带时区的恢复时间。"), "ended_at")
    if ended_at <= started_at:
        raise ApplicationError(_("恢复时间必须晚于中断开始时间。"), extra={"field": "ended_at"})
    if not planned and started_at > timezone.now():
        raise ApplicationError(
            _("非计划中断的开始时间不能晚于当前时间。"), extra={"field": "started_at"}
        )


def _notify_reported(outage: Outage) -> None:
    kind = _("计划内停机") if outage.planned else _("服务中断")
    notifications.send(
        key=f"outage:{outage.pk}:reported",
        contract=outage.contract,
        recipients=notifications.party_emails(
            outage.contract, PartyRole.BUREAU, PartyRole.SUPERVISOR
        ),
        subject=_("乙方报告%(kind)s：%(title)s") % {"kind": kind, "title": outage.title},
        body=_(
            "时间：%(start)s 至 %(end)s（%(minutes)s 分钟）\n原因：%(cause)s\n请确认并认定责任。"
        )
        % {
            "start": timezone.localtime(outage.started_at).strftime("%Y-%m-%d %H:%M"),
            "end": timezone.localtime(outage.ended_at).strftime("%Y-%m-%d %H:%M"),
            "minutes": f"{outage.minutes:.0f}",
            "cause": outage.cause,
        },
        url=notifications.link("sla_outage_detail", outage.pk),
    )


@transaction.atomic
def outage_report(
    *,
    actor: User,
    contract: Contract,
    title: str,
    started_at: datetime,
    ended_at: datetime,
    cause: str,
    scope: str = OutageScope.SYSTEMS,
    system_ids: Sequence[int] = (),
    planned: bool = False,
    backup_restore_failed: bool = False,
) -> Outage:
    """The vendor reports an outage, or announces planned maintenance (notice time = now)."""
    CONTRACT_ACTIONS.require("outage_create", actor, contract)
    title = require_text(title, _("请填写标题。"), "title")
    cause = require_text(cause, _("请填写中断原因或维护内容。"), "cause")
    _check_times(started_at, ended_at, planned=planned)
    systems = _systems(contract, scope, system_ids)
    outage = Outage(
        contract=contract,
        service_year=year_of_moment(contract, started_at, field="started_at"),
        title=title[:200],
        started_at=started_at,
        ended_at=ended_at,
        scope=scope,
        cause=cause,
        planned=planned,
        notified_at=timezone.now() if planned else None,
        backup_restore_failed=backup_restore_failed,
        reported_by=actor,
    )
    full_clean(outage)
    outage.save()
    outage.systems.set(systems)
    audit_log(
        actor=actor,
        action="outage.report",
        obj=outage,
        after={**snapshot(outage, AUDIT_FIELDS), "systems": [s.pk for s in systems]},
        contract=contract,
    )
    _notify_reported(outage)
    return outage


def _lock(outage: Outage) -> tuple[Outage, dict[str, Any]]:
    locked = (
        Outage.objects.select_for_update(of=("self",)).select_related("contract").get(pk=outage.pk)
    )
    return locked, snapshot(locked, AUDIT_FIELDS)


@transaction.atomic
def outage_update(
    *,
    actor: User,
    outage: Outage,
    title: str,
    started_at: datetime,
    ended_at: datetime,
    cause: str,
    scope: str,
    system_ids: Sequence[int] = (),
    backup_restore_failed: bool = False,
) -> Outage:
    """The vendor corrects its report before anyone has confirmed it.

    A planned window that moves loses its approvals (they were given for the old window).
    """
    outage, before = _lock(outage)
    OUTAGE_ACTIONS.require("edit", actor, outage)
    title = require_text(title, _("请填写标题。"), "title")
    cause = require_text(cause, _("请填写中断原因或维护内容。"), "cause")
    _check_times(started_at, ended_at, planned=outage.planned)
    systems = _systems(outage.contract, scope, system_ids)
    moved = (started_at, ended_at) != (outage.started_at, outage.ended_at)
    if outage.planned and moved:
        outage.signoffs.filter(stage=SignoffStage.APPROVE_MAINTENANCE).delete()
        outage.maintenance_approved_at = None
    outage.title, outage.cause, outage.scope = title[:200], cause, scope
    outage.started_at, outage.ended_at = started_at, ended_at
    outage.backup_restore_failed = backup_restore_failed
    outage.service_year = year_of_moment(outage.contract, started_at, field="started_at")
    full_clean(outage)
    outage.save()
    outage.systems.set(systems)
    audit_log(
        actor=actor,
        action="outage.update",
        obj=outage,
        before=before,
        after={**snapshot(outage, AUDIT_FIELDS), "systems": [s.pk for s in systems]},
    )
    return outage


def _signed_roles(outage: Outage, stage: str) -> set[str]:
    return set(outage.signoffs.filter(stage=stage).values_list("party_role", flat=True))


@transaction.atomic
def outage_approve_maintenance(*, actor: User, outage: Outage, comment: str = "") -> Outage:
    """Bureau or supervisor agrees to a planned maintenance window, before it starts."""
    outage, before = _lock(outage)
    OUTAGE_ACTIONS.require("approve", actor, outage)
    role = require_party(actor, outage.contract, PartyRole.BUREAU, PartyRole.SUPERVISOR)
    now = timezone.now()
    OutageSignoff.objects.create(
        outage=outage,
        stage=SignoffStage.APPROVE_MAINTENANCE,
        party_role=role,
        user=actor,
        at=now,
        comment=comment.strip(),
    )
    if _signed_roles(outage, SignoffStage.APPROVE_MAINTENANCE) >= set(
        confirming_roles(outage.contract)
    ):
        outage.maintenance_approved_at = now
        outage.save(update_fields=["maintenance_approved_at", "updated_at"])
    audit_log(
        actor=actor,
        action="outage.approve_maintenance",
        obj=outage,
        before=before,
        after={**snapshot(outage, AUDIT_FIELDS), "party_role": role, "comment": comment},
    )
    return outage


@transaction.atomic
def outage_confirm(
    *, actor: User, outage: Outage, vendor_caused: bool, comment: str = ""
) -> Outage:
    """Bureau or supervisor confirms the reported times and attributes the cause.

    When every confirming party has signed, the outage is confirmed; it is attributed to a
    cause other than the vendor only if all of them said so ("认定由非乙方原因").
    """
    outage, before = _lock(outage)
    OUTAGE_ACTIONS.require("confirm", actor, outage)
    role = require_party(actor, outage.contract, PartyRole.BUREAU, PartyRole.SUPERVISOR)
    now = timezone.now()
    if not vendor_caused and not comment.strip():
        raise ApplicationError(_("认定为非乙方原因时须说明理由。"), extra={"field": "comment"})
    OutageSignoff.objects.create(
        outage=outage,
        stage=SignoffStage.CONFIRM,
        party_role=role,
        user=actor,
        at=now,
        vendor_caused=vendor_caused,
        comment=comment.strip(),
    )
    confirms = list(outage.signoffs.filter(stage=SignoffStage.CONFIRM))
    if {s.party_role for s in confirms} >= set(confirming_roles(outage.contract)):
        set_status(outage, OUTAGE_TRANSITIONS, OutageStatus.CONFIRMED)
        outage.confirmed_at = now
        outage.vendor_caused = any(bool(s.vendor_caused) for s in confirms)
        outage.save(update_fields=["status", "confirmed_at", "vendor_caused", "updated_at"])
        notifications.send(
            key=f"outage:{outage.pk}:confirmed",
            contract=outage.contract,
            recipients=notifications.party_emails(outage.contract, PartyRole.VENDOR),
            subject=_("服务中断记录已确认：%(title)s") % {"title": outage.title},
            body=_("认定结果：%(who)s。")
            % {"who": _("乙方原因") if outage.vendor_caused else _("非乙方原因")},
            url=notifications.link("sla_outage_detail", outage.pk),
        )
    audit_log(
        actor=actor,
        action="outage.confirm",
        obj=outage,
        before=before,
        after={
            **snapshot(outage, AUDIT_FIELDS),
            "party_role": role,
            "attributed_vendor": vendor_caused,
            "comment": comment,
        },
    )
    return outage
