"""A third contract defined only as a file (DESIGN §4a), billed exactly by hand-computed cases.

The folder is written here, into the test's tmp folder: the code has never seen it. Its terms
differ from both reference contracts where the billing rules can differ:

* ``partial_day = "whole_day"`` — the online and the offline day each count as a whole day;
* ``discount_applies_to = "line"`` — every line is round(price × qty × days / divisor × 0.95)
  and the total is the sum of the lines (no second discount);
* a monthly catalog with one yearly item (divisor 31 in December and January, 365 for the
  yearly one);
* ``billing_from`` (2026-12-15) before ``service_start`` (2027-01-01): December's usage from
  the 15th is billed under this contract.

And the reference contracts' worked examples (DESIGN §4) stay exact.
"""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from billing.allocation import split_statement
from billing.models import CatalogItem, CatalogPrice, StatementStatus
from billing.reports.statement_pdf import discount_text
from billing.services.engine import compute_statement
from billing.services.inventory import inventory_import
from billing.services.statements import (
    statement_available_actions,
    statement_due_date,
    statement_generate,
)
from govcloud.models import Contract, PartyRole
from tests.billing.conftest import add_resource, sh
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

D = Decimal

CONTRACT_TOML = """\
# A test contract: not a real one.
code = "TC-2027"
name = "第三测试市政务云服务项目（测试用）"
service_start = 2027-01-01
service_end = 2027-12-31
billing_from = 2026-12-15
catalog = "catalog.csv"

[parties]
bureau = { name = "第三测试市数据局", short_name = "测试数据局" }
vendor = { name = "第三测试云服务有限公司", short_name = "测试云" }

[billing]
partial_day = "whole_day"
discount = "0.95"
discount_applies_to = "line"
test_period_months = 0
vat_rate = "0.06"

[settlement]
settlement_cadence = "yearly"
settlement_month = 12

[clauses]
partial_day = { clause = "四.1", quote = "上线、下线当日均按一日计" }
discount_applies_to = { clause = "四.2", quote = "每项服务费用 = 单价 × 数量 × 天数 × 95%" }
"""

CATALOG_CSV = """\
code,section,name,spec,unit,unit_price,period
vm.std,计算服务,云主机,4核8GB,台,300.00,month
disk.ssd,存储服务,云硬盘,SSD,GB,0.50,month
line.100m,网络服务,互联网专线,100Mbps,条,36500.00,year
"""

