"""Stable references from scorecard deductions to the events they cite, and their pages.

A reference is ``"<kind>:<id>"`` (``"outage:12"``), or for a rejected deliverable submission
``"submission:<deliverable id>:<submission id>"``; security-mechanism deductions cite the item
code (``"drill"``). The scorecard snapshot stores references, never URLs, so a finalised
scorecard keeps linking correctly when URLs change.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from sla.rules import SECURITY_MECHANISM_ITEMS

KIND_LABELS = {
    "outage": _("服务中断"),
    "incident": _("安全事件"),
    "ticket": _("资源申请工单"),
    "training": _("培训记录"),
    "deliverable": _("交付物"),
    "submission": _("交付物提交"),
    "notice": _("整改通知"),
    "rightsizing": _("资源调整建议"),
    "penalty": _("罚则记录"),
    "utilization": _("资源使用率"),
}


def _reverse(name: str, *args: object) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def ref_url(ref: str | None, *, contract_id: int, year: int) -> str:
    """The portal page of the event a deduction cites ('' when there is none)."""
    if not ref:
        return ""
    if ref in SECURITY_MECHANISM_ITEMS:
        return _reverse("sla_security_list", contract_id) + f"?year={year}#item-{ref}"
    kind, _sep, ident = ref.partition(":")
    if kind == "submission":
        deliverable_id, _sep, submission_id = ident.partition(":")
        url = _reverse("sla_deliverable_detail", int(deliverable_id))
        return f"{url}#submission-{submission_id}" if url else ""
    if kind == "utilization":
        return _reverse("sla_utilization", contract_id) + f"?year={year}"
    if kind == "training":
        return _reverse("sla_training_list", contract_id) + f"?year={year}"
    names = {
        "outage": "sla_outage_detail",
        "incident": "sla_incident_detail",
        "ticket": "request_detail",
        "deliverable": "sla_deliverable_detail",
        "notice": "sla_notice_detail",
        "rightsizing": "sla_report_detail",
        "penalty": "sla_penalty_detail",
    }
    if kind in names and ident.isdigit():
        return _reverse(names[kind], int(ident))
    return ""


def ref_label(ref: str | None) -> str:
    if not ref:
        return ""
    if ref in SECURITY_MECHANISM_ITEMS:
        return str(SECURITY_MECHANISM_ITEMS[ref])
    kind, _sep, ident = ref.partition(":")
    label = KIND_LABELS.get(kind, kind)
    if kind == "submission":
        return f"{label} #{ident.partition(':')[2]}"
    if kind == "utilization":
        return str(label)
    return f"{label} #{ident}"
