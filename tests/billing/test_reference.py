"""The reference contracts: loaded idempotently, every catalog row exactly as the CSV."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from billing.contracts import REFERENCE_DIR
from billing.models import CatalogItem
from govcloud.models import Contract, ContractParty, Organization, PartyRole

SHARED = Path(__file__).resolve().parents[3] / "shared" / "catalogs"

pytestmark = pytest.mark.django_db


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_loading_twice_leaves_no_duplicates():
    call_command("load_reference_contracts")
    counts = (
        Contract.objects.count(),
        Organization.objects.count(),
        ContractParty.objects.count(),
        CatalogItem.objects.count(),
    )
    call_command("load_reference_contracts")
    assert counts == (
        Contract.objects.count(),
        Organization.objects.count(),
        ContractParty.objects.count(),
        CatalogItem.objects.count(),
    )
    assert counts[0] == 2
    assert counts[3] == 66 + 28


@pytest.mark.parametrize(
    ("code", "filename"), [("JZ-2026", "jz-2026/catalog.csv"), ("BT-2025", "bt-2025/catalog.csv")]
)
def test_every_catalog_row_equals_the_csv(code, filename):
    call_command("load_reference_contracts")
    contract = Contract.objects.get(code=code)
    items = {i.code: i for i in contract.catalog_items.all()}
    rows = _rows(REFERENCE_DIR / filename)
    assert len(items) == len(rows)
    for row in rows:
        item = items[row["code"]]
        assert (item.section, item.name, item.spec, item.unit, item.period) == (
            row["section"],
            row["name"],
            row["spec"],
            row["unit"],
            row["period"],
        )
        assert item.unit_price == Decimal(row["unit_price"])


@pytest.mark.parametrize(
    ("folder", "filename"), [("jz-2026", "jiaozuo-2026.csv"), ("bt-2025", "baotou-2025.csv")]
)
def test_shipped_catalog_copy_matches_the_shared_original(folder, filename):
    if not SHARED.exists():
        pytest.skip("shared/ not beside the project")
    assert _rows(REFERENCE_DIR / folder / "catalog.csv") == _rows(SHARED / filename)


def test_contract_parameters_follow_design_table():
    call_command("load_reference_contracts")
    jz = Contract.objects.get(code="JZ-2026")
    bt = Contract.objects.get(code="BT-2025")
    assert (jz.discount_factor, bt.discount_factor) == (Decimal("0.9993"), Decimal("0.9999"))
    assert str(jz.billing_from) == "2026-03-20"
    assert (bt.test_period_months, jz.test_period_months) == (1, 0)
    assert bt.estimated_amount == Decimal("8700000.00")
    assert [p.role for p in jz.review_chain] == [PartyRole.BUREAU]
    assert [p.role for p in bt.review_chain] == [PartyRole.BUREAU, PartyRole.SUPERVISOR]
    assert [p.role for p in bt.signoff_parties] == [
        PartyRole.BUREAU,
        PartyRole.VENDOR,
        PartyRole.SUPERVISOR,
    ]
    assert [p.role for p in jz.signoff_parties] == [PartyRole.BUREAU, PartyRole.VENDOR]
    assert [i.amount for i in bt.installments.all()] == [Decimal("1000000.00"), None, None]
    # JZ's flavour catalog carries the size in the code (used by right-sizing).
    flavour = jz.catalog_items.get(code="ecs.4c8g")
    assert (flavour.vcpus, flavour.memory_gb) == (4, 8)
