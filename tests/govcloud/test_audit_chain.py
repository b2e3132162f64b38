"""The audit trail is a hash chain: deleting, editing, forging or backdating a row is reported.

Run on SQLite and on PostgreSQL alike; tampering goes around the database guards the way an
attacker with database access would (dropping the SQLite triggers, or as the PostgreSQL
superuser with ``session_replication_role = replica``).
"""

from __future__ import annotations

import importlib
import io
import json
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, ProgrammingError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from govcloud.audit import audit_log, audit_verify
from govcloud.audit_chain import (
    CHAIN_FIELDS,
    GENESIS_HASH,
    FindingKind,
    canonical_json,
    normalise_json,
    row_hash,
)
from govcloud.models import AuditEvent, Contract, Organization, User
from tests.conftest import verified_client
from tests.factories import ContractFactory, DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

POSTGRESQL_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="roles, grants and row locks are PostgreSQL's"
)

# Values whose JSON does not read back byte for byte from PostgreSQL's jsonb.
AWKWARD_JSON = {
    "amount": Decimal("12.30"),
    "when": datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC),
    "big": 1e20,
    "tiny": 1e-7,
    "ratio": 0.1,
    "whole": 5.0,
    "zero": -0.0,
    "huge": 10**30,
    "name": '政务云 "引号" \\ 反斜杠',
    "nested": [1, None, True, {"b": 2, "a": [], "": {}}],
}


def _kinds(result) -> list[str]:
    return sorted(finding.kind for finding in result.findings)


@contextmanager
def _guards_off():
    """Switch the audit table's triggers off, as someone with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
            try:
                yield
            finally:
                cursor.execute("SET session_replication_role = origin")
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master"
                " WHERE type = 'trigger' AND tbl_name = 'govcloud_auditevent'"
            )
            triggers = cursor.fetchall()
            for name, _ddl in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
            yield
            for _name, ddl in triggers:
                cursor.execute(ddl)


def _bypassing_guards(sql: str, params=()) -> None:
    with _guards_off(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _forge(*, seq: int, at: datetime, prev_hash: str, rehash: bool) -> AuditEvent:
    """Insert a row past the model's chaining, as raw SQL would."""
    event = AuditEvent(
        at=at,
        actor_repr="forger",
        action="contract.approve",
        seq=seq,
        prev_hash=prev_hash,
        row_hash="f" * 64,
    )
    if rehash:
        event.row_hash = row_hash({name: getattr(event, name) for name in CHAIN_FIELDS})
    event.save_base(raw=True)
    return event


@pytest.fixture
def trail(world) -> list[AuditEvent]:
    """Five events of ordinary activity, the awkward JSON included."""
    user = world.users["bureau"]
    return [
        audit_log(actor=user, action="contract.touch", obj=world.contract, after=AWKWARD_JSON),
        audit_log(actor=None, action="system.tick"),
        audit_log(actor=user, action="contract.touch", obj=world.contract, before={"a": 1}),
        audit_log(actor=world.users["vendor"], action="x.done", obj=world.orgs["vendor"]),
        audit_log(actor=user, action="contract.touch", obj=world.contract, after={"n": 2}),
    ]


# ---------------------------------------------------------------------------- canonical form


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param(1e20, 10**20, id="float-and-int-of-1e20"),
        pytest.param(5.0, 5, id="five-point-zero-and-five"),
        pytest.param(-0.0, 0, id="negative-zero"),
        pytest.param(1e-7, 0.0000001, id="exponent-and-decimal-text"),
        pytest.param({"b": 1, "a": 2}, {"a": 2, "b": 1}, id="key-order"),
    ],
)
def test_numbers_and_keys_that_jsonb_rewrites_hash_the_same(left, right):
    assert canonical_json(left) == canonical_json(right)


def test_canonical_json_keeps_types_apart():
    assert canonical_json("1") != canonical_json(1)
    assert canonical_json(True) != canonical_json(1)
    assert canonical_json(None) == "null"
    assert canonical_json({"名": "政务云"}) == '{"名":"政务云"}'


