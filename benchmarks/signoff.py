"""Benchmark: sign-off of a 1,000-line statement by its three parties, through the real service.

    .venv/bin/python benchmarks/signoff.py [--lines 1000] [--rounds 1] [--profile ROLE]

Builds a throwaway SQLite database (``/tmp/bench-signoff.sqlite3``, migrated from scratch) with
the reference contract BT-2025 (vendor submits, then bureau and supervisor confirm), one user per
party with a password hashed by the production hasher (Argon2id, ``govcloud.hashers``), a
development CA with each party's key encrypted with its demo passphrase (in a temporary
``SIGNING_DIR``), and ``--lines`` resources in March 2026 — one statement line each. The
statement is generated and its PDF rendered (not timed), then each party signs off through
``billing.services.statements`` exactly as the portal does: re-authentication with the
password, opening the organisation's key with the passphrase, the PAdES signature with the
party's visible seal appended to the stored PDF, the new file stored and the rows committed.
The jobs a sign-off schedules after commit (bills, settlement summary, e-mails) are queued on
an in-memory broker that no worker reads — on the server, workers run them outside the
request.

The process is warmed up as a serving one is (URLconf loaded, the seal font's cache file
written). Prints, per party, the wall time of the whole sign-off and where it went
(re-authentication, key opening, the signature itself, the rest: locks, rows, audit, storage)
with the process's CPU time beside it (on a busy machine the wall time also counts waiting for
a core; the CPU time is what an idle core takes), then

    RESULT signoff lines=<n> max_party_s=<s> mean_party_s=<s>

Target (issue 15, item 4): under 1 s per party on the server. ``--rounds`` repeats the whole
three-party sign-off on the following months' statements (the figures are the worst and mean
over all rounds); ``--profile vendor`` (or bureau, supervisor) prints a cProfile summary of
that party's sign-off in the last round.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DB_PATH = Path("/tmp/bench-signoff.sqlite3")  # noqa: S108  (a throwaway benchmark database)
SIGNING_DIR = Path(tempfile.mkdtemp(prefix="bench-signoff-keys-"))
MEDIA_DIR = Path(tempfile.mkdtemp(prefix="bench-signoff-media-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "govcloud.settings"
os.environ["DATABASE_URL"] = f"sqlite:///{DB_PATH}"
os.environ["SIGNING_DIR"] = str(SIGNING_DIR)
# What follows a sign-off after commit (department bills, the settlement summary, e-mails) is
# queued for the workers, as on the server, not run inside the timed request: an in-memory
# broker that no worker reads.
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ["CELERY_RESULT_BACKEND"] = "cache+memory://"

import django  # noqa: E402  (the environment must be set before Django loads settings)

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.urls import get_resolver  # noqa: E402

import billing.reports.signing as documents  # noqa: E402
import billing.services.statements as statements  # noqa: E402
from billing.contracts import load_reference_contracts  # noqa: E402
from billing.models import (  # noqa: E402
    CatalogItem,
    DocumentKind,
    Resource,
    ResourceChange,
    Statement,
    StatementDocument,
)
from billing.pricing import BUSINESS_TZ  # noqa: E402
from billing.services.reauth import Reauth  # noqa: E402
from govcloud.models import (  # noqa: E402
    BusinessSystem,
    Contract,
    Organization,
    OrganizationKind,
    PartyRole,
    Role,
    User,
)
from govcloud.pdf.signing import (  # noqa: E402
    create_dev_ca,
    demo_signing_passphrase,
    dev_party,
    seal_font_file,
)

PASSWORD = "Bench-signoff-2026!"  # noqa: S105  (a throwaway benchmark user)
YEAR, FIRST_MONTH = 2026, 3  # each round signs the next month's statement
ITEMS = ["ecs.general.vcpu", "ecs.general.mem", "ebs.ssd", "ebs.sas", "oss"]
SIGNING_ROLES = (PartyRole.VENDOR, PartyRole.BUREAU, PartyRole.SUPERVISOR)

# ---------------------------------------------------------------------------------- timing


class Phases:
    """Seconds spent in the instrumented steps of the sign-off currently measured."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, module: object, name: str, phase: str) -> None:
        original = getattr(module, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - start

        setattr(module, name, timed)

    def reset(self) -> None:
        self.seconds.clear()


@contextmanager
def profiled(enabled: bool):
    profile = cProfile.Profile() if enabled else None
    if profile:
        profile.enable()
    try:
        yield
    finally:
        if profile:
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(30)
            print(out.getvalue())


# ----------------------------------------------------------------------------------- setup


def build(lines: int) -> tuple[Contract, dict[str, User]]:
    """Fresh database: BT-2025, a user per signing party, keys, ``lines`` resources."""
    for path in (DB_PATH, Path(f"{DB_PATH}-wal"), Path(f"{DB_PATH}-shm")):
        path.unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    load_reference_contracts()
    contract = Contract.objects.get(code="BT-2025")
    users: dict[str, User] = {}
    parties = list(contract.parties.select_related("organization"))
    for party in parties:
        if party.role in users:
            continue
        user = User(
            username=f"bench-{party.role}",
            full_name=f"签认人{party.get_role_display()}",
            email=f"bench-{party.role}@example.test",
            organization=party.organization,
            role=Role.STAFF,
        )
        user.set_password(PASSWORD)  # the production hasher: Argon2id
        user.save()
        users[party.role] = user
    create_dev_ca(SIGNING_DIR, [dev_party(p.organization_id, p.organization.name) for p in parties])

    departments = [
        Organization.objects.create(
            name=f"包头市基准测试局{index:02d}",
            kind=OrganizationKind.DEPARTMENT,
            parent=contract.bureau,
        )
        for index in range(10)
    ]
    systems = [
        BusinessSystem.objects.create(department=department, name=f"业务系统{index}")
        for department in departments
        for index in range(2)
    ]
    items = {i.code: i for i in CatalogItem.objects.filter(contract=contract, code__in=ITEMS)}
    online = datetime(2026, 1, 5, 9, tzinfo=BUSINESS_TZ)
    resources = []
    for index in range(lines):
        system = systems[index % len(systems)]
        resources.append(
            Resource(
                contract=contract,
                department=system.department,
                system=system,
                catalog_item=items[ITEMS[index % len(ITEMS)]],
                quantity=1 + index % 16,
                online_at=online,
                billing_starts_at=online,
            )
        )
    with transaction.atomic():
        Resource.objects.bulk_create(resources, batch_size=500)
        ResourceChange.objects.bulk_create(
            [
                ResourceChange(
                    resource=r,
                    catalog_item=r.catalog_item,
                    quantity=r.quantity,
                    delivered_at=online,
                )
                for r in resources
            ],
            batch_size=500,
        )
    return contract, users


def generate(contract: Contract, users: dict[str, User], month: int) -> Statement:
    """The month's statement with its rendered PDF (the render job runs after commit)."""
    statement = statements.statement_generate(
        actor=users[PartyRole.VENDOR], contract=contract, year=YEAR, month=month
    )
    if not StatementDocument.objects.filter(
        statement=statement, kind=DocumentKind.STATEMENT
    ).exists():
        documents.statement_document_render(statement_id=statement.pk)
    return statement


def sign_off(role: str, statement: Statement, user: User) -> None:
    secret = demo_signing_passphrase(user.organization_id)
    reauth = Reauth(method="password", value=PASSWORD)
    if role == PartyRole.VENDOR:
        statements.statement_submit(
            actor=user, statement=statement, reauth=reauth, signing_passphrase=secret
        )
    else:
        statements.statement_confirm(
            actor=user, statement=statement, reauth=reauth, signing_passphrase=secret
        )


# ------------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1, choices=range(1, 9))
    parser.add_argument(
        "--profile", choices=SIGNING_ROLES, help="print a cProfile summary of this party's sign-off"
    )
    args = parser.parse_args()
    settings.MEDIA_ROOT = MEDIA_DIR

    started = time.perf_counter()
    contract, users = build(args.lines)
    print(f"setup: {args.lines} resources, keys and users in {time.perf_counter() - started:.1f} s")

    # A serving process has loaded its URLconf (first request) and written the seal font's
    # cache file (first signature after a deploy); neither is a cost of each sign-off.
    get_resolver().reverse_dict  # noqa: B018 — loads every app's URL modules, as a reverse()
    seal_font_file()

    phases = Phases()
    phases.wrap(statements, "reauth_verify", "reauth")
    phases.wrap(statements, "signing_key_open", "key")
    phases.wrap(documents, "sign_pdf", "signature")
    phases.wrap(documents, "_read", "read")

    timings: list[float] = []
    cpu_timings: list[float] = []  # this process's CPU: what the wall time is on an idle core
    for round_index in range(args.rounds):
        started = time.perf_counter()
        statement = generate(contract, users, FIRST_MONTH + round_index)
        line_count = statement.lines.count()
        document = StatementDocument.objects.get(statement=statement, kind=DocumentKind.STATEMENT)
        size = document.file.size
        print(
            f"round {round_index + 1}: statement v{statement.version} with {line_count} lines, "
            f"PDF {size / 1024:.0f} KiB, generated and rendered in "
            f"{time.perf_counter() - started:.1f} s (not timed)"
        )
        for role in SIGNING_ROLES:
            last_round = round_index == args.rounds - 1
            phases.reset()
            with profiled(last_round and args.profile == role):
                start, start_cpu = time.perf_counter(), time.process_time()
                sign_off(role, statement, users[role])
                elapsed = time.perf_counter() - start
                cpu = time.process_time() - start_cpu
            timings.append(elapsed)
            cpu_timings.append(cpu)
            spent = dict(phases.seconds)
            rest = elapsed - sum(spent.values())
            detail = " ".join(
                f"{name}={spent.get(name, 0.0):.3f}"
                for name in ("reauth", "key", "read", "signature")
            )
            print(f"  {role:<10} {elapsed:.3f} s, CPU {cpu:.3f} s  ({detail} rest={rest:.3f})")
        statement.refresh_from_db()
        document.refresh_from_db()
        assert statement.status == "signed", statement.status
        assert document.signatures == len(SIGNING_ROLES), document.signatures

    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average during the run: {load} (on {os.cpu_count()} cores)")
    print(
        f"CPU per party (this process): max={max(cpu_timings):.3f} s "
        f"mean={statistics.mean(cpu_timings):.3f} s"
    )
    print(
        f"RESULT signoff lines={line_count} max_party_s={max(timings):.3f} "
        f"mean_party_s={statistics.mean(timings):.3f}"
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(SIGNING_DIR, ignore_errors=True)
        shutil.rmtree(MEDIA_DIR, ignore_errors=True)
