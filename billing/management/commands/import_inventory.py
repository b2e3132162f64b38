"""Load a contract's resource inventory from CSV, all rows or none (DESIGN §8)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from billing.services.inventory import INVENTORY_COLUMNS, inventory_import
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract

#: A province's inventory is some 200,000 rows of ~100 bytes; anything far larger is a wrong file.
MAX_FILE_BYTES = 100 * 1024 * 1024


class Command(BaseCommand):
    help = (
        "从 CSV 导入合同的云资源清单（列："
        + ",".join(INVENTORY_COLUMNS)
        + "；时间为北京时间 YYYY-MM-DD HH:MM；空白表示无）。任一行有误则全部不导入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("contract", help="合同编号，如 BT-2025")
        parser.add_argument("file", help="CSV 文件（UTF-8）")
        parser.add_argument(
            "--create-departments",
            action="store_true",
            help="自动创建不存在的使用单位（归属本合同甲方）",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="只检查并报告将导入、将跳过的行，不做任何修改",
        )

    def handle(self, *args, **options):
        contract = Contract.objects.filter(code=options["contract"]).first()
        if contract is None:
            raise CommandError(f"合同 {options['contract']} 不存在。")
        path = Path(options["file"])
        text = self._read(path)
        try:
            result = inventory_import(
                actor="import_inventory",
                contract=contract,
                csv_text=text,
                create_departments=options["create_departments"],
                dry_run=options["dry_run"],
            )
        except ApplicationError as exc:
            details = "\n".join(exc.extra.get("errors", []))
            raise CommandError(f"{exc.message}\n{details}".rstrip()) from exc
        verb = "将导入" if result.dry_run else "导入"
        self.stdout.write(
            f"{'【试运行，未做任何修改】' if result.dry_run else ''}"
            f"{contract.code}：{verb}资源 {result.resources_created} 项，"
            f"已在清单中跳过 {len(result.skipped)} 行；"
            f"新建使用单位 {len(result.departments_created)} 个，"
            f"新建业务系统 {len(result.systems_created)} 个；"
            f"其中按文件所给计费开始时间（晚于上线时间）计费 {result.deferred_billing_rows} 项。"
            f"文件 SHA-256：{result.sha256}"
        )
        for name in result.departments_created:
            self.stdout.write(f"  新建使用单位：{name}")
        for name in result.systems_created:
            self.stdout.write(f"  新建业务系统：{name}")
        for line in result.skipped:
            self.stdout.write(f"  {line}")

    def _read(self, path: Path) -> str:
        """The file's text, or a message (never a traceback) for what is not a UTF-8 file."""
        if not path.exists():
            raise CommandError(f"文件 {path} 不存在。")
        if not path.is_file():
            raise CommandError(f"{path} 不是文件（是目录或设备）。")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CommandError(
                f"文件 {path} 超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，请拆分后分批导入。"
            )
        try:
            return path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise CommandError(f"文件 {path} 不是 UTF-8 编码。") from None
        except OSError as exc:
            raise CommandError(f"无法读取文件 {path}：{exc.strerror}") from None
