"""Catalog CSV import: all rows or none, errors by row number; a changed price needs its
effective date and basis."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.models import CatalogItem
from billing.services import catalog_import
from govcloud.exceptions import ApplicationError
from govcloud.models import AuditEvent
from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db

HEADER = "code,section,name,spec,unit,unit_price,period\n"


def test_import_creates_and_updates_with_audit():
    contract = ContractFactory()
    result = catalog_import(
        actor="test", contract=contract, csv_text=HEADER + "a,计算,云主机,2核,台,100,year\n"
    )
    assert (result.created, result.updated) == (1, 0)
    result = catalog_import(
        actor="test",
        contract=contract,
        csv_text=HEADER + "a,计算,云主机（新）,2核,台,120.50,year\n",
        price_effective_from=date(2026, 7, 1),
        price_basis="补充协议第1条",
    )
    assert (result.created, result.updated, result.prices_changed) == (0, 1, ["a"])
    item = CatalogItem.objects.get(contract=contract, code="a")
    assert (item.unit_price, item.name) == (Decimal("120.50"), "云主机（新）")
    assert list(item.prices.values_list("effective_from", "unit_price", "basis")) == [
        (contract.billing_from, Decimal("100.00"), "合同服务目录"),
        (date(2026, 7, 1), Decimal("120.50"), "补充协议第1条"),
    ]
    actions = list(
        AuditEvent.objects.filter(object_type="billing.catalogitem").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == [
        "catalog_item.create",
        "catalog_item.update",
        "catalog_price.change",
        "catalog_price.create",
    ]


def test_bad_rows_are_reported_by_line_and_nothing_is_saved():
    contract = ContractFactory()
    text = HEADER + (
        "ok,计算,云主机,2核,台,100,year\n"
        "bad-price,计算,云主机,2核,台,abc,year\n"
        "ok,计算,重复,2核,台,1,year\n"
        "neg,计算,云主机,2核,台,-1,month\n"
        "period,计算,云主机,2核,台,1,week\n"
    )
    with pytest.raises(ApplicationError) as exc:
        catalog_import(actor="test", contract=contract, csv_text=text)
    errors = exc.value.extra["errors"]
    assert [e.split("：")[0] for e in errors] == ["第 3 行", "第 4 行", "第 5 行", "第 6 行"]
    assert "重复" in errors[1]
    assert CatalogItem.objects.filter(contract=contract).count() == 0


def test_missing_columns_are_named():
    with pytest.raises(ApplicationError) as exc:
        catalog_import(actor="t", contract=ContractFactory(), csv_text="code,name\nx,y\n")
    assert "section" in exc.value.extra["errors"][0]