def test_the_stored_json_hashes_as_it_was_written(trail):
    stored = AuditEvent.objects.get(pk=trail[0].pk)
    assert stored.after == normalise_json(AWKWARD_JSON)
    content = {name: getattr(stored, name) for name in CHAIN_FIELDS}
    assert row_hash(content) == stored.row_hash == trail[0].row_hash


# ---------------------------------------------------------------------------- appending


def test_appends_get_consecutive_seq_and_linked_hashes(world):
    first = audit_log(actor=world.users["bureau"], action="x.one", obj=world.contract)
    second = audit_log(actor=world.users["bureau"], action="x.two", obj=world.contract)
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.row_hash
    assert len(second.row_hash) == 64
    assert second.at >= first.at
    assert AuditEvent.objects.order_by("seq").first().prev_hash == GENESIS_HASH


def test_the_chain_is_intact_after_normal_activity(trail, world):
    client = verified_client(world.users["department"])
    client.post(reverse("logout"), REMOTE_ADDR="2001:0db8:0000:0000:0000:0000:0000:0001")
    assert AuditEvent.objects.latest("seq").ip_address == "2001:db8::1"

    result = audit_verify()

    assert result.intact, result.findings
    assert result.checked == AuditEvent.objects.count()
    assert result.head_seq == AuditEvent.objects.latest("seq").seq
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "未发现问题：哈希链完整。" in out.getvalue()


def test_a_caller_cannot_choose_the_time_of_an_event(world):
    """``at`` is the time of appending, so no caller can backdate through the model."""
    event = AuditEvent.objects.create(action="x.test", at=datetime(2000, 1, 1, tzinfo=UTC))
    assert event.at.year > 2000
    assert audit_verify().intact


# ---------------------------------------------------------------------------- tampering


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        pytest.param(
            lambda t: _bypassing_guards(
                "UPDATE govcloud_auditevent SET action = 'contract.reject' WHERE id = %s",
                [t[2].pk],
            ),
            [FindingKind.EDITED],
            id="content-edited",
        ),
        pytest.param(
            lambda t: _bypassing_guards(
                "UPDATE govcloud_auditevent SET ip_address = '10.9.9.9' WHERE id = %s",
                [t[0].pk],
            ),
            [FindingKind.EDITED],
            id="ip-edited",
        ),
        pytest.param(
            lambda t: _bypassing_guards(
                "UPDATE govcloud_auditevent SET action = 'x.other', row_hash = %s WHERE id = %s",
                [
                    row_hash(
                        {
                            **{n: getattr(t[2], n) for n in CHAIN_FIELDS},
                            "action": "x.other",
                        }
                    ),
                    t[2].pk,
                ],
            ),
            [FindingKind.BROKEN_LINK],
            id="edited-and-rehashed",
        ),
        pytest.param(
            lambda t: _bypassing_guards("DELETE FROM govcloud_auditevent WHERE id = %s", [t[2].pk]),
            [FindingKind.GAP],
            id="row-deleted",
        ),
        pytest.param(
            lambda t: _forge(seq=t[-1].seq + 1, at=t[-1].at, prev_hash="0" * 64, rehash=False),
            [FindingKind.BROKEN_LINK, FindingKind.EDITED],
            id="forged-row-appended",
        ),
        pytest.param(
            lambda t: _forge(
                seq=t[-1].seq + 1,
                at=t[-1].at - timedelta(days=30),
                prev_hash=t[-1].row_hash,
                rehash=True,
            ),
            [FindingKind.BACKDATED],
            id="backdated-row-correctly-chained",
        ),
        pytest.param(
            lambda t: _forge(seq=t[-1].seq + 5, at=t[-1].at, prev_hash=t[-1].row_hash, rehash=True),
            [FindingKind.GAP],
            id="row-inserted-past-the-end",
        ),
    ],
)
def test_tampering_is_reported(trail, tamper, expected):
    assert audit_verify().intact

    tamper(trail)
    result = audit_verify()

    assert not result.intact
    assert _kinds(result) == sorted(expected)


