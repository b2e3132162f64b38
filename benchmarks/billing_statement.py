"""Benchmark: one month's statement of a large inventory versus a bare read of the same rows.

    .venv/bin/python benchmarks/billing_statement.py [--resources 20000] [--departments 500]
                                   [--runs 5] [--month 2026-03] [--reuse] [--generate]

Builds a throwaway SQLite database (``/tmp/bench-billing.sqlite3``, migrated from scratch) with
the reference contract BT-2025, ``--departments`` departments with two business systems each,
and ``--resources`` resources delivered over the service year, each with 1–3 configuration
changes (quantity, sometimes the catalog item) at random times (seeded RNG), about a tenth of
them released again. Then, in the same run, times ``compute_statement`` for one month and a
bare SQL read (``connection.cursor()``) of the same rows the engine needs — the resources that
overlap the month and all their changes — ``--runs`` times each, alternately (so that a busy
machine slows both alike), and prints both medians and their ratio, last as one line::

    RESULT statement_engine resources=20000 engine_s=<s> bare_s=<s> ratio=<engine/bare>

Targets: the statement under 2 s, and within 3× the bare read.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DB_PATH = Path("/tmp/bench-billing.sqlite3")  # noqa: S108  (a throwaway benchmark database)
os.environ["DJANGO_SETTINGS_MODULE"] = "govcloud.settings"
os.environ["DATABASE_URL"] = f"sqlite:///{DB_PATH}"

import django  # noqa: E402  (the environment must be set before Django loads settings)

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from benchmarks._bare_read import BARE_CHANGES, BARE_RESOURCES  # noqa: E402
from billing.contracts import load_reference_contracts  # noqa: E402
from billing.models import CatalogItem, Resource, ResourceChange, ResourceStatus  # noqa: E402
from billing.pricing import BUSINESS_TZ, month_bounds  # noqa: E402
from billing.services.engine import compute_statement, month_billing_bounds  # noqa: E402
from govcloud.models import (  # noqa: E402
    BusinessSystem,
    Contract,
    Organization,
    OrganizationKind,
)

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


def build(*, resources: int, departments: int, seed: int) -> Contract:
    """Fresh database with the inventory; returns BT-2025."""
    if DB_PATH.exists():
        DB_PATH.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{DB_PATH}{suffix}").unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    load_reference_contracts()
    contract = Contract.objects.get(code="BT-2025")
    bureau = contract.bureau
    rng = random.Random(seed)
    items = {i.code: i for i in CatalogItem.objects.filter(contract=contract)}
    start = datetime(2025, 6, 20, tzinfo=BUSINESS_TZ)
    end = datetime(2026, 6, 20, tzinfo=BUSINESS_TZ)
    span = int((end - start).total_seconds())

    def moment(after: datetime) -> datetime:
        room = int((end - after).total_seconds())
        return after + timedelta(seconds=rng.randrange(60, max(room, 120)))

    with transaction.atomic():
        orgs = Organization.objects.bulk_create(
            Organization(
                name=f"基准测试使用单位{n:04d}", kind=OrganizationKind.DEPARTMENT, parent=bureau
            )
            for n in range(departments)
        )
        systems = BusinessSystem.objects.bulk_create(
            BusinessSystem(department=org, name=name)
            for org in orgs
            for name in ("业务系统甲", "业务系统乙")
        )
        rows: list[Resource] = []
        histories: list[list[tuple[datetime, str, int]]] = []
        for _ in range(resources):
            system = rng.choice(systems)
            code, sizes = rng.choice(ITEMS)
            online = start + timedelta(seconds=rng.randrange(span - 86400 * 30))
            history = [(online, code, rng.choice(sizes))]
            at = online
            for _change in range(rng.randint(1, 3)):
                at = moment(at)
                if at >= end:
                    break
                new_code = SWAP.get(history[-1][1], history[-1][1])
                new_code = new_code if rng.random() < 0.2 else history[-1][1]
                new_sizes = dict(ITEMS)[new_code]
                history.append((at, new_code, rng.choice(new_sizes)))
            offline = moment(online) if rng.random() < 0.1 else None
            last = history[-1]
            rows.append(
                Resource(
                    contract=contract,
                    department_id=system.department_id,
                    system=system,
                    catalog_item=items[last[1]],
                    quantity=last[2],
                    status=ResourceStatus.RELEASED if offline else ResourceStatus.ACTIVE,
                    online_at=online,
                    billing_starts_at=online,
                    offline_at=offline,
                )
            )
            histories.append(history)
        Resource.objects.bulk_create(rows, batch_size=2000)
        ResourceChange.objects.bulk_create(
            (
                ResourceChange(
                    resource=resource, catalog_item=items[code], quantity=qty, delivered_at=at
                )
                for resource, history in zip(rows, histories, strict=True)
                for at, code, qty in history
            ),
            batch_size=5000,
        )
    return contract


def bare_read(contract: Contract, year: int, month: int) -> tuple[int, int]:
    lower, upper = month_billing_bounds(contract, year, month)
    ops = connection.ops
    low, up = ops.adapt_datetimefield_value(lower), ops.adapt_datetimefield_value(upper)
    with connection.cursor() as cursor:
        cursor.execute(BARE_RESOURCES, [contract.pk, up, low])
        resources = cursor.fetchall()
        cursor.execute(BARE_CHANGES, [up, contract.pk, up, low])
        changes = cursor.fetchall()
    return len(resources), len(changes)


def timed(fn, runs: int) -> tuple[float, object]:
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=20_000)
    parser.add_argument("--departments", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--month", default="2026-03")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="keep an existing database")
    parser.add_argument(
        "--generate", action="store_true", help="also time statement_generate (saves lines)"
    )
    args = parser.parse_args()
    year, month = (int(part) for part in args.month.split("-"))
    month_bounds(year, month)

    if args.reuse and DB_PATH.exists():
        contract = Contract.objects.get(code="BT-2025")
    else:
        started = time.perf_counter()
        contract = build(resources=args.resources, departments=args.departments, seed=args.seed)
        print(f"built in {time.perf_counter() - started:.1f} s")
    inventory = Resource.objects.filter(contract=contract).count()
    print(
        f"inventory: {inventory} resources, "
        f"{ResourceChange.objects.filter(resource__contract=contract).count()} change rows, "
        f"{Organization.objects.filter(kind=OrganizationKind.DEPARTMENT).count()} departments"
    )

    bare_times, engine_times = [], []
    for _ in range(args.runs):
        seconds, (n_resources, n_changes) = timed(lambda: bare_read(contract, year, month), 1)
        bare_times.append(seconds)
        seconds, statement = timed(lambda: compute_statement(contract, year, month), 1)
        engine_times.append(seconds)
    bare, engine = statistics.median(bare_times), statistics.median(engine_times)
    print(f"month {args.month}: {n_resources} resources and {n_changes} changes overlap it")
    print(
        f"statement: {len(statement.lines)} lines, subtotal {statement.subtotal}, "
        f"total {statement.total}"
    )
    print(f"compute_statement median of {args.runs}: {engine * 1000:.0f} ms")
    print(f"bare SQL read     median of {args.runs}: {bare * 1000:.0f} ms")
    print(f"ratio: {engine / bare:.2f}x  (targets: < 2000 ms and < 3x)")
    if args.generate:
        persisted, count = timed(lambda: generate_and_roll_back(contract, year, month), 1)
        print(
            f"statement_generate (engine + {count} lines saved, rolled back): "
            f"{persisted * 1000:.0f} ms"
        )
    print(
        f"RESULT statement_engine resources={inventory} engine_s={engine:.3f} "
        f"bare_s={bare:.3f} ratio={engine / bare:.2f}"
    )


def generate_and_roll_back(contract: Contract, year: int, month: int) -> int:
    """The vendor's whole generation step, lines persisted, then undone."""
    from billing.services.statements import statement_generate
    from govcloud.models import PartyRole, User

    vendor = contract.parties.get(role=PartyRole.VENDOR).organization
    with transaction.atomic():
        user = User.objects.create_user("bench-vendor", organization=vendor)
        statement = statement_generate(actor=user, contract=contract, year=year, month=month)
        count = statement.lines.count()
        transaction.set_rollback(True)
    return count


if __name__ == "__main__":
    main()
