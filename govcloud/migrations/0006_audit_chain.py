"""Chain the audit trail: every row gets ``seq``, ``prev_hash`` and ``row_hash``.

Existing rows are chained in id order (the order they were inserted in). The audit foreign keys
become DO_NOTHING (there is no database constraint to keep), so deleting a user, organisation or
contract never rewrites an audit row; the base manager refuses updates and deletes too.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The canonical form is a file format shared with the running code, not a model: the rows
# chained here must verify with the same function that verifies every later row.
from govcloud.audit_chain import CHAIN_FIELDS, GENESIS_HASH, row_hash

BATCH = 1000


def chain_existing_rows(apps, schema_editor):
    AuditEvent = apps.get_model("govcloud", "AuditEvent")
    db = schema_editor.connection.alias
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        # The append-only trigger of 0002 would refuse these updates; migrations run as the
        # table's owner, and the trigger is back on before the transaction commits.
        schema_editor.execute(
            "ALTER TABLE govcloud_auditevent DISABLE TRIGGER govcloud_auditevent_append_only"
        )
    rows = AuditEvent.objects.using(db).order_by("pk")
    seq, prev_hash, last_pk = 0, GENESIS_HASH, 0
    while batch := list(rows.filter(pk__gt=last_pk)[:BATCH]):
        for event in batch:
            seq += 1
            content = {name: getattr(event, name) for name in CHAIN_FIELDS}
            content.update(seq=seq, prev_hash=prev_hash, ip_address=event.ip_address or None)
            digest = row_hash(content)
            AuditEvent.objects.using(db).filter(pk=event.pk).update(
                seq=seq, prev_hash=prev_hash, row_hash=digest
            )
            prev_hash, last_pk = digest, event.pk
    if postgresql:
        schema_editor.execute(
            "ALTER TABLE govcloud_auditevent ENABLE TRIGGER govcloud_auditevent_append_only"
        )


class Migration(migrations.Migration):
    dependencies = [("govcloud", "0005_load_official_calendar")]

    operations = [
        migrations.AlterModelOptions(
            name="auditevent",
            options={
                "base_manager_name": "objects",
                "ordering": ["-at", "-id"],
                "verbose_name": "审计日志",
                "verbose_name_plural": "审计日志",
            },
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(editable=False, null=True, verbose_name="序号"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(
                default="", editable=False, max_length=64, verbose_name="前一条哈希"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="row_hash",
            field=models.CharField(
                default="", editable=False, max_length=64, verbose_name="本条哈希"
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="操作人",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="contract",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="govcloud.contract",
                verbose_name="合同",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="govcloud.organization",
                verbose_name="操作人单位",
            ),
        ),
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(editable=False, unique=True, verbose_name="序号"),
        ),
    ]
