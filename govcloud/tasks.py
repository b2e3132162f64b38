"""Core Celery tasks."""

from __future__ import annotations

from celery import shared_task
from django.db import connection


@shared_task(name="govcloud.health_check")
def health_check() -> dict[str, object]:
    """Proves a worker is alive and reaches the database (used by ops checks and CI)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {"ok": one == 1, "database": connection.vendor}
