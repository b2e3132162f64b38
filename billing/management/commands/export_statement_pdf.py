"""Write a month's statement PDF to a file (DESIGN §8).

The latest version of the month: its stored document as issued — with every signature applied
so far, byte for byte (the signed one once signed) — or, when no document exists yet (a draft,
or the signing task has not run), a fresh unsigned render.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from billing.models import DocumentKind, Statement, StatementDocument
from govcloud.dates import parse_month
from govcloud.models import Contract


class Command(BaseCommand):
    help = (
        "导出某合同某月最新版本的月度服务资源统计表 PDF："
        "已出具的文件原样导出（含各方数字签名）；尚未出具的，现在生成不带签名的 PDF。"
    )

    def add_arguments(self, parser):
        parser.add_argument("contract", help="合同编号，如 BT-2025")
        parser.add_argument("period", help="统计月份，YYYY-MM")
        parser.add_argument("out", help="输出文件路径，如 statement.pdf")

    def handle(self, *args, contract: str, period: str, out: str, **options):
        try:
            first = parse_month(period)
        except ValueError:
            raise CommandError(f"统计月份格式应为 YYYY-MM（如 2026-03），收到：{period}") from None
        year, month = first.year, first.month
        found = Contract.objects.filter(code=contract).first()
        if found is None:
            codes = "、".join(Contract.objects.order_by("code").values_list("code", flat=True))
            raise CommandError(f"合同 {contract} 不存在（现有合同：{codes or '无'}）。")
        statement = (
            Statement.objects.filter(contract=found, year=year, month=month)
            .order_by("-version")
            .first()
        )
        if statement is None:
            raise CommandError(f"合同 {contract} 在 {period} 没有月度服务资源统计表。")

        document = StatementDocument.objects.filter(
            statement=statement, kind=DocumentKind.STATEMENT
        ).first()
        if document is not None:
            with document.file.storage.open(document.file.name, "rb") as handle:
                pdf = handle.read()
            state = f"已出具，{document.signatures} 个数字签名"
        else:
            # Lazy for start-up cost: rendering loads WeasyPrint, reading a stored PDF does not.
            from billing.reports.statement_pdf import statement_pdf_bytes

            pdf = statement_pdf_bytes(statement)
            state = "尚未出具，现生成（无数字签名）"
        target = Path(out)
        try:
            target.write_bytes(pdf)
        except OSError as exc:
            raise CommandError(f"无法写入 {target}：{exc}") from exc
        self.stdout.write(
            f"{found.code} {statement.period} 第{statement.version}版"
            f"（{statement.get_status_display()}，{state}）→ {target}（{len(pdf):,} 字节）"
        )
