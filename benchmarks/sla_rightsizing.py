"""Benchmark: a month of metrics for thousands of resources → push, advice, scorecard.

Builds a throwaway SQLite database with the reference contracts, imports ``--resources`` BT-2025
resources (vCPU, memory and disk of as many systems), then times:

* ``metrics_push`` of one day for every resource (all-or-nothing validation + upsert), and a
  re-push of the same rows (the idempotent path);
* ``rightsizing_compute`` of the month (30 daily samples per resource);
* ``scorecard_compute`` of the service year.

    .venv/bin/python benchmarks/sla_rightsizing.py [--resources 3000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = tempfile.mkdtemp(prefix="bench-sla-")
os.environ["DATABASE_URL"] = f"sqlite:///{TMP}/bench.sqlite3"
os.environ["GOVCLOUD_VAR_DIR"] = TMP
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govcloud.settings")

import django  # noqa: E402

django.setup()

from datetime import date, timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.core.management import call_command  # noqa: E402

from billing.demo import seed_parties  # noqa: E402
from billing.services.inventory import inventory_import  # noqa: E402
from govcloud.models import Contract, User  # noqa: E402
from sla.models import UtilizationSample  # noqa: E402
from sla.services.metrics import metrics_push  # noqa: E402
from sla.services.rightsizing import rightsizing_compute  # noqa: E402
from sla.services.scorecard import scorecard_compute  # noqa: E402


def timed(label: str, func):
    start = time.perf_counter()
    result = func()
    print(f"{label:<45} {time.perf_counter() - start:8.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=3000)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    seed_parties()
    contract = Contract.objects.get(code="BT-2025")
    vendor = User.objects.get(username="bt_vendor")
    items = ["ecs.general.vcpu", "ecs.general.mem", "ebs.ssd"]
    lines = ["department,system,item,quantity,online_at,offline_at,billing_starts_at"]
    for index in range(args.resources):
        item = items[index % 3]
        quantity = {"ecs.general.vcpu": 8, "ecs.general.mem": 16, "ebs.ssd": 500}[item]
        online = "2025-06-20 09:00"
        lines.append(f"包头市教育局,系统{index // 3:05d},{item},{quantity},{online},,{online}")
    timed(
        f"import {args.resources} resources",
        lambda: inventory_import(actor="bench", contract=contract, csv_text="\n".join(lines)),
    )
    ids = list(contract.resources.values_list("pk", flat=True))

    month = date(2025, 9, 1)
    rows = [
        {
            "resource": pk,
            "day": "2025-09-01",
            "cpu_pct": Decimal("23.5"),
            "mem_pct": Decimal("41"),
            "disk_pct": Decimal("60"),
            "disk_used_gb": Decimal("300"),
        }
        for pk in ids
    ]
    for label in ("new", "re-push"):
        timed(
            f"metrics_push: {len(rows)} rows ({label})",
            lambda: metrics_push(actor=vendor, rows=rows),
        )
    UtilizationSample.objects.bulk_create(
        [
            UtilizationSample(
                resource_id=pk,
                day=month + timedelta(days=day),
                cpu_pct=Decimal(10 + (pk + day) % 60),
                mem_pct=Decimal(20 + (pk * day) % 60),
                disk_pct=Decimal("60"),
                disk_used_gb=Decimal("300"),
                pushed_by=vendor,
            )
            for pk in ids
            for day in range(1, 30)
        ],
        batch_size=5000,
    )
    report = timed(
        f"rightsizing_compute: {len(ids) * 30} samples",
        lambda: rightsizing_compute(contract=contract, month=month),
    )
    print(f"  advice rows: {report.advice.count()}, CPU {report.avg_cpu_pct}%")
    timed(
        "rightsizing_compute again (idempotent)",
        lambda: rightsizing_compute(contract=contract, month=month),
    )
    timed(
        "scorecard_compute (service year)",
        lambda: scorecard_compute(contract=contract, year=2025),
    )


if __name__ == "__main__":
    main()
