"""Deliverables (交付成果, 附件2 §10): due dates, uploads, acceptance and rejection.

"未提供符合要求的或符合质量标准的服务成果…每项每次扣1分；未按照规定期限提供符合要求的服务
成果，每项每次扣1分": a deliverable first submitted after its due date (or still missing once
it passed) is late once; every rejected submission counts on its own. Points only ever come
through a contract's scorecard: on a contract without an SLA annex deliverables are tracked,
not scored.

Monthly statements as deliverables: where the contract's term ``statement_is_deliverable`` says
so (BT-2025 附件3 二(二) "月度资源统计提交超时，按照交付物超时处理；内容存在错误，按照交付物
不合格处理"), billing's ``statement_submitted`` / ``statement_found_wrong`` signals record one
deliverable per contract and month (``sla.receivers``): late once (its first submission after
the due day), non-conforming once (however many versions were found wrong).

The handover plan (exit): where the term ``handover_plan_days_before_end`` is set (BT-2025 2.2
"制定详细的交接计划并提前30天提交给甲方审核"), one plan per contract is due that many calendar
days before ``service_end``; the daily task ``sla.ensure_handover_plans`` registers it
(``handover_plan_ensure``, idempotent), the bureau may register it at once, and a plan
registered through ``deliverable_create`` takes its due date from the term, never by hand.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Statement
from govcloud.audit import audit_log, snapshot
from govcloud.dates import business_date, month_end, month_start
from govcloud.exceptions import ApplicationError, InvalidTransition
from govcloud.models import Contract, ContractStatus, PartyRole, Role, User
from govcloud.terms import clause_of
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
    has_scorecard,
    require_text,
    set_status,
    validate_upload,
    year_of_day,
)

AUDIT_FIELDS = (
    "status",
    "due_date",
    "due_provisional",
    "first_submitted_at",
    "accepted_at",
    "found_wrong_at",
)
STATEMENT_ACTOR = "月度统计表交付物记录"


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

    A monthly operations report needs its month; under an SLA annex it is due on the 5th
    working day of the next month, otherwise on the due date given. Every other kind needs an
    explicit due date. Statements are recorded from billing, never here.
    """
    CONTRACT_ACTIONS.require("deliverable_create", actor, contract)
    if kind not in DeliverableKind.values:
        raise ApplicationError(_("交付物类型无效。"), extra={"field": "kind"})
    if kind == DeliverableKind.STATEMENT:
        raise ApplicationError(
            _("月度服务资源统计表由平台根据其提交与核对情况自动记录，不能手工登记。"),
            extra={"field": "kind"},
        )
    if kind == DeliverableKind.HANDOVER_PLAN and contract.handover_plan_days_before_end:
        # The term fixes the due date (BT 2.2): one plan per contract, never a date by hand.
        plan = handover_plan_ensure(actor=actor, contract=contract)
        if plan is None:
            raise RuntimeError("handover_plan_ensure found the term but created no plan.")
        if document is not None:
            deliverable_submit(actor=actor, deliverable=plan, document=document)
        return plan
    if kind == DeliverableKind.STAFF_REGISTER and not contract.staff_register_required:
        raise ApplicationError(
            _("合同 %(code)s 未约定提交接触甲方信息人员名单。") % {"code": contract.code},
            extra={"field": "kind", "term": "staff_register_required"},
        )
    provisional = False
    if kind == DeliverableKind.MONTHLY_REPORT and not has_scorecard(contract):
        if period_month is None:
            raise ApplicationError(
                _("运维服务月报须指明所属月份。"), extra={"field": "period_month"}
            )
        if due_date is None:
            raise ApplicationError(
                _("本合同未约定月报的提交期限，请填写截止日期。"), extra={"field": "due_date"}
            )
        period_month = month_start(period_month)
        service_year = _clamped_year(contract, max(period_month, contract.service_start))
        title = title.strip() or _("%(m)s 政务云运维服务月报") % {"m": f"{period_month:%Y-%m}"}
    elif kind == DeliverableKind.MONTHLY_REPORT:
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


# ---------------------------------------------------------------- statements as deliverables


def _statement_title(month: date) -> str:
    return _("%(m)s 月度服务资源统计表") % {"m": f"{month:%Y-%m}"}


