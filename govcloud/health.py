"""What ``/healthz`` checks: the database and, when one is configured, the Celery broker."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

#: Seconds the probe waits for the broker; a load balancer polls often.
BROKER_TIMEOUT = 2.0


def health_problems() -> list[str]:
    """What is down, in words for an operator: ``[]`` when everything answers."""
    problems: list[str] = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not healthy"; say which
        logger.warning("healthz: database unavailable: %s", exc)
        problems.append("database unavailable")
    if settings.CELERY_BROKER_URL:
        from govcloud.celery import app  # imported on use: the broker client is heavy

        try:
            with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
                conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT)
        except Exception as exc:
            logger.warning("healthz: broker unavailable: %s", exc)
            problems.append("broker unavailable")
    return problems
