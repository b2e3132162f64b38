"""What the SLA hears from billing and from joint confirmations (registered in
``SlaConfig.ready``).

Billing sends its statement signals after its transaction commits; a receiver cannot undo the
statement step and must not break it, so each one records what it can and logs a failure
(the services are idempotent: a signal heard twice records nothing twice).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from billing.models import Statement
from billing.signals import statement_found_wrong, statement_submitted
from govcloud.joint import joint_confirmed, joint_objected
from govcloud.models import JointConfirmation, JointConfirmationEntry
from sla.services import exit as exit_records
from sla.services import notices
from sla.services.deliverables import (
    statement_deliverable_found_wrong,
    statement_deliverable_submitted,
)

logger = logging.getLogger(__name__)


def on_statement_submitted(
    sender: Any, statement: Statement, due: date | None = None, late: bool = False, **kwargs: Any
) -> None:
    """A statement version was submitted: a deliverable where the contract says so."""
    try:
        statement_deliverable_submitted(statement=statement, due=due, late=late)
    except Exception:
        logger.exception("statement %s: could not record it as a deliverable", statement.pk)


def on_statement_found_wrong(
    sender: Any, statement: Statement, reason: str = "", **kwargs: Any
) -> None:
    """A submitted statement version was found wrong: a non-conforming deliverable."""
    try:
        statement_deliverable_found_wrong(statement=statement, reason=reason)
    except Exception:
        logger.exception("statement %s: could not record it as non-conforming", statement.pk)


def on_joint_confirmed(sender: Any, confirmation: JointConfirmation, **kwargs: Any) -> None:
    """Inside the last confirmation's transaction: a refusal here undoes the confirmation."""
    notices.on_report_confirmed(confirmation=confirmation)
    exit_records.on_deletion_confirmed(confirmation=confirmation)


def on_joint_objected(
    sender: Any, confirmation: JointConfirmation, entry: JointConfirmationEntry, **kwargs: Any
) -> None:
    notices.on_report_objected(confirmation=confirmation, reason=entry.reason, actor=entry.user)
    exit_records.on_deletion_objected(
        confirmation=confirmation, reason=entry.reason, actor=entry.user
    )


def register() -> None:
    joint_confirmed.connect(on_joint_confirmed, dispatch_uid="sla_joint_confirmed")
    joint_objected.connect(on_joint_objected, dispatch_uid="sla_joint_objected")
    statement_submitted.connect(on_statement_submitted, dispatch_uid="sla_statement_submitted")
    statement_found_wrong.connect(
        on_statement_found_wrong, dispatch_uid="sla_statement_found_wrong"
    )
