"""Print a contract's computed statement for a month, without saving it (DESIGN §8)."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.money import round_half_up
from billing.services.engine import ComputedStatement, compute_statement
from govcloud.dates import parse_month
from govcloud.models import Contract


def statement_as_json(statement: ComputedStatement) -> dict[str, Any]:
    """The documented JSON shape: money and decimals as strings, names, catalog codes."""
    return {
        "contract": statement.contract,
        "period": statement.period,
        "lines": [
            {
                "department": line.department,
                "system": line.system,
                "item": line.item_code,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "service_days": str(round_half_up(line.service_days, places=1)),
                "amount": str(line.amount),
            }
            for line in statement.lines
        ],
        "subtotal": str(statement.subtotal),
        "discount": str(statement.discount),
        "total": str(statement.total),
        "vat": str(statement.vat),
    }


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(text: str, width: int, *, right: bool = False) -> str:
    pad = " " * max(0, width - _width(text))
    return pad + text if right else text + pad


def statement_as_table(statement: ComputedStatement) -> str:
    """A plain-text Chinese table with subtotals by department and by business system."""
    headers = ["使用单位", "业务系统", "目录编码", "服务名称", "数量", "单价", "服务天数", "金额"]
    right = {4, 5, 6, 7}
    rows: list[list[str]] = []
    index = 0
    lines = statement.lines
    for department in statement.departments:
        for system in department.systems:
            for line in lines[index : index + system.lines]:
                rows.append(
                    [
                        line.department,
                        line.system,
                        line.item_code,
                        f"{line.item_name}（{line.unit}）",
                        str(line.quantity),
                        str(line.unit_price),
                        str(round_half_up(line.service_days, places=1)),
                        str(line.amount),
                    ]
                )
            index += system.lines
            rows.append(["", f"{system.system} 小计", "", "", "", "", "", str(system.subtotal)])
        rows.append(
            [f"{department.department} 小计", "", "", "", "", "", "", str(department.subtotal)]
        )
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    rule = "  ".join("-" * w for w in widths)

    def render(row: list[str]) -> str:
        return "  ".join(_cell(v, widths[i], right=i in right) for i, v in enumerate(row)).rstrip()

    out = [
        f"月度服务资源统计表  合同 {statement.contract}  统计月份 {statement.period}",
        "",
        render(headers),
        rule,
        *(render(r) for r in rows),
        rule,
        f"明细 {len(lines)} 条",
        f"小计：{statement.subtotal} 元",
        f"折扣系数：{statement.discount}",
        f"结算金额：{statement.total} 元（含增值税 {statement.vat} 元）",
    ]
    return "\n".join(out)


class Command(BaseCommand):
    help = "计算并打印合同某月的月度服务资源统计表（不保存）。"

    def add_arguments(self, parser):
        parser.add_argument("contract", help="合同编号，如 BT-2025")
        parser.add_argument("period", help="统计月份 YYYY-MM")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出")

    def handle(self, *args, **options):
        contract = Contract.objects.filter(code=options["contract"]).first()
        if contract is None:
            raise CommandError(f"合同 {options['contract']} 不存在。")
        try:
            month = parse_month(options["period"])
        except ValueError:
            raise CommandError("统计月份格式应为 YYYY-MM。") from None
        statement = compute_statement(contract, month.year, month.month)
        if options["json"]:
            self.stdout.write(
                json.dumps(statement_as_json(statement), ensure_ascii=False, indent=2)
            )
        else:
            self.stdout.write(statement_as_table(statement))
