"""The API holds its published contract (issue 13 item 1), measured by a client no one here wrote.

Schemathesis reads ``/api/schema/`` and calls every operation through the WSGI application (no
live server) as three callers — a vendor's system with its token, a bureau user and a
department user with their browser sessions (CSRF token included) — with all five checks:
no server error, documented status codes, documented content types, response bodies that match
their schemas, and authentication that is not ignored.

The data is real: one tenant with an object behind every object URL (the builders of the
tenancy matrix, ``tests/scoped_urls.py``), seeded once for the module and rolled back after it;
each test (operation × caller) runs in its own savepoint. Half of the generated cases are sent
to those real objects, so operations answer 200 and their refusals (400/403/409), not only 404.
"""

from __future__ import annotations

import functools
import re
import secrets
import zlib
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test.utils import override_settings
from django.urls import reverse
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from werkzeug.test import Client

from tests.api_clients import issue_token
from tests.conftest import World, build_world, verified_client

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
]
ROLES = ("vendor", "bureau", "department")

pytestmark = pytest.mark.django_db

# Bounded: a fixed seed and a handful of generated cases per operation and caller. The
# coverage phase's boundary cases (huge integers, malformed dates and ids, repeated parameters,
# missing or wrong-typed fields) run for reading operations; writes get generated bodies only.
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261304,
        "generation": {
            "mode": "all",
            "max-examples": 4,
            "database": "none",
            # The callers' own credentials, never generated ones in their place.
            "with-security-parameters": False,
        },
        "phases": {
            "examples": {"enabled": False},
            "stateful": {"enabled": False},
            "coverage": {"enabled": True, "generate-duplicate-query-parameters": True},
            "fuzzing": {"enabled": True},
        },
        "operations": [
            {"include-method": ["POST", "PUT", "PATCH"], "phases": {"coverage": {"enabled": False}}}
        ],
        "suppress-health-check": ["all"],
    }
)


# Django's WSGI handler as a server runs it. While the module's transaction is open the
# connection is not closed between requests (``seed`` disconnects ``close_old_connections``
# from the request signals, as Django's test client does).
APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/schema/", APP, config=CONFIG)


# --------------------------------------------------------------------------- the seeded tenant


@dataclass
class Seed:
    world: World
    tokens: dict[str, str] = field(default_factory=dict)
    #: schema path template -> path parameters of a real object behind it
    real_params: dict[str, dict[str, object]] = field(default_factory=dict)
    #: cases sent per operation (every other one goes to the real object)
    sent: dict[str, int] = field(default_factory=dict)
    #: caller -> operation -> the status codes it answered
    answers: dict[str, dict[str, set[int]]] = field(default_factory=dict)


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}$")


TEMPLATES = [(path, _template_regex(path)) for path in schema.raw_schema["paths"] if "{" in path]


def _builder_key(build) -> tuple[object, ...]:
    """Entries of the matrix made by the same builder share one object (builders move objects
    along their workflow and may refuse a second call)."""
    cells = tuple(cell.cell_contents for cell in build.__closure__ or ())
    return (build.__code__, *(c if isinstance(c, str | int) else id(c) for c in cells))


def _real_params(world: World) -> dict[str, dict[str, object]]:
    """For each schema path with parameters, those of an object that exists in ``world``: from
    the tenancy matrix, else from the longest path above it (an action on a ticket takes the
    ticket's id)."""
    from tests.scoped_urls import SCOPED_URLS

    found: dict[str, dict[str, object]] = {}
    built: dict[tuple[object, ...], dict[str, object] | None] = {}
    for name, spec in SCOPED_URLS.items():
        if not name.startswith("api_"):
            continue
        key = _builder_key(spec.build)
        if key not in built:
            built[key] = None
            try:
                with transaction.atomic():
                    built[key] = spec.build(world)
            except Exception:  # noqa: S112
                continue
        if built[key] is None:
            continue
        url = reverse(name, kwargs=built[key])
        for template, regex in TEMPLATES:
            match = regex.match(url)
            if match and template not in found:
                found[template] = {k: _typed(v) for k, v in match.groupdict().items()}
    for template, _regex in TEMPLATES:
        if template in found:
            continue
        names = set(re.findall(r"\{(\w+)\}", template))
        parents = [
            other for other in found if template.startswith(other) and set(found[other]) == names
        ]
        if parents:
            found[template] = found[max(parents, key=len)]
    return found


def _typed(value: str) -> object:
    return int(value) if value.isdigit() else value


@functools.cache
def _seal_table(field_names: tuple[str, ...]) -> bytes:
    from tests.pdf.test_signing import seal_table_pdf

    return seal_table_pdf(list(field_names))


