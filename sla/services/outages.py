"""Outages (服务中断) and planned maintenance (计划内停机): report, approve, confirm.

附件2 §1 (BT-2025): the interruption time is "由乙方报送相关报告，甲方（或甲方指定的管理部门）、
监理方确认得出结果"; and time "经甲方…、监理方认定由非乙方原因引起的…不包含在内". So the vendor
reports, and the bureau and (where the contract has one) the supervisor each confirm with an
attribution. An outage is attributed to someone other than the vendor only when every
confirming party says so.

Planned maintenance follows the contract's maintenance terms (DESIGN §4a), never a constant:

* ``maintenance_approvers`` — the parties whose consent makes it planned (BT-2025 附件2 1.1(1):
  bureau and supervisor, "经…同意后…计划内…维护", with no notice period). Each of them
  approves before the window starts; the last approval stamps ``maintenance_approved_at``.
* ``maintenance_notice_hours`` — how long before the start the bureau must be told (JZ-2026
  五.5: 72 h, notify only). A later announcement is flagged to the bureau as a notice-duty
  record (``MaintenanceNoticeShortfall``) with an e-mail; it costs no points.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.audit import audit_log, snapshot
from govcloud.exceptions import ApplicationError
from govcloud.models import BusinessSystem, Contract, PartyRole, User
from govcloud.terms import clause_of
from sla import notifications
from sla.models import (
    OUTAGE_TRANSITIONS,
    SHORTFALL_TRANSITIONS,
    MaintenanceNoticeShortfall,
    Outage,
    OutageScope,
    OutageSignoff,
    OutageStatus,
    ShortfallStatus,
    SignoffStage,
)
from sla.services.actions import CONTRACT_ACTIONS, OUTAGE_ACTIONS, SHORTFALL_ACTIONS
from sla.services.common import (
    confirming_roles,
    full_clean,
    lock,
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
    _check_notice_duty(outage, actor)
    return outage


SHORTFALL_FIELDS = ("status", "required_hours", "notified_at", "started_at", "hours_given")


def _check_notice_duty(outage: Outage, actor: User) -> MaintenanceNoticeShortfall | None:
    """Flag a planned maintenance announced later than the contract's notice period allows.

    One record per maintenance (kept up to date when the vendor moves the window; removed when
    the moved window leaves enough notice). The bureau hears of it once, by e-mail.
    """
    contract = outage.contract
    required = contract.maintenance_notice_hours
    existing = MaintenanceNoticeShortfall.objects.filter(outage=outage).first()
    short = outage.planned and required is not None and not outage.notice_in_time
    if not short:
        if existing is not None:
            before = snapshot(existing, SHORTFALL_FIELDS)
            existing.delete()
            audit_log(
                actor=actor,
                action="maintenance_notice.cleared",
                obj=outage,
                before=before,
                after={"reason": "window moved: the notice now meets the contract"},
                contract=contract,
            )
        return None
    if required is None or outage.notified_at is None:
        raise RuntimeError("A short notice needs a notice period and a notice time.")
    given = (outage.notice_hours_given or Decimal(0)).quantize(Decimal("0.1"), ROUND_DOWN)
    values = {
        "contract": contract,
        "service_year": outage.service_year,
        "required_hours": required,
        "notified_at": outage.notified_at,
        "started_at": outage.started_at,
        "hours_given": max(given, Decimal(0)),
    }
    if existing is not None:
        before = snapshot(existing, SHORTFALL_FIELDS)
        for field, value in values.items():
            setattr(existing, field, value)
        existing.save()
        audit_log(
            actor=actor,
            action="maintenance_notice.update",
            obj=existing,
            before=before,
            after=snapshot(existing, SHORTFALL_FIELDS),
            contract=contract,
        )
        return existing
    record = MaintenanceNoticeShortfall.objects.create(outage=outage, **values)
    audit_log(
        actor=actor,
        action="maintenance_notice.short",
        obj=record,
        after={**snapshot(record, SHORTFALL_FIELDS), "outage": outage.pk},
        contract=contract,
    )
    clause = clause_of(contract, "maintenance_notice_hours")
    notifications.send(
        key=f"outage:{outage.pk}:notice-short",
        contract=contract,
        recipients=notifications.party_emails(contract, PartyRole.BUREAU),
        subject=_("计划内维护通知不足 %(h)s 小时：%(t)s") % {"h": required, "t": outage.title},
        body=_(
            "乙方于 %(notified)s 通知了将于 %(start)s 开始的计划内维护（%(cause)s），"
            "仅提前 %(given)s 小时；合同%(clause)s约定应提前 %(h)s 小时通知甲方联系人。\n"
            "本记录为乙方通知义务的登记，不扣分。"
        )
        % {
            "notified": timezone.localtime(outage.notified_at).strftime("%Y-%m-%d %H:%M"),
            "start": timezone.localtime(outage.started_at).strftime("%Y-%m-%d %H:%M"),
            "cause": outage.cause,
            "given": record.hours_given,
            "clause": clause,
            "h": required,
        },
        url=notifications.link("sla_shortfall_list", contract.pk),
    )
    return record


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
    if moved:
        _check_notice_duty(outage, actor)
    return outage


def _signed_roles(outage: Outage, stage: str) -> set[str]:
    return set(outage.signoffs.filter(stage=stage).values_list("party_role", flat=True))


@transaction.atomic
def outage_approve_maintenance(*, actor: User, outage: Outage, comment: str = "") -> Outage:
    """A party the contract names (``maintenance_approvers``) agrees to a planned maintenance
    window before it starts; the last of them makes it planned, whatever the notice."""
    outage, before = _lock(outage)
    OUTAGE_ACTIONS.require("approve", actor, outage)
    approvers = list(outage.contract.maintenance_approvers)
    role = require_party(actor, outage.contract, *approvers)
    now = timezone.now()
    OutageSignoff.objects.create(
        outage=outage,
        stage=SignoffStage.APPROVE_MAINTENANCE,
        party_role=role,
        user=actor,
        at=now,
        comment=comment.strip(),
    )
    if _signed_roles(outage, SignoffStage.APPROVE_MAINTENANCE) >= set(approvers):
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


@transaction.atomic
def shortfall_note(
    *, actor: User, record: MaintenanceNoticeShortfall, note: str = ""
) -> MaintenanceNoticeShortfall:
    """The bureau acknowledges a maintenance notice-duty record (with an optional comment)."""
    record = lock(MaintenanceNoticeShortfall, record.pk)
    before = snapshot(record, SHORTFALL_FIELDS)
    SHORTFALL_ACTIONS.require("note", actor, record)
    set_status(record, SHORTFALL_TRANSITIONS, ShortfallStatus.NOTED)
    record.noted_by, record.noted_at, record.note = actor, timezone.now(), note.strip()
    record.save(update_fields=["status", "noted_by", "noted_at", "note", "updated_at"])
    audit_log(
        actor=actor,
        action="maintenance_notice.note",
        obj=record,
        before=before,
        after={**snapshot(record, SHORTFALL_FIELDS), "note": record.note},
        contract=record.contract,
    )
    return record
