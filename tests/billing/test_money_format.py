"""One money format everywhere (issue 14): ¥1,234,567.89 and -¥1,234.56 on pages, tables, the
request form's drop-down and estimate, e-mails and PDFs; CSV exports keep plain numbers."""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from billing.models import DepartmentBill, StatementDocument
from billing.money import format_yuan
from billing.reports.emails import department_bill_email, statement_signed_pdf_email
from billing.reports.statement_pdf import (
    department_bill_pdf_bytes,
    statement_lines,
    statement_lines_csv,
)
from billing.services.settlement import deduction_create, payment_record
from govcloud.formatting import format_unit_price
from govcloud.models import Installment, OutboxEmail
from tests.billing.test_views import signed_statement
from tests.conftest import verified_client
from tests.requests_app.factories import submitted_ticket, vcpu_item

pytestmark = pytest.mark.django_db

#: A number that looks like an amount: thousands separators, or exactly two decimals.
AMOUNT = re.compile(r"(?<![\d.,])-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d{2})(?![\d%])")
#: Two-decimal figures that are not amounts, by the words right before them.
NOT_MONEY = ("税率", "系数", "增值税率")


def unformatted_amounts(text: str) -> list[str]:
    """Amount-looking numbers not written ¥…: each with a little context, for the message."""
    found = []
    for match in AMOUNT.finditer(text):
        before = text[max(0, match.start() - 8) : match.start()]
        if before.endswith("¥") or before.rstrip().endswith(NOT_MONEY):
            continue
        found.append(text[max(0, match.start() - 20) : match.end() + 5])
    return found


def page_text(html: str) -> str:
    """What a reader sees: no scripts, styles or attributes (input values stay plain)."""
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"[ \t]+", " ", text)


# ---------------------------------------------------------------- the format and the filter


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(Decimal("1234567.891"), "¥1,234,567.89", id="millions"),
        pytest.param(Decimal("-1234.56"), "-¥1,234.56", id="negative"),
        pytest.param(Decimal("0.125"), "¥0.13", id="half-up"),
        pytest.param(Decimal("-0.004"), "¥0.00", id="no-negative-zero"),
        pytest.param(1000000, "¥1,000,000.00", id="int"),
    ],
)
def test_format_yuan(value, expected):
    assert format_yuan(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(Decimal("21.6"), "¥21.60", id="two-places"),
        pytest.param(Decimal("948"), "¥948.00", id="whole"),
        pytest.param(Decimal("0.0125"), "¥0.0125", id="four-places-kept"),
        pytest.param(Decimal("0.45000"), "¥0.45", id="trailing-zeros"),
        pytest.param(Decimal("12345.678"), "¥12,345.678", id="three-places"),
    ],
)
def test_format_unit_price_keeps_a_prices_own_decimals(value, expected):
    assert format_unit_price(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(Decimal("5977.45"), "¥5,977.45", id="decimal"),
        pytest.param("31527.04", "¥31,527.04", id="snapshot-string"),
        pytest.param("1,000,000.00", "¥1,000,000.00", id="already-separated"),
        pytest.param(Decimal("-8.37"), "-¥8.37", id="negative"),
        pytest.param(None, "—", id="none"),
        pytest.param("", "—", id="empty"),
        pytest.param("按结算确定", "按结算确定", id="label-passes-through"),
    ],
)
def test_the_yuan_filter_needs_no_load_and_writes_the_one_format(value, expected):
    assert Template("{{ v|yuan }}").render(Context({"v": value})) == expected


def test_the_unit_price_filter():
    rendered = Template("{{ p|unit_price }}/月").render(Context({"p": Decimal("21.60")}))
    assert rendered == "¥21.60/月"


def test_the_checker_catches_what_it_should():
    (found,) = unformatted_amounts("合计 5978.05 元，另 ¥5,977.45")
    assert "5978.05" in found
    assert "¥5,977.45" not in found
    assert unformatted_amounts("1000000.00") == ["1000000.00"]
    assert unformatted_amounts("31,527 元") == ["31,527 元"]
    assert unformatted_amounts("-¥8.37 · 折扣系数 0.95 · 增值税率 0.06 · 49.5% · 21.5 天") == []


# ---------------------------------------------------------------- pages of three roles


@pytest.fixture
def billed_world(world):
    """A signed March 2026 statement with its bills, an estimated amount, an installment, a
    deduction and a payment, and a submitted ticket with its estimate."""
    world.contract.estimated_amount = Decimal("1000000.00")
    world.contract.save(update_fields=["estimated_amount"])
    statement = signed_statement(world)
    installment = Installment.objects.create(
        contract=world.contract, sequence=1, label="预付款", amount=Decimal("300000.00")
    )
    deduction_create(
        actor=world.users["bureau"],
        contract=world.contract,
        period_label="2026-01-01/2026-06-30",
        amount=Decimal("1234.50"),
        reason="交付超时",
    )
    payment_record(
        actor=world.users["bureau"],
        contract=world.contract,
        installment=installment,
        amount=Decimal("300.00"),
        paid_on=timezone.localdate(),
    )
    ticket = submitted_ticket(world, item=vcpu_item(world.contract), quantity=1200)
    return world, statement, ticket


