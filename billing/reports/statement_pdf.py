"""The billing PDFs: monthly statement, department bill, settlement summary.

Rendering only — no signing, no storage (``billing.reports.signing``). Every document is a
template in ``templates/reports/`` rendered by ``govcloud.pdf.render``:

* the **statement** (月度服务资源统计表) has up to ~10,000 lines, so it goes through the fast
  path ``render_table_pdf``: header (``partials/_statement_header.html``), one long table whose
  header repeats on every page (drawn at WeasyPrint's positions, not laid out by it), footer
  (``partials/_statement_footer.html``) with the amounts, the departments' shares and the
  sign-off table; the lines are embedded as a CSV attachment (UTF-8 with BOM) in the same first
  revision, so every signature covers them. ``reports/statement.html`` is the same document as
  one plain template (the naive render the benchmark, and a test page by page, compare against).
* the **department bill** and the **settlement summary** are small: ``render_pdf``.

The statement's content depends only on the statement version's computed rows — lines, totals —
never on later events, so rendering it again gives the same text. That is what lets the PDF be
rendered once, when the version is generated, and then only gain signatures: the sign-off table
names every required party in signing order with its signature field and an empty seal box;
the signature field placed over that box shows "待签认" until the party signs, and then the
party's seal (organisation, signer, time), applied with its digital signature at its sign-off as
an incremental update (``govcloud.pdf.signing``; shown on the portal too).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.utils import timezone
from django.utils.safestring import mark_safe

from billing.allocation import split_statement
from billing.models import DepartmentBill, Statement, StatementStatus
from billing.money import format_yuan, quantize_yuan, round_half_up
from billing.reports.amount_words import amount_in_words
from billing.reports.parties import PartyInfo, signing_order
from billing.reports.parties import signoff_parties as contract_signoff_parties
from billing.services.settlement import settlement_summary
from govcloud.formatting import format_unit_price
from govcloud.models import Contract, PartyRole, PricePeriod
from govcloud.pdf.charts import bar_chart_svg
from govcloud.pdf.render import Attachment, Column, Row, render_pdf, render_table_pdf
from govcloud.pdf.signing import seal_anchor, seal_end_anchor

__all__ = [
    "STATEMENT_COLUMNS",
    "LineData",
    "department_bill_pdf_bytes",
    "settlement_chart_svg",
    "settlement_pdf_bytes",
    "statement_context",
    "statement_lines_csv",
    "statement_pdf_bytes",
    "statement_render",
    "statement_rows",
    "statement_single_template_pdf",
    "template_rows",
]

STATEMENT_HEADER = "reports/partials/_statement_header.html"
STATEMENT_FOOTER = "reports/partials/_statement_footer.html"
STATEMENT_SINGLE = "reports/statement.html"
BILL_TEMPLATE = "reports/department_bill.html"
SETTLEMENT_TEMPLATE = "reports/settlement.html"

STATEMENT_TITLE = "月度服务资源统计表"

#: Seven columns: WeasyPrint's cost is per cell (~0.4 ms), so department and system are group
#: rows above their lines instead of two more columns on each of 10,000 lines.
STATEMENT_COLUMNS = (
    Column("序号", width="7%", numeric=True),
    Column("目录编码", width="17%"),
    Column("服务名称（计量单位）", width="28%"),
    Column("数量", width="8%", numeric=True),
    Column("单价（元）", width="15%", numeric=True),
    Column("服务天数", width="10%", numeric=True),
    Column("金额（元）", width="15%", numeric=True),
)
_SPAN_ALL = len(STATEMENT_COLUMNS)
_SPAN_LABEL = len(STATEMENT_COLUMNS) - 1
_CN_DIGITS = "零一二三四五六七八九"


class LineData(NamedTuple):
    """One statement line as the documents need it (``StatementLine`` fields, in order)."""

    position: int
    department_id: int
    department: str
    system_id: int
    system: str
    item_code: str
    item_name: str
    unit: str
    quantity: int
    unit_price: Decimal
    price_period: str
    service_days: Decimal
    amount: Decimal


LINE_FIELDS = (
    "position",
    "department_id",
    "department_name",
    "system_id",
    "system_name",
    "item_code",
    "item_name",
    "unit",
    "quantity",
    "unit_price",
    "price_period",
    "service_days",
    "amount",
)


@dataclass(frozen=True)
class DepartmentShare:
    """A department's part of a statement: its lines' subtotal and its allocated total/VAT."""

    name: str
    lines: int
    subtotal: Decimal
    total: Decimal
    vat: Decimal


@dataclass(frozen=True)
class SignoffRow:
    """A row of the printed sign-off table (signing order)."""

    order: int
    role_label: str
    organization: str
    field_name: str

    @property
    def seal_anchor(self) -> str:
        return seal_anchor(self.field_name)

    @property
    def seal_end_anchor(self) -> str:
        return seal_end_anchor(self.field_name)


# ------------------------------------------------------------------------------- formatting


def yuan(value: Decimal) -> str:
    """``Decimal("1234.5")`` → ``"¥1,234.50"``: the one money format (``format_yuan``)."""
    return format_yuan(value)


def _days(value: Decimal) -> str:
    return f"{value:.1f}"


def _price(value: Decimal, period: str) -> str:
    return f"{format_unit_price(value)}/{'年' if period == PricePeriod.YEAR else '月'}"


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def chinese_index(number: int) -> str:
    """1 → 一, 12 → 十二, 40 → 四十 (headings; numbers above 99 stay Arabic)."""
    if not 0 < number < 100:
        return str(number)
    tens, ones = divmod(number, 10)
    if not tens:
        return _CN_DIGITS[ones]
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def portal_url(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def template_rows(columns: Sequence[Column], rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Rows for ``partials/_rows_table.html``: cells as (text, colspan, numeric), zebra class."""
    prepared = []
    for index, row in enumerate(rows):
        cells = []
        column = 0
        for position, text in enumerate(row.cells):
            span = row.span if position == 0 else 1
            cells.append((text, span, span == 1 and columns[column].numeric))
            column += span
        css = row.kind if row.kind != "item" else ("alt" if index % 2 else "")
        prepared.append({"css": css, "cells": cells})
    return prepared


