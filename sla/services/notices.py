"""Improvement notices (整改通知 / 书面通知): issue, fix within the contract's period, confirm.

The fix period is the contract's term ``improvement_working_days`` (DESIGN §4a): BT-2025 附件2
§9 "接到…问题整改通知后的10个工作日内完成整改" (−2 points per issue not fixed, through its
scorecard), JZ-2026 四.2 "乙方应在收到通知后的15个工作日内予以补正和改进，否则视为乙方违约"
(no points: JZ has no scorecard; a notice past its period is recorded as 违约).
The deadline is ``workdays.deadline(issued_at, N)`` (provisional when the year's calendar is
missing). A fix counts as in time when the fix report that was finally confirmed was
submitted before the deadline; a rejected fix report does not stop the clock.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.access import party_role_of
from govcloud.audit import audit_log, snapshot
from govcloud.dates import business_date
from govcloud.exceptions import ApplicationError
from govcloud.joint import joint_open, joint_restart
from govcloud.models import Contract, JointConfirmation, JointSubject, PartyRole, User
from govcloud.terms import clause_of
from sla import notifications
from sla.models import NOTICE_TRANSITIONS, ImprovementNotice, NoticeStatus
from sla.services.actions import CONTRACT_ACTIONS, NOTICE_ACTIONS
from sla.services.clocks import working_deadline
from sla.services.common import (
    require_text,
    set_status,
    validate_upload,
    year_of_day,
)

AUDIT_FIELDS = ("status", "due_at", "due_provisional", "fixed_at", "confirmed_at", "last_comment")


def fix_period(contract: Contract) -> int:
    """The contract's fix period in working days; refused where the contract sets none."""
    days = contract.improvement_working_days
    if days is None:
        raise ApplicationError(
            _("合同 %(code)s 未约定书面通知后的整改期限，不能发出整改通知。")
            % {"code": contract.code},
            extra={"term": "improvement_working_days"},
        )
    return days


@transaction.atomic
def notice_issue(
    *, actor: User, contract: Contract, title: str, description: str
) -> ImprovementNotice:
    """The supervisor, the auditor or the bureau notifies the vendor of an issue to fix."""
    CONTRACT_ACTIONS.require("notice_create", actor, contract)
    days = fix_period(contract)
    role = party_role_of(actor, contract)
    if role is None:
        raise RuntimeError("'notice_create' admitted an actor who is no party to the contract.")
    title = require_text(title, _("请填写问题。"), "title")
    description = require_text(description, _("请填写问题描述及整改要求。"), "description")
    now = timezone.now()
    due_at, provisional = working_deadline(now, days)
    day = min(max(business_date(now), contract.service_start), contract.service_end)
    notice = ImprovementNotice.objects.create(
        contract=contract,
        service_year=year_of_day(contract, day),
        title=title[:200],
        description=description,
        issuer_role=role,
        issued_by=actor,
        issued_at=now,
        due_at=due_at,
        due_provisional=provisional,
    )
    audit_log(
        actor=actor,
        action="notice.issue",
        obj=notice,
        after=snapshot(notice, AUDIT_FIELDS),
        contract=contract,
    )
    notifications.send(
        key=f"notice:{notice.pk}:issued",
        contract=contract,
        recipients=notifications.party_emails(contract, PartyRole.VENDOR),
        subject=_("整改通知：%(t)s") % {"t": notice.title},
        body=_("%(d)s\n\n请于 %(due)s 前完成整改并提交整改报告（合同%(c)s：%(n)s个工作日%(p)s）。")
        % {
            "d": description,
            "due": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M"),
            "c": clause_of(contract, "improvement_working_days"),
            "n": days,
            "p": _("，暂定：该年度法定节假日尚未载入") if provisional else "",
        },
        url=notifications.link("sla_notice_detail", notice.pk),
    )
    return notice


def _lock(notice: ImprovementNotice) -> tuple[ImprovementNotice, dict[str, Any]]:
    locked = (
        ImprovementNotice.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=notice.pk)
    )
    return locked, snapshot(locked, AUDIT_FIELDS)


