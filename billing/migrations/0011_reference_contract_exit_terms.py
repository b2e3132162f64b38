"""Fill the handover, staff-register and data-deletion terms (govcloud 0013) of the reference
contracts already loaded: the same refill as 0008, from the shipped contract folders."""

from importlib import import_module

from django.db import migrations

fill_terms = import_module("billing.migrations.0008_reference_contract_terms").fill_terms


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0010_deduction_notice_payments_invoices"),
        ("govcloud", "0013_handover_and_staff_register_terms"),
    ]

    operations = [migrations.RunPython(fill_terms, migrations.RunPython.noop)]
