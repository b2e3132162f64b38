"""Prices with effective dates: a price change applies from its date, with its basis, audited;
months before it bill at the old price; a line is split where the price changes in the month.

The issue's example: "one item ×10 moved an unsigned past month from 31,778.54 to 52,771.64" —
here the DESIGN §4 worked example (BT-2025, March 2026) must stay 344.82 when
``ecs.general.vcpu`` goes from 21.60 to 216.00.
"""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from billing.contracts import REFERENCE_DIR
from billing.models import CatalogItem, CatalogPrice, Statement, StatementStatus
from billing.services import catalog_import
from billing.services.catalog import catalog_price_set
from billing.services.engine import compute_statement
from billing.services.statements import statement_generate
from govcloud.exceptions import ApplicationError
from govcloud.models import AuditEvent, Role
from tests.billing.conftest import add_resource, sh
from tests.conftest import verified_client
from tests.factories import UserFactory, make_totp

D = Decimal
VCPU = "ecs.general.vcpu"


def bt_catalog(**prices: str) -> str:
    """BT-2025's shipped catalog CSV with some prices replaced (code → new price)."""
    lines = (REFERENCE_DIR / "bt-2025" / "catalog.csv").read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if cells[0] in prices:
            cells[5] = prices[cells[0]]
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


@pytest.fixture
def design_march(bt):
    """DESIGN §4's worked example: 8 vCPU from 03-10 15:00 and 500 GB SSD all of March."""
    add_resource(bt.contract, bt.department, VCPU, 8, sh(2026, 3, 10, 15))
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 2, 1))
    return bt


def totals(contract, year: int, month: int) -> tuple[Decimal, Decimal, Decimal]:
    computed = compute_statement(contract, year, month)
    return computed.subtotal, computed.total, computed.vat


def test_every_item_starts_with_its_contract_price(bt):
    item = CatalogItem.objects.get(contract=bt.contract, code=VCPU)
    assert list(item.prices.values_list("effective_from", "unit_price", "basis")) == [
        (date(2025, 6, 20), D("21.60"), "合同服务目录")
    ]
    assert CatalogPrice.objects.filter(item__contract=bt.contract).count() == (
        CatalogItem.objects.filter(contract=bt.contract).count()
    )


def test_one_item_times_ten_does_not_move_a_past_month(design_march):
    bt = design_march
    # 119.85 + 225.00 = 344.85; × 0.9999 → 344.82; VAT 344.82 − 325.30 = 19.52 (DESIGN §4).
    assert totals(bt.contract, 2026, 3) == (D("344.85"), D("344.82"), D("19.52"))

    # Without an effective date the changed price is refused, naming the item; nothing changes.
    with pytest.raises(ApplicationError) as refused:
        catalog_import(actor="ops", contract=bt.contract, csv_text=bt_catalog(**{VCPU: "216.00"}))
    assert VCPU in refused.value.message
    assert VCPU in refused.value.extra["errors"][0]
    assert "生效日期" in refused.value.extra["errors"][0]
    item = CatalogItem.objects.get(contract=bt.contract, code=VCPU)
    assert item.unit_price == D("21.60")
    assert item.prices.count() == 1

    result = catalog_import(
        actor="ops",
        contract=bt.contract,
        csv_text=bt_catalog(**{VCPU: "216.00"}),
        price_effective_from=date(2026, 4, 1),
        price_basis="补充协议（2026-03）第2条",
    )
    assert result.prices_changed == [VCPU]
    item.refresh_from_db()
    assert item.unit_price == D("216.00")  # new requests are estimated at the new price
    # March is untouched: the past bills at the old price.
    assert totals(bt.contract, 2026, 3) == (D("344.85"), D("344.82"), D("19.52"))
    # April at the new price: 216.00 × 8 × 30 / 30 = 1728.00; + 225.00 = 1953.00;
    # × 0.9999 = 1952.8047 → 1952.80; VAT 1952.80 − round(1842.2641…) = 110.54.
    assert totals(bt.contract, 2026, 4) == (D("1953.00"), D("1952.80"), D("110.54"))
    event = AuditEvent.objects.get(action="catalog_price.change")
    assert event.after["basis"] == "补充协议（2026-03）第2条"
    assert event.after["effective_from"] == "2026-04-01"
    assert event.before["unit_price"] == "21.60"


