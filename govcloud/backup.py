"""Backup and restore: the database, the uploaded and signed files, the signing keys.

A backup is a folder of four files and a manifest:

* ``database.dump`` — PostgreSQL's custom-format ``pg_dump`` (owner and grants left out: the
  restoring operator owns the new database and re-applies ``manage.py db_grants``), or, on the
  embedded SQLite, ``database.sqlite3`` made with ``VACUUM INTO`` (a consistent copy);
* ``media.tar.gz`` — ``MEDIA_ROOT``: statement and bill PDFs as signed, deliverables, evidence;
* ``signing.tar.gz`` — ``SIGNING_DIR``: the CA certificate and every organisation's signing
  key, encrypted with its passphrase (the passphrases are in nobody's backup);
* ``manifest.json`` — when, from which database engine, the SHA-256 of each file, and the head
  of the audit hash chain (seq and hash) at the time of the backup.

Restoring checks every file against the manifest first, refuses a database or folder that is
not empty (a restore never mixes with live data), loads the dump, unpacks the folders, and then
proves the result: the audit chain is intact and reaches the manifest's head, and every stored
signed document still matches its recorded hash and its signatures validate against the
restored CA (``manage.py verify_documents``, registered by the app that issues documents).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from govcloud.audit import audit_verify

MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_DUMP = "database.sqlite3"
MEDIA = "media.tar.gz"
SIGNING = "signing.tar.gz"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why (nothing half-done)."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    engine: str
    files: dict[str, str]  # name -> sha256
    audit_head: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": 1,
            "created_at": self.created_at,
            "engine": self.engine,
            "files": self.files,
            "audit_head": self.audit_head,
        }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _engine() -> str:
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise BackupError(f"不支持的数据库类型：{vendor}")
    return vendor


def _pg_env_and_args() -> tuple[dict[str, str], list[str]]:
    db = connection.settings_dict
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = ["--dbname", str(db["NAME"])]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    return env, args


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{command[0]} 失败：{done.stderr.strip() or done.stdout.strip()}")


def _tar(folder: Path, target: Path) -> None:
    with tarfile.open(target, "w:gz") as archive:
        if folder.exists():
            archive.add(folder, arcname=".")


def _untar(archive_path: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive_path, "r:gz") as archive:
        archive.extractall(folder, filter="data")  # no absolute paths, links out or devices


def backup_to(dest: Path) -> Manifest:
    """Write a backup of the current database and folders into ``dest`` (new or empty)."""
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"备份目录 {dest} 不是空目录。")
    engine = _engine()
    dest.mkdir(parents=True, exist_ok=True)
    head = audit_verify(max_findings=1)
    if engine == "postgresql":
        env, args = _pg_env_and_args()
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "--file",
                str(dest / PG_DUMP),
                *args,
            ],
            env,
        )
        dump = PG_DUMP
    else:
        # A consistent copy of the live file (SQLite's VACUUM INTO; outside any transaction).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(dest / SQLITE_DUMP)])
        dump = SQLITE_DUMP
    _tar(Path(settings.MEDIA_ROOT), dest / MEDIA)
    _tar(Path(settings.SIGNING_DIR), dest / SIGNING)
    files = {name: _sha256(dest / name) for name in (dump, MEDIA, SIGNING)}
    manifest = Manifest(
        created_at=timezone.now().isoformat(),
        engine=engine,
        files=files,
        audit_head={"seq": head.head_seq, "row_hash": head.head_hash, "intact": head.intact},
    )
    (dest / MANIFEST).write_text(json.dumps(manifest.as_dict(), ensure_ascii=False, indent=2))
    return manifest


def read_manifest(src: Path) -> Manifest:
    """The backup's manifest, after checking every file it names against its SHA-256."""
    path = src / MANIFEST
    if not path.is_file():
        raise BackupError(f"{src} 不是备份目录（没有 {MANIFEST}）。")
    try:
        data = json.loads(path.read_text())
        manifest = Manifest(
            created_at=str(data["created_at"]),
            engine=str(data["engine"]),
            files=dict(data["files"]),
            audit_head=dict(data["audit_head"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{path} 无法读取：{exc}") from None
    for name, digest in manifest.files.items():
        if not (src / name).is_file():
            raise BackupError(f"备份缺少文件 {name}。")
        if _sha256(src / name) != digest:
            raise BackupError(f"备份文件 {name} 的 SHA-256 与清单不符：文件已损坏或被改动。")
    return manifest


def _require_empty_folder(folder: Path, label: str) -> None:
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{label} {folder} 不是空目录：恢复不与现有文件混合。")


def restore_from(src: Path) -> Manifest:
    """Restore ``src`` into the configured (empty) database and (empty) folders."""
    manifest = read_manifest(src)
    engine = _engine()
    if manifest.engine != engine:
        raise BackupError(f"备份来自 {manifest.engine}，当前数据库为 {engine}。")
    if connection.introspection.table_names():
        raise BackupError("目标数据库不是空库：请新建数据库后再恢复（恢复不覆盖现有数据）。")
    media, signing = Path(settings.MEDIA_ROOT), Path(settings.SIGNING_DIR)
    _require_empty_folder(media, "MEDIA_ROOT")
    _require_empty_folder(signing, "SIGNING_DIR")
    if engine == "postgresql":
        env, args = _pg_env_and_args()
        _run(["pg_restore", "--no-owner", "--exit-on-error", *args, str(src / PG_DUMP)], env)
    else:
        connection.close()
        name = Path(str(connection.settings_dict["NAME"]))
        shutil.copyfile(src / SQLITE_DUMP, name)
    _untar(src / MEDIA, media)
    _untar(src / SIGNING, signing)
    return manifest


def verify_restored(manifest: Manifest) -> list[str]:
    """Problems of the restored audit chain against the manifest (empty: it holds)."""
    result = audit_verify(max_findings=20)
    problems = [f"审计日志：{finding.message}" for finding in result.findings]
    expected = manifest.audit_head
    if (result.head_seq, result.head_hash) != (expected.get("seq"), expected.get("row_hash")):
        problems.append(
            f"审计日志链尾为第 {result.head_seq} 条（{result.head_hash}），"
            f"备份时为第 {expected.get('seq')} 条（{expected.get('row_hash')}）。"
        )
    return problems


def backup_created_at(manifest: Manifest) -> datetime:
    return datetime.fromisoformat(manifest.created_at)
