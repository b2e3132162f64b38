"""What a user may do with a ticket now: the one statement of the ticket workflow's rules.

Every service enforces its step with ``REQUEST_ACTIONS.require(action, actor, ticket)`` (after
locking the ticket); the ticket page, its template and the API only read
``request_available_actions``. A refusal is ``ActionForbidden`` (403) for the wrong person,
``InvalidTransition`` (409) for a state the transition table does not allow, and an
``ApplicationError`` (400) for the other preconditions, each with the message users see.

Input checks (a comment, a reason, a time) stay in the services: they are about what was
typed, not about who may act.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.access import require_staff
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.joint import joint_for, required_roles
from govcloud.models import (
    Contract,
    ContractParty,
    JointStatus,
    JointSubject,
    OrganizationKind,
    PartyRole,
)
from govcloud.workflow import ActionRules, check_transition
from requests_app.clocks import has_clock, may_extend
from requests_app.models import (
    EDITABLE_STATES,
    OPEN_REVIEW_STATES,
    TRANSITIONS,
    ExtensionStatus,
    RequestStatus,
    ResourceRequest,
)

__all__ = [
    "REQUEST_ACTIONS",
    "breach_judge_role",
    "current_reviewer_party",
    "may_request",
    "party_of",
    "request_available_actions",
    "require_may_request",
    "require_transition",
]


def require_transition(ticket: ResourceRequest, target: str) -> None:
    """InvalidTransition (409) unless the table allows ``ticket.status → target``."""
    check_transition(
        TRANSITIONS, current=ticket.status, target=target, labels=dict(RequestStatus.choices)
    )


def party_of(user: Any, contract: Contract, *roles: str) -> ContractParty:
    """The user's organisation's party on the contract in one of ``roles`` (else 403)."""
    for party in contract.parties.all():
        if party.organization_id == user.organization_id and party.role in roles:
            return party
    raise ActionForbidden(
        _("您的单位不是本合同的%(roles)s。")
        % {"roles": "、".join(str(PartyRole(r).label) for r in roles)}
    )


def current_reviewer_party(ticket: ResourceRequest) -> ContractParty | None:
    """The party whose review step is next, or None when the ticket is not under review."""
    if ticket.status not in OPEN_REVIEW_STATES:
        return None
    chain = ticket.contract.review_chain
    return chain[ticket.review_step] if ticket.review_step < len(chain) else None


def breach_judge_role(contract: Contract) -> str:
    """Who rules a late delivery not the vendor's cause: the supervisor, else the bureau."""
    has_supervisor = any(p.role == PartyRole.SUPERVISOR for p in contract.parties.all())
    return PartyRole.SUPERVISOR if has_supervisor else PartyRole.BUREAU


def require_may_request(user: Any, contract: Contract | None = None) -> None:
    """Only a department's business users file tickets, on a contract of their bureau."""
    require_staff(user)
    department = user.organization
    if department is None or department.kind != OrganizationKind.DEPARTMENT:
        raise ActionForbidden(_("只有使用单位可以提交资源申请。"))
    if contract is not None:
        bureau = contract.bureau
        if bureau is None or department.parent_id != bureau.pk:
            raise ActionForbidden(_("该合同不属于本单位的主管部门。"))


def may_request(user: Any) -> bool:
    """Whether the user files tickets at all (the "new request" button)."""
    try:
        require_may_request(user)
    except ApplicationError:
        return False
    return True


# ---------------------------------------------------------------- one check per action


def _department_member(user: Any, ticket: ResourceRequest) -> None:
    require_staff(user)
    if user.organization_id != ticket.department_id:
        raise ActionForbidden(_("只有申请单位的人员可以执行此操作。"))


def _check_edit(user: Any, ticket: ResourceRequest) -> None:
    _department_member(user, ticket)
    if ticket.status not in EDITABLE_STATES:
        raise ApplicationError(_("只有草稿或被退回的工单可以修改。"))


def _check_submit(user: Any, ticket: ResourceRequest) -> None:
    _department_member(user, ticket)
    require_transition(ticket, RequestStatus.SUBMITTED)
    if not ticket.lines.exists():
        raise ApplicationError(_("工单没有明细，不能提交。"))


def _check_cancel(user: Any, ticket: ResourceRequest) -> None:
    _department_member(user, ticket)
    require_transition(ticket, RequestStatus.CANCELLED)


