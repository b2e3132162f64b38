"""Security incidents (安全责任事故): reported, then assessed by the bureau or supervisor.

附件2 §4.3: levels Ⅰ/Ⅱ/Ⅲ cost ¥100,000 / ¥50,000 / ¥10,000; an incident the vendor did not
report "如实全面" (category, level, discovery, notification and resolution times, affected
systems, residual impact) costs 10 points. Incidents the bureau attributes to others do not
count ("经甲方…认定由非乙方引起的信息安全责任事故不包含在内").
"""

from __future__ import annotations

from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.audit import audit_log, snapshot
from govcloud.exceptions import ApplicationError
from govcloud.joint import JOINT_ACTIONS, joint_confirm, joint_open
from govcloud.models import Contract, JointSubject, PartyRole, User
from sla import notifications
from sla.models import INCIDENT_TRANSITIONS, IncidentLevel, IncidentStatus, SecurityIncident
from sla.services.actions import CONTRACT_ACTIONS, INCIDENT_ACTIONS
from sla.services.common import (
    full_clean,
    require_aware,
    require_text,
    set_status,
    validate_upload,
    year_of_moment,
)

AUDIT_FIELDS = ("status", "level", "occurred_at", "reported_at", "fully_reported", "vendor_caused")


@transaction.atomic
def incident_report(
    *,
    actor: User,
    contract: Contract,
    level: int,
    title: str,
    description: str,
    occurred_at: datetime,
    reported_at: datetime | None = None,
    resolved_at: datetime | None = None,
    affected_systems: str = "",
    evidence: UploadedFile | None = None,
) -> SecurityIncident:
    """The vendor reports an incident (the bureau or supervisor may record one it found)."""
    CONTRACT_ACTIONS.require("incident_create", actor, contract)
    if level not in IncidentLevel.values:
        raise ApplicationError(_("事故等级必须是Ⅰ至Ⅳ级。"), extra={"field": "level"})
    title = require_text(title, _("请填写标题。"), "title")
    description = require_text(description, _("请填写事件经过。"), "description")
    now = timezone.now()
    require_aware(occurred_at, _("请填写带时区的发现时间。"), "occurred_at")
    reported_at = reported_at or now
    require_aware(reported_at, _("请填写带时区的通报时间。"), "reported_at")
    if occurred_at > now:
        raise ApplicationError(_("发现时间不能晚于当前时间。"), extra={"field": "occurred_at"})
    if reported_at < occurred_at:
        raise ApplicationError(_("通报时间不能早于发现时间。"), extra={"field": "reported_at"})
    if resolved_at is not None and resolved_at < occurred_at:
        raise ApplicationError(_("解决时间不能早于发现时间。"), extra={"field": "resolved_at"})
    validate_upload(evidence, required=False, field="evidence")
    incident = SecurityIncident(
        contract=contract,
        service_year=year_of_moment(contract, occurred_at, field="occurred_at"),
        level=level,
        title=title[:200],
        description=description,
        affected_systems=affected_systems.strip(),
        occurred_at=occurred_at,
        reported_at=reported_at,
        resolved_at=resolved_at,
        reported_by=actor,
    )
    if evidence is not None:
        incident.evidence = evidence
    full_clean(incident, exclude=["evidence"])
    incident.save()
    audit_log(
        actor=actor,
        action="incident.report",
        obj=incident,
        after=snapshot(incident, AUDIT_FIELDS),
        contract=contract,
    )
    notifications.send(
        key=f"incident:{incident.pk}:reported",
        contract=contract,
        recipients=notifications.party_emails(contract, PartyRole.BUREAU, PartyRole.SUPERVISOR),
        subject=_("安全事件报告：%(level)s %(title)s")
        % {"level": incident.get_level_display(), "title": incident.title},
        body=_("发现时间：%(at)s\n%(description)s\n请认定责任及报告是否如实全面。")
        % {
            "at": timezone.localtime(occurred_at).strftime("%Y-%m-%d %H:%M"),
            "description": description,
        },
        url=notifications.link("sla_incident_detail", incident.pk),
    )
    return incident


@transaction.atomic
def incident_assess(
    *,
    actor: User,
    incident: SecurityIncident,
    fully_reported: bool,
    vendor_caused: bool = True,
    comment: str = "",
) -> SecurityIncident:
    """Bureau or supervisor: was it the vendor's, and was it reported truthfully and fully?"""
    incident = (
        SecurityIncident.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=incident.pk)
    )
    before = snapshot(incident, AUDIT_FIELDS)
    INCIDENT_ACTIONS.require("assess", actor, incident)
    if (not fully_reported or not vendor_caused) and not comment.strip():
        raise ApplicationError(
            _("认定未如实全面报告或非乙方责任时须说明理由。"), extra={"field": "comment"}
        )
    set_status(incident, INCIDENT_TRANSITIONS, IncidentStatus.ASSESSED)
    incident.fully_reported = fully_reported
    incident.vendor_caused = vendor_caused
    incident.assessment_comment = comment.strip()
    incident.assessed_by = actor
    incident.assessed_at = timezone.now()
    incident.save()
    audit_log(
        actor=actor,
        action="incident.assess",
        obj=incident,
        before=before,
        after={**snapshot(incident, AUDIT_FIELDS), "comment": comment},
    )
    # 附件2 §4: the level is the bureau's to confirm (the term ``joint_confirmations``); an
    # assessing party that is named confirms it at once, the others wait on its panel.
    confirmation = joint_open(
        actor=actor,
        contract=incident.contract,
        subject=JointSubject.INCIDENT_LEVEL,
        obj=incident,
        title=_("安全事件定级：%(level)s %(title)s")
        % {"level": incident.get_level_display(), "title": incident.title},
    )
    if confirmation is not None and JOINT_ACTIONS.allows("confirm", actor, confirmation):
        joint_confirm(actor=actor, confirmation=confirmation)
    notifications.send(
        key=f"incident:{incident.pk}:assessed",
        contract=incident.contract,
        recipients=notifications.party_emails(incident.contract, PartyRole.VENDOR),
        subject=_("安全事件已认定：%(title)s") % {"title": incident.title},
        body=_("乙方责任：%(vendor)s；如实全面报告：%(full)s。%(comment)s")
        % {
            "vendor": _("是") if vendor_caused else _("否"),
            "full": _("是") if fully_reported else _("否"),
            "comment": comment,
        },
        url=notifications.link("sla_incident_detail", incident.pk),
    )
    return incident