def test_the_command_reports_in_chinese_and_exits_with_one(trail):
    _bypassing_guards(
        "UPDATE govcloud_auditevent SET action = 'contract.reject' WHERE id = %s", [trail[1].pk]
    )
    _bypassing_guards("DELETE FROM govcloud_auditevent WHERE id = %s", [trail[3].pk])
    out = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("verify_audit", stdout=out)

    assert raised.value.returncode == 1
    text = out.getvalue()
    assert f"[内容被修改] 第 {trail[1].seq} 条（ID {trail[1].pk}）的内容与其哈希不符" in text
    assert f"[记录缺失（被删除）] 序号缺失：第 {trail[3].seq} 条不存在" in text
    assert "发现 2 处问题" in text


def test_the_command_speaks_json(trail):
    _bypassing_guards("DELETE FROM govcloud_auditevent WHERE id = %s", [trail[1].pk])
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("verify_audit", "--json", stdout=out)

    report = json.loads(out.getvalue())
    assert report["intact"] is False
    assert report["counts"] == {"gap": 1}
    assert report["findings"][0]["seq"] == trail[2].seq
    assert report["head"]["row_hash"] == trail[-1].row_hash


def test_the_command_lists_a_bounded_number_of_findings(trail):
    for event in trail:
        _bypassing_guards(
            "UPDATE govcloud_auditevent SET actor_repr = 'x' WHERE id = %s", [event.pk]
        )
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("verify_audit", "--json", "--limit", "2", stdout=out)

    report = json.loads(out.getvalue())
    assert report["counts"]["edited"] == len(trail)
    assert len(report["findings"]) == 2
    assert report["findings_not_listed"] == len(trail) - 2


# ---------------------------------------------------------------------------- guards


def test_the_database_refuses_updates_and_deletes(trail):
    for sql in (
        "UPDATE govcloud_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM govcloud_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [trail[0].pk])
    assert AuditEvent.objects.get(pk=trail[0].pk).action == trail[0].action


@POSTGRESQL_ONLY
def test_postgresql_refuses_truncate_even_to_the_superuser(trail):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE govcloud_auditevent")
    assert AuditEvent.objects.count() >= len(trail)


def test_a_guard_switched_off_is_reported(trail):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE govcloud_auditevent DISABLE TRIGGER govcloud_auditevent_no_truncate"
            )
        else:
            cursor.execute("DROP TRIGGER govcloud_auditevent_no_delete")

    result = audit_verify()

    assert _kinds(result) == [FindingKind.GUARD]


@pytest.mark.parametrize("manager", ["_base_manager", "_default_manager", "objects"])
def test_no_manager_updates_deletes_or_bulk_inserts(trail, manager):
    events = getattr(AuditEvent, manager)
    with pytest.raises(PermissionError):
        events.filter(pk=trail[0].pk).update(action="x")
    with pytest.raises(PermissionError):
        events.filter(pk=trail[0].pk).delete()
    with pytest.raises(PermissionError):
        events.bulk_create([AuditEvent(action="x")])
    assert audit_verify().intact


# ---------------------------------------------------------------------------- deleting others


def test_deleting_an_organisation_in_the_admin_leaves_its_audit_rows(world):
    department = DepartmentFactory(parent=world.orgs["bureau"])
    event = AuditEvent.objects.create(action="x.dept", actor_repr="t", organization=department)
    client = verified_client(world.users["system_admin"])
    url = reverse("admin:govcloud_organization_delete", args=[department.pk])

    assert client.get(url).status_code == 200
    response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Organization.objects.filter(pk=department.pk).exists()
    assert AuditEvent.objects.get(pk=event.pk).organization_id == department.pk
    assert audit_verify().intact


