"""Training (培训服务, 附件2 §5): the plan the bureau approves and the sessions it confirms."""

from __future__ import annotations

from datetime import date

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.audit import audit_log, snapshot
from govcloud.dates import business_today
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract, PartyRole, User
from sla import notifications
from sla.models import (
    PLAN_TRANSITIONS,
    SESSION_TRANSITIONS,
    PlanStatus,
    SessionStatus,
    TrainingPlan,
    TrainingSession,
)
from sla.services.actions import CONTRACT_ACTIONS, TRAINING_PLAN_ACTIONS, TRAINING_SESSION_ACTIONS
from sla.services.common import (
    full_clean,
    require_party,
    require_scorecard,
    require_text,
    service_year,
    set_status,
    validate_upload,
    year_of_day,
)

PLAN_FIELDS = ("status", "submitted_at", "reviewed_at", "review_comment")
SESSION_FIELDS = ("status", "held_on", "topic", "attendees", "reviewed_at", "review_comment")


@transaction.atomic
def training_plan_submit(
    *,
    actor: User,
    contract: Contract,
    year: int,
    description: str,
    document: UploadedFile | None = None,
) -> TrainingPlan:
    """The vendor submits the year's 《培训计划》 (again, after a rejection)."""
    require_scorecard(contract)
    require_party(actor, contract, PartyRole.VENDOR)
    service_year(contract, year)
    description = require_text(description, _("请填写培训计划内容。"), "description")
    validate_upload(document, required=False, field="document")
    plan = (
        TrainingPlan.objects.select_for_update(of=("self",))
        .filter(contract=contract, service_year=year)
        .first()
    )
    before = snapshot(plan, PLAN_FIELDS) if plan else None
    if plan is None:
        plan = TrainingPlan(
            contract=contract, service_year=year, status=PlanStatus.SUBMITTED, submitted_by=actor
        )
    else:
        set_status(plan, PLAN_TRANSITIONS, PlanStatus.SUBMITTED)
    plan.description = description
    if document is not None:
        plan.document = document
    plan.submitted_by, plan.submitted_at = actor, timezone.now()
    plan.reviewed_by, plan.reviewed_at, plan.review_comment = None, None, ""
    plan.save()
    audit_log(
        actor=actor,
        action="training_plan.submit",
        obj=plan,
        before=before,
        after=snapshot(plan, PLAN_FIELDS),
        contract=contract,
    )
    notifications.send(
        key=f"training-plan:{plan.pk}:submitted:{plan.submitted_at.isoformat()}",
        contract=contract,
        recipients=notifications.party_emails(contract, PartyRole.BUREAU),
        subject=_("乙方提交 %(year)s 服务年度培训计划") % {"year": year},
        body=description,
        url=notifications.link("sla_training_list", contract.pk),
    )
    return plan


@transaction.atomic
def training_plan_review(
    *, actor: User, plan: TrainingPlan, approve: bool, comment: str = ""
) -> TrainingPlan:
    """The bureau approves the plan or rejects it (with a reason)."""
    plan = (
        TrainingPlan.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=plan.pk)
    )
    before = snapshot(plan, PLAN_FIELDS)
    TRAINING_PLAN_ACTIONS.require("review", actor, plan)
    if not approve:
        comment = require_text(comment, _("评审不通过时须填写意见。"), "comment")
    set_status(plan, PLAN_TRANSITIONS, PlanStatus.APPROVED if approve else PlanStatus.REJECTED)
    plan.reviewed_by, plan.reviewed_at, plan.review_comment = actor, timezone.now(), comment.strip()
    plan.save()
    audit_log(
        actor=actor,
        action="training_plan.review",
        obj=plan,
        before=before,
        after=snapshot(plan, PLAN_FIELDS),
    )
    if not approve:
        notifications.send(
            key=f"training-plan:{plan.pk}:rejected:{plan.reviewed_at.isoformat()}",
            contract=plan.contract,
            recipients=notifications.party_emails(plan.contract, PartyRole.VENDOR),
            subject=_("培训计划评审未通过"),
            body=_("评审意见：%(c)s") % {"c": comment},
            url=notifications.link("sla_training_list", plan.contract_id),
        )
    return plan


@transaction.atomic
def training_session_record(
    *,
    actor: User,
    contract: Contract,
    held_on: date,
    topic: str,
    attendees: int,
    materials: UploadedFile | None = None,
) -> TrainingSession:
    """The vendor records a training it held; it counts once the bureau confirms it."""
    CONTRACT_ACTIONS.require("training_session_record", actor, contract)
    topic = require_text(topic, _("请填写培训主题。"), "topic")
    if held_on is None or held_on > business_today():
        raise ApplicationError(_("培训日期不能晚于今天。"), extra={"field": "held_on"})
    if not isinstance(attendees, int) or attendees < 1:
        raise ApplicationError(_("参训人数必须是正整数。"), extra={"field": "attendees"})
    validate_upload(materials, required=False, field="materials")
    session = TrainingSession(
        contract=contract,
        service_year=year_of_day(contract, held_on, field="held_on"),
        held_on=held_on,
        topic=topic[:200],
        attendees=attendees,
        recorded_by=actor,
    )
    if materials is not None:
        session.materials = materials
    full_clean(session, exclude=["materials"])
    session.save()
    audit_log(
        actor=actor,
        action="training_session.record",
        obj=session,
        after=snapshot(session, SESSION_FIELDS),
        contract=contract,
    )
    return session


@transaction.atomic
def training_session_review(
    *, actor: User, session: TrainingSession, confirm: bool, comment: str = ""
) -> TrainingSession:
    """The bureau confirms the training took place as recorded, or refuses it (with a reason)."""
    session = (
        TrainingSession.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=session.pk)
    )
    before = snapshot(session, SESSION_FIELDS)
    TRAINING_SESSION_ACTIONS.require("review", actor, session)
    if not confirm:
        comment = require_text(comment, _("不予认可时须填写意见。"), "comment")
    set_status(
        session,
        SESSION_TRANSITIONS,
        SessionStatus.CONFIRMED if confirm else SessionStatus.REJECTED,
    )
    session.reviewed_by, session.reviewed_at = actor, timezone.now()
    session.review_comment = comment.strip()
    session.save()
    audit_log(
        actor=actor,
        action="training_session.review",
        obj=session,
        before=before,
        after=snapshot(session, SESSION_FIELDS),
    )
    return session
