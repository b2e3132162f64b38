"""The SLA's menu entry and home-page cards (registered from ``SlaConfig.ready``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from govcloud import home, navigation
from govcloud.dates import business_today, previous_month
from govcloud.models import OrganizationKind, Role, User
from sla import selectors
from sla.models import (
    AdviceStatus,
    DeliverableKind,
    DeliverableStatus,
    NoticeStatus,
    OutageStatus,
    PenaltyStatus,
    RightsizingReport,
    ShortfallStatus,
    SurveyStatus,
)
from sla.rules import utilization_low
from sla.services.common import utilization_rule

# ---------------------------------------------------------------- to-do lists behind the counts


@dataclass(frozen=True)
class Todo:
    """One to-do of the home page: the rows it counts are the rows its page lists (one
    queryset for both, so the count on the card and the list it links to never disagree)."""

    key: str
    title: object  # lazily translated
    rows: Callable[[User], QuerySet]
    detail: str  # URL name of a row's page ("" : the contract's list)


def _open_surveys(user: User) -> QuerySet:
    return (
        selectors.survey_list_for_user(user=user)
        .filter(status=SurveyStatus.OPEN)
        .exclude(responses__respondent=user)
    )


TODOS = {
    todo.key: todo
    for todo in (
        Todo(
            "surveys",
            gettext_lazy("待填写的满意度调查"),
            _open_surveys,
            "sla_survey_detail",
        ),
        Todo(
            "shortfalls",
            gettext_lazy("维护通知不足，待甲方知悉"),
            lambda user: selectors.shortfall_list_for_user(user=user).filter(
                status=ShortfallStatus.OPEN
            ),
            "",
        ),
        Todo(
            "outages",
            gettext_lazy("服务中断待确认"),
            lambda user: selectors.outage_list_for_user(user=user).filter(
                status=OutageStatus.REPORTED
            ),
            "sla_outage_detail",
        ),
        Todo(
            "deliverables",
            gettext_lazy("交付物待审核"),
            lambda user: (
                selectors.deliverable_list_for_user(user=user)
                .filter(status=DeliverableStatus.SUBMITTED)
                .exclude(kind=DeliverableKind.STATEMENT)
            ),
            "sla_deliverable_detail",
        ),
        Todo(
            "notices",
            gettext_lazy("整改待完成"),
            lambda user: selectors.notice_list_for_user(user=user).filter(
                status=NoticeStatus.ISSUED
            ),
            "sla_notice_detail",
        ),
        Todo(
            "penalties",
            gettext_lazy("罚则待签认"),
            lambda user: selectors.penalty_list_for_user(user=user).filter(
                status=PenaltyStatus.RECORDED
            ),
            "sla_penalty_detail",
        ),
    )
}


def _todo(label: str, key: str, user: User, **kwargs) -> home.Action:
    return home.Action(
        label, reverse(f"sla_todo_{key}"), count=TODOS[key].rows(user).count(), **kwargs
    )


def advice_to_answer_url() -> str:
    return f"{reverse('sla_advice_list')}?status={AdviceStatus.SUBMITTED}"


def _sees_sla(user: object) -> bool:
    return getattr(user, "role", None) == Role.STAFF and getattr(user, "kind", None) in set(
        OrganizationKind.values
    )


def _department_cards(user: User) -> list[home.Card]:
    surveys = _todo(_("满意度调查待填写"), "surveys", user, primary=True)
    advice = home.Action(
        _("资源调整建议待确认"),
        advice_to_answer_url(),
        count=selectors.advice_list_for_user(user=user)
        .filter(status=AdviceStatus.SUBMITTED)
        .count(),
        primary=True,
    )
    if not surveys.count and not advice.count:
        return []
    return [
        home.Card(
            _("服务评价与资源调整"),
            _("填写政务云用户满意度调查；确认乙方提出的本单位资源调整建议（可勾选多条一并确认）。"),
            [a for a in (advice, surveys) if a.count],
            order=30,
        )
    ]


def _utilization_warning(user: User) -> str:
    """The bureau's red line: last month's contract-wide averages below the threshold of a
    contract whose terms have a utilization rule (BT-2025 附件2 7.3: below 30 % → 20 %)."""
    month = previous_month(business_today())
    warnings = []
    reports = RightsizingReport.objects.filter(
        contract_id__in=selectors.sla_contracts_for_user(user=user).values("pk"), month=month
    ).select_related("contract")
    for report in reports:
        rule = utilization_rule(report.contract)
        if rule is None:
            continue
        values = {"CPU": report.avg_cpu_pct, "内存": report.avg_mem_pct}
        low = utilization_low(report.avg_cpu_pct, report.avg_mem_pct, rule[0])
        if low:
            warnings.append(
                _("%(code)s %(l)s 低于%(t)s%%，将扣除乙方年度服务费的%(c)s%%")
                % {
                    "code": report.contract.code,
                    "l": "、".join(f"{label} {values[label]}%" for label in low),
                    "t": format(rule[0].normalize(), "f"),
                    "c": format(rule[1].normalize(), "f"),
                }
            )
    if not warnings:
        return ""
    return _("⚠ %(m)s 整体平均使用率：%(w)s。") % {"m": f"{month:%Y-%m}", "w": "；".join(warnings)}


def _party_cards(user: User) -> list[home.Card]:
    kind = user.kind
    actions = [home.Action(_("服务水平"), reverse("sla_index"), primary=True)]
    # Scorecard work is offered only where a contract's terms include an SLA annex.
    scored = selectors.sla_contracts_for_user(user=user).exclude(scorecard="").exists()
    if scored:
        text = _(
            "服务中断、安全事件、交付物、培训、满意度、整改、罚则与资源调整建议，以及年度考核表。"
        )
    else:
        text = _("服务中断与计划内维护、安全事件、交付物、书面整改通知与资源调整建议。")
    if kind == OrganizationKind.BUREAU:
        short = _todo(_("维护通知不足"), "shortfalls", user)
        if short.count:
            actions.append(short)
    if kind in (OrganizationKind.BUREAU, OrganizationKind.SUPERVISOR):
        actions.append(_todo(_("中断待确认"), "outages", user))
    if kind == OrganizationKind.BUREAU:
        actions.append(_todo(_("交付物待审核"), "deliverables", user))
        warning = _utilization_warning(user)
        if warning:
            text = f"{warning} {text}"
    if kind == OrganizationKind.VENDOR:
        actions.append(_todo(_("整改待完成"), "notices", user))
        if scored:
            actions.append(_todo(_("罚则待签认"), "penalties", user))
    title = _("服务水平考核") if scored else _("服务水平")
    return [home.Card(title, text, actions, order=40)]


def sla_cards(user: User) -> list[home.Card]:
    if not _sees_sla(user):
        return []
    if user.kind == OrganizationKind.DEPARTMENT:
        return _department_cards(user)
    return _party_cards(user)


def register_home() -> None:
    home.register(sla_cards)
    navigation.register(
        navigation.NavItem(gettext_lazy("服务水平"), "sla_index", _sees_sla),
        before="contract_list",
    )