def pages(world, statement, ticket) -> dict[str, list[str]]:
    contract = world.contract
    bill = DepartmentBill.objects.get(statement=statement, department=world.orgs["department"])
    resource = ticket.contract.resources.first()
    common = [
        reverse("home"),
        reverse("contract_detail", args=[contract.pk]),
        reverse("contract_terms", args=[contract.pk]),
        reverse("request_list"),
        reverse("request_detail", args=[ticket.pk]),
        reverse("bill_list"),
        reverse("bill_detail", args=[bill.pk]),
    ]
    parties = [
        reverse("statement_list"),
        reverse("statement_detail", args=[statement.pk]),
        reverse("contract_dashboard", args=[contract.pk]),
    ]
    department = [
        *common,
        f"{reverse('request_create')}?contract={contract.pk}&kind=new",
    ]
    if resource is not None:
        department.append(reverse("resource_detail", args=[resource.pk]))
    return {
        "department": department,
        "vendor": [*common, *parties],
        "bureau": [*common, *parties, reverse("review_queue")],
    }


def test_every_amount_on_the_pages_of_three_roles_is_written_one_way(billed_world):
    world, statement, ticket = billed_world
    seen = set()
    for role, urls in pages(world, statement, ticket).items():
        client = verified_client(world.users[role])
        for url in urls:
            response = client.get(url)
            if response.status_code in (403, 404):
                continue  # not this role's page (the tenancy tests cover who sees what)
            assert response.status_code == 200, (role, url, response.status_code)
            text = page_text(response.content.decode())
            assert unformatted_amounts(text) == [], (role, url)
            seen.update(re.findall(r"-?¥[\d,]+\.\d{2}", text))
    # the walk did see the figures it is about (not an empty success)
    assert format_yuan(statement.total) in seen
    assert "¥1,000,000.00" in seen  # the contract's estimated amount
    assert "¥300,000.00" in seen  # the installment
    assert "¥1,234.50" in seen  # the deduction
    assert "¥21.60" in " ".join(seen)  # the catalog price in the drop-down and tables


def test_the_estimate_and_the_dropdown_write_amounts_one_way(world):
    item = vcpu_item(world.contract)
    client = verified_client(world.users["department"])
    data = {
        "contract": world.contract.pk,
        "kind": "new",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-catalog_item": item.pk,
        "lines-0-quantity": "1000",
    }
    estimate = page_text(client.post(reverse("request_estimate"), data).content.decode())
    # 21.60 × 1000 × discount
    expected = format_yuan(Decimal("21.60") * 1000 * world.contract.discount_factor)
    assert expected in estimate
    assert unformatted_amounts(estimate) == []
    form = client.get(f"{reverse('request_create')}?contract={world.contract.pk}&kind=new")
    assert "¥21.60/核/月" in form.content.decode()


# ---------------------------------------------------------------- e-mails, CSV and PDF


def test_emails_write_amounts_one_way(world, django_capture_on_commit_callbacks):
    statement = signed_statement(world)
    OutboxEmail.objects.all().delete()  # only the two e-mails below
    document = StatementDocument.objects.filter(statement=statement, kind="statement").first()
    assert document is not None
    statement_signed_pdf_email(statement, document)
    bill = DepartmentBill.objects.get(statement=statement, department=world.orgs["department"])
    department_bill_email(bill, document)
    bodies = list(OutboxEmail.objects.values_list("body", flat=True))
    assert bodies
    text = "\n".join(bodies)
    assert f"结算金额：{format_yuan(statement.total)}" in text
    assert f"应付金额：{format_yuan(bill.total)}" in text
    assert " 元" not in text
    assert unformatted_amounts(text) == []


def test_statement_notices_write_amounts_one_way(world):
    from billing.notifications import notify_submitted

    statement = signed_statement(world)
    OutboxEmail.objects.all().delete()
    notify_submitted(statement)
    body = OutboxEmail.objects.values_list("body", flat=True).first()
    assert f"结算金额：{format_yuan(statement.total)}" in body
    assert unformatted_amounts(body) == []


def test_csv_exports_keep_plain_numbers(world):
    statement = signed_statement(world)
    csv_text = statement_lines_csv(statement_lines(statement)).decode("utf-8-sig")
    assert "¥" not in csv_text
    assert re.search(r",\d+\.\d{2}(,|\r?\n|$)", csv_text)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_bill_pdf_writes_amounts_one_way(world, tmp_path: Path):
    statement = signed_statement(world)
    bill = DepartmentBill.objects.get(statement=statement, department=world.orgs["department"])
    pdf = tmp_path / "bill.pdf"
    pdf.write_bytes(department_bill_pdf_bytes(bill))
    text = subprocess.run(  # noqa: S603 — a fixed tool on a file this test wrote
        ["pdftotext", "-layout", str(pdf), "-"],  # noqa: S607
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert format_yuan(bill.total) in text
    assert unformatted_amounts(text) == []


def test_the_bill_headline_and_its_table_show_the_same_figure(world):
    statement = signed_statement(world)
    bill = DepartmentBill.objects.get(statement=statement, department=world.orgs["department"])
    client = verified_client(world.users["department"])
    html = client.get(reverse("bill_detail", args=[bill.pk])).content.decode()
    assert page_text(html).count(format_yuan(bill.total)) >= 2