@transaction.atomic
def notice_fix(
    *,
    actor: User,
    notice: ImprovementNotice,
    report: str,
    document: UploadedFile | None = None,
) -> ImprovementNotice:
    """The vendor reports the issue fixed, with its 整改报告."""
    notice, before = _lock(notice)
    NOTICE_ACTIONS.require("fix", actor, notice)
    report = require_text(report, _("请填写整改报告。"), "report")
    validate_upload(document, required=False, field="document")
    set_status(notice, NOTICE_TRANSITIONS, NoticeStatus.FIXED)
    notice.fix_report = report
    if document is not None:
        notice.fix_document = document
    notice.fixed_by, notice.fixed_at = actor, timezone.now()
    notice.save()
    audit_log(
        actor=actor,
        action="notice.fix",
        obj=notice,
        before=before,
        after=snapshot(notice, AUDIT_FIELDS),
    )
    # BT 附件2 §9: the report counts once the parties the terms name confirmed it jointly; a
    # report sent again after an objection starts a new round.
    confirmation = joint_open(
        actor=actor,
        contract=notice.contract,
        subject=JointSubject.IMPROVEMENT_REPORT,
        obj=notice,
        title=_("整改报告：%(t)s") % {"t": notice.title},
    )
    if confirmation is not None:
        joint_restart(actor=actor, confirmation=confirmation, note=_("乙方重新提交整改报告"))
    notifications.send(
        key=f"notice:{notice.pk}:fixed:{notice.fixed_at.isoformat()}",
        contract=notice.contract,
        recipients=notifications.party_emails(notice.contract, notice.issuer_role),
        subject=_("乙方已提交整改报告：%(t)s") % {"t": notice.title},
        body=report,
        url=notifications.link("sla_notice_detail", notice.pk),
    )
    return notice


@transaction.atomic
def notice_confirm(
    *, actor: User, notice: ImprovementNotice, accept: bool, comment: str = ""
) -> ImprovementNotice:
    """The issuing party confirms the fix, or sends it back (the clock keeps running)."""
    notice, before = _lock(notice)
    NOTICE_ACTIONS.require("confirm", actor, notice)
    if not accept:
        comment = require_text(comment, _("退回整改时须填写意见。"), "comment")
    set_status(
        notice, NOTICE_TRANSITIONS, NoticeStatus.CONFIRMED if accept else NoticeStatus.ISSUED
    )
    notice.last_comment = comment.strip()
    if accept:
        notice.confirmed_by, notice.confirmed_at = actor, timezone.now()
    else:
        notice.fixed_by, notice.fixed_at = None, None
    notice.save()
    audit_log(
        actor=actor,
        action="notice.confirm" if accept else "notice.reopen",
        obj=notice,
        before=before,
        after=snapshot(notice, AUDIT_FIELDS),
    )
    if not accept:
        notifications.send(
            key=f"notice:{notice.pk}:reopened:{timezone.now().isoformat()}",
            contract=notice.contract,
            recipients=notifications.party_emails(notice.contract, PartyRole.VENDOR),
            subject=_("整改未通过确认：%(t)s") % {"t": notice.title},
            body=_("意见：%(c)s\n整改期限不变：%(due)s。")
            % {"c": comment, "due": timezone.localtime(notice.due_at).strftime("%Y-%m-%d %H:%M")},
            url=notifications.link("sla_notice_detail", notice.pk),
        )
    return notice


def _is_report(confirmation: JointConfirmation) -> bool:
    return (
        confirmation.subject == JointSubject.IMPROVEMENT_REPORT
        and confirmation.content_type.model_class() is ImprovementNotice
    )


def on_report_confirmed(*, confirmation: JointConfirmation) -> None:
    """Every named party confirmed the fix report: the notice is fixed (confirmed)."""
    if not _is_report(confirmation):
        return
    notice, before = _lock(ImprovementNotice(pk=confirmation.object_id))
    last = confirmation.entries.order_by("-at", "-pk").first()
    set_status(notice, NOTICE_TRANSITIONS, NoticeStatus.CONFIRMED)
    notice.confirmed_by = last.user if last else None
    notice.confirmed_at = confirmation.confirmed_at
    notice.save()
    audit_log(
        actor=notice.confirmed_by or "会签",
        action="notice.confirm",
        obj=notice,
        before=before,
        after={**snapshot(notice, AUDIT_FIELDS), "joint_confirmation": confirmation.pk},
    )


def on_report_objected(*, confirmation: JointConfirmation, reason: str, actor: User) -> None:
    """A named party objected to the fix report: back to the vendor (the clock keeps running)."""
    if not _is_report(confirmation):
        return
    notice, before = _lock(ImprovementNotice(pk=confirmation.object_id))
    set_status(notice, NOTICE_TRANSITIONS, NoticeStatus.ISSUED)
    notice.last_comment = reason
    notice.fixed_by, notice.fixed_at = None, None
    notice.save()
    audit_log(
        actor=actor,
        action="notice.reopen",
        obj=notice,
        before=before,
        after={**snapshot(notice, AUDIT_FIELDS), "joint_confirmation": confirmation.pk},
    )
    notifications.send(
        key=f"notice:{notice.pk}:objected:{confirmation.pk}:{confirmation.round}",
        contract=notice.contract,
        recipients=notifications.party_emails(notice.contract, PartyRole.VENDOR),
        subject=_("整改报告有异议：%(t)s") % {"t": notice.title},
        body=_("异议：%(c)s\n整改期限不变：%(due)s。")
        % {"c": reason, "due": timezone.localtime(notice.due_at).strftime("%Y-%m-%d %H:%M")},
        url=notifications.link("sla_notice_detail", notice.pk),
    )
