"""Template helpers of the SLA pages: status badges and the contract's sub-navigation."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from govcloud.access import role_on_contract

register = template.Library()

_BADGES = {
    "text-bg-secondary": {"draft", "pending", "recorded", "missing"},
    "text-bg-primary": {"reported", "submitted", "issued", "open", "live"},
    "text-bg-warning": {"fixed", "rejected", "declined"},
    "text-bg-success": {
        "confirmed",
        "assessed",
        "accepted",
        "approved",
        "acknowledged",
        "finalised",
        "noted",
    },
    "text-bg-light border": {"closed", "withdrawn", "waived"},
}


@register.filter
def status_class(status: str) -> str:
    """Bootstrap badge classes for a status value (no custom styles needed)."""
    for css, statuses in _BADGES.items():
        if status in statuses:
            return css
    return "text-bg-light border"


@register.simple_tag(takes_context=True)
def sla_tabs(context: dict[str, Any], contract: Any, active: str = "") -> list[dict[str, Any]]:
    """The contract's SLA pages the viewer may open, for the tab bar."""
    role = context.get("role")
    if role is None:
        role = role_on_contract(context["request"].user, contract)
    pk = contract.pk
    tabs = [("overview", _("概览"), reverse("sla_contract", args=[pk]))]
    if role == "department":
        if contract.scorecard:
            tabs += [("surveys", _("满意度调查"), reverse("sla_survey_list", args=[pk]))]
        tabs += [
            ("utilization", _("资源使用率"), reverse("sla_utilization", args=[pk])),
            ("rightsizing", _("资源调整建议"), reverse("sla_report_list", args=[pk])),
        ]
    else:
        # Scorecard-only pages (checklist, training, surveys, penalties) are not offered where
        # the contract's terms include no SLA annex; their URLs still answer, and say so.
        scored = bool(contract.scorecard)
        tabs += [("outages", _("服务中断"), reverse("sla_outage_list", args=[pk]))]
        if contract.maintenance_notice_hours is not None:
            tabs += [("shortfalls", _("维护通知"), reverse("sla_shortfall_list", args=[pk]))]
        tabs += [("incidents", _("安全事件"), reverse("sla_incident_list", args=[pk]))]
        if scored:
            tabs += [
                ("security", _("安全机制"), reverse("sla_security_list", args=[pk])),
                ("training", _("培训"), reverse("sla_training_list", args=[pk])),
            ]
        tabs += [("deliverables", _("交付物"), reverse("sla_deliverable_list", args=[pk]))]
        if scored:
            tabs += [("surveys", _("满意度"), reverse("sla_survey_list", args=[pk]))]
        tabs += [("notices", _("整改通知"), reverse("sla_notice_list", args=[pk]))]
        tabs += [("exit", _("退出与交接"), reverse("sla_exit", args=[pk]))]
        if scored:
            tabs += [("penalties", _("罚则"), reverse("sla_penalty_list", args=[pk]))]
        tabs += [
            ("utilization", _("使用率"), reverse("sla_utilization", args=[pk])),
            ("rightsizing", _("调整建议"), reverse("sla_report_list", args=[pk])),
            ("emergencies", _("紧急保障期"), reverse("sla_emergency_list", args=[pk])),
        ]
    return [{"key": k, "label": label, "url": url, "active": k == active} for k, label, url in tabs]
