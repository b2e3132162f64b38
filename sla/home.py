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
    DeliverableStatus,
    NoticeStatus,
    OutageStatus,
    PenaltyStatus,
    RightsizingReport,
    SurveyStatus,
)
from sla.rules import UTILIZATION_FLOOR_PCT


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
    """The bureau's red line: last month's contract-wide averages below 30 %."""
    month = previous_month(business_today())
    low = []
    reports = RightsizingReport.objects.filter(
        contract_id__in=selectors.sla_contracts_for_user(user=user).values("pk"), month=month
    ).select_related("contract")
    for report in reports:
        for label, value in (("CPU", report.avg_cpu_pct), (_("内存"), report.avg_mem_pct)):
            if value is not None and value < UTILIZATION_FLOOR_PCT:
                low.append(f"{report.contract.code} {label} {value}%")
    if not low:
        return ""
    return _("⚠ %(m)s 整体平均使用率低于30%%（%(l)s），将扣除乙方年度服务费的20%%。") % {
        "m": f"{month:%Y-%m}",
        "l": "；".join(low),
    }


def _party_cards(user: User) -> list[home.Card]:
    kind = user.kind
    actions = [home.Action(_("服务水平"), reverse("sla_index"), primary=True)]
    text = _("服务中断、安全事件、交付物、培训、满意度、整改、罚则与资源调整建议，以及年度考核表。")
    if kind in (OrganizationKind.BUREAU, OrganizationKind.SUPERVISOR):
        pending = (
            selectors.outage_list_for_user(user=user).filter(status=OutageStatus.REPORTED).count()
        )
        actions.append(home.Action(_("中断待确认"), reverse("sla_index"), count=pending))
    if kind == OrganizationKind.BUREAU:
        reviews = (
            selectors.deliverable_list_for_user(user=user)
            .filter(status=DeliverableStatus.SUBMITTED)
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
        actions.append(home.Action(_("罚则待签认"), reverse("sla_index"), count=penalties))
    return [home.Card(_("服务水平考核"), text, actions, order=40)]


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
