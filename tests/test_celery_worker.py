"""A real Celery worker process on Redis picks up a task and completes it.

Runs where ``CELERY_BROKER_URL`` points at a broker (CI's second pass); the embedded
default has no broker, and its eager execution is exercised by every other task test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(
        not os.environ.get("CELERY_BROKER_URL"), reason="needs CELERY_BROKER_URL (CI sets it)"
    ),
]


@pytest.fixture
def worker(transactional_db):
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    if db["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = (
            f"postgres://{db.get('USER') or ''}@{db.get('HOST') or '127.0.0.1'}:"
            f"{db.get('PORT') or 5432}/{db['NAME']}"
        )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "govcloud",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            "celery",
        ],
        cwd=ROOT,
        env=env,
    )
    yield proc
    proc.terminate()
    proc.wait(timeout=30)


def test_worker_completes_a_task(worker):
    from govcloud.celery import app
    from govcloud.tasks import health_check

    assert not app.conf.task_always_eager
    result = health_check.delay()
    from django.db import connection

    assert result.get(timeout=60) == {"ok": True, "database": connection.vendor}
