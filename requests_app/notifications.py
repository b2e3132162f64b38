"""Who hears about a ticket, and what the e-mail says (all through the outbox)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from govcloud.dates import deadline_label
from govcloud.joint import required_roles
from govcloud.models import Contract, JointSubject, Organization, PartyRole, User
from govcloud.outbox import outbox_enqueue
from govcloud.terms import cite
from requests_app.clocks import has_clock, ticket_elapsed
from requests_app.models import ReceiptProblem, ResourceRequest


def _emails_of(organizations: list[Organization]) -> list[str]:
    org_ids = [o.pk for o in organizations]
    users = User.objects.filter(organization_id__in=org_ids, is_active=True, role="staff")
    emails = [e for e in users.values_list("email", flat=True) if e]
    emails += [o.email for o in organizations if o.email]
    return emails


def party_emails(ticket: ResourceRequest, role: str) -> list[str]:
    orgs = [
        p.organization
        for p in ticket.contract.parties.select_related("organization")
        if p.role == role
    ]
    return _emails_of(orgs)


def department_emails(ticket: ResourceRequest) -> list[str]:
    emails = _emails_of([ticket.department])
    if ticket.created_by.email:
        emails.append(ticket.created_by.email)
    return emails


def _link(ticket: ResourceRequest) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("request_detail", args=[ticket.pk])


def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else "—"


def _deadline(ticket: ResourceRequest) -> str:
    """The delivery deadline as the portal writes it (2026-10-09 24:00, not 10-10 00:00)."""
    return deadline_label(ticket.due_at) or "—"


def _clause(contract: Contract, key: str) -> str:
    """The clause a term rests on, as the e-mail names it: 合同附件2 §2“…”."""
    citation = cite(contract, key)
    if not citation.clause:
        return f"合同{contract.code}「{citation.label}」"
    quote = f"“{citation.quote}”" if citation.quote else ""
    return f"合同{contract.code} {citation.clause}{quote}"


def _lines(ticket: ResourceRequest) -> str:
    return "\n".join(f"  - {line}" for line in ticket.lines.select_related("catalog_item"))


def _send(
    ticket: ResourceRequest, event: str, recipients: list[str], subject: str, body: str
) -> None:
    outbox_enqueue(
        key=f"ticket:{ticket.pk}:{event}",
        recipients=recipients,
        subject=f"【政务云】{subject}",
        body=f"{body}\n\n工单：{ticket.number}（{ticket.contract.code}）\n"
        f"使用单位：{ticket.department.name}\n业务系统：{ticket.system.name}\n"
        f"类型：{ticket.get_kind_display()}\n明细：\n{_lines(ticket)}\n\n查看工单：{_link(ticket)}\n"
        "\n—— 本邮件由政务云服务管理平台自动发送，请勿直接回复。",
        contract=ticket.contract,
    )


def notify_approved(ticket: ResourceRequest) -> None:
    contract = ticket.contract
    key = f"approved:{ticket.approved_at.isoformat()}"
    vendor = party_emails(ticket, PartyRole.VENDOR)
    if not has_clock(contract) or ticket.due_at is None:
        _send(
            ticket,
            key,
            vendor,
            f"工单 {ticket.number} 已批准，请及时交付",
            f"资源申请已于 {_local(ticket.approved_at)} 通过全部审核，请及时交付。"
            f"本合同未约定交付时限（{_clause(contract, 'delivery_working_days')}），"
            "平台记录批准与交付时间及其间的工作日数，不计超时。",
        )
        return
    provisional = "（暂定：该年度法定节假日尚未载入）" if ticket.due_provisional else ""
    if contract.extended_delivery_working_days is not None:
        extension = (
            f"如需延期，请在截止前提交书面延期申请，经甲方批准可延长至 "
            f"{contract.extended_delivery_working_days} 个工作日"
            f"（{_clause(contract, 'extended_delivery_working_days')}）。"
        )
    else:
        extension = "本合同未约定延期交付。"
    _send(
        ticket,
        key,
        vendor,
        f"工单 {ticket.number} 已批准，请于 {_deadline(ticket)} 前交付",
        f"资源申请已通过全部审核，交付时限为 {contract.delivery_working_days} 个工作日"
        f"（{_clause(contract, 'delivery_working_days')}），"
        f"截止 {_deadline(ticket)}{provisional}。{extension}",
    )


def _deadline_clause(ticket: ResourceRequest) -> str:
    key = "extended_delivery_working_days" if ticket.extended else "delivery_working_days"
    return _clause(ticket.contract, key)


def notify_due_today(ticket: ResourceRequest) -> None:
    _send(
        ticket,
        f"due-reminder:{ticket.due_at.isoformat()}",
        party_emails(ticket, PartyRole.VENDOR),
        f"工单 {ticket.number} 今日到期",
        f"该工单的交付截止时间为 {_deadline(ticket)}（{_deadline_clause(ticket)}），"
        "今天是最后一个工作日，目前尚未交付。",
    )


def notify_breached(ticket: ResourceRequest) -> None:
    contract = ticket.contract
    recipients = party_emails(ticket, PartyRole.BUREAU) + party_emails(ticket, PartyRole.SUPERVISOR)
    if contract.scorecard:
        consequence = (
            f"按服务水平协议每单扣 1 分（{_clause(contract, 'scorecard')}；"
            "经认定非乙方原因的除外）。"
        )
    else:
        consequence = "本合同无服务水平协议，不扣分。"
    _send(
        ticket,
        f"breached:{ticket.due_at.isoformat()}",
        recipients,
        f"工单 {ticket.number} 已超过交付时限",
        f"乙方未在截止时间 {_deadline(ticket)}（{_deadline_clause(ticket)}）前交付该工单，"
        f"{consequence}",
    )


def _elapsed(ticket: ResourceRequest) -> str:
    days, provisional = ticket_elapsed(ticket, timezone.now())
    if days is None:
        return ""
    note = "，暂按仅周末休息计算" if provisional else ""
    return f"（批准后用时 {days} 个工作日{note}）"


def _claim_note(ticket: ResourceRequest) -> str:
    if not ticket.delivery_claim_pending:
        return ""
    return (
        f"\n乙方申报的实际交付时间为 {_local(ticket.delivery_claimed_at)}，早于登记时刻"
        f"（{_clause(ticket.contract, 'delivery_time_tolerance_hours')}），"
        "须经审核方确认后生效；确认前以登记时刻为准。"
    )


def notify_department(ticket: ResourceRequest, event: str, comment: str = "") -> None:
    texts = {
        "delivered": (
            f"工单 {ticket.number} 已交付，请签收",
            f"乙方已于 {_local(ticket.delivered_at)} 交付资源{_elapsed(ticket)}，"
            "可在“本单位资源”中查看。请在工单页确认签收，或反馈未收到 / 与申请不符。"
            f"{_claim_note(ticket)}",
        ),
        "returned": (
            f"工单 {ticket.number} 被退回修改",
            f"审核意见：{comment}\n请修改后重新提交。",
        ),
        "rejected": (f"工单 {ticket.number} 被驳回", f"审核意见：{comment}"),
    }
    subject, body = texts[event]
    stamp = timezone.now().isoformat() if event != "delivered" else ""
    _send(ticket, f"{event}:{stamp}", department_emails(ticket), subject, body)


def notify_extension_requested(ticket: ResourceRequest, reason: str) -> None:
    _send(
        ticket,
        f"extension-requested:{timezone.now().isoformat()}",
        party_emails(ticket, PartyRole.BUREAU),
        f"工单 {ticket.number} 申请延期交付",
        f"乙方申请将交付时限延长至 {ticket.contract.extended_delivery_working_days} 个工作日"
        f"（{_clause(ticket.contract, 'extended_delivery_working_days')}）。理由：{reason}",
    )


def notify_delivery_claim(ticket: ResourceRequest, event: str, reason: str = "") -> None:
    """A claimed delivery time: the confirming parties are asked; vendor and department hear
    the outcome."""
    contract = ticket.contract
    claimed, recorded = _local(ticket.delivery_claimed_at), _local(ticket.delivery_recorded_at)
    clause = _clause(contract, "delivery_time_tolerance_hours")
    stamp = timezone.now().isoformat()
    if event == "claimed":
        roles = required_roles(contract, JointSubject.DELIVERY_TIME) or [PartyRole.BUREAU]
        recipients = [e for role in roles for e in party_emails(ticket, role)]
        _send(
            ticket,
            f"delivery-claim:{stamp}",
            recipients,
            f"工单 {ticket.number} 交付时间待确认",
            f"乙方于 {recorded} 登记交付，申报实际交付时间为 {claimed}，早于登记时刻减容差"
            f"（{clause}），已附理由和证明材料：\n{ticket.delivery_claim_reason}\n"
            "请在工单页的“共同确认（会签）”中确认或提出异议。确认前，超时判定、用时和计费"
            "均以登记时刻为准。",
        )
        return
    recipients = party_emails(ticket, PartyRole.VENDOR) + department_emails(ticket)
    if event == "confirmed":
        breach = "超过交付时限" if ticket.breached else "未超过交付时限"
        _send(
            ticket,
            f"delivery-claim-confirmed:{stamp}",
            recipients,
            f"工单 {ticket.number} 交付时间已确认为 {claimed}",
            f"各方已确认乙方申报的交付时间 {claimed}（登记时刻 {recorded}）。资源上线、计费"
            f"开始与交付用时均按该时间重算{_elapsed(ticket)}，{breach}。",
        )
        return
    _send(
        ticket,
        f"delivery-claim-objected:{stamp}",
        recipients,
        f"工单 {ticket.number} 申报的交付时间未获确认",
        f"对乙方申报的交付时间 {claimed} 有异议：{reason}\n"
        f"交付时间仍以登记时刻 {recorded} 为准（{clause}）。乙方可补充理由和证明后重新提请。",
    )


def notify_receipt_problem(ticket: ResourceRequest) -> None:
    """The department reports a delivery problem: the vendor and the bureau hear of it."""
    recipients = party_emails(ticket, PartyRole.VENDOR) + party_emails(ticket, PartyRole.BUREAU)
    label = ReceiptProblem(ticket.receipt_problem).label if ticket.receipt_problem else ""
    _send(
        ticket,
        f"receipt-problem:{timezone.now().isoformat()}",
        recipients,
        f"工单 {ticket.number} 使用单位反馈：{label}",
        f"使用单位 {ticket.department.name} 于 {_local(ticket.receipt_at)} 反馈交付问题"
        f"（{label}）：\n{ticket.receipt_note}\n请乙方核实处理；如需更正资源清单，"
        "请按资源清单更正流程办理。",
    )
