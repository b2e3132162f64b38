"""Print a contract's terms (DESIGN §8): ``contract_terms CODE [--json]``."""

import json

from django.core.management.base import BaseCommand, CommandError

from govcloud.models import Contract
from govcloud.terms import contract_terms, contract_terms_json


class Command(BaseCommand):
    help = "显示合同条款（每项规则的取值及其合同条款出处）；--json 输出 JSON。"

    def add_arguments(self, parser):
        parser.add_argument("code", help="合同编号，如 BT-2025")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出")

    def handle(self, *args, code, **options):
        contract = (
            Contract.objects.prefetch_related("parties", "clauses", "installments")
            .filter(code=code)
            .first()
        )
        if contract is None:
            raise CommandError(f"合同 {code} 不存在。")
        if options["json"]:
            self.stdout.write(
                json.dumps(contract_terms_json(contract), ensure_ascii=False, indent=2)
            )
            return
        self.stdout.write(f"{contract.code} {contract.name}")
        for row in contract_terms(contract):
            cite = f"  〔{row.clause}〕{row.quote}" if row.clause else ""
            self.stdout.write(f"- {row.term.label}：{row.display}{cite}")
