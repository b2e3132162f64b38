"""Print a contract's settlement: each period's signed total, deductions and payable, and the
contract-wide payments, invoices and balance (尾款) (DESIGN §8).

``balance`` = Σ payable − ``paid`` (every payment recorded, the advance included). Deductions
in ``deductions`` are the effective ones applied (capped at the period's fees); pending ones
(notified, not yet acknowledged by the vendor) are listed apart as ``deductions_pending``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.management.commands.statement import _cell, _width
from billing.services.settlement import ContractSettlement, contract_settlement
from govcloud.models import Contract


def settlement_as_json(state: ContractSettlement) -> dict[str, Any]:
    """The documented JSON shape; money as strings."""
    contract = state.contract
    return {
        "contract": contract.code,
        "settlement_cadence": contract.settlement_cadence,
        "periods": [
            {
                "start": s.period.start.isoformat(),
                "end": s.period.end.isoformat(),
                "signed": str(s.signed_total),
                "unsigned_months": s.unsigned_months,
                "deductions": str(s.deductions_applied),
                "deductions_pending": str(s.deductions_pending),
                "payable": str(s.payable),
                "paid": str(s.paid),
                "balance": str(s.balance),
                "invoiced": str(s.invoiced),
            }
            for s in state.summaries
        ],
        "payable": str(state.payable_total),
        "paid": str(state.paid_total),
        "invoiced": str(state.invoiced_total),
        "balance": str(state.balance),
    }


def settlement_as_table(state: ContractSettlement) -> str:
    headers = [
        "结算期",
        "已签认",
        "未签认月数",
        "考核扣款（生效）",
        "待确认扣款",
        "实际应付",
        "已付",
        "未付",
    ]
    rows = [
        [
            f"{s.period.start:%Y-%m-%d}至{s.period.end:%Y-%m-%d}",
            str(s.signed_total),
            str(s.unsigned_months),
            str(s.deductions_applied),
            str(s.deductions_pending),
            str(s.payable),
            str(s.paid),
            str(s.balance),
        ]
        for s in state.summaries
    ]
    widths = [max(_width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(_cell(c, widths[i], right=i > 0) for i, c in enumerate(cells))

    out = [f"{state.contract.code} {state.contract.name} 结算情况", line(headers)]
    out += [line(r) for r in rows]
    out += [
        "",
        f"实际应付合计：{state.payable_total}",
        f"已付合计（含预付款）：{state.paid_total}",
        f"已开票合计：{state.invoiced_total}",
        f"尾款（实际应付合计 − 已付合计）：{state.balance}",
    ]
    return "\n".join(out)


class Command(BaseCommand):
    help = "打印合同的结算情况：各结算期已签认金额、扣款、实际应付，及已付、已开票与尾款。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("code", help="合同编号，如 BT-2025")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出")

    def handle(self, *args: Any, **options: Any) -> None:
        contract = Contract.objects.filter(code=options["code"]).first()
        if contract is None:
            raise CommandError(f"未找到合同 {options['code']}。")
        state = contract_settlement(contract)
        if options["json"]:
            self.stdout.write(json.dumps(settlement_as_json(state), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(settlement_as_table(state))
