"""Who hears about a statement or a test period, and what the e-mail says (all through the
outbox).

The signed statement's PDF and the department bills are e-mailed by the PDF step, which
listens to ``billing.signals.statement_signed``; these are the plain workflow notices. Deadlines
and the escalation rule are the contract's terms, quoted with their clause.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from billing.models import Statement, SystemTestPeriod, SystemTestPeriodChange
from billing.money import format_yuan
from govcloud.models import Contract, Organization, PartyRole, Role, User
from govcloud.outbox import outbox_enqueue
from govcloud.terms import cite

FOOTER = "\n—— 本邮件由政务云服务管理平台自动发送，请勿直接回复。"


def term_text(contract: Contract, key: str) -> str:
    """A term's clause for an e-mail: "（合同 7.1.1：如争议超过3个工作日……）", or ""."""
    citation = cite(contract, key)
    if not citation.clause:
        return ""
    quote = f"：{citation.quote}" if citation.quote else ""
    return f"（合同 {citation.clause}{quote}）"


def organization_emails(organizations: list[Organization]) -> list[str]:
    """Active staff of the organisations, and the organisations' own notice addresses."""
    ids = [o.pk for o in organizations]
    emails = [
        e
        for e in User.objects.filter(
            organization_id__in=ids, is_active=True, role=Role.STAFF
        ).values_list("email", flat=True)
        if e
    ]
    return emails + [o.email for o in organizations if o.email]


def party_emails(statement: Statement, *roles: str) -> list[str]:
    parties = statement.contract.parties.select_related("organization").filter(role__in=roles)
    return organization_emails([p.organization for p in parties])


def _send(statement: Statement, event: str, recipients: list[str], subject: str, body: str) -> None:
    portal = settings.PORTAL_BASE_URL.rstrip("/")
    outbox_enqueue(
        key=f"statement:{statement.pk}:{event}",
        recipients=recipients,
        subject=f"【政务云】{subject}",
        body=f"{body}\n\n合同：{statement.contract.code} {statement.contract.name}\n"
        f"统计月份：{statement.period}（第{statement.version}版）\n"
        f"结算金额：{format_yuan(statement.total)}\n\n平台地址：{portal}\n" + FOOTER,
        contract=statement.contract,
    )


def notify_submitted(statement: Statement) -> None:
    _send(
        statement,
        "submitted",
        party_emails(statement, PartyRole.BUREAU, PartyRole.SUPERVISOR),
        f"{statement.period} 月度服务资源统计表待签认",
        "乙方已提交月度服务资源统计表，请核对后确认或提出异议。",
    )


def _dispute_route(contract: Contract) -> str:
    days = contract.dispute_escalation_working_days
    cited = term_text(contract, "dispute_escalation_working_days")
    if days is None:
        return f"合同未约定提交审计，争议由双方协商解决{cited}。"
    return f"争议超过{days}个工作日将提交第三方审计确定{cited}。"


def notify_disputed(statement: Statement, comment: str) -> None:
    _send(
        statement,
        f"disputed:{statement.disputed_at.isoformat() if statement.disputed_at else ''}",
        party_emails(statement, PartyRole.VENDOR),
        f"{statement.period} 月度服务资源统计表被提出异议",
        f"异议意见：{comment}\n请核实后重新出具统计表；{_dispute_route(statement.contract)}",
    )


def notify_escalated(statement: Statement) -> None:
    contract = statement.contract
    _send(
        statement,
        "escalated",
        party_emails(statement, PartyRole.AUDITOR, PartyRole.SUPERVISOR, PartyRole.BUREAU),
        f"{statement.period} 月度服务资源统计表争议已提交审计",
        f"争议已超过{contract.dispute_escalation_working_days}个工作日，依合同约定"
        f"{term_text(contract, 'dispute_escalation_working_days')}提交第三方审计机构确定，"
        "请审计单位出具结论。",
    )


