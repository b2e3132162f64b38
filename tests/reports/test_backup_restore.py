"""Backup and restore (issue 13 item 9): a backup of a database with signed statements restores
into a fresh database and fresh folders, and afterwards the audit chain reaches the same head
and every signed PDF still verifies; a tampered backup or a non-empty target is refused."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from billing.models import StatementDocument

ROOT = Path(settings.BASE_DIR)


def _manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def fresh_database(tmp_path):
    """The URL of an empty database of the same engine as the tests'."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    db = connection.settings_dict
    name = f"restore_{uuid.uuid4().hex[:12]}"
    params = {
        k: v
        for k, v in (
            ("host", db["HOST"]),
            ("port", db["PORT"]),
            ("user", db["USER"]),
            ("password", db["PASSWORD"]),
        )
        if v
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    user = f"{db['USER']}@" if db["USER"] else ""
    yield f"postgres://{user}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_and_proves_itself(signed_bt, tmp_path, fresh_database):
    _world, statement = signed_bt
    signed = StatementDocument.objects.get(statement=statement, kind="statement")
    assert signed.signatures == 3
    out = io.StringIO()
    call_command("backup", str(tmp_path / "backup"), stdout=out)
    assert "已备份到" in out.getvalue()

    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GOVCLOUD_VAR_DIR")},
        "DATABASE_URL": fresh_database,
        "GOVCLOUD_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "restored-media"),
        "SIGNING_DIR": str(tmp_path / "restored-signing"),
    }
    restored = _manage(["restore", str(tmp_path / "backup")], env)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "审计日志完整" in restored.stdout
    assert "全部文件与签名有效" in restored.stdout
    assert "签名 3 个" in restored.stdout or "签名" in restored.stdout

    # a second restore into the now non-empty database is refused
    again = _manage(["restore", str(tmp_path / "backup")], env)
    assert again.returncode == 1
    assert "不是空库" in again.stderr

    # a signed PDF changed after the restore is found
    pdf = tmp_path / "restored-media" / signed.file.name
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pdf.write_bytes(bytes(data))
    checked = _manage(["verify_documents"], env)
    assert checked.returncode == 1
    assert "SHA-256 与登记不符" in checked.stdout


@pytest.mark.django_db(transaction=True)
def test_a_tampered_backup_is_refused_before_anything_is_restored(tmp_path, fresh_database):
    call_command("backup", str(tmp_path / "backup"), stdout=io.StringIO())
    with (tmp_path / "backup" / "signing.tar.gz").open("ab") as handle:
        handle.write(b"x")
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GOVCLOUD_VAR_DIR")},
        "DATABASE_URL": fresh_database,
        "GOVCLOUD_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "restored-media"),
        "SIGNING_DIR": str(tmp_path / "restored-signing"),
    }
    done = _manage(["restore", str(tmp_path / "backup")], env)
    assert done.returncode == 1
    assert "signing.tar.gz 的 SHA-256 与清单不符" in done.stderr
    assert not (tmp_path / "restored-media").exists()


def test_backup_refuses_a_folder_that_is_not_empty(tmp_path, db):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "old").write_text("x")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="不是空目录"):
        call_command("backup", str(tmp_path / "backup"))