# ------------------------------------------------------------------------------- statement


def statement_rows(
    lines: Iterable[LineData], *, discount_on_lines: bool = False
) -> tuple[list[Row], list[tuple[str, int, Decimal]]]:
    """Table rows with department and system headings and subtotals, plus the departments.

    ``lines`` come in statement order (department, system, resource: the engine's order), so
    each department and each of its systems is one contiguous run. Returns the rows and
    ``(department, line count, subtotal)`` per department, in order.
    """
    rows: list[Row] = []
    departments: list[tuple[str, int, Decimal]] = []
    department_key: int | None = None
    system_key: tuple[int, int] | None = None
    department_name = system_name = ""
    department_total = system_total = total = Decimal(0)
    department_lines = 0
    system_index = 0

    def close_system() -> None:
        rows.append(Row((f"{system_name} 小计", yuan(system_total)), "subtotal", _SPAN_LABEL))

    def close_department() -> None:
        label = f"{department_name} 合计（{department_lines} 条）"
        rows.append(Row((label, yuan(department_total)), "subtotal", _SPAN_LABEL))
        departments.append((department_name, department_lines, department_total))

    for line in lines:
        if line.department_id != department_key:
            if system_key is not None:
                close_system()
                close_department()
            department_key, department_name = line.department_id, line.department
            department_total, department_lines, system_index = Decimal(0), 0, 0
            system_key = None
            heading = f"{chinese_index(len(departments) + 1)}、{department_name}"
            rows.append(Row((heading,), "group", _SPAN_ALL))
        if (line.department_id, line.system_id) != system_key:
            if system_key is not None:
                close_system()
            system_key = (line.department_id, line.system_id)
            system_name, system_total = line.system, Decimal(0)
            system_index += 1
            heading = f"（{chinese_index(system_index)}）{system_name}"
            rows.append(Row((heading,), "group", _SPAN_ALL))
        rows.append(
            Row(
                (
                    str(line.position),
                    line.item_code,
                    f"{line.item_name}（{line.unit}）",
                    str(line.quantity),
                    _price(line.unit_price, line.price_period),
                    _days(line.service_days),
                    yuan(line.amount),
                )
            )
        )
        system_total += line.amount
        department_total += line.amount
        department_lines += 1
        total += line.amount
    if system_key is not None:
        close_system()
        close_department()
    label = (
        "全部使用单位合计（明细已含折扣）"
        if discount_on_lines
        else "全部使用单位合计（折扣前小计）"
    )
    rows.append(Row((label, yuan(total)), "total", _SPAN_LABEL))
    return rows, departments


