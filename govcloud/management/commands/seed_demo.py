"""Demo data: every app's registered part, in order; then the demo logins, as one table.

Only the table is printed (the parts' reports with ``-v 2``); the log is held at ERROR while
the parts run, so the tasks the demo runs eagerly do not bury the table.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from contextlib import contextmanager

from django.core.management.base import BaseCommand

from govcloud.demo import DEMO_PASSWORD, demo_logins, demo_parts, refuse_outside_development
from govcloud.pdf.signing import demo_signing_passphrase

HEADER = ("用户名", "单位", "角色", "密码", "TOTP 密钥（Base32）", "签名口令")
NO_TOTP = "—（使用单位，无需双因素）"


def display_width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows aligned in columns by display width, two spaces apart, a rule under the header."""
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


@contextmanager
def _quiet_log(level: int):
    root = logging.getLogger()
    previous = root.level
    root.setLevel(level)
    try:
        yield
    finally:
        root.setLevel(previous)


class Command(BaseCommand):
    help = "生成演示数据（可重复执行），只打印演示账号表（单位、角色、密码、TOTP 密钥、签名口令）。"

    def handle(self, *args, **options):
        refuse_outside_development("seed_demo ")
        verbose = options["verbosity"] >= 2
        with _quiet_log(logging.INFO if verbose else logging.ERROR):
            for part in demo_parts():
                report = part.run()
                if verbose:
                    self.stdout.write(report)
        rows = [HEADER]
        for login in demo_logins():
            passphrase = (
                demo_signing_passphrase(login.organization_id)
                if login.signs and login.organization_id is not None
                else "—"
            )
            rows.append(
                (
                    login.username,
                    login.organization,
                    login.role,
                    DEMO_PASSWORD,
                    login.totp_secret or NO_TOTP,
                    passphrase,
                )
            )
        for line in table(rows):
            self.stdout.write(line)
