"""Builders of a failing, finalised scorecard with a reported rectification (tenancy matrix).

Rows are written directly (no clock travel): the matrix runs at today's date, when the test
contract's service year may still be running.
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.utils import timezone

from sla.models import Scorecard, ScorecardStatus
from sla.models.scorecard import RectificationStatus, ScorecardRectification, ScorecardRound


def rectification_with_report(world) -> ScorecardRectification:
    """Round 1 failed (58 points); the bureau asked to rectify; the vendor sent a report file."""
    year = world.contract.service_start.year
    now = timezone.now()
    snapshot = {"total_points": "58", "grade": "fail", "grade_label": "不及格"}
    card, _created = Scorecard.objects.update_or_create(
        contract=world.contract,
        service_year=year,
        defaults={
            "status": ScorecardStatus.FINALISED,
            "snapshot": snapshot,
            "finalised_by": world.users["bureau"],
            "finalised_at": now,
        },
    )
    ScorecardRound.objects.get_or_create(
        card=card,
        number=1,
        defaults={"snapshot": snapshot, "finalised_by": world.users["bureau"], "finalised_at": now},
    )
    rect = ScorecardRectification.objects.create(
        card=card,
        round_number=1,
        requirements="补齐材料",
        status=RectificationStatus.REPORTED,
        opened_by=world.users["bureau"],
        opened_at=now,
        report="见附件",
        reported_by=world.users["vendor"],
        reported_at=now,
    )
    rect.report_document.save("fix.pdf", ContentFile(b"%PDF-1.4 fix"), save=True)
    return rect
