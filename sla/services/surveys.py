"""User satisfaction surveys (用户满意度, 附件2 §8).

"项目考核前，甲方、审计方组织开展政务云用户满意度问卷调查": the bureau or the auditor opens the
survey of a service year; department users answer with the questionnaire's total score
(用户满意度评分总分, 0–100) and a comment. Mean = Σ scores / n answers; coverage = answers /
eligible users ("调查对象应不小于平台用户的95%"), where the platform's users are the active
business accounts of the departments under the contract's bureau.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.money import round_half_up
from govcloud.audit import audit_log, snapshot
from govcloud.dates import business_today
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract, OrganizationKind, Role, User
from sla import notifications
from sla.models import SURVEY_TRANSITIONS, SatisfactionSurvey, SurveyResponse, SurveyStatus
from sla.services.actions import CONTRACT_ACTIONS, SURVEY_ACTIONS
from sla.services.common import (
    service_year,
    set_status,
)

AUDIT_FIELDS = ("status", "closes_on", "closed_at", "eligible_count")
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class SurveyStats:
    answered: int
    eligible: int
    mean: Decimal | None
    coverage_pct: Decimal | None


def eligible_users(contract: Contract) -> QuerySet[User]:
    """Active business accounts of the departments under the contract's bureau."""
    bureau = contract.bureau
    return User.objects.filter(
        is_active=True,
        role=Role.STAFF,
        organization__kind=OrganizationKind.DEPARTMENT,
        organization__parent_id=bureau.pk if bureau else None,
    )


def survey_stats(survey: SatisfactionSurvey) -> SurveyStats:
    """Mean score and coverage; a closed survey uses the eligible count frozen at its close."""
    agg = survey.responses.aggregate(n=Count("id"), mean=Avg("score"))
    answered = agg["n"] or 0
    eligible = (
        survey.eligible_count
        if survey.eligible_count is not None
        else eligible_users(survey.contract).count()
    )
    mean = None
    if answered:
        total = sum(survey.responses.values_list("score", flat=True))
        mean = round_half_up(Decimal(total) / answered)
    coverage = None
    if eligible:
        coverage = round_half_up(min(HUNDRED, Decimal(answered) * HUNDRED / eligible))
    return SurveyStats(answered=answered, eligible=eligible, mean=mean, coverage_pct=coverage)


@transaction.atomic
def survey_open(
    *,
    actor: User,
    contract: Contract,
    year: int,
    title: str = "",
    instructions: str = "",
    closes_on: date | None = None,
) -> SatisfactionSurvey:
    """The bureau or the auditor opens the service year's survey and invites the departments."""
    CONTRACT_ACTIONS.require("survey_create", actor, contract)
    service_year(contract, year)
    if closes_on is not None and closes_on < business_today():
        raise ApplicationError(_("截止日期不能早于今天。"), extra={"field": "closes_on"})
    survey = SatisfactionSurvey(
        contract=contract,
        service_year=year,
        title=(title.strip() or _("%(year)s 服务年度政务云用户满意度调查") % {"year": year})[:200],
        instructions=instructions.strip(),
        closes_on=closes_on,
        opened_by=actor,
    )
    try:
        with transaction.atomic():
            survey.save()
    except IntegrityError:
        raise ApplicationError(_("该服务年度已发起过满意度调查。")) from None
    audit_log(
        actor=actor,
        action="survey.open",
        obj=survey,
        after=snapshot(survey, AUDIT_FIELDS),
        contract=contract,
    )
    notifications.send(
        key=f"survey:{survey.pk}:opened",
        contract=contract,
        recipients=[u.email for u in eligible_users(contract) if u.email],
        subject=survey.title,
        body=_("请登录平台填写政务云用户满意度调查表（总分0–100分）。%(until)s")
        % {"until": _("截止日期：%(d)s。") % {"d": closes_on.isoformat()} if closes_on else ""},
        url=notifications.link("sla_survey_detail", survey.pk),
    )
    return survey


@transaction.atomic
def survey_respond(
    *, actor: User, survey: SatisfactionSurvey, score: int, comment: str = ""
) -> SurveyResponse:
    """A department user answers once, while the survey is open."""
    survey = (
        SatisfactionSurvey.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=survey.pk)
    )
    SURVEY_ACTIONS.require("respond", actor, survey)
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise ApplicationError(
            _("满意度评分必须是 0 到 100 之间的整数。"), extra={"field": "score"}
        )
    department = actor.organization
    if department is None:
        raise RuntimeError("The 'respond' rule admitted a user without an organization.")
    response = SurveyResponse.objects.create(
        survey=survey,
        respondent=actor,
        department=department,
        score=score,
        comment=comment.strip(),
    )
    audit_log(
        actor=actor,
        action="survey.respond",
        obj=survey,
        after={"score": score},
        contract=survey.contract,
    )
    return response


@transaction.atomic
def survey_close(*, actor: User, survey: SatisfactionSurvey) -> SatisfactionSurvey:
    """Close the survey; the number of eligible users is frozen for the coverage."""
    survey = (
        SatisfactionSurvey.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=survey.pk)
    )
    before = snapshot(survey, AUDIT_FIELDS)
    SURVEY_ACTIONS.require("close", actor, survey)
    set_status(survey, SURVEY_TRANSITIONS, SurveyStatus.CLOSED)
    survey.closed_by, survey.closed_at = actor, timezone.now()
    survey.eligible_count = eligible_users(survey.contract).count()
    survey.save()
    audit_log(
        actor=actor,
        action="survey.close",
        obj=survey,
        before=before,
        after=snapshot(survey, AUDIT_FIELDS),
    )
    return survey
