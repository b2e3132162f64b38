"""Every management command answers bad arguments with a message, never a traceback
(issue 13 item 4): ``CommandError`` (exit 1, one line) or argparse's usage error (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


@pytest.mark.parametrize(
    "args",
    [
        ["statement", "BT-2025", "0000-01"],
        ["statement", "BT-2025", "2026-13"],
        ["statement", "BT-2025", "99999-01"],
        ["statement", "NOPE", "2026-01"],
        ["settlement", "NOPE"],
        ["contract_terms", "NOPE"],
        ["export_statement_pdf", "BT-2025", "0000-01", "/nonexistent-dir/x.pdf"],
        ["export_statement_pdf", "NOPE", "2026-03", "/nonexistent-dir/x.pdf"],
        ["import_inventory", "NOPE", "/"],
        ["load_contract", "/nonexistent"],
        ["load_contract", "/"],
        ["demo_totp", "nobody"],
    ],
)
def test_bad_arguments_are_command_errors(args, bt):
    with pytest.raises(CommandError):
        call_command(*args)


def test_import_inventory_of_a_directory_is_a_message(bt, tmp_path):
    with pytest.raises(CommandError, match="不是文件"):
        call_command("import_inventory", "BT-2025", str(tmp_path))


def _manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory) -> dict[str, str]:
    """A migrated SQLite database of its own, as after ``make demo``'s first step."""
    folder = tmp_path_factory.mktemp("shell")
    env = {"DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}", "PATH": "/usr/bin:/bin"}
    migrated = _manage(["migrate", "--noinput", "-v0"], env)
    assert migrated.returncode == 0, migrated.stderr
    return env


@pytest.mark.parametrize(
    "args",
    [
        ["statement", "BT-2025", "0000-01"],
        ["import_inventory", "BT-2025", "/"],
        ["load_contract", "/"],
        ["db_grants"],
    ],
)
def test_from_the_shell_no_traceback(args, shell_env):
    """As an operator runs them: the exit code says it failed, stderr says why in one line."""
    done = _manage(args, shell_env)
    assert done.returncode in (1, 2)
    assert "Traceback" not in done.stderr
    assert done.stderr.strip()
