"""Print (or, with --apply, run) the PostgreSQL grants of the production app role.

The app role reads and writes every table the usual way, except the audit table: there it may
only SELECT and INSERT — no UPDATE, DELETE or TRUNCATE — and, not owning it, it cannot disable
or drop the table's triggers either. Migrations run as the owner role; run this command again
after every ``migrate`` so new tables are granted too (README, "审计日志防篡改").
"""

from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

AUDIT_TABLE = "govcloud_auditevent"
ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")


def grant_statements(connection, role: str) -> list[str]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = cursor.fetchone()
    tables = sorted(connection.introspection.django_table_names(only_existing=True))
    role_q, schema_q = quote(role), quote(schema)
    statements = [
        f"GRANT CONNECT ON DATABASE {quote(database)} TO {role_q};",
        f"GRANT USAGE ON SCHEMA {schema_q} TO {role_q};",
    ]
    for table in [*tables, "django_migrations"]:
        statements.append(f"REVOKE ALL ON TABLE {quote(table)} FROM {role_q};")
        if table == AUDIT_TABLE:
            privileges = "SELECT, INSERT"
        elif table == "django_migrations":
            privileges = "SELECT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        statements.append(f"GRANT {privileges} ON TABLE {quote(table)} TO {role_q};")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema_q} TO {role_q};")
    return statements


def role_problems(connection, role: str) -> list[str]:
    """Why ``role`` could rewrite the audit trail whatever it is granted."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            return [f"角色 {role} 不存在：请先 CREATE ROLE {role} LOGIN PASSWORD '…'。"]
        problems = []
        if row[0]:
            problems.append(f"角色 {role} 是超级用户，可以绕过一切权限与触发器。")
        cursor.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = %s"
            " AND schemaname = current_schema() AND pg_has_role(%s, tableowner, 'MEMBER')",
            [AUDIT_TABLE, role],
        )
        owner = cursor.fetchone()
        if owner is not None:
            problems.append(
                f"角色 {role} 是审计表所有者 {owner[0]}（或其成员），可以停用触发器；"
                "迁移应由另一个所有者角色执行。"
            )
    return problems


class Command(BaseCommand):
    help = "输出（--apply 时执行）生产应用角色的 PostgreSQL 授权：审计表只读与追加。"

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="应用连接数据库所用的角色。")
        parser.add_argument("--apply", action="store_true", help="在当前数据库上执行这些授权。")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        role = options["role"]
        if connection.vendor != "postgresql":
            raise CommandError(
                "只有 PostgreSQL 有数据库角色与授权；SQLite 上审计表由触发器与 verify_audit 保护。"
            )
        if not ROLE_NAME.match(role):
            raise CommandError(f"角色名不合法：{role!r}")
        problems = role_problems(connection, role)
        statements = grant_statements(connection, role)
        self.stdout.write("\n".join(statements))
        for problem in problems:
            self.stderr.write(problem)
        if options["apply"]:
            if problems:
                raise CommandError("未执行授权：该角色不适合作为应用角色。")
            with transaction.atomic(using=options["database"]), connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
            done = f"已对角色 {role} 执行 {len(statements)} 条授权语句。"
            self.stderr.write(self.style.SUCCESS(done))
