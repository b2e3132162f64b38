"""Shared fixtures: two tenants (a world and a foreign world) with a user per role."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from govcloud.models import Contract, Organization, Role, User
from govcloud.pdf import signing as pdf_signing
from tests.factories import UserFactory, contract_with_parties, make_totp


@dataclass
class World:
    contract: Contract
    orgs: dict[str, Organization]
    users: dict[str, User] = field(default_factory=dict)


def build_world() -> World:
    contract, orgs = contract_with_parties()
    world = World(contract=contract, orgs=orgs)
    for key, org in orgs.items():
        world.users[key] = UserFactory(organization=org)
    bureau = orgs["bureau"]
    for role in (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN, Role.SYSTEM_ADMIN):
        world.users[role] = UserFactory(organization=bureau, role=role)
    for user in world.users.values():
        if user.requires_two_factor:
            make_totp(user)
    return world


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Tasks run in the test's process and transaction, also when CI points at a real broker;
    only tests marked ``worker`` talk to a worker process."""
    from govcloud.celery import app

    previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = request.node.get_closest_marker("worker") is None
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def _broker_not_refused():
    """A test that simulated a broker outage must not leave the next one's enqueues skipped."""
    from govcloud.jobs import broker_reset

    broker_reset()
    yield
    broker_reset()


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """Cached calendars must not outlive the rollback of the test that filled them."""
    from govcloud.calendar import reset_cache

    reset_cache()
    yield
    reset_cache()


@pytest.fixture(scope="session")
def _signing_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("signing")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path, _signing_dir):
    """Uploads, rendered PDFs and development signing keys of tests stay out of var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIGNING_DIR = _signing_dir


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The API's throttle counters live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def foreign(db) -> World:
    """A second, unrelated bureau with its own contract and parties."""
    return build_world()


def verified_client(user: User) -> Client:
    """A client logged in as ``user`` whose session has passed two-factor verification."""
    client = Client()
    client.force_login(user)
    if user.requires_two_factor:
        from django_otp import DEVICE_ID_SESSION_KEY

        device = user.totpdevice_set.filter(confirmed=True).first()
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def client_for():
    return verified_client


@pytest.fixture
def official_calendar(transactional_db):
    """The official calendar of the years the tests use, for transactional tests.

    Migrations load it, but a transactional test's flush empties the tables; reload what is
    missing so clocks are not computed as provisional.
    """
    from govcloud.calendar import calendar_year_load_from_package, loaded_years, reset_cache

    for year in (2025, 2026):
        if year not in loaded_years():
            calendar_year_load_from_package(actor="tests", year=year)
    reset_cache()


# ------------------------------------------------------------- statements: keys and PDFs


@pytest.fixture(scope="session")
def _rsa_keys() -> list:
    """A dozen RSA keys made once: issuing certificates per test stays fast (a key per CA and
    party within a test, never the CA's for a party)."""
    return [pdf_signing._new_rsa_key() for _ in range(12)]


@pytest.fixture
def fast_signing_keys(settings, tmp_path, monkeypatch, _rsa_keys) -> Path:
    """Each test its own development CA and party keys (organisation ids are reused across
    tests), issued with pre-made RSA keys."""
    settings.SIGNING_DIR = tmp_path / "signing"
    keys = itertools.cycle(_rsa_keys)
    monkeypatch.setattr(pdf_signing, "_new_rsa_key", lambda: next(keys))
    return settings.SIGNING_DIR


@pytest.fixture(scope="session")
def _small_pdf() -> Callable[[tuple[str, ...]], bytes]:
    """A small stand-in statement with a seal box per signature field (what the real one's
    sign-off table marks: ``govcloud.pdf.signing.seal_boxes``), once per set of fields."""
    from django.utils.html import format_html, format_html_join
    from django.utils.safestring import mark_safe

    from govcloud.pdf.render import TABLE_TEMPLATE, render_pdf

    box = (
        '<div id="{}" style="position: relative; height: 20mm; width: 70mm">'
        '<span id="{}" style="position: absolute; right: 0; bottom: 0"></span></div>'
    )

    @functools.cache
    def render(field_names: tuple[str, ...]) -> bytes:
        seals = format_html_join(
            "",
            box,
            (
                (pdf_signing.seal_anchor(name), pdf_signing.seal_end_anchor(name))
                for name in field_names
            ),
        )
        return render_pdf(
            TABLE_TEMPLATE,
            {
                "report_title": "测试统计表",
                "report_subtitle": "",
                "header_html": format_html("{}{}", mark_safe("<h1>月度服务资源统计表</h1>"), seals),
                "columns": [],
            },
        )

    return render


@pytest.fixture
def statement_pdfs_fast(fast_signing_keys, monkeypatch, _small_pdf) -> None:
    """Workflow tests: a small stand-in for the rendered statement (the real one is tested in
    tests/reports), rendered as soon as a version is generated — on-commit hooks never run in a
    test's transaction, so the render the service enqueues after commit runs at once here."""
    from billing.reports import signing as documents
    from billing.services import statements

    monkeypatch.setattr(
        documents,
        "statement_pdf_bytes",
        lambda statement: _small_pdf(
            tuple(p.field_name for p in documents.signoff_parties(statement.contract))
        ),
    )
    monkeypatch.setattr(
        statements,
        "_render_after_commit",
        lambda statement: documents.statement_document_render(statement_id=statement.pk),
    )
