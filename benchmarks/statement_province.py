"""Benchmark: one month's statement of a province-sized contract on PostgreSQL.

    .venv/bin/python benchmarks/statement_province.py [DATABASE_URL] [--resources 200000]
        [--changes-per-resource 3] [--cities 10] [--departments 100] [--month 2026-03]
        [--rebuild]

A province platform: the reference contract BT-2025 carries ``--cities`` × ``--departments``
departments (``包头市第001局`` …, two business systems each) and ``--resources`` resources,
each with ``--changes-per-resource`` history rows (the delivery and later changes of quantity,
sometimes of catalog item) at random times over the service year (seeded RNG), about a tenth
of them released again: 200,000 resources and 600,000 changes by default.

The database is the benchmark's own: ``DATABASE_URL`` (argument or environment, default
``postgres://postgres@127.0.0.1:5432/h8bench``) is created when missing and migrated; the
inventory is bulk-loaded with COPY the first time (or again with ``--rebuild``, which drops and
re-creates that database — never point it at one you keep).

Then a fresh process (so that the peak RSS is the generation's, not the loading's) times, in
one transaction that is rolled back at the end: the bare SQL read of the rows the engine needs;
``statement_generate`` (engine, lines streamed into the table, figures saved); the department
bills of the statement (``_create_department_bills``, the signing step's bills). It prints the
figures and last one line::

    RESULT statement_province resources=200000 changes=600000 generate_s=<s> peak_mib=<MiB>

``generate_s`` is statement generation plus the department bills; ``peak_mib`` the process's
peak resident memory (``ru_maxrss``). Targets: under 10 s, memory bounded (the engine streams).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._bare_read import BARE_CHANGES, BARE_RESOURCES  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/h8bench"
CITIES = [
    "包头",
    "呼和浩特",
    "鄂尔多斯",
    "赤峰",
    "通辽",
    "乌海",
    "巴彦淖尔",
    "乌兰察布",
    "兴安",
    "锡林郭勒",
]
# (code, typical quantities); a change may switch between the two vCPU items.
ITEMS = [
    ("ecs.general.vcpu", (2, 4, 8, 16, 32)),
    ("ecs.general.mem", (4, 8, 16, 32, 64)),
    ("ecs.domestic.vcpu", (2, 4, 8, 16)),
    ("ebs.ssd", (100, 200, 500, 1000)),
    ("ebs.sas", (500, 1000, 2000)),
    ("oss", (100, 1000, 5000)),
    ("sec.mlps3", (1,)),
    ("line.1g", (1, 2)),
]
SWAP = {"ecs.general.vcpu": "ecs.domestic.vcpu", "ecs.domestic.vcpu": "ecs.general.vcpu"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url", nargs="?", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--resources", type=int, default=200_000)
    parser.add_argument("--changes-per-resource", type=int, default=3)
    parser.add_argument("--cities", type=int, default=10)
    parser.add_argument("--departments", type=int, default=100, help="per city")
    parser.add_argument("--month", default="2026-03")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rebuild", action="store_true", help="drop the database, load anew")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.database_url = args.database_url or DEFAULT_URL
    return args


def setup_django(url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "govcloud.settings"
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()


# --------------------------------------------------------------------------------- loading


def ensure_database(url: str, *, rebuild: bool) -> None:
    """Create the benchmark's database when missing (dropped first with ``--rebuild``)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if rebuild:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def copy_rows(model: type, rows: Iterator[dict]) -> int:
    """COPY dicts of attname → value into ``model``'s table (every non-pk concrete field must
    be given, or have a value here); returns the count."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields]
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(
            f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row([row[f.attname] for f in fields])
            count += 1
    return count


def load(args: argparse.Namespace) -> None:
    """Migrate, then load the reference contracts and the province inventory (COPY)."""
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from billing.contracts import load_reference_contracts
    from billing.models import CatalogItem, Resource, ResourceChange, ResourceStatus
    from billing.pricing import BUSINESS_TZ
    from govcloud.models import BusinessSystem, Contract, Organization, OrganizationKind

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - started:.1f} s")
    load_reference_contracts()
    contract = Contract.objects.get(code="BT-2025")
    if Resource.objects.filter(contract=contract).exists():
        print("inventory already loaded (use --rebuild to load it anew)")
        return

    started = time.perf_counter()
    rng = random.Random(args.seed)
    items = {i.code: i.pk for i in CatalogItem.objects.filter(contract=contract)}
    sizes = dict(ITEMS)
    start = datetime(2025, 6, 20, tzinfo=BUSINESS_TZ)
    end = datetime(2026, 6, 20, tzinfo=BUSINESS_TZ)
    span = int((end - start).total_seconds())
    now = timezone.now()
    with transaction.atomic():
        orgs = Organization.objects.bulk_create(
            (
                Organization(
                    name=f"{city}市第{n:03d}局",
                    kind=OrganizationKind.DEPARTMENT,
                    parent=contract.bureau,
                )
                for city in (CITIES * (args.cities // len(CITIES) + 1))[: args.cities]
                for n in range(1, args.departments + 1)
            ),
            batch_size=2000,
        )
        systems = BusinessSystem.objects.bulk_create(
            (
                BusinessSystem(department=org, name=name)
                for org in orgs
                for name in ("业务系统甲", "业务系统乙")
            ),
            batch_size=2000,
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM billing_resource")
            first_id = cursor.fetchone()[0] + 1
        histories: list[list[tuple[datetime, str, int]]] = []

        def resources() -> Iterator[dict]:
            for offset in range(args.resources):
                system = systems[rng.randrange(len(systems))]
                code, choices = ITEMS[rng.randrange(len(ITEMS))]
                online = start + timedelta(seconds=rng.randrange(span - 86400 * 30))
                history = [(online, code, rng.choice(choices))]
                at = online
                for _change in range(args.changes_per_resource - 1):
                    room = max(int((end - at).total_seconds()), 120)
                    at = at + timedelta(seconds=rng.randrange(60, room))
                    new_code = SWAP.get(history[-1][1], history[-1][1])
                    new_code = new_code if rng.random() < 0.2 else history[-1][1]
                    history.append((at, new_code, rng.choice(sizes[new_code])))
                offline = (
                    online + timedelta(seconds=rng.randrange(3600, span))
                    if rng.random() < 0.1
                    else None
                )
                histories.append(history)
                last = history[-1]
                yield {
                    "id": first_id + offset,
                    "contract_id": contract.pk,
                    "department_id": system.department_id,
                    "system_id": system.pk,
                    "catalog_item_id": items[last[1]],
                    "quantity": last[2],
                    "vendor_ref": f"i-{first_id + offset:08x}",
                    "status": ResourceStatus.RELEASED if offline else ResourceStatus.ACTIVE,
                    "online_at": online,
                    "billing_starts_at": online,
                    "offline_at": offline,
                    "imported": False,
                    "carried_from_id": None,
                    "created_at": now,
                }

        loaded = copy_rows(Resource, resources())

        with connection.cursor() as cursor:  # not inside the COPY below: one query at a time
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM billing_resourcechange")
            last_change_id = cursor.fetchone()[0]

        def changes() -> Iterator[dict]:
            change_id = last_change_id
            for offset, history in enumerate(histories):
                for at, code, quantity in history:
                    change_id += 1
                    yield {
                        "id": change_id,
                        "resource_id": first_id + offset,
                        "catalog_item_id": items[code],
                        "quantity": quantity,
                        "delivered_at": at,
                        "note": "",
                    }

        changed = copy_rows(ResourceChange, changes())
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(
                no_style(), [Resource, ResourceChange]
            ):
                cursor.execute(statement)
            cursor.execute("ANALYZE billing_resource")
            cursor.execute("ANALYZE billing_resourcechange")
    print(
        f"loaded {len(orgs)} departments, {len(systems)} systems, {loaded} resources, "
        f"{changed} changes in {time.perf_counter() - started:.1f} s"
    )


# ------------------------------------------------------------------------------- measuring


def bare_read(contract: object, year: int, month: int) -> tuple[int, int]:
    """Counted while streamed (a server-side cursor), so that the bare read holds no more of
    the rows than the engine does."""
    from django.db import connection, transaction

    from billing.services.engine import month_billing_bounds

    lower, upper = month_billing_bounds(contract, year, month)
    counts = []
    with transaction.atomic():
        for query, params in (
            (BARE_RESOURCES, [contract.pk, upper, lower]),
            (BARE_CHANGES, [upper, contract.pk, upper, lower]),
        ):
            with connection.chunked_cursor() as cursor:
                cursor.execute(query, params)
                count = 0
                while rows := cursor.fetchmany(5000):
                    count += len(rows)
                counts.append(count)
    return counts[0], counts[1]


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(args: argparse.Namespace) -> None:
    from django.db import transaction
    from django.utils import timezone

    from billing.models import DepartmentBill, Resource, ResourceChange
    from billing.services.engine import StatementStream
    from billing.services.statements import _create_department_bills, statement_generate
    from govcloud.models import Contract, PartyRole, User

    year, month = (int(part) for part in args.month.split("-"))
    contract = Contract.objects.get(code="BT-2025")
    resources = Resource.objects.filter(contract=contract).count()
    changes = ResourceChange.objects.filter(resource__contract=contract).count()
    departments = Resource.objects.filter(contract=contract).values("department").distinct().count()
    print(f"inventory: {resources} resources, {changes} changes, {departments} departments")
    vendor = contract.parties.get(role=PartyRole.VENDOR).organization
    baseline = peak_mib()

    started = time.perf_counter()
    n_resources, n_changes = bare_read(contract, year, month)
    bare = time.perf_counter() - started
    print(f"bare SQL read: {n_resources} resources and {n_changes} changes in {bare:.2f} s")

    with transaction.atomic():
        started, cpu = time.perf_counter(), cpu_s()
        stream = StatementStream(contract, year, month)
        priced = sum(1 for _line in stream)
        print(
            f"engine alone (StatementStream, nothing saved): {priced} lines in "
            f"{time.perf_counter() - started:.2f} s ({cpu_s() - cpu:.2f} s CPU here)"
        )

    with transaction.atomic():
        user = User.objects.create_user("bench-province-vendor", organization=vendor)
        started, cpu = time.perf_counter(), cpu_s()
        statement = statement_generate(actor=user, contract=contract, year=year, month=month)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        bills = _create_department_bills(statement, timezone.now())
        billed = time.perf_counter() - started
        cpu = cpu_s() - cpu
        lines = statement.lines.count()
        assert sum(b.total for b in bills) == statement.total
        assert sum(b.lines_count for b in bills) == lines
        print(
            f"statement_generate: {lines} lines, subtotal {statement.subtotal}, total "
            f"{statement.total} in {generated:.2f} s"
        )
        print(f"department bills: {len(bills)} in {billed:.2f} s")
        print(f"CPU of this process for both: {cpu:.2f} s (the rest is PostgreSQL, or waiting)")
        print(
            f"bills in the database: {DepartmentBill.objects.filter(statement=statement).count()}"
        )
        transaction.set_rollback(True)
    total = generated + billed
    peak = peak_mib()
    print(f"peak RSS {peak:.0f} MiB (before generating: {baseline:.0f} MiB); rolled back")
    print(
        f"RESULT statement_province resources={resources} changes={changes} "
        f"generate_s={total:.2f} peak_mib={peak:.0f}"
    )


def main() -> None:
    args = parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("statement_province needs a PostgreSQL DATABASE_URL")
    if args.measure:
        setup_django(args.database_url)
        measure(args)
        return
    ensure_database(args.database_url, rebuild=args.rebuild)
    setup_django(args.database_url)
    load(args)
    # The generation in a fresh process: its peak memory is its own.
    command = [sys.executable, __file__, args.database_url, "--measure", "--month", args.month]
    sys.exit(subprocess.run(command, check=False).returncode)  # noqa: S603


if __name__ == "__main__":
    main()