INVENTORY_CSV = """\
department,system,item,quantity,online_at,offline_at,billing_starts_at
测试审批局,审批系统,vm.std,2,2026-12-10 09:00,,
测试审批局,审批系统,disk.ssd,200,2026-12-20 18:00,2027-01-10 08:00,
测试审批局,审批系统,line.100m,1,2026-12-01 00:00,,
测试审批局,门户网站,vm.std,1,2027-01-31 23:00,,
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "tc-2027"
    path.mkdir()
    (path / "contract.toml").write_text(CONTRACT_TOML, encoding="utf-8")
    (path / "catalog.csv").write_text(CATALOG_CSV, encoding="utf-8")
    return path


@pytest.fixture
def loaded(folder: Path) -> Contract:
    first, second = StringIO(), StringIO()
    call_command("load_contract", str(folder), stdout=first)
    call_command("load_contract", str(folder), stdout=second)  # idempotent
    assert "新建" in first.getvalue()
    assert "无变化" in second.getvalue()
    contract = Contract.objects.get(code="TC-2027")
    assert Contract.objects.filter(code="TC-2027").count() == 1
    assert contract.catalog_items.count() == 3
    assert CatalogPrice.objects.filter(item__contract=contract).count() == 3
    inventory_import(
        actor="ops", contract=contract, csv_text=INVENTORY_CSV, create_departments=True
    )
    return contract


def statement_json(code: str, period: str) -> dict:
    out = StringIO()
    call_command("statement", code, period, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_file_sets_the_terms(loaded: Contract):
    contract = loaded
    assert (contract.partial_day_rule, contract.discount_applies_to) == ("whole_day", "line")
    assert (contract.billing_from.isoformat(), contract.service_start.isoformat()) == (
        "2026-12-15",
        "2027-01-01",
    )
    assert (contract.discount_factor, contract.test_period_months) == (D("0.95"), 0)
    prices = dict(CatalogItem.objects.filter(contract=contract).values_list("code", "period"))
    assert prices == {"vm.std": "month", "disk.ssd": "month", "line.100m": "year"}
    # No due day and no auditor route in this contract: none invented.
    assert contract.statement_due_working_day is None
    assert statement_due_date(contract, 2027, 1) == (None, False)


def test_december_before_the_service_start_is_billed_from_billing_from(loaded: Contract):
    data = statement_json("TC-2027", "2026-12")
    lines = [
        (ln["system"], ln["item"], ln["quantity"], ln["service_days"], ln["amount"])
        for ln in data["lines"]
    ]
    assert lines == [
        # vm.std ×2 online 12-10, clipped to billing_from 12-15: 12-15…12-31 = 17 days;
        # 300.00 × 2 × 17 / 31 × 0.95 = 9690 / 31 = 312.5806… → 312.58
        ("审批系统", "vm.std", 2, "17.0", "312.58"),
        # disk.ssd ×200 online 12-20 18:00 — whole-day rule: 12-20 counts, 12-20…12-31 = 12;
        # 0.50 × 200 × 12 / 31 × 0.95 = 1140 / 31 = 36.7741… → 36.77
        ("审批系统", "disk.ssd", 200, "12.0", "36.77"),
        # line.100m ×1, yearly: 17 days; 36500.00 × 1 × 17 / 365 × 0.95 = 1615.00
        ("审批系统", "line.100m", 1, "17.0", "1615.00"),
    ]
    # The discount is in the lines: total = subtotal = 312.58 + 36.77 + 1615.00 = 1964.35;
    # VAT = 1964.35 − round(1964.35 / 1.06 = 1853.1603…) = 1964.35 − 1853.16 = 111.19.
    assert (data["subtotal"], data["total"], data["vat"], data["discount"]) == (
        "1964.35",
        "1964.35",
        "111.19",
        "0.9500",
    )


def test_january_whole_days_line_discount_and_a_yearly_item(loaded: Contract):
    data = statement_json("TC-2027", "2027-01")
    lines = [
        (ln["system"], ln["item"], ln["quantity"], ln["service_days"], ln["amount"])
        for ln in data["lines"]
    ]
    assert lines == [
        # vm.std ×2 all month: 300.00 × 2 × 31 / 31 × 0.95 = 570.00
        ("审批系统", "vm.std", 2, "31.0", "570.00"),
        # disk.ssd ×200 until 01-10 08:00 — the offline day counts whole: 01-01…01-10 = 10;
        # 0.50 × 200 × 10 / 31 × 0.95 = 950 / 31 = 30.6451… → 30.65
        ("审批系统", "disk.ssd", 200, "10.0", "30.65"),
        # line.100m yearly, 31 days: 36500.00 × 31 / 365 × 0.95 = 2945.00
        ("审批系统", "line.100m", 1, "31.0", "2945.00"),
        # vm.std ×1 online 01-31 23:00 — one hour is a whole day: 300.00 × 1 / 31 × 0.95
        # = 285 / 31 = 9.1935… → 9.19
        ("门户网站", "vm.std", 1, "1.0", "9.19"),
    ]
    # total = subtotal = 570.00 + 30.65 + 2945.00 + 9.19 = 3554.84;
    # VAT = 3554.84 − round(3554.84 / 1.06 = 3353.6226…) = 3554.84 − 3353.62 = 201.22.
    assert (data["subtotal"], data["total"], data["vat"]) == ("3554.84", "3554.84", "201.22")


def test_the_statement_and_its_bills_keep_the_line_discount(loaded: Contract):
    contract = loaded
    vendor_org = contract.parties.get(role=PartyRole.VENDOR).organization
    vendor = UserFactory(organization=vendor_org)
    with time_machine.travel(sh(2027, 2, 3, 9), tick=False):
        statement = statement_generate(actor=vendor, contract=contract, year=2027, month=1)
    assert (statement.status, statement.discount_applies_to) == (StatementStatus.DRAFT, "line")
    assert (statement.subtotal, statement.total, statement.vat) == (
        D("3554.84"),
        D("3554.84"),
        D("201.22"),
    )
    assert statement.due_date is None
    assert not statement.is_late
    assert "submit" in statement_available_actions(user=vendor, obj=statement)
    # Department bills split the total as the lines already carry the discount (factor 1):
    # one department, so its bill is the whole total.
    shares = split_statement(
        [statement.subtotal],
        discount=statement.subtotal_factor,
        total=statement.total,
        vat=statement.vat,
        vat_rate=statement.vat_rate,
    )
    assert [(s.total, s.vat) for s in shares] == [(D("3554.84"), D("201.22"))]
    assert discount_text(statement) == "0.9500（已计入各明细，结算金额 = 小计）"


def test_reference_worked_examples_stay_exact(bt, jz):
    # DESIGN §4 (BT-2025, March 2026): 119.85 + 225.00 = 344.85 → × 0.9999 → 344.82.
    add_resource(bt.contract, bt.department, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15))
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 3, 1))
    march = compute_statement(bt.contract, 2026, 3)
    assert [line.amount for line in march.lines] == [D("119.85"), D("225.00")]
    assert (march.subtotal, march.total, march.vat) == (D("344.85"), D("344.82"), D("19.52"))
    # JZ-2026, July 2026: 2280 × 31 / 365 = 193.643… → 193.64; × 0.9993 → 193.50.
    add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 7, 1))
    july = compute_statement(jz.contract, 2026, 7)
    assert (july.subtotal, july.total) == (D("193.64"), D("193.50"))
