"""On PostgreSQL, forbid UPDATE and DELETE of audit rows in the database itself.

The model already refuses both; the trigger also stops raw SQL and other clients.
SQLite (the embedded default) relies on the model guard only.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION govcloud_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'govcloud_auditevent is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER govcloud_auditevent_append_only
    BEFORE UPDATE OR DELETE ON govcloud_auditevent
    FOR EACH ROW EXECUTE FUNCTION govcloud_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS govcloud_auditevent_append_only ON govcloud_auditevent;
DROP FUNCTION IF EXISTS govcloud_audit_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("govcloud", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
