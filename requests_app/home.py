"""Home page cards of the ticket workflow: what each role has to do next (≤ 2 queries each)."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.access import is_business_staff
from govcloud.home import Action, Card
from govcloud.models import OrganizationKind, User
from requests_app import selectors
from requests_app.models import (
    ExtensionRequest,
    ExtensionStatus,
    RequestStatus,
    overdue_q,
    unexempted_breach_q,
)


def _department_card(user: User) -> Card:
    counts = selectors.request_list_for_user(user=user).aggregate(
        returned=Count("pk", filter=Q(status=RequestStatus.RETURNED)),
        drafts=Count("pk", filter=Q(status=RequestStatus.DRAFT)),
        open=Count("pk", filter=selectors.open_tickets_q()),
    )
    tickets = reverse("request_list")
    return Card(
        _("申请云资源"),
        _(
            "按合同服务目录开通、变更或释放云资源；全部审核通过后，乙方按合同约定的时限交付"
            "（合同未约定时限的，及时交付）。"
        ),
        [
            Action(_("新建申请"), reverse("request_create"), primary=True),
            Action(_("被退回待修改"), f"{tickets}?status=returned", count=counts["returned"]),
            Action(_("草稿"), f"{tickets}?status=draft", count=counts["drafts"]),
            Action(_("进行中"), f"{tickets}?status=open", count=counts["open"]),
            Action(_("本单位资源"), reverse("resource_list")),
        ],
        order=20,
    )


def _reviewer_card(user: User) -> Card:
    actions = [
        Action(
            _("进入审核"),
            reverse("review_queue"),
            count=selectors.review_queue_for_user(user=user).count(),
            primary=True,
        )
    ]
    tickets = reverse("request_list")
    visible = selectors.request_list_for_user(user=user)
    if user.kind == OrganizationKind.BUREAU:
        # Tickets with a pending extension request: the rows the list's filter shows.
        pending = visible.filter(
            Exists(
                ExtensionRequest.objects.filter(
                    request_id=OuterRef("pk"), status=ExtensionStatus.PENDING
                )
            )
        ).count()
        actions.append(Action(_("延期待审批"), f"{tickets}?status=extension", count=pending))
        text = _("审核使用单位的资源申请，审批乙方的延期交付申请。")
    else:
        breached = visible.filter(unexempted_breach_q()).count()
        actions.append(Action(_("超时交付待认定"), f"{tickets}?status=breached", count=breached))
        text = _("复核资源申请；对超时交付的工单认定是否属于非乙方原因。")
    return Card(_("待审核工单"), text, actions, order=20)


def _vendor_card(user: User) -> Card:
    counts = selectors.delivery_queue_for_user(user=user).aggregate(
        total=Count("pk"), overdue=Count("pk", filter=overdue_q(timezone.now()))
    )
    queue = reverse("delivery_queue")
    return Card(
        _("待交付工单"),
        _(
            "已批准的工单须在合同约定的截止时间前交付（未约定时限的，及时交付）；"
            "合同允许延期的，确需延期请在截止前提交延期申请。"
        ),
        [
            Action(_("交付队列"), queue, count=counts["total"], primary=True),
            Action(_("已超时"), f"{queue}?overdue=on", count=counts["overdue"]),
        ],
        order=20,
    )


def ticket_cards(user: User) -> list[Card]:
    if not is_business_staff(user) or user.organization_id is None:
        return []
    kind = user.kind
    if kind == OrganizationKind.DEPARTMENT:
        return [_department_card(user)]
    if kind in (OrganizationKind.BUREAU, OrganizationKind.SUPERVISOR):
        return [_reviewer_card(user)]
    if kind == OrganizationKind.VENDOR:
        return [_vendor_card(user)]
    if kind == OrganizationKind.AUDITOR:
        return [
            Card(
                _("资源申请与资源"),
                _("只读查看所参与合同的资源申请工单、审核与交付记录和资源台账。"),
                [
                    Action(_("资源申请工单"), reverse("request_list"), primary=True),
                    Action(_("云资源"), reverse("resource_list")),
                ],
                order=20,
            )
        ]
    return []
