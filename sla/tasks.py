"""Celery tasks of the SLA: the monthly right-sizing advice and the PDF reports.

Arguments are ids (or an ISO month); each task re-reads what it needs, returns early when the
work is already done, and calls a service.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task

from govcloud.dates import parse_month, previous_month

# The services import this module to enqueue these tasks; each task imports its service when it
# runs, so that the import goes one way only (services → tasks) and is not circular.


@shared_task(name="sla.compute_rightsizing_advice")
def compute_rightsizing_advice(month: str | None = None) -> list[int]:
    """Beat, on the 1st of each month: the previous month's advice of every active contract.

    ``month`` ("YYYY-MM") recomputes another month (drafts only; submitted reports stay).
    """
    from sla.services.rightsizing import rightsizing_compute_all

    target: date = parse_month(month) if month else previous_month()
    return rightsizing_compute_all(month=target)


@shared_task(name="sla.render_rightsizing_pdf")
def render_rightsizing_pdf(report_id: int, force: bool = False) -> bool:
    """Render and store the advice PDF of a contract-month (skipped when already rendered)."""
    from sla.services.reports import rightsizing_pdf_store

    return rightsizing_pdf_store(report_id=report_id, force=force)


@shared_task(name="sla.render_scorecard_pdf")
def render_scorecard_pdf(scorecard_id: int, force: bool = False) -> bool:
    """Render and store the scorecard PDF (a finalised one once; a live one on request)."""
    from sla.services.reports import scorecard_pdf_store

    return scorecard_pdf_store(scorecard_id=scorecard_id, force=force)


@shared_task(name="sla.ensure_handover_plans")
def ensure_handover_plans() -> list[int]:
    """Beat, daily: register the handover plan deliverable of every running contract whose
    terms set ``handover_plan_days_before_end`` (idempotent: an existing plan stays as it is)."""
    from sla.services.deliverables import handover_plans_ensure_all

    return handover_plans_ensure_all()


@shared_task(name="sla.send_advice_digests")
def send_advice_digests() -> list[int]:
    """Beat, daily: each department's digest of right-sizing advice awaiting its answer that no
    digest announced yet — at most one e-mail per department and month."""
    from sla.services.rightsizing import advice_digests_send_all

    return advice_digests_send_all()