def _check_review(user: Any, ticket: ResourceRequest) -> None:
    require_staff(user)
    if ticket.status not in OPEN_REVIEW_STATES:
        raise ApplicationError(_("该工单当前不在审核中。"))
    party = current_reviewer_party(ticket)
    if party is None or party.organization_id != user.organization_id:
        raise ActionForbidden(_("当前审核步骤不由您的单位办理。"))
    if ticket.created_by_id == user.pk:
        raise ActionForbidden(_("申请人不能审核自己的工单。"))


def _require_extension_term(contract: Contract) -> None:
    """Extensions exist only under a contract that sets a clock and an extended period."""
    if not has_clock(contract):
        raise ApplicationError(_("本合同未约定交付时限（及时交付），不适用延期申请。"))
    if not may_extend(contract):
        raise ApplicationError(_("本合同未约定延期交付时限，不能申请延期。"))


def _check_request_extension(user: Any, ticket: ResourceRequest) -> None:
    require_staff(user)
    party_of(user, ticket.contract, PartyRole.VENDOR)
    _require_extension_term(ticket.contract)
    if ticket.status != RequestStatus.APPROVED:
        raise ApplicationError(_("只有已批准待交付的工单可以申请延期。"))
    if ticket.extended:
        raise ApplicationError(_("该工单已批准过延期。"))
    if ticket.due_at is None:
        # Approved before the contract recorded its clock: there is no deadline to extend.
        raise ApplicationError(_("该工单没有交付截止时间，不适用延期申请。"))
    if timezone.now() >= ticket.due_at:
        raise ApplicationError(_("已超过交付截止时间，不能再申请延期。"))
    if ticket.extensions.filter(status=ExtensionStatus.PENDING).exists():
        raise ApplicationError(_("已有待审批的延期申请。"))


def _check_decide_extension(user: Any, ticket: ResourceRequest) -> None:
    require_staff(user)
    party_of(user, ticket.contract, PartyRole.BUREAU)
    _require_extension_term(ticket.contract)
    # Without a pending request, whichever request of this ticket is named was decided already.
    if not ticket.extensions.filter(status=ExtensionStatus.PENDING).exists():
        raise ApplicationError(_("该延期申请已处理。"))
    if ticket.status != RequestStatus.APPROVED:
        raise ApplicationError(_("工单已不在待交付状态。"))


def _check_deliver(user: Any, ticket: ResourceRequest) -> None:
    require_staff(user)
    party_of(user, ticket.contract, PartyRole.VENDOR)
    require_transition(ticket, RequestStatus.DELIVERED)


def exemption_roles(contract: Contract) -> list[str]:
    """Who rules a late delivery not the vendor's cause: the parties the terms name for a joint
    confirmation (BT 附件2 §2: bureau and supervisor), else the one judge (``breach_judge_role``).
    """
    return required_roles(contract, JointSubject.LATE_DELIVERY_EXEMPTION) or [
        breach_judge_role(contract)
    ]


def _check_exempt(user: Any, ticket: ResourceRequest) -> None:
    """Rule (or, under a joint confirmation, propose) a breach not the vendor's cause.

    Under a joint confirmation a proposal awaiting the other parties is decided on its panel;
    after an objection any named party may propose again with a revised reason.
    """
    require_staff(user)
    party_of(user, ticket.contract, *exemption_roles(ticket.contract))
    if not has_clock(ticket.contract):
        raise ApplicationError(_("本合同未约定交付时限（及时交付），不存在超时交付，无需认定。"))
    if ticket.status != RequestStatus.DELIVERED or not ticket.breached:
        raise ApplicationError(_("只有超时交付的工单可以认定为非乙方原因。"))
    if ticket.exempted:
        raise ApplicationError(_("该工单已认定为非乙方原因。"))
    proposal = joint_for(ticket, JointSubject.LATE_DELIVERY_EXEMPTION)
    if proposal is not None and proposal.status == JointStatus.OPEN:
        raise ApplicationError(_("已提请认定为非乙方原因，待各方会签。"))


REQUEST_ACTIONS = ActionRules(
    {
        "edit": _check_edit,
        "submit": _check_submit,
        "cancel": _check_cancel,
        "approve": _check_review,
        "return": _check_review,
        "reject": _check_review,
        "request_extension": _check_request_extension,
        "decide_extension": _check_decide_extension,
        "deliver": _check_deliver,
        "exempt": _check_exempt,
    }
)


def request_available_actions(*, user: Any, obj: ResourceRequest) -> frozenset[str]:
    """Every workflow step ``user`` may take on the ticket now (the services' own checks)."""
    return REQUEST_ACTIONS.available(user, obj)
