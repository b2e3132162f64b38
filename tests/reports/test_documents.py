"""What the statement, bill and settlement PDFs say, in Chinese, on a machine without CJK fonts."""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader

from billing.models import DepartmentBill, DocumentKind
from billing.reports.amount_words import amount_in_words
from billing.reports.statement_pdf import LineData, statement_pdf_bytes, statement_rows
from govcloud.pdf.render import PDF_FONT_NAME
from tests.reports.conftest import document, file_bytes, generate


def page_texts(pdf: bytes) -> list[str]:
    return [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(BytesIO(pdf)).pages]


def font_names(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()
            names.add(str(descriptor["/BaseFont"]))
            for descendant in descriptor.get("/DescendantFonts", []):
                file = descendant.get_object()["/FontDescriptor"].get_object()
                assert any(key in file for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    return names


def test_statement_pdf_embeds_the_cjk_font_and_reads_in_chinese(signed_bt):
    world, statement = signed_bt
    pdf = file_bytes(document(statement))
    texts = page_texts(pdf)
    text = "".join(texts)

    assert any(name.endswith(PDF_FONT_NAME) for name in font_names(pdf))  # embedded subset
    assert "月度服务资源统计表" in text
    assert world.contract.name in text
    assert "第1页/共" in texts[0]
    # lines grouped with subtotals; the DESIGN example amounts to the fen
    assert "一、包头市公安局" in text
    assert "（一）天网工程" in text
    assert "智慧校园小计" in text
    assert "119.85" in text
    assert "225.00" in text
    # totals, VAT included, in words; the sign-off table lists every party in signing order
    assert f"{statement.total:,}" in text
    assert f"{statement.vat:,}" in text
    assert amount_in_words(statement.total) in text
    signoffs = text[text.index("数字签名域") :]
    order = [
        signoffs.index(field) for field in ("sig-2-vendor", "sig-1-bureau", "sig-3-supervisor")
    ]
    assert order == sorted(order)
    # rendered when generated, before anyone signed: the page prints no signer; each row's seal
    # box reads "待签认" through its signature field (tests/reports/test_seal_statement.py)
    assert "已签认" not in signoffs


def test_rendering_is_deterministic_in_content(bt, django_capture_on_commit_callbacks):
    """The stored PDF can be rendered once: rendering again later gives the same text."""
    statement = generate(bt)
    from tests.reports.conftest import sign_off

    with django_capture_on_commit_callbacks(execute=True):
        sign_off(bt, statement, "vendor", "bureau")
    stored = page_texts(file_bytes(document(statement)))

    assert page_texts(statement_pdf_bytes(statement)) == stored


def test_department_bill_shows_its_lines_share_and_vat(signed_bt):
    world, statement = signed_bt
    edu = world.departments[0]
    bill = DepartmentBill.objects.get(statement=statement, department=edu)
    doc = document(statement, DocumentKind.DEPARTMENT_BILL, department=edu)
    text = "".join(page_texts(file_bytes(doc)))

    assert doc.sha256  # rendered complete: verifiable by fingerprint
    assert "政务云服务费用账单" in text
    assert edu.name in text
    assert "119.85" in text
    assert "225.00" in text
    assert "智慧校园小计" in text
    assert f"{bill.total:,}" in text
    assert f"{bill.vat:,}" in text
    assert amount_in_words(bill.total) in text


def test_settlement_summary_has_the_months_chart_and_payable(signed_bt):
    _world, statement = signed_bt
    text = "".join(page_texts(file_bytes(document(statement, DocumentKind.SETTLEMENT))))

    assert "结算汇总" in text
    assert "各月已签认结算金额" in text  # the SVG chart's title, drawn in the PDF
    assert "2026年3月" in text
    assert "实际支付费用" in text
    assert "预算执行率" in text
    assert f"{statement.total:,}" in text


def test_rows_carry_department_and_system_subtotals():
    def line(position, department, system, amount):
        return LineData(
            position,
            department,
            f"单位{department}",
            system,
            f"系统{system}",
            "ebs.ssd",
            "SSD块存储",
            "GB",
            1,
            Decimal("0.45"),
            "month",
            Decimal("31.0"),
            Decimal(amount),
        )

    rows, departments = statement_rows(
        [line(1, 1, 1, "1.00"), line(2, 1, 2, "2.00"), line(3, 2, 3, "4.50")]
    )

    assert [(r.kind, r.cells[0]) for r in rows] == [
        ("group", "一、单位1"),
        ("group", "（一）系统1"),
        ("item", "1"),
        ("subtotal", "系统1 小计"),
        ("group", "（二）系统2"),
        ("item", "2"),
        ("subtotal", "系统2 小计"),
        ("subtotal", "单位1 合计（2 条）"),
        ("group", "二、单位2"),
        ("group", "（一）系统3"),
        ("item", "3"),
        ("subtotal", "系统3 小计"),
        ("subtotal", "单位2 合计（1 条）"),
        ("total", "全部使用单位合计（折扣前小计）"),
    ]
    assert rows[-1].cells[-1] == "¥7.50"
    assert departments == [("单位1", 2, Decimal("3.00")), ("单位2", 1, Decimal("4.50"))]


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("344.82", "叁佰肆拾肆元捌角贰分"),
        ("193.50", "壹佰玖拾叁元伍角"),
        ("100", "壹佰元整"),
        ("100.05", "壹佰元零伍分"),
        ("10005", "壹万零伍元整"),
        ("8700000", "捌佰柒拾万元整"),
        ("1000500000.50", "壹拾亿零伍拾万元伍角"),
        ("0.05", "伍分"),
        ("0", "零元整"),
    ],
    ids=lambda value: value,
)
def test_amount_in_chinese_capitals(amount, words):
    assert amount_in_words(Decimal(amount)) == words
