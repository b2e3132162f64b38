"""Celery tasks of the statement workflow and its documents (idempotent, safe to run twice)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError, transaction

from billing.services.statements import (
    statement_check_due,
    statement_escalate_overdue_disputes,
)
from govcloud.jobs import job_schedule


@shared_task(name="billing.escalate_disputes")
def escalate_disputes() -> list[int]:
    """Daily: disputes open longer than the contract's ``dispute_escalation_working_days`` go
    to the auditor (包头 §7.1.1: 3 working days; contracts without the term never escalate)."""
    return statement_escalate_overdue_disputes()


@shared_task(name="billing.statement_due_reminders")
def statement_due_reminders() -> dict[str, list[str]]:
    """Daily: remind the vendor on the due day, flag and announce late statements."""
    result = statement_check_due()
    return {"reminded": result.reminded, "late": result.late}


# ------------------------------------------------------------------ statement documents
# Run as durable jobs recorded by billing.reports.receivers (govcloud.jobs); ids in, everything
# re-fetched; idempotent. Rendering imports WeasyPrint, so the document modules are imported
# when a task runs, not at start-up.
# Only database hiccups are retried: a broken template is not transient. No task signs: a
# party's signature is applied inside its sign-off with the secret its signer typed.

_DOCUMENT_TASK = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 10,
    "max_retries": 3,
}


@shared_task(name="billing.statement_pdf_render", **_DOCUMENT_TASK)
def statement_pdf_render(statement_id: int) -> int | None:
    """Render a generated (or recomputed) version's PDF with one empty signature field per
    party. Signing is not a task: each party signs inside its own sign-off, with its secret."""
    from billing.reports.signing import statement_document_render

    document = statement_document_render(statement_id=statement_id)
    return document.pk if document else None


@shared_task(name="billing.statement_pdf_email", **_DOCUMENT_TASK)
def statement_pdf_email(statement_id: int) -> int:
    """E-mail a signed version's fully signed PDF to the parties (once per recipient)."""
    from billing.reports.signing import statement_signed_pdf_email

    return statement_signed_pdf_email(statement_id=statement_id)


@shared_task(name="billing.department_bill_pdfs", **_DOCUMENT_TASK)
def department_bill_pdfs(statement_id: int) -> list[int]:
    """Render each department's bill of a signed statement and e-mail it to the department."""
    from billing.reports.signing import department_bill_documents

    return [document.pk for document in department_bill_documents(statement_id=statement_id)]


@shared_task(name="billing.settlement_pdf", **_DOCUMENT_TASK)
def settlement_pdf(statement_id: int, force: bool = False) -> int | None:
    """Render the settlement summary of the period a signed statement belongs to."""
    from billing.reports.signing import settlement_document

    document = settlement_document(statement_id=statement_id, force=force)
    return document.pk if document else None


@shared_task(name="billing.statement_pdf_resume")
def statement_pdf_resume() -> list[int]:
    """Catch up on versions open to sign-off whose PDF was never rendered (a task was lost):
    safe to schedule or run by hand at any time. It renders; it cannot sign."""
    from billing.reports.signing import statements_needing_render

    pending = statements_needing_render()
    for statement_id in pending:
        with transaction.atomic():
            job_schedule(statement_pdf_render.name, statement_id)
    return pending
