"""Fill the new contract terms (govcloud 0009) of contracts already loaded from a shipped file.

Reads the terms and clause citations from the shipped contract folders, for the codes present;
contracts created by hand keep "no rule" until a system admin sets their terms.
"""

from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"


def fill_terms(apps, schema_editor):
    from govcloud.contract_files import ContractFileError, read_contract_file
    from govcloud.terms import term_defs

    Contract = apps.get_model("govcloud", "Contract")
    ContractClause = apps.get_model("govcloud", "ContractClause")
    fields = {t.field for t in term_defs() if t.field and t.section in ("terms", "settlement")}
    fields.add("discount_applies_to")
    for path in sorted(DATA.glob("*/*/contract.toml")):
        try:
            definition = read_contract_file(path)
        except ContractFileError:
            continue
        contract = Contract.objects.filter(code=definition.code).first()
        if contract is None:
            continue
        for field in fields:
            if field in definition.values:
                setattr(contract, field, definition.values[field])
        contract.save()
        for term, (clause, quote) in definition.clauses.items():
            ContractClause.objects.update_or_create(
                contract=contract, term=term, defaults={"clause": clause, "quote": quote}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0007_resource_change_without_ticket"),
        ("govcloud", "0009_contract_terms"),
    ]

    operations = [migrations.RunPython(fill_terms, migrations.RunPython.noop)]