def test_a_change_inside_the_month_splits_the_line(design_march):
    bt = design_march
    item = CatalogItem.objects.get(contract=bt.contract, code=VCPU)
    catalog_price_set(
        actor="ops",
        item=item,
        unit_price=D("216.00"),
        effective_from=date(2026, 3, 16),
        basis="补充协议第2条",
    )
    march = compute_statement(bt.contract, 2026, 3)
    vcpu = [
        (ln.unit_price, ln.service_days, ln.amount) for ln in march.lines if ln.item_code == VCPU
    ]
    # 03-10 15:00 → 03-16 00:00 at 21.60: 0.5 + 5 = 5.5 days; 21.60 × 8 × 5.5 / 31 = 30.658… → 30.66
    # 03-16 → 04-01 at 216.00: 16 days; 216.00 × 8 × 16 / 31 = 891.870… → 891.87
    assert vcpu == [(D("21.60"), D("5.5"), D("30.66")), (D("216.00"), D("16"), D("891.87"))]
    # 30.66 + 891.87 + 225.00 = 1147.53; × 0.9999 = 1147.415247 → 1147.42;
    # VAT 1147.42 − round(1082.4716…) = 1147.42 − 1082.47 = 64.95.
    assert (march.subtotal, march.total, march.vat) == (D("1147.53"), D("1147.42"), D("64.95"))
    # February (before the change) is at the old price: only the SSD, 0.45 × 500 × 28/28.
    assert totals(bt.contract, 2026, 2)[0] == D("225.00")


def test_a_price_change_never_rewrites_a_signed_month(design_march):
    bt = design_march
    with time_machine.travel(sh(2026, 4, 2, 9), tick=False):
        march = statement_generate(
            actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
        )
    now = timezone.now()
    Statement.objects.filter(pk=march.pk).update(
        status=StatementStatus.SIGNED, submitted_at=now, signed_at=now
    )
    item = CatalogItem.objects.get(contract=bt.contract, code=VCPU)
    with pytest.raises(ApplicationError, match="2026-03"):
        catalog_price_set(
            actor="ops",
            item=item,
            unit_price=D("216.00"),
            effective_from=date(2026, 3, 16),
            basis="x",
        )
    with pytest.raises(ApplicationError) as refused:
        catalog_import(
            actor="ops",
            contract=bt.contract,
            csv_text=bt_catalog(**{VCPU: "216.00"}),
            price_effective_from=date(2026, 3, 1),
            price_basis="x",
        )
    assert "已签认" in refused.value.extra["errors"][0]
    assert item.prices.count() == 1
    # From April (after the signed month) it is fine.
    catalog_price_set(
        actor="ops", item=item, unit_price=D("216.00"), effective_from=date(2026, 4, 1), basis="x"
    )
    # …and a later change may not be dated before it.
    with pytest.raises(ApplicationError, match="不得早于"):
        catalog_price_set(
            actor="ops",
            item=item,
            unit_price=D("30.00"),
            effective_from=date(2026, 3, 20),
            basis="x",
        )
    with pytest.raises(ApplicationError, match="计费期"):
        catalog_price_set(
            actor="ops",
            item=item,
            unit_price=D("30.00"),
            effective_from=date(2026, 7, 1),
            basis="x",
        )
    with pytest.raises(ApplicationError, match="依据"):
        catalog_price_set(
            actor="ops", item=item, unit_price=D("30.00"), effective_from=date(2026, 5, 1), basis=""
        )