def _shares(
    statement: Statement, departments: Sequence[tuple[str, int, Decimal]]
) -> list[DepartmentShare]:
    """Each department's share of the total and VAT — the same largest-remainder split the
    department bills use, computed from the lines, so the PDF needs no bill rows to exist."""
    if not departments:
        return []
    shares = split_statement(
        [subtotal for _, _, subtotal in departments],
        discount=statement.subtotal_factor,
        total=statement.total,
        vat=statement.vat,
        vat_rate=statement.vat_rate,
    )
    return [
        DepartmentShare(name=name, lines=count, subtotal=subtotal, total=s.total, vat=s.vat)
        for (name, count, subtotal), s in zip(departments, shares, strict=True)
    ]


def discount_text(statement: Statement) -> str:
    """The discount as the documents print it: the factor, and where it was applied."""
    if statement.discount_on_lines:
        return f"{statement.discount}（已计入各明细，结算金额 = 小计）"
    return f"{statement.discount}"


def signoff_rows(statement: Statement, parties: Sequence[PartyInfo]) -> list[SignoffRow]:
    """The printed sign-off table: every required party in signing order.

    Rendered when the version is generated, before anyone signs: each row carries an empty
    seal box where that party's signature field goes (``govcloud.pdf.signing.seal_boxes``);
    its appearance reads "待签认" until the party signs, then shows the party's seal — applied
    to this same file at each sign-off (the vendor's at submission).
    """
    rows = []
    for order, party in enumerate(signing_order(list(parties)), start=1):
        suffix = "（提交）" if party.role == PartyRole.VENDOR else ""
        rows.append(
            SignoffRow(
                order=order,
                role_label=party.role_label + suffix,
                organization=party.organization,
                field_name=party.field_name,
            )
        )
    return rows


def statement_context(
    statement: Statement,
    departments: Sequence[tuple[str, int, Decimal]],
    parties: Sequence[PartyInfo],
) -> dict[str, Any]:
    contract = statement.contract
    net = statement.total - statement.vat
    vat_pct = (statement.vat_rate * 100).normalize()
    rule = f"{contract.get_proration_display()}；{contract.get_partial_day_rule_display()}"
    meta = [
        ("合同编号", contract.code),
        ("统计月份", f"{statement.year}年{statement.month}月"),
        ("合同名称", contract.name),
        ("版本", f"第{statement.version}版"),
        ("计费规则", rule),
        ("折扣系数", discount_text(statement)),
        ("生成时间", _local(statement.generated_at)),
        ("提交期限", f"{statement.due_date:%Y-%m-%d}" if statement.due_date else "合同未约定"),
    ]
    correction = None
    if statement.supersedes_id:
        correction = {
            "version": statement.supersedes.version,
            "reason": statement.supersede_reason,
        }
    return {
        "report_title": f"{contract.code} {contract.name}",
        "report_subtitle": f"{statement.year}年{statement.month}月 {STATEMENT_TITLE}"
        f"（第{statement.version}版）",
        "title": STATEMENT_TITLE,
        "statement": statement,
        "contract": contract,
        "meta_items": meta,
        "parties": [(p.role_label, p.organization) for p in parties],
        "correction": correction,
        # An unsaved statement (the benchmark's) cites none.
        "inventory_corrections": list(statement.inventory_corrections.all())
        if statement.pk
        else [],
        "departments": [
            {
                "name": d.name,
                "lines": d.lines,
                "subtotal": yuan(d.subtotal),
                "total": yuan(d.total),
                "vat": yuan(d.vat),
            }
            for d in _shares(statement, departments)
        ],
        "line_count": sum(count for _, count, _ in departments),
        "amounts": {
            "subtotal": yuan(statement.subtotal),
            "discount": discount_text(statement),
            "total": yuan(statement.total),
            "net": yuan(net),
            "vat": yuan(statement.vat),
            "vat_pct": f"{vat_pct:f}",
            "words": amount_in_words(statement.total),
        },
        "signoffs": signoff_rows(statement, parties),
        "verify_url": portal_url("/pdf/verify/"),
    }


