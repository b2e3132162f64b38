"""Receivers of ``billing.signals``: the statement's documents as durable jobs.

``statement_version_ready`` and ``statement_signed`` are sent inside the service's transaction;
each receiver records a ``govcloud.jobs`` job there, so the document work commits (or rolls
back) with the step that asks for it. The job is enqueued after commit; with the broker down the
action still answers at once and the periodic sweeper (``govcloud.jobs_sweep``) runs the job
once the broker is back. Signatures are never jobs: each is applied inside its sign-off, with
the signer's own secret.

* a version generated or a draft recomputed → ``billing.statement_pdf_render``;
* the statement signed → the signed PDF e-mailed to the parties (``billing.statement_pdf_email``),
  the department bills (rendered and e-mailed) and the settlement summary of its period.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from billing.signals import statement_signed, statement_version_ready
from billing.tasks import (
    department_bill_pdfs,
    settlement_pdf,
    statement_pdf_email,
    statement_pdf_render,
)
from govcloud.jobs import job_schedule


def _schedule(task: Any, statement: Any) -> None:
    job_schedule(task.name, statement.pk, contract=statement.contract)


def schedule_statement_render(statement: Any) -> None:
    """Record the render of the version's PDF (inside the caller's transaction)."""
    _schedule(statement_pdf_render, statement)


@receiver(statement_version_ready, dispatch_uid="billing.reports.render_on_version")
def render_on_version(sender: Any, statement: Any, **kwargs: Any) -> None:
    schedule_statement_render(statement)


@receiver(statement_signed, dispatch_uid="billing.reports.documents_on_signed")
def documents_on_signed(sender: Any, statement: Any, **kwargs: Any) -> None:
    _schedule(statement_pdf_email, statement)
    _schedule(department_bill_pdfs, statement)
    _schedule(settlement_pdf, statement)