def notify_decided(statement: Statement, decision_label: str) -> None:
    _send(
        statement,
        f"decided:{statement.escalations.count()}",
        party_emails(statement, PartyRole.VENDOR, PartyRole.BUREAU, PartyRole.SUPERVISOR),
        f"{statement.period} 月度服务资源统计表争议审计结论",
        f"审计结论：{decision_label}。",
    )


def notify_signed(statement: Statement) -> None:
    _send(
        statement,
        "signed",
        party_emails(statement, PartyRole.BUREAU, PartyRole.VENDOR, PartyRole.SUPERVISOR),
        f"{statement.period} 月度服务资源统计表已完成签认",
        "各方已全部确认，统计表已签认生效，不可再修改。",
    )


def notify_due_today(statement_key: str, contract: Contract, period: str, due: str) -> None:
    parties = contract.parties.select_related("organization").filter(role=PartyRole.VENDOR)
    outbox_enqueue(
        key=f"statement-due:{statement_key}",
        recipients=organization_emails([p.organization for p in parties]),
        subject=f"【政务云】{period} 月度服务资源统计表今日到期",
        body=f"合同 {contract.code} {period} 的月度服务资源统计表提交期限为 {due}"
        f"（次月第{contract.statement_due_working_day}个工作日"
        f"{term_text(contract, 'statement_due_working_day')}），"
        "目前尚未提交，请于今日内生成并提交。\n" + FOOTER,
        contract=contract,
    )


def notify_late(statement_key: str, contract: Contract, period: str, due: str) -> None:
    parties = contract.parties.select_related("organization").filter(
        role__in=[PartyRole.VENDOR, PartyRole.BUREAU, PartyRole.SUPERVISOR]
    )
    outbox_enqueue(
        key=f"statement-late:{statement_key}",
        recipients=organization_emails([p.organization for p in parties]),
        subject=f"【政务云】{period} 月度服务资源统计表逾期未提交",
        body=f"合同 {contract.code} {period} 的月度服务资源统计表提交期限为 {due}"
        f"{term_text(contract, 'statement_due_working_day')}，乙方逾期未提交"
        + (
            f"，按交付物超时处理{term_text(contract, 'statement_is_deliverable')}。\n"
            if contract.statement_is_deliverable
            else "。\n"
        )
        + FOOTER,
        contract=contract,
    )


def notify_test_period_changed(period: SystemTestPeriod, change: SystemTestPeriodChange) -> None:
    """The vendor and the system's department hear that the bureau ended or extended a test
    period, and from when the system's resources are billed."""
    contract = period.contract
    vendor = contract.parties.select_related("organization").filter(role=PartyRole.VENDOR)
    department = period.system.department
    portal = settings.PORTAL_BASE_URL.rstrip("/")
    moved = len(change.resources)
    outbox_enqueue(
        key=f"test-period:{period.pk}:{change.pk}",
        recipients=organization_emails([p.organization for p in vendor] + [department]),
        subject=f"【政务云】{period.system.name} 测试期{change.get_kind_display()}",
        body=f"合同 {contract.code} {contract.name}\n"
        f"业务系统：{department.name} / {period.system.name}\n"
        f"测试期开始：{_local(period.started_at)}\n"
        f"原结束时间：{_local(change.old_ends_at)}\n"
        f"新结束时间：{_local(change.new_ends_at)}（自该时刻起计费）\n"
        f"调整原因：{change.reason}\n"
        f"计费开始随之调整的资源：{moved} 项\n"
        f"依据：新系统测试期，测试期间不计费{term_text(contract, 'test_period_months')}。\n"
        f"\n平台地址：{portal}\n" + FOOTER,
        contract=contract,
    )


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


# ------------------------------------------------------------------ settlement (issue 12)


def contract_party_emails(contract: Contract, *roles: str) -> list[str]:
    parties = contract.parties.select_related("organization").filter(role__in=roles)
    return organization_emails([p.organization for p in parties])