def statement_render(
    statement: Statement, lines: Sequence[LineData], *, parties: Sequence[PartyInfo]
) -> bytes:
    """The statement PDF from plain data (the benchmark calls this with synthetic lines).

    The lines are embedded as a CSV attachment (:func:`statement_lines_csv`), so they are part of
    the first revision that every later signature covers.
    """
    rows, departments = statement_rows(lines, discount_on_lines=statement.discount_on_lines)
    return render_table_pdf(
        columns=STATEMENT_COLUMNS,
        rows=rows,
        context=statement_context(statement, departments, parties),
        header_template=STATEMENT_HEADER,
        footer_template=STATEMENT_FOOTER,
        attachments=[
            Attachment(
                filename=statement_csv_filename(statement),
                data=statement_lines_csv(lines),
                mime_type="text/csv",
                description=f"{STATEMENT_TITLE}明细（CSV，UTF-8）",
            )
        ],
    )


#: Header of the embedded CSV; one line per statement line, plain numbers (no thousands separators)
#: so that a spreadsheet can add them up.
CSV_HEADER = (
    "序号",
    "使用单位",
    "业务系统",
    "目录编码",
    "服务名称",
    "计量单位",
    "数量",
    "单价（元）",
    "价格周期",
    "服务天数",
    "金额（元）",
)


def statement_csv_filename(statement: Statement) -> str:
    code = statement.contract.code
    return f"statement-{code}-{statement.year}{statement.month:02d}-v{statement.version}-lines.csv"


