"""Database guards of the audit table that 0002 left out.

SQLite gets the BEFORE UPDATE / BEFORE DELETE triggers PostgreSQL has had since 0002, and
PostgreSQL gets a statement trigger refusing TRUNCATE (which row triggers never see). Neither
stops the table's owner (who can drop a trigger); the production app role must not own the
tables — see ``manage.py db_grants`` and the README, "审计日志防篡改". Django's ``flush``
lifts these guards for its own transaction (govcloud/management/commands/flush.py).
"""

from django.db import migrations

SQLITE_CREATE = [
    """CREATE TRIGGER govcloud_auditevent_no_update BEFORE UPDATE ON govcloud_auditevent
    BEGIN SELECT RAISE(ABORT, 'govcloud_auditevent is append-only'); END""",
    """CREATE TRIGGER govcloud_auditevent_no_delete BEFORE DELETE ON govcloud_auditevent
    BEGIN SELECT RAISE(ABORT, 'govcloud_auditevent is append-only'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS govcloud_auditevent_no_update",
    "DROP TRIGGER IF EXISTS govcloud_auditevent_no_delete",
]

# Reuses 0002's function, which raises for any operation.
POSTGRESQL_CREATE = [
    """CREATE TRIGGER govcloud_auditevent_no_truncate
    BEFORE TRUNCATE ON govcloud_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION govcloud_audit_append_only()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS govcloud_auditevent_no_truncate ON govcloud_auditevent",
]


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("govcloud", "0006_audit_chain")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        )
    ]