def _statement_deliverable(
    statement: Statement, *, due: date | None
) -> tuple[Deliverable, bool] | None:
    """The month's statement deliverable, locked; created on first sight (None: no one to
    name as its recorder, which a submitted statement always has)."""
    contract = statement.contract
    month = date(statement.year, statement.month, 1)
    rows = Deliverable.objects.select_for_update(of=("self",)).filter(
        contract=contract, kind=DeliverableKind.STATEMENT, period_month=month
    )
    existing = rows.first()
    if existing is not None:
        return existing, False
    creator = statement.submitted_by or statement.generated_by
    if creator is None:
        return None
    due_date: date | None = due or statement.due_date
    if due_date is None:  # billing always sets one; the signal may still carry None
        due_date = business_date(statement.submitted_at or timezone.now())
    # The month's first submission decides lateness (as billing's ``late``), even when this
    # signal is about a later version: the earliest submitted version of the month.
    first_submitted = (
        Statement.objects.filter(
            contract=contract,
            year=statement.year,
            month=statement.month,
            submitted_at__isnull=False,
        )
        .order_by("submitted_at")
        .values_list("submitted_at", flat=True)
        .first()
    )
    deliverable = Deliverable(
        contract=contract,
        service_year=_clamped_year(contract, max(month, contract.service_start)),
        kind=DeliverableKind.STATEMENT,
        title=_statement_title(month),
        period_month=month,
        due_date=due_date,
        due_at=end_of_day(due_date),
        due_provisional=bool(statement.due_provisional),
        status=DeliverableStatus.SUBMITTED,
        created_by=creator,
        first_submitted_at=first_submitted or statement.submitted_at or timezone.now(),
        statement=statement,
    )
    try:
        with transaction.atomic():
            deliverable.save()
    except IntegrityError:  # recorded meanwhile by a concurrent signal: use that one
        return rows.get(), False
    return deliverable, True


@transaction.atomic
def statement_deliverable_submitted(
    *, statement: Statement, due: date | None = None, late: bool = False
) -> Deliverable | None:
    """Billing's ``statement_submitted``: record the month's statement as a deliverable.

    Only where the contract's terms make statements deliverables. The month is late when its
    first submission came after the due day (as billing decides ``late``: the first submitted
    version's date after ``due``); a later version of the same month changes nothing but the
    version linked, so a month is never late twice.
    """
    contract = statement.contract
    if not contract.statement_is_deliverable:
        return None
    found = _statement_deliverable(statement, due=due)
    if found is None:
        return None
    deliverable, created = found
    if not created:
        before = snapshot(deliverable, AUDIT_FIELDS)
        deliverable.statement = statement
        if deliverable.status == DeliverableStatus.REJECTED:
            set_status(deliverable, DELIVERABLE_TRANSITIONS, DeliverableStatus.SUBMITTED)
        deliverable.save(update_fields=["statement", "status", "updated_at"])
        audit_log(
            actor=STATEMENT_ACTOR,
            action="deliverable.statement_resubmitted",
            obj=deliverable,
            before=before,
            after={**snapshot(deliverable, AUDIT_FIELDS), "statement": statement.pk},
            contract=contract,
        )
        return deliverable
    is_late = deliverable.is_late()
    audit_log(
        actor=STATEMENT_ACTOR,
        action="deliverable.statement_recorded",
        obj=deliverable,
        after={
            **snapshot(deliverable, AUDIT_FIELDS),
            "statement": statement.pk,
            "late": is_late,
            "late_per_billing": late,
        },
        contract=contract,
    )
    if is_late:
        clause = clause_of(contract, "statement_is_deliverable")
        notifications.send(
            key=f"deliverable:{deliverable.pk}:statement-late",
            contract=contract,
            recipients=notifications.party_emails(contract, PartyRole.VENDOR, PartyRole.BUREAU),
            subject=_("月度服务资源统计表逾期提交：%(t)s") % {"t": deliverable.title},
            body=_("提交期限为 %(due)s，首次提交于 %(at)s。按合同%(c)s，按交付物超时处理。")
            % {
                "due": deliverable.due_date.isoformat(),
                "at": timezone.localtime(deliverable.first_submitted_at).strftime("%Y-%m-%d %H:%M"),
                "c": clause,
            },
            url=notifications.link("sla_deliverable_detail", deliverable.pk),
        )
    return deliverable


@transaction.atomic
def statement_deliverable_found_wrong(
    *, statement: Statement, reason: str = ""
) -> Deliverable | None:
    """Billing's ``statement_found_wrong``: the month's statement is a non-conforming deliverable.

    Once per month: a second version found wrong changes nothing.
    """
    contract = statement.contract
    if not contract.statement_is_deliverable:
        return None
    found = _statement_deliverable(statement, due=None)
    if found is None:
        return None
    deliverable, _created = found
    if deliverable.found_wrong_at is not None:
        return deliverable
    before = snapshot(deliverable, AUDIT_FIELDS)
    deliverable.found_wrong_at = timezone.now()
    deliverable.found_wrong_reason = (reason or "").strip() or _("统计表内容存在错误。")
    deliverable.statement = statement
    if deliverable.status == DeliverableStatus.SUBMITTED:
        set_status(deliverable, DELIVERABLE_TRANSITIONS, DeliverableStatus.REJECTED)
    deliverable.save(
        update_fields=["found_wrong_at", "found_wrong_reason", "statement", "status", "updated_at"]
    )
    audit_log(
        actor=STATEMENT_ACTOR,
        action="deliverable.statement_found_wrong",
        obj=deliverable,
        before=before,
        after={
            **snapshot(deliverable, AUDIT_FIELDS),
            "statement": statement.pk,
            "reason": deliverable.found_wrong_reason,
        },
        contract=contract,
    )
    notifications.send(
        key=f"deliverable:{deliverable.pk}:statement-wrong",
        contract=contract,
        recipients=notifications.party_emails(contract, PartyRole.VENDOR, PartyRole.BUREAU),
        subject=_("月度服务资源统计表内容有误：%(t)s") % {"t": deliverable.title},
        body=_("%(r)s\n按合同%(c)s，按交付物不合格处理（每月计一次）。")
        % {
            "r": deliverable.found_wrong_reason,
            "c": clause_of(contract, "statement_is_deliverable"),
        },
        url=notifications.link("sla_deliverable_detail", deliverable.pk),
    )
    return deliverable


