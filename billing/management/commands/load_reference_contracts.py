"""Create the parties, contracts JZ-2026 and BT-2025 and their catalogs (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from billing.contracts import ContractFileError, load_reference_contracts


class Command(BaseCommand):
    help = "载入两份参考合同（JZ-2026、BT-2025）及其服务目录；可重复执行。"

    def handle(self, *args, **options):
        try:
            results = load_reference_contracts()
        except ContractFileError as exc:
            raise CommandError(f"参考合同文件有误，未做任何修改：\n{exc}") from None
        for code, result in results.items():
            self.stdout.write(
                f"{code}: 目录新增 {result.created} 项，更新 {result.updated} 项，"
                f"未变 {result.unchanged} 项"
            )
