"""Load a contract's resource inventory from CSV, all rows or none (DESIGN §8)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from billing.services.inventory import INVENTORY_COLUMNS, inventory_import
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract


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

    def handle(self, *args, **options):
        contract = Contract.objects.filter(code=options["contract"]).first()
        if contract is None:
            raise CommandError(f"合同 {options['contract']} 不存在。")
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"文件 {path} 不存在。") from None
        except UnicodeDecodeError:
            raise CommandError(f"文件 {path} 不是 UTF-8 编码。") from None
        try:
            result = inventory_import(
                actor="import_inventory",
                contract=contract,
                csv_text=text,
                create_departments=options["create_departments"],
            )
        except ApplicationError as exc:
            details = "\n".join(exc.extra.get("errors", []))
            raise CommandError(f"{exc.message}\n{details}".rstrip()) from exc
        self.stdout.write(
            f"{contract.code}：导入资源 {result.resources_created} 项；"
            f"新建使用单位 {len(result.departments_created)} 个，"
            f"新建业务系统 {len(result.systems_created)} 个；"
            f"其中按文件所给计费开始时间（晚于上线时间）计费 {result.deferred_billing_rows} 项。"
        )
        for name in result.departments_created:
            self.stdout.write(f"  新建使用单位：{name}")
        for name in result.systems_created:
            self.stdout.write(f"  新建业务系统：{name}")