def test_admin_edit_needs_the_effective_date_and_basis(bt):
    admin = UserFactory(organization=bt.contract.bureau, role=Role.SYSTEM_ADMIN)
    make_totp(admin)
    client = verified_client(admin)
    item = CatalogItem.objects.get(contract=bt.contract, code=VCPU)
    url = reverse("admin:billing_catalogitem_change", args=[item.pk])
    form = {
        "contract": bt.contract.pk,
        "code": item.code,
        "section": item.section,
        "name": item.name,
        "spec": item.spec,
        "unit": item.unit,
        "unit_price": "23.00",
        "period": item.period,
        "sort_order": item.sort_order,
        "is_active": "on",
        "prices-TOTAL_FORMS": "1",
        "prices-INITIAL_FORMS": "1",
        "prices-MIN_NUM_FORMS": "0",
        "prices-MAX_NUM_FORMS": "1000",
    }
    refused = client.post(url, form)
    assert refused.status_code == 200  # the form again, with the reason
    assert "生效日期" in refused.content.decode()
    item.refresh_from_db()
    assert item.unit_price == D("21.60")

    done = client.post(
        url, {**form, "price_effective_from": "2026-05-01", "price_basis": "补充协议第3条"}
    )
    assert done.status_code == 302, done.content.decode()[:2000]
    item.refresh_from_db()
    assert item.unit_price == D("23.00")
    assert list(item.prices.values_list("effective_from", "unit_price", "basis")) == [
        (date(2025, 6, 20), D("21.60"), "合同服务目录"),
        (date(2026, 5, 1), D("23.00"), "补充协议第3条"),
    ]
    assert AuditEvent.objects.filter(action="catalog_price.change", actor=admin).exists()
    # The price history is on the item's page.
    page = client.get(url).content.decode()
    assert "补充协议第3条" in page


def test_admin_catalog_upload_with_an_effective_date(bt):
    admin = UserFactory(organization=bt.contract.bureau, role=Role.SYSTEM_ADMIN)
    make_totp(admin)
    client = verified_client(admin)
    url = reverse("admin:billing_catalogitem_import", args=[bt.contract.pk])
    from django.core.files.uploadedfile import SimpleUploadedFile

    def upload(**extra: str):
        data = bt_catalog(**{VCPU: "25.00"}).encode()
        return client.post(url, {"file": SimpleUploadedFile("c.csv", data), **extra})

    refused = upload()
    assert refused.status_code == 200
    assert VCPU in refused.content.decode()
    done = upload(price_effective_from="2026-05-01", price_basis="补充协议第4条")
    assert done.status_code == 302
    assert CatalogItem.objects.get(contract=bt.contract, code=VCPU).unit_price == D("25.00")


def test_load_contract_with_a_changed_price_names_the_items(bt, tmp_path: Path):
    folder = tmp_path / "bt-2025"
    shutil.copytree(REFERENCE_DIR / "bt-2025", folder)
    (folder / "catalog.csv").write_text(bt_catalog(**{VCPU: "216.00"}), encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("load_contract", str(folder))
    assert VCPU in str(refused.value)
    assert CatalogItem.objects.get(contract=bt.contract, code=VCPU).unit_price == D("21.60")
    # Unchanged prices load as before (idempotent).
    call_command("load_contract", str(REFERENCE_DIR / "bt-2025"))
    assert CatalogPrice.objects.filter(item__code=VCPU, item__contract=bt.contract).count() == 1


def test_the_catalog_api_shows_the_dated_prices(design_march):
    bt = design_march
    item = CatalogItem.objects.get(contract=bt.contract, code=VCPU)
    catalog_price_set(
        actor="ops", item=item, unit_price=D("216.00"), effective_from=date(2026, 4, 1), basis="x"
    )
    body = (
        verified_client(bt.users["vendor"])
        .get(f"/api/v1/contracts/{bt.contract.pk}/catalog/", {"code": VCPU})
        .json()
    )
    (row,) = body["results"]
    assert row["unit_price"] == "216.00"
    assert row["prices"] == [
        {"effective_from": "2025-06-20", "unit_price": "21.60", "basis": "合同服务目录"},
        {"effective_from": "2026-04-01", "unit_price": "216.00", "basis": "x"},
    ]
