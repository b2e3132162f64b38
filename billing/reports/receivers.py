"""Receivers of ``billing.signals`` and the enqueueing of the document tasks: they enqueue and
return.

A failure to enqueue (a broker outage) or, with eager tasks, a failure inside the task must not
turn a recorded step into an error page: it is logged, and ``billing.statement_pdf_resume``
catches up on missing renders (signatures are never enqueued: each is applied inside its
sign-off, with the signer's own secret).

* a version generated or a draft recomputed → ``billing.statement_pdf_render``
  (``enqueue_statement_render``, called by the service after commit);
* the statement signed → the signed PDF e-mailed to the parties
  (``billing.statement_pdf_email``), the department bills (rendered and e-mailed) and the
  settlement summary of its period.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from billing.signals import statement_signed, statement_version_ready
from billing.tasks import (
    department_bill_pdfs,
    settlement_pdf,
    statement_pdf_email,
    statement_pdf_render,
)

logger = logging.getLogger(__name__)


def _enqueue(task: Any, statement_id: int) -> None:
    try:
        task.delay(statement_id)
    except Exception:
        logger.exception(
            "Could not run %s for statement %s; run it again (billing.statement_pdf_resume)",
            task.name,
            statement_id,
        )


def enqueue_statement_render(statement_id: int) -> None:
    """Render the version's PDF (after the generating transaction committed)."""
    _enqueue(statement_pdf_render, statement_id)


@receiver(statement_version_ready, dispatch_uid="billing.reports.render_on_version")
def render_on_version(sender: Any, statement: Any, **kwargs: Any) -> None:
    enqueue_statement_render(statement.pk)


@receiver(statement_signed, dispatch_uid="billing.reports.documents_on_signed")
def documents_on_signed(sender: Any, statement: Any, **kwargs: Any) -> None:
    _enqueue(statement_pdf_email, statement.pk)
    _enqueue(department_bill_pdfs, statement.pk)
    _enqueue(settlement_pdf, statement.pk)
