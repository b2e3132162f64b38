"""Joint confirmation (会签): a record counts only when every party the contract names confirmed.

The contract's term ``joint_confirmations`` maps a subject (``JointSubject``) to the party roles
that must confirm it (BT-2025: utilization data bureau + vendor + supervisor, 附件2 7.3;
improvement reports bureau + supervisor + auditor, §9; late-delivery exemptions bureau +
supervisor, §2; incident level bureau, §4). A subject the terms do not list keeps the one-party
rule its workflow already has: ``required_roles`` answers None and ``is_confirmed`` True.

The higher apps own the records being confirmed (a utilization month, an improvement notice, a
ticket's exemption). They open a confirmation for their object (``joint_open``), restart it when
they revise the object after an objection or a change (``joint_restart``), read ``is_confirmed``
and hear ``joint_confirmed`` / ``joint_objected`` when the last party confirms or one objects.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import QuerySet
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.access import party_role_of, require_staff
from govcloud.audit import audit_log, snapshot
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.models import (
    Contract,
    JointConfirmation,
    JointConfirmationEntry,
    JointDecision,
    JointStatus,
    JointSubject,
    Organization,
    PartyRole,
    User,
)
from govcloud.selectors import contract_ids_for_user, get_or_404
from govcloud.workflow import ActionRules

__all__ = [
    "JOINT_ACTIONS",
    "is_confirmed",
    "joint_available_actions",
    "joint_confirm",
    "joint_confirmed",
    "joint_for",
    "joint_get_for_user",
    "joint_list_for_user",
    "joint_object",
    "joint_objected",
    "joint_open",
    "joint_restart",
    "joint_rows",
    "required_roles",
]

#: Sent inside the transaction of the last confirmation:
#: ``joint_confirmed(sender=JointConfirmation, confirmation=…)``. Higher apps connect to it to
#: let the confirmed record take effect (a notice fixed, a breach exempted); a receiver's
#: refusal undoes the confirmation with it.
joint_confirmed = Signal()
#: Sent inside the transaction of an objection: ``joint_objected(sender=JointConfirmation,
#: confirmation=…, entry=…)``; the originator revises and restarts.
joint_objected = Signal()

AUDIT_FIELDS = ("status", "round", "required_roles", "confirmed_at")


def _workflow_roles(contract: Contract, subject: str) -> list[str] | None:
    """Who confirms a subject the terms do not list but the product always has confirmed.

    A deduction that the terms make effective only on the vendor's signature is acknowledged by
    the vendor. A delivery time recorded earlier than the tolerance allows is confirmed by the
    parties who approved the ticket (the review chain: 包头 bureau and supervisor, 焦作 bureau);
    a correction of the inventory by those who sign the monthly statement it changes (the
    sign-off parties).
    """
    if subject == JointSubject.DEDUCTION_ACKNOWLEDGEMENT:
        # 包头 7.1.2 "乙方签字确认后生效": the term alone names the vendor as the one who signs.
        return [str(PartyRole.VENDOR)] if contract.deduction_needs_vendor_ack else None
    if subject == JointSubject.DELIVERY_TIME:
        parties = contract.review_chain
    elif subject == JointSubject.INVENTORY_CORRECTION:
        parties = contract.signoff_parties
    else:
        return None
    roles = list(dict.fromkeys(str(p.role) for p in parties))
    return roles or [str(PartyRole.BUREAU)]


def required_roles(contract: Contract, subject: str) -> list[str] | None:
    """The roles the contract's terms name for ``subject``; None where the terms name none.

    Two subjects fall back on the contract's workflow where the terms are silent
    (``_workflow_roles``); every other unnamed subject keeps its one-party rule (None).
    """
    roles = (contract.joint_confirmations or {}).get(str(subject))
    if roles:
        return list(roles)
    return _workflow_roles(contract, str(subject))


def _target(obj: models.Model) -> tuple[ContentType, int]:
    if obj.pk is None:
        raise RuntimeError("A joint confirmation needs a saved object.")
    return ContentType.objects.get_for_model(obj, for_concrete_model=False), int(obj.pk)


def joint_for(obj: models.Model, subject: str) -> JointConfirmation | None:
    """The confirmation of ``obj`` for ``subject``, if one was opened."""
    content_type, object_id = _target(obj)
    return (
        JointConfirmation.objects.filter(
            content_type=content_type, object_id=object_id, subject=subject
        )
        .select_related("contract")
        .first()
    )


def is_confirmed(obj: models.Model, subject: str, *, contract: Contract) -> bool:
    """Whether ``obj`` counts for ``subject``: jointly confirmed, or the terms ask no one."""
    if required_roles(contract, subject) is None:
        return True
    confirmation = joint_for(obj, subject)
    return confirmation is not None and confirmation.status == JointStatus.CONFIRMED


def confirmed_ids(model: type[models.Model], subject: str, ids: list[int]) -> set[int]:
    """Of the objects ``ids`` of ``model``, those whose ``subject`` confirmation is confirmed."""
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    return set(
        JointConfirmation.objects.filter(
            content_type=content_type,
            subject=subject,
            object_id__in=ids,
            status=JointStatus.CONFIRMED,
        ).values_list("object_id", flat=True)
    )


# ------------------------------------------------------------------------------ rules


def _current_entries(confirmation: JointConfirmation) -> list[JointConfirmationEntry]:
    return [e for e in confirmation.entries.all() if e.round == confirmation.round]


def _require_named_party(user: Any, confirmation: JointConfirmation) -> str:
    require_staff(user)
    role = party_role_of(user, confirmation.contract)
    if role is None or role not in confirmation.required_roles or user.organization_id is None:
        raise ActionForbidden(
            _("本事项须由%(roles)s共同确认，您所在单位不在其列。")
            % {"roles": roles_text(confirmation.required_roles)}
        )
    if any(e.role == role for e in _current_entries(confirmation)):
        raise InvalidTransition(
            _("%(role)s已在本轮签署意见，不能重复。") % {"role": PartyRole(role).label}
        )
    return role


def _organization(user: User) -> Organization:
    if user.organization is None:  # _require_named_party found the user a party
        raise RuntimeError("A party's user without an organisation.")
    return user.organization


def _check_decide(user: Any, confirmation: JointConfirmation) -> None:
    if confirmation.status != JointStatus.OPEN:
        raise InvalidTransition(
            _("该事项%(s)s，不能再签署意见。") % {"s": confirmation.get_status_display()}
        )
    _require_named_party(user, confirmation)


JOINT_ACTIONS = ActionRules({"confirm": _check_decide, "object": _check_decide})


def joint_available_actions(*, user: Any, obj: JointConfirmation) -> frozenset[str]:
    """What ``user`` may do on the confirmation now (confirm / object)."""
    return JOINT_ACTIONS.available(user, obj)


def roles_text(roles: list[str]) -> str:
    return "、".join(str(PartyRole(r).label) for r in roles)


# ------------------------------------------------------------------------------ services


@transaction.atomic
def joint_open(
    *, actor: Any, contract: Contract, subject: str, obj: models.Model, title: str
) -> JointConfirmation | None:
    """Open the confirmation of ``obj`` for ``subject`` (idempotent: the existing one as is).

    Returns None where the terms name no parties for the subject (one-party rule). The roles
    are snapshotted now.
    """
    roles = required_roles(contract, subject)
    if roles is None:
        return None
    if subject not in JointSubject.values:
        raise ApplicationError(_("未知的共同确认事项。"))
    content_type, object_id = _target(obj)
    confirmation, created = JointConfirmation.objects.get_or_create(
        content_type=content_type,
        object_id=object_id,
        subject=subject,
        defaults={"contract": contract, "title": title[:200], "required_roles": roles},
    )
    if created:
        audit_log(
            actor=actor,
            action="joint.open",
            obj=confirmation,
            after=snapshot(confirmation, AUDIT_FIELDS),
            contract=contract,
        )
    return confirmation


def _lock(confirmation: JointConfirmation) -> tuple[JointConfirmation, dict[str, Any]]:
    locked = (
        JointConfirmation.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=confirmation.pk)
    )
    return locked, snapshot(locked, AUDIT_FIELDS)


@transaction.atomic
def joint_restart(
    *, actor: Any, confirmation: JointConfirmation, note: str = ""
) -> JointConfirmation:
    """The originator revised the record: a new round in which every party confirms again.

    A no-op while the current round has no entry yet (nothing to confirm again).
    """
    confirmation, before = _lock(confirmation)
    if confirmation.status == JointStatus.OPEN and not _current_entries(confirmation):
        return confirmation
    confirmation.round += 1
    confirmation.status = JointStatus.OPEN
    confirmation.confirmed_at = None
    confirmation.save(update_fields=["round", "status", "confirmed_at"])
    audit_log(
        actor=actor,
        action="joint.restart",
        obj=confirmation,
        before=before,
        after={**snapshot(confirmation, AUDIT_FIELDS), "note": note},
        contract=confirmation.contract,
    )
    return confirmation


@transaction.atomic
def joint_confirm(*, actor: User, confirmation: JointConfirmation) -> JointConfirmation:
    """A named party confirms (once per round); the last one makes the record count."""
    confirmation, before = _lock(confirmation)
    JOINT_ACTIONS.require("confirm", actor, confirmation)
    role = _require_named_party(actor, confirmation)
    organization = _organization(actor)
    JointConfirmationEntry.objects.create(
        confirmation=confirmation,
        round=confirmation.round,
        role=role,
        organization=organization,
        user=actor,
        decision=JointDecision.CONFIRM,
    )
    done = {e.role for e in _current_entries(confirmation)}
    if set(confirmation.required_roles) <= done:
        confirmation.status = JointStatus.CONFIRMED
        confirmation.confirmed_at = timezone.now()
        confirmation.save(update_fields=["status", "confirmed_at"])
    audit_log(
        actor=actor,
        action="joint.confirm",
        obj=confirmation,
        before=before,
        after={**snapshot(confirmation, AUDIT_FIELDS), "role": role},
        contract=confirmation.contract,
    )
    if confirmation.status == JointStatus.CONFIRMED:
        joint_confirmed.send(sender=JointConfirmation, confirmation=confirmation)
    return confirmation


@transaction.atomic
def joint_object(*, actor: User, confirmation: JointConfirmation, reason: str) -> JointConfirmation:
    """A named party objects, with its reason; the round stops until the originator revises."""
    confirmation, before = _lock(confirmation)
    JOINT_ACTIONS.require("object", actor, confirmation)
    role = _require_named_party(actor, confirmation)
    organization = _organization(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("提出异议须填写理由。"), extra={"field": "reason"})
    entry = JointConfirmationEntry.objects.create(
        confirmation=confirmation,
        round=confirmation.round,
        role=role,
        organization=organization,
        user=actor,
        decision=JointDecision.OBJECT,
        reason=reason,
    )
    confirmation.status = JointStatus.OBJECTED
    confirmation.save(update_fields=["status"])
    audit_log(
        actor=actor,
        action="joint.object",
        obj=confirmation,
        before=before,
        after={**snapshot(confirmation, AUDIT_FIELDS), "role": role, "reason": reason},
        contract=confirmation.contract,
    )
    joint_objected.send(sender=JointConfirmation, confirmation=confirmation, entry=entry)
    return confirmation


# ------------------------------------------------------------------------------ selectors


def joint_list_for_user(*, user: Any) -> QuerySet[JointConfirmation]:
    """Confirmations of the contracts the user may see (departments: none — not a party)."""
    qs = JointConfirmation.objects.select_related("contract").prefetch_related(
        "entries__user", "entries__organization", "contract__parties"
    )
    if getattr(user, "is_superuser", False):
        return qs
    organization = getattr(user, "organization", None)
    if organization is None or organization.kind == "department":
        return qs.none()
    return qs.filter(contract_id__in=contract_ids_for_user(user))


def joint_get_for_user(*, user: Any, pk: object) -> JointConfirmation:
    return get_or_404(joint_list_for_user(user=user), pk=pk)


def joint_rows(confirmation: JointConfirmation) -> list[dict[str, Any]]:
    """Per required role of the current round: who confirmed when, or objected why (or waits).

    Earlier rounds follow, newest first, for the history.
    """
    current = {e.role: e for e in _current_entries(confirmation)}
    return [
        {"role": role, "role_label": PartyRole(role).label, "entry": current.get(role)}
        for role in confirmation.required_roles
    ]


def joint_history(confirmation: JointConfirmation) -> list[JointConfirmationEntry]:
    return sorted(
        (e for e in confirmation.entries.all() if e.round < confirmation.round),
        key=lambda e: (-e.round, e.at, e.pk),
    )
