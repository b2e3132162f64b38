"""Receivers of ``billing.signals``: they enqueue the document tasks and return.

Both signals are sent after commit, so the tasks see committed rows. A failure to enqueue (a
broker outage) or, with eager tasks, a failure inside the task must not turn a recorded sign-off
into an error page: it is logged, the document shows how far it got, and
``billing.statement_pdf_resume`` catches up.

* every sign-off (submission, confirmation, determination) → ``billing.statement_pdf_sign``:
  render at the first one, then sign in order;
* the statement signed → the same signing task (so the signed PDF is e-mailed after the last
  signature, whichever runs last), the department bills (rendered and e-mailed) and the
  settlement summary of its period.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from billing.signals import statement_signed, statement_signoff_recorded
from billing.tasks import department_bill_pdfs, settlement_pdf, statement_pdf_sign

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


@receiver(statement_signoff_recorded, dispatch_uid="billing.reports.sign_on_signoff")
def sign_on_signoff(sender: Any, statement: Any, signoff: Any, **kwargs: Any) -> None:
    _enqueue(statement_pdf_sign, statement.pk)


@receiver(statement_signed, dispatch_uid="billing.reports.documents_on_signed")
def documents_on_signed(sender: Any, statement: Any, **kwargs: Any) -> None:
    _enqueue(statement_pdf_sign, statement.pk)
    _enqueue(department_bill_pdfs, statement.pk)
    _enqueue(settlement_pdf, statement.pk)
