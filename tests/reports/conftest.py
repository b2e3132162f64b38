"""Fixtures for the statement documents: files and keys in a temporary directory, reference
contracts with a user per party, and departments that receive e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from django.test import TestCase
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from billing.models import DocumentKind, Statement, StatementDocument
from billing.services.statements import statement_confirm, statement_generate, statement_submit
from govcloud.models import Organization, OrganizationKind
from tests.billing.conftest import (
    Parties,
    _parties,
    add_resource,
    password,
    sh,
    signing_passphrase,
)
from tests.factories import UserFactory

PORTAL = "https://cloud.example.test"


@pytest.fixture(autouse=True)
def documents_in_tmp(settings, tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """Media and the development CA with the parties' keys under tmp_path (each key issued
    with its organisation's demo passphrase when first used: ``signing_passphrase``)."""
    request.getfixturevalue("fast_signing_keys")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEBUG = True
    settings.PORTAL_BASE_URL = PORTAL
    return tmp_path


@pytest.fixture
def reference(db) -> None:
    from billing.contracts import load_reference_contracts

    load_reference_contracts()


@dataclass
class Billing:
    parties: Parties
    departments: list[Organization]

    @property
    def contract(self):
        return self.parties.contract

    @property
    def users(self):
        return self.parties.users


def _department(parties: Parties, name: str, email: str) -> Organization:
    department = Organization.objects.create(
        name=name, kind=OrganizationKind.DEPARTMENT, parent=parties.contract.bureau, email=email
    )
    UserFactory(organization=department, email=email.replace("@", ".staff@"))
    return department


@pytest.fixture
def bt(reference) -> Billing:
    """BT-2025 (bureau 1, vendor 2, supervisor 3; an auditor) with two departments in March
    2026: DESIGN's vCPU example and a disk in one, a disk in the other."""
    parties = _parties("BT-2025")
    edu = _department(parties, "包头市教育局", "edu@bt.example.test")
    police = _department(parties, "包头市公安局", "police@bt.example.test")
    add_resource(
        parties.contract, edu, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15), system="智慧校园"
    )
    add_resource(parties.contract, edu, "ebs.ssd", 500, sh(2026, 1, 5, 9), system="智慧校园")
    add_resource(parties.contract, police, "ebs.ssd", 333, sh(2026, 1, 5, 9), system="天网工程")
    return Billing(parties=parties, departments=[edu, police])


@pytest.fixture
def jz(reference) -> Billing:
    parties = _parties("JZ-2026")
    land = _department(parties, "焦作市自然资源和规划局", "land@jz.example.test")
    add_resource(parties.contract, land, "ecs.4c8g", 1, sh(2026, 7, 1), system="不动产登记")
    return Billing(parties=parties, departments=[land])


def generate(world: Billing, year: int = 2026, month: int = 3, *, render: bool = True) -> Statement:
    """The vendor generates the month; its PDF is rendered as after commit (the render task
    the service enqueues then), unless ``render=False`` (the task has not run yet)."""
    with TestCase.captureOnCommitCallbacks(execute=render):
        return statement_generate(
            actor=world.users["vendor"], contract=world.contract, year=year, month=month
        )


def sign_off(world: Billing, statement: Statement, *roles: str) -> Statement:
    """The vendor submits (role "vendor"), the others confirm, in the order given."""
    for role in roles:
        if role == "vendor":
            statement_submit(
                actor=world.users["vendor"],
                statement=statement,
                reauth=password(),
                signing_passphrase=signing_passphrase(world.users["vendor"]),
            )
        else:
            statement_confirm(
                actor=world.users[role],
                statement=statement,
                reauth=password(),
                signing_passphrase=signing_passphrase(world.users[role]),
            )
    statement.refresh_from_db()
    return statement


@pytest.fixture
def signed_bt(bt, django_capture_on_commit_callbacks) -> tuple[Billing, Statement]:
    """BT March 2026, signed by vendor, bureau and supervisor, every task run as it would."""
    statement = generate(bt)
    with django_capture_on_commit_callbacks(execute=True):
        sign_off(bt, statement, "vendor", "bureau", "supervisor")
    return bt, statement


def document(
    statement: Statement, kind: str = DocumentKind.STATEMENT, **lookup
) -> StatementDocument:
    return StatementDocument.objects.get(statement=statement, kind=kind, **lookup)


def file_bytes(doc: StatementDocument) -> bytes:
    doc.refresh_from_db()
    with doc.file.open("rb") as handle:
        return handle.read()


def draw_over_first_page(pdf: bytes) -> bytes:
    """What a forger would do: append a well-formed incremental update painting on page 1."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    overlay = writer.add_object(generic.StreamObject(stream_data=b"1 0 0 rg 60 700 300 40 re f"))
    writer.add_stream_to_page(0, overlay)
    output = BytesIO()
    writer.write(output)
    return output.getvalue()
