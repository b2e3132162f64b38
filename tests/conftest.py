"""Shared fixtures: two tenants (a world and a foreign world) with a user per role."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.test import Client

from govcloud.models import Contract, Organization, Role, User
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
