"""Delivery-time integrity and the department's receipt (签收) of a delivered ticket.

**The delivery time.** BT 5.4 bills from "多云管理平台上乙方交付工单时间" and 附件2 §2.3 measures
the delivery clock "到乙方开通工单资源止": the time the vendor enters on the platform decides the
breach and the start of billing. A vendor may record a delivery a little after the fact, so a
time not earlier than the moment it is recorded minus the contract's tolerance
(``delivery_time_tolerance_hours``, default 2 h; 0 = not earlier than the recorded moment) is
accepted as is. Anything earlier is a *claimed* time: it needs a reason and evidence and counts
only once the parties ``govcloud.joint.required_roles(contract, DELIVERY_TIME)`` names have
confirmed it (where the terms are silent, the ticket's review chain: BT bureau + supervisor, JZ
bureau). Until then — and for good after an objection the vendor does not answer with a revised
claim — the recorded moment is the delivery time for everything: breach, elapsed working days,
the resources' online and billing start, the test period.

The tolerance is compared at minute resolution (the portal's time field has minutes): a time in
the same minute as the recording is never a claim, whatever the tolerance.

**The receipt.** The requesting department confirms it received what it asked for, or reports
a problem (not received / not as requested) with its reason; the vendor and the bureau hear of
it. Reading of the texts: BT 5.4 fixes online and offline times by the vendor's delivery on the
platform, not by the user's acknowledgement, and BT 7.2.1 (third payment: 经用户单位确认资源
使用总量) asks the users' confirmation of the total resources used once, for the final
settlement. The receipt is therefore a record, not a condition: it changes neither billing nor
the delivery clock, nor the delivery-time claim (the department is no party to it). A
problem is what the bureau acts on (附件3 二(一)2: 甲方有权不确认该资源申请单所确定的服务资源)
through an inventory correction or the statement's dispute, both outside this module.

``DELIVERY_ACTIONS`` is the one rule set of these steps (service, page, API read it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from govcloud.access import require_staff
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import PartyRole
from govcloud.workflow import ActionRules, check_transition
from requests_app.models import (
    RECEIPT_TRANSITIONS,
    DeliveryClaimStatus,
    ReceiptStatus,
    RequestStatus,
    ResourceRequest,
)

__all__ = [
    "DELIVERY_ACTIONS",
    "delivery_available_actions",
    "needs_confirmation",
    "tolerance_threshold",
]


# ------------------------------------------------------------------------ the pure rule


def tolerance_threshold(recorded_at: datetime, tolerance_hours: int) -> datetime:
    """The earliest delivery time accepted as is when a delivery is recorded at ``recorded_at``:
    the recorded minute minus the tolerance."""
    if tolerance_hours < 0:
        raise ValueError(f"tolerance_hours must not be negative, got {tolerance_hours!r}")
    return recorded_at.replace(second=0, microsecond=0) - timedelta(hours=tolerance_hours)


def needs_confirmation(
    *, delivered_at: datetime, recorded_at: datetime, tolerance_hours: int
) -> bool:
    """Whether ``delivered_at`` is a claim (earlier than the tolerance allows)."""
    return delivered_at < tolerance_threshold(recorded_at, tolerance_hours)


# -------------------------------------------------------------------- who may do what


def _department_member(user: Any, ticket: ResourceRequest) -> None:
    require_staff(user)
    if user.organization_id != ticket.department_id:
        raise ActionForbidden(_("只有申请单位的人员可以签收或反馈问题。"))


def _check_receipt(target: str) -> Any:
    def check(user: Any, ticket: ResourceRequest) -> None:
        _department_member(user, ticket)
        if ticket.status != RequestStatus.DELIVERED:
            raise ApplicationError(_("只有已交付的工单可以签收或反馈问题。"))
        check_transition(
            RECEIPT_TRANSITIONS,
            current=ticket.receipt_status,
            target=target,
            labels=dict(ReceiptStatus.choices),
        )

    return check


def _check_revise_claim(user: Any, ticket: ResourceRequest) -> None:
    require_staff(user)
    if not any(
        p.organization_id == user.organization_id and p.role == PartyRole.VENDOR
        for p in ticket.contract.parties.all()
    ):
        raise ActionForbidden(_("只有本合同乙方可以修改交付时间申报。"))
    if ticket.delivery_claim_status != DeliveryClaimStatus.OBJECTED:
        raise ApplicationError(_("只有被提出异议的交付时间申报可以修改后重新提请确认。"))


DELIVERY_ACTIONS = ActionRules(
    {
        "confirm_receipt": _check_receipt(ReceiptStatus.RECEIVED),
        "report_receipt_problem": _check_receipt(ReceiptStatus.PROBLEM),
        "revise_delivery_claim": _check_revise_claim,
    }
)


def delivery_available_actions(*, user: Any, obj: ResourceRequest) -> frozenset[str]:
    """The receipt and claim steps ``user`` may take on the ticket now."""
    return DELIVERY_ACTIONS.available(user, obj)
