"""Request form refusals a person notices: every error at once in a summary at the top, a
quantity bound per catalog item (defaults by unit), the same bound in the API, and a statement
month the contract can bill offered by default."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from billing.forms import GenerateForm, billable_months, default_statement_month
from billing.models import DEFAULT_MAX_QUANTITY, default_max_quantity
from govcloud.models import User
from requests_app.models import ResourceRequest
from tests.conftest import verified_client
from tests.factories import CatalogItemFactory, ContractFactory
from tests.requests_app.factories import vcpu_item

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
HUGE = 99_999_999_999


@pytest.fixture(autouse=True)
def clock():
    traveller = time_machine.travel(datetime(2026, 9, 1, 10, 0, tzinfo=SH), tick=False)
    traveller.start()
    yield
    traveller.stop()


def form_data(contract, rows: list[dict], *, reason: str = "新系统上云", **extra) -> dict:
    data = {
        "contract": contract.pk,
        "kind": "new",
        "system_name": "不动产登记系统",
        "reason": reason,
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "submit": "1",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"lines-{index}-{key}"] = value
    data.update(extra)
    return data


def summary_items(html: str) -> list[str]:
    """The error summary's entries (tags stripped), or [] when the page shows none."""
    match = re.search(r'<div class="alert alert-danger form-errors"[^>]*>(.*?)</div>', html, re.S)
    if match is None:
        return []
    return [
        re.sub(r"<[^>]+>", "", item).strip()
        for item in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)
    ]


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    return client


# ---------------------------------------------------------------- bounds by unit and by item


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        pytest.param("核", 10_000, id="vcpu"),
        pytest.param("vCPU", 10_000, id="vcpu-latin"),
        pytest.param("GB", 1_000_000, id="gb"),
        pytest.param("TB", 10_000, id="tb"),
        pytest.param("个", DEFAULT_MAX_QUANTITY, id="piece"),
        pytest.param("台", 1_000, id="host"),
    ],
)
def test_default_bound_by_unit(unit, expected):
    assert default_max_quantity(unit) == expected


def test_an_items_own_bound_replaces_the_units_default(world):
    item = CatalogItemFactory(contract=world.contract, unit="核")
    assert item.quantity_limit == 10_000
    assert item.quantity_refusal(10_000) == ""
    item.max_quantity = 64
    assert item.quantity_limit == 64
    assert item.quantity_refusal(64) == ""
    assert "上限 64 核" in item.quantity_refusal(65)


# ---------------------------------------------------------------- the portal form


def test_an_absurd_quantity_is_refused_with_a_clear_message_and_nothing_is_saved(world):
    item = vcpu_item(world.contract)
    client = verified_client(world.users["department"])
    response = client.post(
        reverse("request_create"),
        form_data(world.contract, [{"catalog_item": item.pk, "quantity": HUGE}]),
    )
    assert response.status_code == 200
    items = summary_items(response.content.decode())
    assert items == ["第 1 行 · 数量：数量过大，不能超过 2147483647。"]
    assert not ResourceRequest.objects.exists()


def test_a_quantity_above_the_items_bound_is_refused_in_the_form(world):
    item = vcpu_item(world.contract)
    item.max_quantity = 128
    item.save(update_fields=["max_quantity"])
    client = verified_client(world.users["department"])
    response = client.post(
        reverse("request_create"),
        form_data(world.contract, [{"catalog_item": item.pk, "quantity": 129}]),
    )
    html = response.content.decode()
    (entry,) = summary_items(html)
    assert entry.startswith("第 1 行 · 数量：数量 129 超过")
    assert "上限 128 核" in entry
    assert not ResourceRequest.objects.exists()
    # the bound itself is accepted
    response = client.post(
        reverse("request_create"),
        form_data(world.contract, [{"catalog_item": item.pk, "quantity": 128}]),
    )
    assert response.status_code == 302
    assert ResourceRequest.objects.get().lines.get().quantity == 128


def test_every_error_of_the_form_is_listed_at_once_at_the_top(world):
    item = vcpu_item(world.contract)
    client = verified_client(world.users["department"])
    data = form_data(
        world.contract,
        [
            {"catalog_item": item.pk, "quantity": 20_000},  # above the 核 default 10,000
            {"catalog_item": "", "quantity": 4},  # no item
            {"catalog_item": item.pk, "quantity": ""},  # no quantity
        ],
        reason="",
    )
    response = client.post(reverse("request_create"), data)
    html = response.content.decode()
    items = summary_items(html)
    assert items[0] == "申请理由：该字段是必填项。"
    assert items[1].startswith("第 1 行 · 数量：数量 20,000 超过")
    assert items[2:] == ["第 2 行 · 目录项：请选择目录项。", "第 3 行 · 数量：请填写数量。"]
    # the summary comes before the fields, and links to them
    assert html.index("form-errors") < html.index('name="reason"')
    assert 'href="#id_lines-1-catalog_item"' in html
    assert not ResourceRequest.objects.exists()


def test_the_estimate_leaves_out_a_line_above_its_bound(world):
    item = vcpu_item(world.contract)
    client = verified_client(world.users["department"])
    data = form_data(world.contract, [{"catalog_item": item.pk, "quantity": HUGE}])
    html = client.post(reverse("request_estimate"), data).content.decode()
    assert "有 1 行未填写完整，未计入" in html
    assert "预计每月费用" not in html  # no ¥2.16 万亿 estimate


