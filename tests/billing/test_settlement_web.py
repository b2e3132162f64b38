"""Settlement on the portal and the API: the dashboard shows per period signed, deductions
(pending / effective), payable, paid, balance and the contract-wide 尾款; the vendor
acknowledges a deduction notice (PDF); invoices and funds through the API; 401/403/404."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Deduction, DeductionStatus, Invoice, InvoiceStatus
from billing.services.settlement import deduction_create, payment_record
from govcloud.models import Installment
from tests.billing.test_settlement_netting import FIRST_HALF, signed
from tests.conftest import verified_client

D = Decimal


@pytest.fixture
def bt_state(bt):
    signed(bt.contract, 2025, 6, "400000.00")
    for month in range(7, 12):
        signed(bt.contract, 2025, month, "700000.00")
    payment_record(
        actor=bt.users["bureau"],
        contract=bt.contract,
        installment=Installment.objects.get(contract=bt.contract, sequence=1),
        amount=D("1000000.00"),
        paid_on=date(2025, 7, 1),
    )
    deduction_create(
        actor=bt.users["bureau"],
        contract=bt.contract,
        period_label=FIRST_HALF,
        amount=D("100000.00"),
        reason="交付超时",
    )
    return bt


def test_dashboard_shows_netting_and_the_vendor_acknowledges(bt_state):
    bt = bt_state
    vendor = verified_client(bt.users["vendor"])
    page = vendor.get(reverse("contract_dashboard", args=[bt.contract.pk])).content.decode()
    # pending 100,000 not deducted: payable 3,900,000, paid (advance) 1,000,000, 尾款 2,900,000
    assert "¥3,900,000.00" in page
    assert "¥2,900,000.00" in page
    assert "待乙方确认" in page
    deduction = Deduction.objects.get()
    pdf = vendor.get(reverse("deduction_notice_pdf", args=[deduction.pk]))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    response = vendor.post(reverse("deduction_action", args=[deduction.pk, "acknowledge"]))
    assert response.status_code == 302
    deduction.refresh_from_db()
    assert deduction.status == DeductionStatus.EFFECTIVE
    page = vendor.get(reverse("contract_dashboard", args=[bt.contract.pk])).content.decode()
    assert "¥2,800,000.00" in page  # 3,800,000 − 1,000,000


def test_bureau_cannot_acknowledge_on_the_portal(bt_state):
    bt = bt_state
    deduction = Deduction.objects.get()
    verified_client(bt.users["bureau"]).post(
        reverse("deduction_action", args=[deduction.pk, "acknowledge"])
    )
    deduction.refresh_from_db()
    assert deduction.status == DeductionStatus.PENDING


def test_api_settlement_invoice_and_tenancy(bt_state, jz, client):
    bt = bt_state
    url = reverse("api_contract_settlement", args=[bt.contract.pk])
    assert client.get(url).status_code == 401
    data = verified_client(bt.users["auditor"]).get(url).json()
    assert (data["payable"], data["paid"], data["balance"]) == (
        "3900000.00",
        "1000000.00",
        "2900000.00",
    )
    assert data["periods"][0]["deductions_pending"] == "100000.00"
    assert data["terms"]["deduction_needs_vendor_ack"]["clause"]
    # JZ's parties do not see BT
    assert verified_client(jz.users["vendor"]).get(url).status_code == 404
    vendor = verified_client(bt.users["vendor"])
    deduction = Deduction.objects.get()
    r = vendor.post(
        reverse("api_deduction_action", args=[deduction.pk, "object"]),
        data=json.dumps({"reason": "已按期交付"}),
        content_type="application/json",
    )
    assert (r.status_code, r.json()["status"]) == (200, "objected")
    r = vendor.post(
        reverse("api_contract_invoices", args=[bt.contract.pk]),
        data=json.dumps(
            {
                "number": "INV-1",
                "issued_on": "2025-07-01",
                "amount": "1000000.00",
                "installment": Installment.objects.get(contract=bt.contract, sequence=1).pk,
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["invoiced"] == "1000000.00"
    invoice = Invoice.objects.get()
    r = vendor.post(
        reverse("api_invoice_action", args=[invoice.pk, "confirm"]),
        data="{}",
        content_type="application/json",
    )
    assert r.status_code == 403
    r = verified_client(bt.users["bureau"]).post(
        reverse("api_invoice_action", args=[invoice.pk, "confirm"]),
        data="{}",
        content_type="application/json",
    )
    assert r.json()["status"] == InvoiceStatus.CONFIRMED
    # overpayment through the API: 400 with the reason
    r = verified_client(bt.users["bureau"]).post(
        reverse("api_contract_payments", args=[bt.contract.pk]),
        data=json.dumps({"amount": "3900000.01", "paid_on": "2026-01-05", "period": FIRST_HALF}),
        content_type="application/json",
    )
    assert r.status_code == 400
    assert "超过该结算期的实际应付" in r.json()["message"]


@pytest.mark.parametrize("who", ["bureau", "vendor", "supervisor", "auditor"])
def test_the_dashboard_links_the_parties_to_the_inventory_corrections(bt, who):
    page = verified_client(bt.users[who]).get(reverse("contract_dashboard", args=[bt.contract.pk]))
    assert page.status_code == 200
    link = reverse("contract_inventory_corrections", args=[bt.contract.pk])
    assert link in page.content.decode()
