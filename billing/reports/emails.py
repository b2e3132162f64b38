"""The e-mails that carry the billing PDFs, each exactly once per recipient and document.

Both go through the outbox (``govcloud.outbox``): the key names the document, so a task that
runs twice — or a signing task and the ``statement_signed`` receiver both reaching the end —
queues nothing twice; sending, retries and failures are the outbox's (shown in the admin).

* ``statement:<pk>:signed-pdf`` — the fully signed statement, to every party of the contract
  (bureau, vendors, supervisor, auditor: active staff and the organisation's notice address).
* ``bill:<pk>:pdf`` — a department's bill, to that department only (its staff and address).
"""

from __future__ import annotations

from billing.models import DepartmentBill, Statement, StatementDocument
from billing.money import format_yuan
from billing.notifications import organization_emails
from billing.reports.statement_pdf import portal_url
from govcloud.models import Contract
from govcloud.outbox import Attachment, outbox_enqueue

__all__ = ["department_bill_email", "statement_key", "statement_signed_pdf_email"]

FOOTER = "\n—— 本邮件由政务云服务管理平台自动发送，请勿直接回复。"


def statement_key(statement: Statement) -> str:
    return f"statement:{statement.pk}:signed-pdf"


def bill_key(bill: DepartmentBill) -> str:
    return f"bill:{bill.pk}:pdf"


def _party_recipients(contract: Contract) -> list[str]:
    parties = contract.parties.select_related("organization").order_by("pk")
    return organization_emails([p.organization for p in parties])


def statement_signed_pdf_email(statement: Statement, document: StatementDocument) -> int:
    """Queue the signed statement PDF for every party; returns the rows queued now."""
    contract = statement.contract
    period = f"{statement.year}年{statement.month}月"
    body = (
        f"{contract.code} {contract.name} {period}月度服务资源统计表（第{statement.version}版）"
        "已由各方全部签认，附件为带各方数字签名的 PDF 文件"
        f"（{document.signatures} 个签名，SHA-256：{document.sha256}）。\n\n"
        f"结算金额：{format_yuan(statement.total)}"
        f"（价税合计，其中增值税 {format_yuan(statement.vat)}）\n"
        f"在线查看：{portal_url(f'/billing/statements/{statement.pk}/')}\n"
        f"签名核验：{portal_url('/pdf/verify/')}（上传附件即可核验各方签名是否完整有效）\n"
        f"{FOOTER}"
    )
    attachment = Attachment(
        name=f"{contract.code}-{statement.period}-月度服务资源统计表-第{statement.version}版-已签认.pdf",
        path=document.file.name,
    )
    return len(
        outbox_enqueue(
            key=statement_key(statement),
            recipients=_party_recipients(contract),
            subject=f"【政务云】{contract.code} {period}月度服务资源统计表已签认（附签名文件）",
            body=body,
            attachments=[attachment],
            contract=contract,
        )
    )


def department_bill_email(bill: DepartmentBill, document: StatementDocument) -> int:
    """Queue a department's bill PDF for that department only; returns the rows queued now."""
    statement = bill.statement
    contract = statement.contract
    period = f"{statement.year}年{statement.month}月"
    body = (
        f"{bill.department_name}：\n\n"
        f"贵单位 {period} 的政务云服务费用账单已出具，依据为各方已签认的 {contract.code} "
        f"{contract.name} 月度服务资源统计表（第{statement.version}版）。附件为 PDF 账单。\n\n"
        f"应付金额：{format_yuan(bill.total)}（价税合计，其中增值税 {format_yuan(bill.vat)}），"
        f"明细 {bill.lines_count} 条。\n"
        f"在线查看：{portal_url(f'/billing/bills/{bill.pk}/')}\n"
        f"{FOOTER}"
    )
    attachment = Attachment(
        name=f"{contract.code}-{statement.period}-{bill.department_name}-账单.pdf",
        path=document.file.name,
    )
    return len(
        outbox_enqueue(
            key=bill_key(bill),
            recipients=organization_emails([bill.department]),
            subject=f"【政务云】{period}政务云服务费用账单（{bill.department_name}）",
            body=body,
            attachments=[attachment],
            contract=contract,
        )
    )
