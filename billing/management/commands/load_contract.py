"""Load or update one contract from its definition folder (DESIGN §4a, §8).

A bad file exits non-zero with one line per problem — the file, the key, what is wrong — and
changes nothing; never a traceback.
"""

from argparse import ArgumentTypeError
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from billing.contracts import ContractFileError, load_contract


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"不是日期（YYYY-MM-DD）：{text}") from None


class Command(BaseCommand):
    help = (
        "载入或更新一份合同（contract.toml 及其服务目录 CSV）；"
        "按合同编号幂等，全部成功或不做任何修改。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="contract.toml 或其所在文件夹")
        parser.add_argument("--dry-run", action="store_true", help="只校验并报告将做的修改，不保存")
        parser.add_argument(
            "--price-effective-from",
            type=_date,
            metavar="YYYY-MM-DD",
            help="目录中已有项目的单价有变化时：新单价自该日起执行",
        )
        parser.add_argument(
            "--price-basis", default="", help="单价变化的依据（合同条款或补充协议）"
        )

    def handle(self, *args, path, dry_run, price_effective_from, price_basis, **options):
        try:
            result = load_contract(
                path,
                actor="load_contract",
                dry_run=dry_run,
                price_effective_from=price_effective_from,
                price_basis=price_basis,
            )
        except ContractFileError as exc:
            raise CommandError(f"合同文件有误，未做任何修改：\n{exc}") from None
        if dry_run:
            self.stdout.write("试运行：已校验，未保存任何修改。")
        self.stdout.write(result.summary())
        for key, before, after in result.changes:
            if key in ("parties", "clauses", "installments"):
                self.stdout.write(f"  {key}：已变更")
            else:
                self.stdout.write(f"  {key}：{before!r} → {after!r}")
        for note in result.notes:
            self.stderr.write(f"注意：{note}")