def _statement_stand_in(statement) -> bytes:
    """A small PDF with the seal boxes of the statement's parties (the real one is tested in
    tests/reports)."""
    from billing.reports.signing import signoff_parties

    return _seal_table(tuple(p.field_name for p in signoff_parties(statement.contract)))


@pytest.fixture(scope="module")
def seed(django_db_setup, django_db_blocker, tmp_path_factory, _rsa_keys):
    """One tenant with every kind of object, built once for the module inside a transaction
    that is rolled back at its end (each test adds a savepoint of its own)."""
    import itertools

    from billing.reports import signing as documents
    from billing.services import statements
    from govcloud.celery import app as celery_app
    from govcloud.pdf import signing as pdf_signing

    keys = itertools.cycle(_rsa_keys)
    media = tmp_path_factory.mktemp("schemathesis-media")
    eager = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = True, True
    with (
        django_db_blocker.unblock(),
        pytest.MonkeyPatch.context() as patch,
        override_settings(
            SIGNING_DIR=media / "signing",
            MEDIA_ROOT=media / "files",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
    ):
        patch.setattr(pdf_signing, "_new_rsa_key", lambda: next(keys))
        patch.setattr(documents, "statement_pdf_bytes", _statement_stand_in)
        patch.setattr(
            statements,
            "_render_after_commit",
            lambda statement: documents.statement_document_render(statement_id=statement.pk),
        )
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_world()
            seeded = Seed(world=world, real_params=_real_params(world))
            seeded.tokens["vendor"] = issue_token(world.users["vendor"])
            yield seeded
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
            celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = eager


@pytest.fixture(params=ROLES)
def role(request) -> str:
    return request.param


@pytest.fixture
def caller(role, seed) -> dict[str, dict[str, str]]:
    """How one caller authenticates: the vendor's system with its token, a person with the
    session of a browser that passed the second factor, and its CSRF token."""
    if role in seed.tokens:
        credentials = {"headers": {"Authorization": f"Token {seed.tokens[role]}"}}
    else:
        cookies = {
            "sessionid": verified_client(seed.world.users[role]).cookies["sessionid"].value,
            "csrftoken": secrets.token_hex(16),
        }
        # The cookies go through the WSGI client's jar (werkzeug drops a hand-made Cookie
        # header); the header tells schemathesis the credentials are the caller's own.
        cookie_header = "; ".join(f"{k}={v}" for k, v in cookies.items())
        headers = {"Cookie": cookie_header, "X-CSRFToken": cookies["csrftoken"]}
        credentials = {"headers": headers, "cookies": cookies}
    client = Client(APP)
    for key, value in credentials.get("cookies", {}).items():
        client.set_cookie(key, value, domain="localhost")
    me = client.get("/api/v1/me/", headers=credentials["headers"])
    assert me.status_code == 200, (role, me.status_code, me.get_data()[:200])
    return credentials


# ---------------------------------------------------------------------------------- the run


def _coverage_role(label: str) -> str:
    """The coverage phase's boundary cases (the same for every caller) run for one caller per
    operation, in turn; generated cases run for all three."""
    return ROLES[zlib.crc32(label.encode()) % len(ROLES)]


@schema.parametrize()
def test_every_operation_holds_its_contract(case, role, caller, seed):
    label = case.operation.label
    if case.meta and case.meta.phase.name.value == "coverage" and role != _coverage_role(label):
        return
    real = seed.real_params.get(case.operation.path)
    seed.sent[label] = seed.sent.get(label, 0) + 1
    positive = all(isinstance(v, int) for v in (case.path_parameters or {}).values())
    if real and positive and seed.sent[label] % 2:
        case.path_parameters = {**case.path_parameters, **real}
    response = case.call_and_validate(**caller, checks=CHECKS)
    seed.answers.setdefault(role, {}).setdefault(label, set()).add(response.status_code)


def test_the_seed_reaches_the_object_urls(seed):
    """Most operations with a path parameter have a real object behind them."""
    with_params = {path for path, _ in TEMPLATES}
    missing = with_params - set(seed.real_params)
    assert len(missing) < len(with_params) / 4, sorted(missing)


def test_the_callers_reached_real_objects(seed):
    """The run above was not a wall of 401s and 404s: every caller had operations answer 2xx
    (reads and writes), so the response schemas were checked against real data."""
    if set(seed.answers) != set(ROLES):
        pytest.skip("the schemathesis run did not run for every caller")
    for role, answers in seed.answers.items():
        succeeded = {label for label, codes in answers.items() if any(c < 300 for c in codes)}
        reads = {label for label in succeeded if label.startswith("GET ")}
        assert len(reads) >= 15, (role, sorted(succeeded))
        assert succeeded - reads, (role, "no write succeeded")