def test_a_change_is_bounded_by_the_resources_item(world):
    from tests.requests_app.factories import delivered_ticket

    ticket = delivered_ticket(world)
    resource = ticket.lines.get().delivered_resource
    resource.catalog_item.max_quantity = 10
    resource.catalog_item.save(update_fields=["max_quantity"])
    client = verified_client(world.users["department"])
    data = form_data(world.contract, [{"resource": resource.pk, "quantity": 11}], kind="change")
    (entry,) = summary_items(client.post(reverse("request_create"), data).content.decode())
    assert entry.startswith("第 1 行 · 变更后数量：数量 11 超过")
    assert ResourceRequest.objects.filter(kind="change").count() == 0


# ---------------------------------------------------------------- the API


def test_the_api_refuses_the_same_quantity_with_the_same_words(world):
    item = vcpu_item(world.contract)
    body = {
        "contract": world.contract.pk,
        "kind": "new",
        "reason": "上云",
        "system_name": "不动产登记系统",
        "lines": [{"catalog_item": item.pk, "quantity": HUGE, "note": ""}],
        "submit": True,
    }
    response = api(world.users["department"]).post("/api/v1/requests/", body, format="json")
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["message"] == "工单明细有误，未保存。"
    (error,) = payload["extra"]["errors"]
    assert error == "第 1 行：" + item.quantity_refusal(HUGE)
    assert "99,999,999,999" in error
    assert "上限 10,000 核" in error
    assert not ResourceRequest.objects.exists()


def test_the_catalog_api_tells_each_items_bound(world):
    item = vcpu_item(world.contract)
    item.max_quantity = 32
    item.save(update_fields=["max_quantity"])
    CatalogItemFactory(contract=world.contract, code="ebs.ssd", unit="GB")
    response = api(world.users["department"]).get(f"/api/v1/contracts/{world.contract.pk}/catalog/")
    assert response.status_code == 200, response.content
    rows = response.json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    bounds = {r["code"]: (r["max_quantity"], r["quantity_limit"]) for r in rows}
    assert bounds == {"ecs.general.vcpu": (32, 32), "ebs.ssd": (None, 1_000_000)}


# ---------------------------------------------------------------- the statement month offered


@pytest.mark.parametrize(
    ("billing_from", "service_end", "today", "expected"),
    [
        pytest.param(date(2026, 1, 1), date(2026, 12, 31), date(2026, 9, 1), date(2026, 8, 1),
                     id="running-last-ended-month"),
        pytest.param(date(2026, 7, 15), date(2027, 6, 30), date(2026, 7, 20), date(2026, 7, 1),
                     id="first-month-not-over-yet-offers-the-first-month"),
        pytest.param(date(2025, 1, 1), date(2025, 12, 31), date(2026, 9, 1), date(2025, 12, 1),
                     id="ended-contract-offers-its-last-billed-month"),
    ],
)  # fmt: skip
def test_the_generation_form_offers_a_month_the_contract_can_bill(
    billing_from, service_end, today, expected
):
    contract = ContractFactory(
        service_start=billing_from, billing_from=billing_from, service_end=service_end
    )
    assert default_statement_month(contract, today) == expected
    form = GenerateForm(contracts=[(contract.pk, contract.code)], today=today)
    assert form.initial["month"] == f"{expected:%Y-%m}"
    first, _last = billable_months(contract, today)
    assert form.fields["month"].widget.attrs["min"] == f"{first:%Y-%m}"


@pytest.mark.parametrize(
    ("month", "error"),
    [
        pytest.param("2025-12", "2025-12 不在合同计费期内（{c} 计费月份为 2026-01 至 2026-12）。",
                     id="before-billing-starts"),
        pytest.param("2026-01", None, id="first-month"),
        pytest.param("2026-08", None, id="last-ended-month"),
        pytest.param("2026-09", "2026-09 尚未结束，不能出具统计表。", id="not-over"),
        pytest.param("2027-01", "2027-01 不在合同计费期内（{c} 计费月份为 2026-01 至 2026-12）。",
                     id="after-the-last-billed-day"),
    ],
)  # fmt: skip
def test_the_generation_form_refuses_a_month_the_contract_cannot_bill(month, error):
    start = date(2026, 1, 1)
    contract = ContractFactory(
        service_start=start, billing_from=start, service_end=date(2026, 12, 31)
    )
    form = GenerateForm(
        {"contract": contract.pk, "month": month},
        contracts=[(contract.pk, contract.code)],
        today=date(2026, 9, 1),
    )
    assert form.is_valid() is (error is None)
    if error is not None:
        assert form.errors["month"] == [error.format(c=contract.code)]


def test_the_statement_page_offers_the_default_month(world):
    from billing.services.statements import statement_may_generate

    vendor = world.users["vendor"]
    assert statement_may_generate(user=vendor, contract=world.contract)
    html = verified_client(vendor).get(reverse("statement_list")).content.decode()
    month = default_statement_month(world.contract, date(2026, 9, 1))
    assert f'value="{month:%Y-%m}"' in html