def test_deleting_a_contract_or_user_leaves_their_audit_rows(world):
    contract = ContractFactory()
    user = UserFactory(organization=world.orgs["bureau"])
    by_contract = audit_log(actor=None, action="contract.touch", obj=contract)
    by_user = audit_log(actor=user, action="x.done")
    contract_id, user_id = contract.pk, user.pk

    contract.delete()
    user.delete()

    assert not Contract.objects.filter(pk=contract_id).exists()
    assert not User.objects.filter(pk=user_id).exists()
    assert AuditEvent.objects.get(pk=by_contract.pk).contract_id == contract_id
    assert AuditEvent.objects.get(pk=by_user.pk).actor_id == user_id
    assert audit_verify().intact


# ---------------------------------------------------------------------------- admin page


def test_the_audit_admin_verifies_the_chain_from_the_list(trail, world):
    client = verified_client(world.users["audit_admin"])
    changelist = client.get(reverse("admin:govcloud_auditevent_changelist"))
    verify_url = reverse("admin:govcloud_auditevent_verify")
    assert verify_url in changelist.content.decode()

    page = client.get(verify_url)

    assert page.status_code == 200
    assert "未发现问题" in page.content.decode()
    assert AuditEvent.objects.latest("seq").action == "audit.verify"


def test_the_admin_page_shows_what_was_found(trail, world):
    _bypassing_guards("DELETE FROM govcloud_auditevent WHERE id = %s", [trail[1].pk])
    client = verified_client(world.users["audit_admin"])

    page = client.get(reverse("admin:govcloud_auditevent_verify")).content.decode()

    assert "发现 1 处问题" in page
    assert "记录缺失（被删除）" in page


@pytest.mark.parametrize("role", ["system_admin", "security_admin", "bureau"])
def test_only_the_audit_admin_may_verify(world, role):
    client = verified_client(world.users[role])
    response = client.get(reverse("admin:govcloud_auditevent_verify"))
    assert response.status_code in {302, 403}
    assert not AuditEvent.objects.filter(action="audit.verify").exists()


# ---------------------------------------------------------------------------- migration
# No test here is transactional: a transactional test's flush empties the official calendar,
# which test_layer_migrations, run after it, relies on.


def test_the_migration_chains_existing_rows_in_id_order(world):
    """0006 chains the rows that were there before it, in id order, and they verify."""
    migration = importlib.import_module("govcloud.migrations.0006_audit_chain")
    state = MigrationExecutor(connection).loader.project_state(("govcloud", "0006_audit_chain"))
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for i, value in enumerate([AWKWARD_JSON, None, {"a": [1, 2]}]):
        unchained = AuditEvent(
            at=start + timedelta(minutes=i), action=f"x.{i}", after=value, seq=10**9 + i
        )
        unchained.save_base(raw=True)
    assert not audit_verify().intact

    with _guards_off(), connection.cursor() as cursor:
        editor = SimpleNamespace(connection=connection, execute=cursor.execute)
        migration.chain_existing_rows(state.apps, editor)

    events = list(AuditEvent.objects.order_by("seq"))
    assert [event.pk for event in events] == sorted(event.pk for event in events)
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    result = audit_verify()
    assert result.intact, result.findings
    assert audit_log(actor=None, action="x.after").seq == len(events) + 1


# ---------------------------------------------------------------------------- PostgreSQL


def _connect(user: str | None = None):
    import psycopg

    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=user or settings["USER"],
        password=None if user else settings["PASSWORD"] or None,
        autocommit=True,
    )


@contextmanager
def _committed_rows_removed(action_prefix: str):
    """Threads commit their audit rows; take them out again (outside this test's transaction,
    as the superuser) so that later tests start from an empty trail."""
    try:
        yield
    finally:
        with _connect() as superuser:
            superuser.execute("SET session_replication_role = replica")
            superuser.execute(
                "DELETE FROM govcloud_auditevent WHERE action LIKE %s", [action_prefix + "%"]
            )