def statement_lines_csv(lines: Iterable[LineData]) -> bytes:
    """The lines as CSV, UTF-8 with a byte order mark (Excel then reads the Chinese right)."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for line in lines:
        writer.writerow(
            (
                line.position,
                line.department,
                line.system,
                line.item_code,
                line.item_name,
                line.unit,
                line.quantity,
                f"{line.unit_price}",
                "年" if line.price_period == PricePeriod.YEAR else "月",
                f"{line.service_days}",
                f"{quantize_yuan(line.amount)}",
            )
        )
    return output.getvalue().encode("utf-8-sig")


def statement_single_template_pdf(
    statement: Statement, lines: Sequence[LineData], *, parties: Sequence[PartyInfo]
) -> bytes:
    """The same statement through ``reports/statement.html`` as one WeasyPrint document (the
    naive render: a template loop over the rows; the benchmark's baseline)."""
    rows, departments = statement_rows(lines, discount_on_lines=statement.discount_on_lines)
    context = statement_context(statement, departments, parties)
    context.update(columns=STATEMENT_COLUMNS, table_rows=template_rows(STATEMENT_COLUMNS, rows))
    return render_pdf(STATEMENT_SINGLE, context)


def statement_lines(statement: Statement) -> list[LineData]:
    return [
        LineData(*values)
        for values in statement.lines.order_by("position").values_list(*LINE_FIELDS)
    ]


def statement_pdf_bytes(statement: Statement) -> bytes:
    """Render a statement version (unsigned) from the database."""
    statement = Statement.objects.select_related("contract", "submitted_by", "supersedes").get(
        pk=statement.pk
    )
    return statement_render(
        statement,
        statement_lines(statement),
        parties=contract_signoff_parties(statement.contract),
    )


# ---------------------------------------------------------------------------- department bill


def department_bill_context(bill: DepartmentBill) -> dict[str, Any]:
    statement = bill.statement
    contract = statement.contract
    lines = [
        LineData(*values)
        for values in statement.lines.filter(department_id=bill.department_id)
        .order_by("position")
        .values_list(*LINE_FIELDS)
    ]
    rows, _departments = statement_rows(lines)
    rows = rows[1:-2]  # without the department heading, its closing subtotal and the total
    share_pct = round_half_up(bill.total / statement.total * 100) if statement.total else None
    return {
        "report_title": f"{contract.code} {contract.name}",
        "report_subtitle": f"{statement.year}年{statement.month}月 使用单位账单",
        "bill": bill,
        "statement": statement,
        "contract": contract,
        "columns": STATEMENT_COLUMNS,
        "table_rows": template_rows(STATEMENT_COLUMNS, rows),
        "meta_items": [
            ("使用单位", bill.department_name),
            ("合同编号", contract.code),
            ("统计月份", f"{statement.year}年{statement.month}月"),
            ("依据", f"已签认的月度服务资源统计表第{statement.version}版"),
            ("签认完成", _local(statement.signed_at)),
            ("明细条数", str(bill.lines_count)),
        ],
        "amounts": {
            "subtotal": yuan(bill.subtotal),
            "discount": discount_text(statement),
            "total": yuan(bill.total),
            "net": yuan(bill.total - bill.vat),
            "vat": yuan(bill.vat),
            "vat_pct": f"{(statement.vat_rate * 100).normalize():f}",
            "words": amount_in_words(bill.total),
            "statement_total": yuan(statement.total),
            "share_pct": f"{share_pct}" if share_pct is not None else "—",
        },
        "portal_url": portal_url(f"/billing/bills/{bill.pk}/"),
    }


def department_bill_pdf_bytes(bill: DepartmentBill) -> bytes:
    bill = DepartmentBill.objects.select_related("statement__contract").get(pk=bill.pk)
    return render_pdf(BILL_TEMPLATE, department_bill_context(bill))


# ---------------------------------------------------------------------------- settlement


_STATUS_LABELS = dict(StatementStatus.choices)


def settlement_chart_svg(summary: Any) -> str:
    """Signed total per month of a settlement period (``settlement_summary``), as an SVG bar
    chart — the portal's settlement page and the PDF draw the same one."""
    labels = [f"{m.year}年{m.month}月" for m in summary.months]
    values = [quantize_yuan(m.signed_total or 0) for m in summary.months]
    return bar_chart_svg(
        labels, values, title="各月已签认结算金额", unit="元", value_format=format_yuan
    )


def settlement_context(contract: Contract, summary: Any, *, as_of: datetime) -> dict[str, Any]:
    period = summary.period
    burn_pct = round_half_up(summary.burn_ratio * 100) if summary.burn_ratio else None
    return {
        "report_title": f"{contract.code} {contract.name}",
        "report_subtitle": f"结算汇总 {period.label}",
        "contract": contract,
        "summary": summary,
        "period_label": period.label,
        "as_of": _local(as_of),
        "months": [
            {
                "label": f"{m.year}年{m.month}月",
                "version": f"第{m.version}版" if m.version else "—",
                "status": _STATUS_LABELS.get(m.status, "未出具") if m.status else "未出具",
                "amount": yuan(m.signed_total) if m.signed_total is not None else "—",
            }
            for m in summary.months
        ],
        "chart_svg": mark_safe(settlement_chart_svg(summary)),  # noqa: S308 — escaped SVG
        "deductions": [
            {"reason": d.reason, "amount": yuan(d.amount), "source": d.get_source_display()}
            for d in summary.deductions
        ],
        "installments": [
            {
                "sequence": i.sequence,
                "label": i.label,
                "amount": yuan(i.amount) if i.amount is not None else "按结算确定",
                "paid": yuan(i.paid),
            }
            for i in summary.installments
        ],
        "amounts": {
            "signed_total": yuan(summary.signed_total),
            "deductions_total": yuan(summary.deductions_total),
            "deductions_applied": yuan(summary.deductions_applied),
            "capped": summary.deductions_applied < summary.deductions_total,
            "payable": yuan(summary.payable),
            "payable_words": amount_in_words(summary.payable),
            "unassigned_paid": yuan(summary.unassigned_paid),
            "paid_total": yuan(summary.paid_total),
            "estimated": yuan(summary.estimated_amount) if summary.estimated_amount else "—",
            "signed_to_date": yuan(summary.signed_to_date),
            "burn_pct": f"{burn_pct}%" if burn_pct is not None else "—",
            "forecast": yuan(summary.forecast_total),
        },
        "unsigned_months": summary.unsigned_months,
        "forecast_method": summary.forecast_method,
    }


def settlement_pdf_bytes(contract: Contract, period_key: str) -> bytes:
    summary = settlement_summary(contract, period_key)
    return render_pdf(
        SETTLEMENT_TEMPLATE, settlement_context(contract, summary, as_of=timezone.now())
    )