# ---------------------------------------------------------------- the handover plan (exit)

HANDOVER_ACTOR = "合同条款自动登记（交接计划）"


def handover_plan_due(contract: Contract) -> date | None:
    """The day the handover plan is due: ``handover_plan_days_before_end`` calendar days before
    the service period's last day (BT-2025 2.2 "提前30天提交给甲方审核": 2026-06-19 − 30 days =
    2026-05-20); None where the contract sets no handover plan (JZ-2026)."""
    days = contract.handover_plan_days_before_end
    if not days:
        return None
    return contract.service_end - timedelta(days=days)


def _handover_recorder(contract: Contract) -> User | None:
    """Whom an automatically registered plan names as its recorder: the bureau's first active
    staff user (the plan is owed to the bureau); None while the bureau has no user."""
    bureau = contract.bureau
    if bureau is None:
        return None
    return (
        User.objects.filter(organization=bureau, is_active=True, role=Role.STAFF)
        .order_by("pk")
        .first()
    )


@transaction.atomic
def handover_plan_ensure(*, contract: Contract, actor: User | None = None) -> Deliverable | None:
    """Register the contract's handover plan deliverable once (idempotent).

    Where the contract's terms set ``handover_plan_days_before_end`` the plan is due that many
    days before ``service_end``; the existing plan is returned as it is. ``actor`` is the bureau
    registering it on demand; without one (the daily task) the bureau's first staff user is
    named as recorder and the audit names the term. None where the terms set no plan (or no
    one of the bureau could be named yet).
    """
    if actor is not None:
        CONTRACT_ACTIONS.require("deliverable_create", actor, contract)
    due = handover_plan_due(contract)
    if due is None:
        if actor is not None:
            raise ApplicationError(
                _("合同 %(code)s 未约定提交交接计划的期限。") % {"code": contract.code},
                extra={"field": "kind", "term": "handover_plan_days_before_end"},
            )
        return None
    # The contract row serialises concurrent runs (the task and the bureau's button).
    Contract.objects.select_for_update().filter(pk=contract.pk).first()
    existing = (
        Deliverable.objects.filter(contract=contract, kind=DeliverableKind.HANDOVER_PLAN)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        return existing
    recorder = actor or _handover_recorder(contract)
    if recorder is None:
        return None
    citation = clause_of(contract, "handover_plan_days_before_end")
    plan = Deliverable(
        contract=contract,
        service_year=_clamped_year(contract, due),
        kind=DeliverableKind.HANDOVER_PLAN,
        title=_("服务交接计划（服务期满前%(n)s日提交）")
        % {"n": contract.handover_plan_days_before_end},
        due_date=due,
        due_at=end_of_day(due),
        created_by=recorder,
    )
    full_clean(plan, exclude=["contract"])
    plan.save()
    audit_log(
        actor=actor or HANDOVER_ACTOR,
        action="deliverable.create",
        obj=plan,
        after={**snapshot(plan, AUDIT_FIELDS), "term": "handover_plan_days_before_end"},
        contract=contract,
    )
    notifications.send(
        key=f"deliverable:{plan.pk}:handover-plan",
        contract=contract,
        recipients=notifications.party_emails(contract, PartyRole.VENDOR, PartyRole.BUREAU),
        subject=_("服务交接计划须于 %(due)s 前提交") % {"due": due.isoformat()},
        body=_(
            "合同服务期至 %(end)s 届满。按合同%(c)s，乙方须在期满前%(n)s日提交详细的交接计划"
            "供甲方审核，截止日期 %(due)s。"
        )
        % {
            "end": contract.service_end.isoformat(),
            "c": citation,
            "n": contract.handover_plan_days_before_end,
            "due": due.isoformat(),
        },
        url=notifications.link("sla_deliverable_detail", plan.pk),
    )
    return plan


def handover_plans_ensure_all() -> list[int]:
    """The daily task: the handover plan of every running contract whose terms set one."""
    ids: list[int] = []
    contracts = (
        Contract.objects.filter(handover_plan_days_before_end__isnull=False)
        .exclude(status=ContractStatus.CLOSED)
        .order_by("pk")
    )
    for contract in contracts:
        plan = handover_plan_ensure(contract=contract)
        if plan is not None:
            ids.append(plan.pk)
    return ids
