"""Due dates of SLA duties in working days, with the provisional fallback of DESIGN §3.

A year without a loaded official calendar is never silently "weekends only": the date is
computed on weekends only and flagged provisional; ``sla_recompute_provisional`` moves it when
the year is loaded (``govcloud.signals.calendar_changed``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction

from govcloud.dates import shift_month
from govcloud.workdays import BUSINESS_TZ
from sla import workdays

#: "每月前5个工作日内" — the SLA annex's monthly duties (BT-2025 附件2 7.3 right-sizing advice,
#: 附件3 二(三); the operations report). Part of the ``sla100`` scorecard rule set: a contract
#: without an SLA annex sets no such day (its advice and reports carry no due date). The
#: monthly *statement*'s due day is the contract term ``statement_due_working_day`` (billing).
MONTHLY_DUE_WORKING_DAY = 5


def end_of_day(day: date) -> datetime:
    """24:00 Asia/Shanghai of ``day`` (= 00:00 of the next day), as an aware datetime."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=BUSINESS_TZ)


def monthly_due(month: date) -> tuple[date, bool]:
    """The 5th working day of the month after ``month`` and whether it is provisional."""
    following = shift_month(month, 1)
    try:
        return (
            workdays.nth_working_day_of_month(
                following.year, following.month, MONTHLY_DUE_WORKING_DAY
            ),
            False,
        )
    except workdays.CalendarYearMissing:
        return (
            workdays.nth_working_day_of_month(
                following.year, following.month, MONTHLY_DUE_WORKING_DAY, provisional=True
            ),
            True,
        )


def working_deadline(start: datetime, n: int) -> tuple[datetime, bool]:
    """``workdays.deadline`` with the provisional fallback."""
    try:
        return workdays.deadline(start, n), False
    except workdays.CalendarYearMissing:
        return workdays.deadline(start, n, provisional=True), True


@transaction.atomic
def sla_recompute_provisional(*, year: int | None = None) -> int:
    """Recompute provisional SLA due dates after a calendar year was loaded or edited."""
    from sla.models import Deliverable, DeliverableKind, ImprovementNotice, RightsizingReport

    changed = 0
    for notice in (
        ImprovementNotice.objects.select_for_update(of=("self",))
        .select_related("contract")
        .filter(due_provisional=True)
    ):
        # Each notice keeps its own contract's fix period (JZ-2026 四.2: 15, BT-2025 §9: 10).
        days = notice.contract.improvement_working_days
        if days is None:
            continue
        due, provisional = working_deadline(notice.issued_at, days)
        if (due, provisional) != (notice.due_at, notice.due_provisional):
            notice.due_at, notice.due_provisional = due, provisional
            notice.save(update_fields=["due_at", "due_provisional", "updated_at"])
            changed += 1
    for deliverable in Deliverable.objects.select_for_update(of=("self",)).filter(
        due_provisional=True, kind=DeliverableKind.MONTHLY_REPORT
    ):
        if deliverable.period_month is None:
            raise RuntimeError(
                f"Monthly-report deliverable {deliverable.pk} has no period_month "
                "(the database constraint requires one)."
            )
        due_date, provisional = monthly_due(deliverable.period_month)
        if (due_date, provisional) != (deliverable.due_date, deliverable.due_provisional):
            deliverable.due_date, deliverable.due_provisional = due_date, provisional
            deliverable.due_at = end_of_day(due_date)
            deliverable.save(update_fields=["due_date", "due_at", "due_provisional", "updated_at"])
            changed += 1
    for report in RightsizingReport.objects.select_for_update(of=("self",)).filter(
        due_provisional=True
    ):
        due_date, provisional = monthly_due(report.month)
        if (due_date, provisional) != (report.due_date, report.due_provisional):
            report.due_date, report.due_provisional = due_date, provisional
            report.due_at = end_of_day(due_date)
            report.save(update_fields=["due_date", "due_at", "due_provisional"])
            changed += 1
    return changed
