"""Benchmark: the vendor's delivery queue with 10,000 tickets vs a trivial view, same run.

Builds a throwaway SQLite database, seeds the reference contracts, 10,000 tickets on BT-2025
(about a third of them approved and waiting for delivery), then renders the vendor queue
page and ``/healthz`` many times through Django's test client and prints the medians, the
ratio and the number of queries the queue page runs.

    .venv/bin/python benchmarks/ticket_queue.py [--tickets 10000] [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = tempfile.mkdtemp(prefix="bench-tickets-")
os.environ["DATABASE_URL"] = f"sqlite:///{TMP}/bench.sqlite3"
os.environ["GOVCLOUD_VAR_DIR"] = TMP
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govcloud.settings")

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402


def seed(n_tickets: int):
    from billing.demo import seed_parties
    from govcloud.models import BusinessSystem, Contract, Organization, User
    from requests_app.models import RequestLine, RequestStatus, ResourceRequest

    seed_parties()
    contract = Contract.objects.get(code="BT-2025")
    departments = list(Organization.objects.filter(parent__contract_parties__contract=contract))
    systems = [
        BusinessSystem.objects.get_or_create(department=d, name=f"业务系统{i}")[0]
        for d in departments
        for i in range(5)
    ]
    item = contract.catalog_items.get(code="ecs.general.vcpu")
    creator = User.objects.get(username="bt_edu")
    now = timezone.now()
    statuses = [RequestStatus.APPROVED, RequestStatus.DELIVERED, RequestStatus.SUBMITTED]
    tickets = []
    for i in range(n_tickets):
        system = systems[i % len(systems)]
        status = statuses[i % 3]
        approved = now - timedelta(hours=i % 200) if status != RequestStatus.SUBMITTED else None
        tickets.append(
            ResourceRequest(
                number=f"BT-2025-B{i:06d}",
                contract=contract,
                department=system.department,
                system=system,
                kind="new",
                status=status,
                reason="基准测试",
                created_by=creator,
                submitted_at=now,
                approved_at=approved,
                due_at=approved + timedelta(days=2) if approved else None,
                delivered_at=approved + timedelta(hours=5)
                if status == RequestStatus.DELIVERED
                else None,
            )
        )
    ResourceRequest.objects.bulk_create(tickets, batch_size=2000)
    RequestLine.objects.bulk_create(
        [
            RequestLine(request=t, catalog_item=item, quantity=8)
            for t in ResourceRequest.objects.all()
        ],
        batch_size=2000,
    )


def client_for(username: str) -> Client:
    from govcloud.models import User

    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user)
    device = user.totpdevice_set.filter(confirmed=True).first()
    if device:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def median_ms(client: Client, url: str, runs: int) -> float:
    client.get(url)  # warm up templates and caches
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    seed(args.tickets)
    vendor = client_for("bt_vendor")
    queue_url = "/deliveries/"
    # The test client's request_started resets connection.queries, so count with a wrapper.
    queries: list[str] = []
    with connection.execute_wrapper(lambda run, sql, *a: queries.append(sql) or run(sql, *a)):
        first = vendor.get(queue_url)
    assert first.status_code == 200, first.status_code
    queue_ms = median_ms(vendor, queue_url, args.runs)
    trivial_ms = median_ms(Client(), "/healthz", args.runs)
    from requests_app.models import ResourceRequest

    waiting = ResourceRequest.objects.filter(status="approved").count()
    print(f"tickets in database        {ResourceRequest.objects.count():>10,}")
    print(f"tickets awaiting delivery  {waiting:>10,} (page shows 50 per page)")
    print(f"vendor queue  median       {queue_ms:>10.1f} ms  ({len(queries)} queries)")
    print(f"trivial view  median       {trivial_ms:>10.1f} ms")
    print(f"ratio queue / trivial      {queue_ms / trivial_ms:>10.1f}x")


if __name__ == "__main__":
    main()