@POSTGRESQL_ONLY
def test_concurrent_appends_never_fork_the_chain():
    """Four connections append at once; each commits, so each next one must see the new head."""
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            for i in range(n):
                with transaction.atomic():
                    audit_log(actor=None, action=f"x.concurrent.{i}")
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(15,)) for _ in range(4)]
    with _committed_rows_removed("x.concurrent."):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        result = audit_verify()
        assert result.intact, result.findings
        assert result.checked == 60


APP_ROLE = "govcloud_app_test"


@pytest.fixture
def app_role(db) -> str:
    """A login role holding exactly ``db_grants --apply``'s privileges (in this test's
    transaction); it owns nothing and is no superuser."""
    # Committed (roles are cluster-wide), so that a real session can log in as it.
    with _connect() as superuser:
        superuser.execute(
            f"DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN;"
            " EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
    call_command("db_grants", "--role", APP_ROLE, "--apply", stdout=io.StringIO())
    return APP_ROLE


def _as_role(role: str, sql: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")
        cursor.execute(sql)
        cursor.execute("RESET ROLE")


@POSTGRESQL_ONLY
def test_the_app_role_can_append_but_never_rewrite(app_role, world):
    audit_log(actor=None, action="x.before")
    # SET ROLE checks privileges exactly as a session of the role would, and sees the grants
    # this test's transaction made.
    _as_role(
        app_role,
        "INSERT INTO govcloud_auditevent"
        " (at, actor_repr, action, object_type, object_id, object_repr, seq, prev_hash, row_hash)"
        " VALUES (now(), 'app', 'x.app', '', '', '', 999999, repeat('0', 64), repeat('0', 64))",
    )
    _as_role(app_role, "UPDATE govcloud_organization SET name = name WHERE id = -1")

    for sql in (
        "UPDATE govcloud_auditevent SET action = 'x'",
        "DELETE FROM govcloud_auditevent",
        "TRUNCATE govcloud_auditevent",
        "ALTER TABLE govcloud_auditevent DISABLE TRIGGER ALL",
        "DROP TRIGGER govcloud_auditevent_append_only ON govcloud_auditevent",
    ):
        with pytest.raises(ProgrammingError, match=r"permission denied|must be owner"):
            _as_role(app_role, sql)

    forged = AuditEvent.objects.get(action="x.app")
    result = audit_verify()
    assert {(f.kind, f.event_id) for f in result.findings} >= {
        (FindingKind.EDITED, forged.pk),
        (FindingKind.GAP, forged.pk),
    }


@POSTGRESQL_ONLY
def test_the_app_role_logs_in_and_cannot_switch_the_guards_off(app_role):
    """A real session of the role (psycopg, the test database): ownership is what it lacks."""
    from psycopg import errors

    with _connect(app_role) as app:
        assert app.execute("SELECT current_user").fetchone() == (app_role,)
        for sql in (
            "ALTER TABLE govcloud_auditevent DISABLE TRIGGER ALL",
            "TRUNCATE govcloud_auditevent",
            "DELETE FROM govcloud_auditevent",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                app.execute(sql)


@POSTGRESQL_ONLY
def test_db_grants_prints_the_audit_table_grants_and_refuses_a_superuser():
    out = io.StringIO()
    call_command("db_grants", "--role", "postgres", stdout=out, stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    assert 'GRANT SELECT, INSERT ON TABLE "govcloud_auditevent" TO "postgres";' in lines
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "govcloud_contract" TO "postgres";' in (
        lines
    )
    assert not [line for line in lines if "TRUNCATE" in line]

    with pytest.raises(CommandError, match="不适合"):
        call_command("db_grants", "--role", "postgres", "--apply", stdout=io.StringIO())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite has no roles")
def test_db_grants_explains_that_sqlite_has_no_roles():
    with pytest.raises(CommandError, match="SQLite"):
        call_command("db_grants", "--role", "app")
