"""Acceptance: DESIGN §4's worked examples through ``import_inventory`` + ``statement --json``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from billing.models import Statement
from tests.billing.conftest import HEADER


def run_statement(*args: str) -> str:
    out = io.StringIO()
    call_command("statement", *args, stdout=out)
    return out.getvalue()


def import_csv(tmp_path, code: str, rows: str) -> None:
    path = tmp_path / f"{code}.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    call_command("import_inventory", code, str(path), "--create-departments", stdout=io.StringIO())


def test_baotou_worked_example_end_to_end(reference, tmp_path):
    # Given BT-2025's inventory as CSV (the SSD online since before March, all month)
    import_csv(
        tmp_path,
        "BT-2025",
        "包头市财政局,预算管理一体化,ecs.general.vcpu,8,2026-03-10 15:00,,2026-03-10 15:00\n"
        "包头市财政局,预算管理一体化,ebs.ssd,500,2026-01-05 09:00,,2026-01-05 09:00\n",
    )
    # When
    data = json.loads(run_statement("BT-2025", "2026-03", "--json"))
    # Then
    assert set(data) == {"contract", "period", "lines", "subtotal", "discount", "total", "vat"}
    assert (data["contract"], data["period"]) == ("BT-2025", "2026-03")
    assert data["lines"] == [
        {
            "department": "包头市财政局",
            "system": "预算管理一体化",
            "item": "ecs.general.vcpu",
            "quantity": 8,
            "unit_price": "21.60",
            "service_days": "21.5",
            "amount": "119.85",
        },
        {
            "department": "包头市财政局",
            "system": "预算管理一体化",
            "item": "ebs.ssd",
            "quantity": 500,
            "unit_price": "0.45",
            "service_days": "31.0",
            "amount": "225.00",
        },
    ]
    assert (data["subtotal"], data["discount"], data["total"], data["vat"]) == (
        "344.85",
        "0.9999",
        "344.82",
        "19.52",
    )
    assert not Statement.objects.exists()  # printed, not saved


def test_jiaozuo_worked_example_end_to_end(reference, tmp_path):
    import_csv(tmp_path, "JZ-2026", "焦作市财政局,财政一体化,ecs.4c8g,1,2026-07-01 00:00,,\n")
    data = json.loads(run_statement("JZ-2026", "2026-07", "--json"))
    assert [(line["item"], line["amount"]) for line in data["lines"]] == [("ecs.4c8g", "193.64")]
    assert (data["subtotal"], data["discount"], data["total"]) == ("193.64", "0.9993", "193.50")


def test_before_billing_from_and_after_service_end_end_to_end(reference, tmp_path):
    # 焦作: usage from 2026-03-20 on; 包头: the service period ends 2026-06-19
    import_csv(tmp_path, "JZ-2026", "焦作市财政局,财政一体化,ecs.4c8g,1,2026-03-01 00:00,,\n")
    import_csv(tmp_path, "BT-2025", "包头市财政局,预算,ebs.ssd,500,2026-01-01 00:00,,\n")
    jz_march = json.loads(run_statement("JZ-2026", "2026-03", "--json"))
    assert [(x["service_days"], x["amount"]) for x in jz_march["lines"]] == [("12.0", "74.96")]
    assert json.loads(run_statement("JZ-2026", "2026-02", "--json"))["lines"] == []
    bt_june = json.loads(run_statement("BT-2025", "2026-06", "--json"))
    assert [(x["service_days"], x["amount"]) for x in bt_june["lines"]] == [("19.0", "142.50")]
    bt_july = json.loads(run_statement("BT-2025", "2026-07", "--json"))
    assert (bt_july["lines"], bt_july["total"]) == ([], "0.00")


def test_human_output_is_a_chinese_table_with_subtotals(reference, tmp_path):
    import_csv(
        tmp_path,
        "BT-2025",
        "包头市财政局,预算,ebs.ssd,500,2026-01-01 00:00,,\n"
        "包头市财政局,报账,ebs.ssd,100,2026-01-01 00:00,,\n"
        "包头市公安局,天网,ebs.ssd,200,2026-01-01 00:00,,\n",
    )
    text = run_statement("BT-2025", "2026-03")
    assert "月度服务资源统计表" in text
    assert "预算 小计" in text
    assert "包头市财政局 小计" in text
    assert "包头市公安局 小计" in text
    assert "结算金额：359.96 元" in text  # (225 + 45 + 90) × 0.9999


@pytest.mark.parametrize("args", [("NOPE", "2026-03"), ("BT-2025", "2026-13"), ("BT-2025", "3")])
def test_bad_arguments(reference, args):
    with pytest.raises(CommandError):
        run_statement(*args)
