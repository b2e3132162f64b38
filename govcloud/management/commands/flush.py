"""Django's ``flush``, able to empty the append-only audit table too.

The database refuses TRUNCATE (PostgreSQL) and DELETE (SQLite) of audit rows, and ``flush`` —
which the test runner also uses to reset the database after every transactional test — does
exactly that. This command lifts those triggers for its own transaction only and puts them back
before it commits. Lifting a trigger takes the table's owner: the production app role, which
does not own the tables (``db_grants``), cannot flush the audit trail this way either.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.commands import flush
from django.db import connections, transaction

AUDIT_TABLE = "govcloud_auditevent"


@contextmanager
def _audit_guards_lifted(connection) -> Iterator[None]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [AUDIT_TABLE],
            )
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
            yield
            for _name, sql in triggers:
                cursor.execute(sql)
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s)"
                " AND NOT tgisinternal AND tgenabled <> 'D'",
                [AUDIT_TABLE],
            )
            names = [name for (name,) in cursor.fetchall()]
            for name in names:
                cursor.execute(f'ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER "{name}"')
            yield
            for name in names:
                cursor.execute(f'ALTER TABLE {AUDIT_TABLE} ENABLE TRIGGER "{name}"')
        else:
            yield


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        if options["interactive"]:
            confirm = input(
                f'You have requested a flush of the database "{connection.settings_dict["NAME"]}",'
                " the audit trail included.\nThis will IRREVERSIBLY DESTROY all data."
                " Type 'yes' to continue, or 'no' to cancel: "
            )
            if confirm != "yes":
                self.stdout.write("Flush cancelled.")
                return
        # Asked first: the guards are lifted only inside the transaction that flushes.
        with transaction.atomic(using=options["database"]), _audit_guards_lifted(connection):
            super().handle(**{**options, "interactive": False})
