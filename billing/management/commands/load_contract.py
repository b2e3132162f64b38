"""Load or update one contract from its definition folder (DESIGN §4a, §8)."""

from django.core.management.base import BaseCommand, CommandError

from billing.contracts import ContractFileError, load_contract


class Command(BaseCommand):
    help = (
        "载入或更新一份合同（contract.toml 及其服务目录 CSV）；"
        "按合同编号幂等，全部成功或不做任何修改。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="contract.toml 或其所在文件夹")
        parser.add_argument("--dry-run", action="store_true", help="只校验并报告将做的修改，不保存")

    def handle(self, *args, path, dry_run, **options):
        try:
            result = load_contract(path, actor="load_contract", dry_run=dry_run)
        except ContractFileError as exc:
            raise CommandError(f"合同文件有误，未做任何修改：\n{exc}") from None
        self.stdout.write(result.summary())