def notify_settlement(
    contract: Contract, key: str, roles: tuple[str, ...], subject: str, body: str
) -> None:
    """One settlement notice (deduction, invoice, funds) to the named parties of the contract."""
    portal = settings.PORTAL_BASE_URL.rstrip("/")
    outbox_enqueue(
        key=f"settlement:{contract.pk}:{key}",
        recipients=contract_party_emails(contract, *roles),
        subject=f"【政务云】{subject}",
        body=f"{body}\n\n合同：{contract.code} {contract.name}\n平台地址：{portal}\n" + FOOTER,
        contract=contract,
    )


# ------------------------------------------------------------- inventory corrections (issue 12)


def _correction_body(correction, diff, lead: str) -> str:
    """The correction's facts for an e-mail: what changes, why, which months."""
    resource = correction.resource
    portal = settings.PORTAL_BASE_URL.rstrip("/")
    changes = "\n".join(f"  {row.label}：{row.old} → {row.new}" for row in diff) or "  —"
    months = "、".join(correction.months) or "无（计费不变）"
    return (
        f"{lead}\n\n更正编号：{correction.number}\n"
        f"资源：#{resource.pk} {resource.catalog_item.code}（{resource.department.name} / "
        f"{resource.system.name}）\n更正内容：\n{changes}\n更正原因：{correction.reason}\n"
        f"影响月份：{months}\n"
        f"合同：{correction.contract.code} {correction.contract.name}\n"
        f"平台地址：{portal}{correction.get_absolute_url()}\n" + FOOTER
    )


def notify_correction_proposed(correction, diff, roles: list[str]) -> None:
    """The parties who must confirm a proposed inventory correction (the proposer's own party
    confirmed by proposing)."""
    contract = correction.contract
    wanted = [r for r in roles if r != correction.proposer_role]
    outbox_enqueue(
        key=f"inventory-correction:{correction.pk}:proposed",
        recipients=contract_party_emails(contract, *wanted),
        subject=f"【政务云】资源清单更正 {correction.number} 待会签",
        body=_correction_body(
            correction,
            diff,
            "有一项资源清单更正待您单位确认（会签）。各方均确认后更正生效，"
            "受影响月份的月度服务资源统计表将出具新版本。",
        ),
        contract=contract,
    )


def notify_correction_objected(correction, diff, roles: list[str]) -> None:
    contract = correction.contract
    outbox_enqueue(
        key=f"inventory-correction:{correction.pk}:objected",
        recipients=contract_party_emails(contract, *{*roles, correction.proposer_role}),
        subject=f"【政务云】资源清单更正 {correction.number} 有异议",
        body=_correction_body(
            correction,
            diff,
            f"资源清单更正有异议，未生效：{correction.objection}\n提出方可撤回后重新提出。",
        ),
        contract=contract,
    )


def notify_correction_applied(correction, diff, roles: list[str], outcome) -> None:
    """Every party that confirmed, and the vendor who submits the reissued statements."""
    contract = correction.contract
    reissued = "\n".join(
        f"  {s.period} 第{s.version}版（{s.get_status_display()}）" for s in outcome.reissued
    )
    pending = "\n".join(
        f"  {s.period} 第{s.version}版（{s.get_status_display()}）" for s in outcome.pending
    )
    lead = "各方已确认资源清单更正，资源清单已更正。"
    if reissued:
        lead += f"\n已出具新版本的统计表（待乙方提交签认）：\n{reissued}"
    if pending:
        lead += (
            f"\n以下统计表正在签认或审计中，未包含本更正，请签认方提出异议，"
            f"由乙方出具包含本更正的新版本：\n{pending}"
        )
    outbox_enqueue(
        key=f"inventory-correction:{correction.pk}:applied",
        recipients=contract_party_emails(contract, *{*roles, PartyRole.VENDOR}),
        subject=f"【政务云】资源清单更正 {correction.number} 已生效",
        body=_correction_body(correction, diff, lead),
        contract=contract,
    )
