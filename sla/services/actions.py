"""What each user may do now with each SLA workflow record: one rule set per workflow.

Every ``<entity>_available_actions(*, user, obj)`` is built on ``govcloud.workflow.ActionRules``.
The services call ``<ENTITY>_ACTIONS.require(action, actor, obj)`` before they act (after
locking the row), and the portal pages, templates and API serializers only read the
available-actions set — so no page offers a button the service would refuse, and the rule
"who may do what, in which state" is written once (STYLE: workflow rules).

Each check raises the refusal the service gives: ``ActionForbidden`` for the wrong party,
``InvalidTransition`` for the wrong state, ``NoScorecard`` for scorecard work (security
checklist, training, surveys, penalties, late/wrong advice, the scorecard itself) on a contract
whose terms include no SLA annex (DESIGN §4a) — so such a contract is offered none of it.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.access import require_staff
from govcloud.dates import business_today
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.joint import required_roles, roles_text
from govcloud.models import Contract, JointSubject, PartyRole
from govcloud.terms import clause_of
from govcloud.workflow import ActionRules, check_transition
from sla.models import (
    ADVICE_TRANSITIONS,
    CHECKLIST_TRANSITIONS,
    DELIVERABLE_TRANSITIONS,
    NOTICE_TRANSITIONS,
    PENALTY_TRANSITIONS,
    PLAN_TRANSITIONS,
    REPORT_TRANSITIONS,
    SESSION_TRANSITIONS,
    SHORTFALL_TRANSITIONS,
    SURVEY_TRANSITIONS,
    AdviceStatus,
    ChecklistStatus,
    Deliverable,
    DeliverableKind,
    DeliverableStatus,
    ImprovementNotice,
    IncidentStatus,
    MaintenanceNoticeShortfall,
    NoticeStatus,
    Outage,
    OutageStatus,
    Penalty,
    PenaltyStatus,
    PlanStatus,
    ReportStatus,
    RightsizingAdvice,
    RightsizingReport,
    SatisfactionSurvey,
    Scorecard,
    SecurityIncident,
    SecurityMechanismItem,
    SessionStatus,
    ShortfallStatus,
    SignoffStage,
    SurveyStatus,
    TrainingPlan,
    TrainingSession,
)
from sla.services.common import (
    has_supervisor,
    require_department,
    require_party,
    require_scorecard,
    service_year,
)
from sla.services.signed_months import month_key, months_text, unsigned_months
from sla.services.utilization_months import confirmed_months

__all__ = [
    "advice_available_actions",
    "contract_sla_actions",
    "deliverable_available_actions",
    "incident_available_actions",
    "notice_available_actions",
    "outage_available_actions",
    "penalty_available_actions",
    "penalty_recorder_role",
    "report_available_actions",
    "scorecard_available_actions",
    "scorecard_awaits_year_end",
    "security_item_available_actions",
    "shortfall_available_actions",
    "survey_available_actions",
    "training_plan_available_actions",
    "training_session_available_actions",
]


# ---------------------------------------------------------------- outages


def outage_signed_roles(outage: Outage, stage: str) -> set[str]:
    """The party roles that signed ``stage`` (reads prefetched signoffs when there are)."""
    return {s.party_role for s in outage.signoffs.all() if s.stage == stage}


def _outage_edit(user: Any, outage: Outage) -> None:
    require_party(user, outage.contract, PartyRole.VENDOR)
    if outage.status != OutageStatus.REPORTED or outage_signed_roles(outage, SignoffStage.CONFIRM):
        raise InvalidTransition(_("已有确认的中断记录不能再修改。"))


def _outage_approve(user: Any, outage: Outage) -> None:
    approvers = list(outage.contract.maintenance_approvers or [])
    if not approvers:
        clause = clause_of(outage.contract, "maintenance_approvers")
        raise InvalidTransition(
            _("本合同的计划内维护只需提前通知甲方，无须批准%(c)s。")
            % {"c": _("（合同%(c)s）") % {"c": clause} if clause else ""}
        )
    role = require_party(user, outage.contract, *approvers)
    if not outage.planned:
        raise InvalidTransition(_("只有计划内停机需要事先同意。"))
    if outage.status != OutageStatus.REPORTED:
        raise InvalidTransition(_("该记录已确认，不能再审批。"))
    if timezone.now() >= outage.started_at:
        raise InvalidTransition(_("维护窗口已经开始，不能再事先同意。"))
    if role in outage_signed_roles(outage, SignoffStage.APPROVE_MAINTENANCE):
        raise InvalidTransition(_("您的单位已同意过该维护计划。"))


def _outage_confirm(user: Any, outage: Outage) -> None:
    role = require_party(user, outage.contract, PartyRole.BUREAU, PartyRole.SUPERVISOR)
    if outage.status != OutageStatus.REPORTED:
        raise InvalidTransition(_("该中断记录已确认。"))
    if timezone.now() < outage.ended_at:
        raise InvalidTransition(_("中断尚未结束，结束后才能确认。"))
    if role in outage_signed_roles(outage, SignoffStage.CONFIRM):
        raise InvalidTransition(_("您的单位已确认过该中断记录。"))


OUTAGE_ACTIONS = ActionRules(
    {"edit": _outage_edit, "approve": _outage_approve, "confirm": _outage_confirm}
)


def outage_available_actions(*, user: Any, obj: Outage) -> frozenset[str]:
    return OUTAGE_ACTIONS.available(user, obj)


# ---------------------------------------------------------------- incidents


def _incident_assess(user: Any, incident: SecurityIncident) -> None:
    require_party(user, incident.contract, PartyRole.BUREAU, PartyRole.SUPERVISOR)
    if incident.status != IncidentStatus.REPORTED:
        raise InvalidTransition(_("该安全事件已认定。"))


INCIDENT_ACTIONS = ActionRules({"assess": _incident_assess})


def incident_available_actions(*, user: Any, obj: SecurityIncident) -> frozenset[str]:
    return INCIDENT_ACTIONS.available(user, obj)


# ---------------------------------------------------------------- security checklist
# ``obj`` is the item's row, or an unsaved row (status "") while nothing was submitted yet.


def _may_move(obj: Any, transitions: Any, target: str, *, new: bool = False) -> None:
    """The status change the action makes is in the model's table (an unsaved ``obj``, status
    "", may be created straight into ``target`` when ``new``)."""
    if new and not obj.status:
        return
    field = obj._meta.get_field("status")
    check_transition(
        transitions,
        current=obj.status,
        target=target,
        labels={str(k): str(v) for k, v in field.choices},
    )


def _security_submit(user: Any, row: SecurityMechanismItem) -> None:
    require_scorecard(row.contract)
    require_party(user, row.contract, PartyRole.VENDOR)
    _may_move(row, CHECKLIST_TRANSITIONS, ChecklistStatus.SUBMITTED, new=True)


def _security_review(user: Any, row: SecurityMechanismItem) -> None:
    require_scorecard(row.contract)
    require_party(user, row.contract, PartyRole.BUREAU)
    _may_move(row, CHECKLIST_TRANSITIONS, ChecklistStatus.ACCEPTED)


def _security_waive(user: Any, row: SecurityMechanismItem) -> None:
    require_scorecard(row.contract)
    require_party(user, row.contract, PartyRole.BUREAU)
    _may_move(row, CHECKLIST_TRANSITIONS, ChecklistStatus.WAIVED, new=True)


SECURITY_ITEM_ACTIONS = ActionRules(
    {"submit": _security_submit, "review": _security_review, "waive": _security_waive}
)


def security_item_available_actions(*, user: Any, obj: SecurityMechanismItem) -> frozenset[str]:
    return SECURITY_ITEM_ACTIONS.available(user, obj)


# ---------------------------------------------------------------- training
# A plan ``obj`` may be an unsaved plan (status "") while the vendor has not submitted one.


def _plan_submit(user: Any, plan: TrainingPlan) -> None:
    require_scorecard(plan.contract)
    require_party(user, plan.contract, PartyRole.VENDOR)
    _may_move(plan, PLAN_TRANSITIONS, PlanStatus.SUBMITTED, new=True)


def _plan_review(user: Any, plan: TrainingPlan) -> None:
    require_scorecard(plan.contract)
    require_party(user, plan.contract, PartyRole.BUREAU)
    _may_move(plan, PLAN_TRANSITIONS, PlanStatus.APPROVED)


TRAINING_PLAN_ACTIONS = ActionRules({"submit": _plan_submit, "review": _plan_review})


def training_plan_available_actions(*, user: Any, obj: TrainingPlan) -> frozenset[str]:
    return TRAINING_PLAN_ACTIONS.available(user, obj)


def _session_review(user: Any, session: TrainingSession) -> None:
    require_scorecard(session.contract)
    require_party(user, session.contract, PartyRole.BUREAU)
    _may_move(session, SESSION_TRANSITIONS, SessionStatus.CONFIRMED)


TRAINING_SESSION_ACTIONS = ActionRules({"review": _session_review})


def training_session_available_actions(*, user: Any, obj: TrainingSession) -> frozenset[str]:
    return TRAINING_SESSION_ACTIONS.available(user, obj)


# ---------------------------------------------------------------- deliverables


def _not_a_statement(deliverable: Deliverable) -> None:
    if deliverable.kind == DeliverableKind.STATEMENT:
        raise InvalidTransition(
            _("月度服务资源统计表在“月度统计表”中提交和签认，此处只记录其是否逾期或有误。")
        )


def _deliverable_submit(user: Any, deliverable: Deliverable) -> None:
    _not_a_statement(deliverable)
    require_party(user, deliverable.contract, PartyRole.VENDOR)
    _may_move(deliverable, DELIVERABLE_TRANSITIONS, DeliverableStatus.SUBMITTED)


def _deliverable_review(user: Any, deliverable: Deliverable) -> None:
    _not_a_statement(deliverable)
    require_party(user, deliverable.contract, PartyRole.BUREAU)
    _may_move(deliverable, DELIVERABLE_TRANSITIONS, DeliverableStatus.ACCEPTED)


DELIVERABLE_ACTIONS = ActionRules({"submit": _deliverable_submit, "review": _deliverable_review})


def deliverable_available_actions(*, user: Any, obj: Deliverable) -> frozenset[str]:
    return DELIVERABLE_ACTIONS.available(user, obj)


# ---------------------------------------------------------------- surveys


def _survey_respond(user: Any, survey: SatisfactionSurvey) -> None:
    require_scorecard(survey.contract)
    require_department(user, survey.contract)
    if survey.status != SurveyStatus.OPEN:
        raise InvalidTransition(_("该满意度调查已结束。"))
    if survey.closes_on is not None and business_today() > survey.closes_on:
        raise InvalidTransition(_("该满意度调查已过截止日期。"))
    if survey.responses.filter(respondent=user).exists():
        raise InvalidTransition(_("您已提交过本次调查的答卷。"))


def _survey_close(user: Any, survey: SatisfactionSurvey) -> None:
    require_scorecard(survey.contract)
    require_party(user, survey.contract, PartyRole.BUREAU, PartyRole.AUDITOR)
    _may_move(survey, SURVEY_TRANSITIONS, SurveyStatus.CLOSED)


SURVEY_ACTIONS = ActionRules({"respond": _survey_respond, "close": _survey_close})


def survey_available_actions(*, user: Any, obj: SatisfactionSurvey) -> frozenset[str]:
    return SURVEY_ACTIONS.available(user, obj)


# ---------------------------------------------------------------- improvement notices

NOTICE_ISSUERS = (PartyRole.BUREAU, PartyRole.SUPERVISOR, PartyRole.AUDITOR)


def _notice_fix(user: Any, notice: ImprovementNotice) -> None:
    require_party(user, notice.contract, PartyRole.VENDOR)
    _may_move(notice, NOTICE_TRANSITIONS, NoticeStatus.FIXED)


def _notice_confirm(user: Any, notice: ImprovementNotice) -> None:
    joint = required_roles(notice.contract, JointSubject.IMPROVEMENT_REPORT)
    if joint is not None:
        # BT 附件2 §9: the report is confirmed jointly, on its joint-confirmation panel.
        raise ActionForbidden(
            _("整改报告须经%(roles)s共同确认，请在会签中确认或提出异议。")
            % {"roles": roles_text(joint)}
        )
    role = require_party(user, notice.contract, *NOTICE_ISSUERS)
    if role != notice.issuer_role:
        raise ActionForbidden(
            _("只有发出整改通知的%(r)s可以确认整改。") % {"r": PartyRole(notice.issuer_role).label}
        )
    _may_move(notice, NOTICE_TRANSITIONS, NoticeStatus.CONFIRMED)


NOTICE_ACTIONS = ActionRules({"fix": _notice_fix, "confirm": _notice_confirm})


def notice_available_actions(*, user: Any, obj: ImprovementNotice) -> frozenset[str]:
    return NOTICE_ACTIONS.available(user, obj)


# ---------------------------------------------------------------- penalties


def penalty_recorder_role(contract: Contract) -> str:
    """Who records penalties: the supervisor, or the bureau on a contract without one."""
    return PartyRole.SUPERVISOR if has_supervisor(contract) else PartyRole.BUREAU


def _penalty_acknowledge(user: Any, penalty: Penalty) -> None:
    require_scorecard(penalty.contract)
    require_party(user, penalty.contract, PartyRole.VENDOR)
    _may_move(penalty, PENALTY_TRANSITIONS, PenaltyStatus.ACKNOWLEDGED)


def _penalty_withdraw(user: Any, penalty: Penalty) -> None:
    require_scorecard(penalty.contract)
    role = require_party(user, penalty.contract, PartyRole.SUPERVISOR, PartyRole.BUREAU)
    if role != penalty_recorder_role(penalty.contract):
        raise ActionForbidden(_("只有记录罚则的一方可以撤销。"))
    _may_move(penalty, PENALTY_TRANSITIONS, PenaltyStatus.WITHDRAWN)


PENALTY_ACTIONS = ActionRules({"acknowledge": _penalty_acknowledge, "withdraw": _penalty_withdraw})


def penalty_available_actions(*, user: Any, obj: Penalty) -> frozenset[str]:
    return PENALTY_ACTIONS.available(user, obj)


# ---------------------------------------------------------------- right-sizing


def _report_submit(user: Any, report: RightsizingReport) -> None:
    require_party(user, report.contract, PartyRole.VENDOR)
    _may_move(report, REPORT_TRANSITIONS, ReportStatus.SUBMITTED)
    # 附件2 7.3: the advice rests on "经三方确认无误的多云管理平台数据".
    months = confirmed_months(report.contract)
    if months is not None and report.month not in months:
        raise ApplicationError(
            _("%(m)s 的资源使用率数据尚未经%(roles)s共同确认，不能据此提交调整建议。")
            % {
                "m": f"{report.month:%Y-%m}",
                "roles": roles_text(
                    required_roles(report.contract, JointSubject.UTILIZATION_DATA) or []
                ),
            }
        )


def _report_recompute(user: Any, report: RightsizingReport) -> None:
    require_party(user, report.contract, PartyRole.VENDOR, PartyRole.BUREAU)
    if report.status != ReportStatus.DRAFT:
        raise InvalidTransition(_("已提交的调整建议不能重新计算。"))


def _report_mark_wrong(user: Any, report: RightsizingReport) -> None:
    require_scorecard(report.contract)  # a wrong month costs 2 points (附件2 7.3): scorecard only
    require_party(user, report.contract, PartyRole.BUREAU, PartyRole.SUPERVISOR)
    if report.status != ReportStatus.SUBMITTED:
        raise InvalidTransition(_("只有已提交的调整建议可以认定存在计算错误。"))
    if report.marked_wrong:
        raise InvalidTransition(_("该月调整建议已被认定存在计算错误。"))


def _report_render(user: Any, report: RightsizingReport) -> None:
    require_party(user, report.contract, PartyRole.VENDOR, PartyRole.BUREAU)


REPORT_ACTIONS = ActionRules(
    {
        "submit": _report_submit,
        "recompute": _report_recompute,
        "mark_wrong": _report_mark_wrong,
        "render": _report_render,
    }
)


def report_available_actions(*, user: Any, obj: RightsizingReport) -> frozenset[str]:
    return REPORT_ACTIONS.available(user, obj)


def _advice_decide(user: Any, advice: RightsizingAdvice) -> None:
    require_staff(user)
    if user.organization_id != advice.department_id:
        raise ActionForbidden(_("只有资源所属的使用单位可以确认调整建议。"))
    _may_move(advice, ADVICE_TRANSITIONS, AdviceStatus.ACCEPTED)


ADVICE_ACTIONS = ActionRules({"accept": _advice_decide, "decline": _advice_decide})


def advice_available_actions(*, user: Any, obj: RightsizingAdvice) -> frozenset[str]:
    return ADVICE_ACTIONS.available(user, obj)


# ---------------------------------------------------------------- maintenance notice duty


def _shortfall_note(user: Any, record: MaintenanceNoticeShortfall) -> None:
    require_party(user, record.contract, PartyRole.BUREAU)
    if record.status != ShortfallStatus.OPEN:
        raise InvalidTransition(_("甲方已知悉该记录。"))
    _may_move(record, SHORTFALL_TRANSITIONS, ShortfallStatus.NOTED)


SHORTFALL_ACTIONS = ActionRules({"note": _shortfall_note})


def shortfall_available_actions(*, user: Any, obj: MaintenanceNoticeShortfall) -> frozenset[str]:
    return SHORTFALL_ACTIONS.available(user, obj)


# ---------------------------------------------------------------- scorecard


class ServiceYearRunning(ApplicationError):
    """Finalising waits for the end of the service year (a 400, like any refusal)."""


class UnsignedMonths(ApplicationError):
    """Months of the service year still lack a signed statement (the annual fee is incomplete)."""


def _scorecard_may_close(user: Any, card: Scorecard) -> list[tuple[int, int]]:
    """The checks both ways of finalising share; returns the months still unsigned."""
    require_scorecard(card.contract)
    require_party(user, card.contract, PartyRole.BUREAU)
    sy = service_year(card.contract, card.service_year)
    if business_today() <= sy.end:
        raise ServiceYearRunning(
            _("服务年度 %(a)s 至 %(b)s 尚未结束，服务期满后才能定稿考核。")
            % {"a": sy.start.isoformat(), "b": sy.end.isoformat()}
        )
    if card.is_final:
        raise InvalidTransition(_("该服务年度的考核已定稿，不能再修改。"))
    return unsigned_months(card.contract, sy)


def _scorecard_finalise(user: Any, card: Scorecard) -> None:
    missing = _scorecard_may_close(user, card)
    if missing:
        raise UnsignedMonths(
            _(
                "以下月份的月度服务资源统计表尚未签认：%(m)s。年度服务费须按全部已签认的统计表"
                "计算，全部签认后才能定稿；如确需先行定稿，请填写原因强制定稿。"
            )
            % {"m": months_text(missing)},
            extra={"unsigned_months": [month_key(ym) for ym in missing]},
        )


def _scorecard_override(user: Any, card: Scorecard) -> None:
    if not _scorecard_may_close(user, card):
        raise InvalidTransition(_("服务年度各月统计表均已签认，直接定稿即可，无需强制定稿。"))


def _scorecard_render(user: Any, card: Scorecard) -> None:
    require_scorecard(card.contract)
    require_party(user, card.contract, PartyRole.BUREAU, PartyRole.SUPERVISOR)
    if card.is_final and card.pdf:
        raise InvalidTransition(_("定稿考核表的 PDF 已生成。"))


SCORECARD_ACTIONS = ActionRules(
    {
        "finalise": _scorecard_finalise,
        "override_finalise": _scorecard_override,
        "render": _scorecard_render,
    }
)


def scorecard_available_actions(*, user: Any, obj: Scorecard) -> frozenset[str]:
    return SCORECARD_ACTIONS.available(user, obj)


def scorecard_awaits_year_end(*, user: Any, obj: Scorecard) -> bool:
    """``user`` could finalise ``obj`` but for the service year still running."""
    try:
        SCORECARD_ACTIONS.require("override_finalise", user, obj)
    except ServiceYearRunning:
        return True
    except ApplicationError:
        return False
    return False


# ---------------------------------------------------------------- what a party may create


def _creates(*roles: str) -> Any:
    def check(user: Any, contract: Contract) -> None:
        require_party(user, contract, *roles)

    return check


def _scored(*roles: str) -> Any:
    """A create right that exists only under an SLA annex (the record feeds the scorecard)."""

    def check(user: Any, contract: Contract) -> None:
        require_scorecard(contract)
        require_party(user, contract, *roles)

    return check


def _penalty_create(user: Any, contract: Contract) -> None:
    # 罚则记录 (BT-2025 附件3 五) cost points or money through the scorecard only.
    require_scorecard(contract)
    require_party(user, contract, penalty_recorder_role(contract))


# Each create service calls ``CONTRACT_ACTIONS.require(<name>, actor, contract)``; the list
# pages offer their "new" links from ``contract_sla_actions`` (``obj`` is the contract).
CONTRACT_ACTIONS = ActionRules(
    {
        "outage_create": _creates(PartyRole.VENDOR),
        "incident_create": _creates(PartyRole.VENDOR, PartyRole.BUREAU, PartyRole.SUPERVISOR),
        "deliverable_create": _creates(PartyRole.BUREAU, PartyRole.VENDOR),
        "notice_create": _creates(*NOTICE_ISSUERS),
        "penalty_create": _penalty_create,
        "survey_create": _scored(PartyRole.BUREAU, PartyRole.AUDITOR),
        "emergency_create": _creates(PartyRole.BUREAU),
        "training_session_record": _scored(PartyRole.VENDOR),
        "metrics_upload": _creates(PartyRole.VENDOR),
    }
)


def contract_sla_actions(*, user: Any, contract: Contract) -> frozenset[str]:
    """What ``user`` may create on ``contract`` now (the list pages' "new" links)."""
    return CONTRACT_ACTIONS.available(user, contract)
