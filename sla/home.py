"""The SLA's menu entry and home-page cards (registered from ``SlaConfig.ready``)."""

from __future__ import annotations

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


def _sees_sla(user: object) -> bool:
    return getattr(user, "role", None) == Role.STAFF and getattr(user, "kind", None) in set(
        OrganizationKind.values
    )


def _department_cards(user: User) -> list[home.Card]:
    surveys = (
        selectors.survey_list_for_user(user=user)
        .filter(status=SurveyStatus.OPEN)
        .exclude(responses__respondent=user)
        .count()
    )
    advice = selectors.advice_list_for_user(user=user).filter(status=AdviceStatus.SUBMITTED).count()
    if not surveys and not advice:
        return []
    return [
        home.Card(
            _("服务评价与资源调整"),
            _("填写政务云用户满意度调查；确认乙方提出的本单位资源调整建议。"),
            [home.Action(_("待办"), reverse("sla_index"), count=surveys + advice, primary=True)],
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
        short = (
            selectors.shortfall_list_for_user(user=user).filter(status=ShortfallStatus.OPEN).count()
        )
        if short:
            actions.append(home.Action(_("维护通知不足"), reverse("sla_index"), count=short))
    if kind in (OrganizationKind.BUREAU, OrganizationKind.SUPERVISOR):
        pending = (
            selectors.outage_list_for_user(user=user).filter(status=OutageStatus.REPORTED).count()
        )
        actions.append(home.Action(_("中断待确认"), reverse("sla_index"), count=pending))
    if kind == OrganizationKind.BUREAU:
        reviews = (
            selectors.deliverable_list_for_user(user=user)
            .filter(status=DeliverableStatus.SUBMITTED)
            .exclude(kind=DeliverableKind.STATEMENT)
            .count()
        )
        actions.append(home.Action(_("交付物待审核"), reverse("sla_index"), count=reviews))
        warning = _utilization_warning(user)
        if warning:
            text = f"{warning} {text}"
    if kind == OrganizationKind.VENDOR:
        notices = (
            selectors.notice_list_for_user(user=user).filter(status=NoticeStatus.ISSUED).count()
        )
        penalties = (
            selectors.penalty_list_for_user(user=user).filter(status=PenaltyStatus.RECORDED).count()
        )
        actions.append(home.Action(_("整改待完成"), reverse("sla_index"), count=notices))
        if scored:
            actions.append(home.Action(_("罚则待签认"), reverse("sla_index"), count=penalties))
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
