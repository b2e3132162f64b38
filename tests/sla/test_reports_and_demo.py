"""PDF reports (advice per contract-month, the scorecard) and the demo data of BT-2025."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from sla.models import RightsizingReport, Scorecard
from sla.services import scorecard as scorecard_services
from sla.tasks import render_rightsizing_pdf, render_scorecard_pdf
from tests.conftest import verified_client
from tests.sla import builders
from tests.sla.factories import at

pytestmark = pytest.mark.django_db


def _text(field) -> str:
    field.open("rb")
    try:
        return "".join(page.extract_text() for page in PdfReader(io.BytesIO(field.read())).pages)
    finally:
        field.close()


def test_advice_pdf_is_rendered_by_the_task_once(world):
    with time_machine.travel(at(2026, 7, 15, 10), tick=False):
        report, _advice = builders.submitted_report(world)
    RightsizingReport.objects.filter(pk=report.pk).update(pdf="")
    assert render_rightsizing_pdf.delay(report.pk).get() is True
    assert render_rightsizing_pdf.delay(report.pk).get() is False  # already there
    report.refresh_from_db()
    text = _text(report.pdf)
    assert "资源调整建议" in text
    assert "低于30%" in text
    assert "调整建议明细" in text
    assert "建议调整" in text
    response = verified_client(world.users["supervisor"]).get(
        reverse("sla_report_pdf", args=[report.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_scorecard_pdf_and_its_download(world):
    with time_machine.travel(at(2026, 7, 15, 10), tick=False):
        builders.outage(world)
    card = scorecard_services.scorecard_for(contract=world.contract, year=2026)
    assert render_scorecard_pdf.delay(card.pk).get() is True
    card = Scorecard.objects.get(pk=card.pk)
    text = _text(card.pdf)
    assert "服务水平考核表" in text
    assert "服务可用性" in text
    assert "交付成果" in text
    url = reverse("sla_scorecard_pdf", args=[world.contract.pk, 2026])
    assert verified_client(world.users["auditor"]).get(url).status_code == 200


def test_seed_sla_exercises_every_area_and_is_idempotent(db):
    from sla.demo import seed_sla
    from sla.models import Outage, UtilizationSample

    with time_machine.travel(at(2026, 12, 4, 10), tick=False):  # inside JZ-2026's period
        seed_sla()
        counts = (Outage.objects.count(), UtilizationSample.objects.count())
        seed_sla()
    assert (Outage.objects.count(), UtilizationSample.objects.count()) == counts

    from govcloud.models import Contract

    contract = Contract.objects.get(code="BT-2025")
    data = scorecard_services.scorecard_compute(contract=contract, year=2025, now=at(2026, 11, 1))
    points = {a["code"]: a["points"] for a in data["areas"]}
    assert points == {
        "availability": "5",  # 400 minutes vendor-caused; the planned maintenance excluded
        "delivery": "5",
        "security_mechanism": "6",
        "security_responsibility": "10",
        "training": "4",
        "disaster_recovery": "2.5",
        "utilization": "18",
        "satisfaction": "2",
        "improvement": "8",
        "deliverables": "8",
    }
    assert data["survey"] == {"answered": 24, "eligible": 25, "mean": "80", "coverage_pct": "96"}
    assert float(data["utilization"]["avg_cpu_pct"]) < 30
    assert data["pending"] == []
    assert {m["kind"] for m in data["money"]} == {"area", "penalty", "grade"}


def test_the_demo_creates_no_jz_scorecard_data(db):
    """JZ-2026 has no SLA annex: the demo shows its 72-hour notice duty (五.5), nothing scored."""
    from billing.models import Deduction
    from govcloud.models import Contract
    from sla.demo import JZ_MAINTENANCE, seed_sla
    from sla.models import (
        MaintenanceNoticeShortfall,
        Penalty,
        SatisfactionSurvey,
        SecurityMechanismItem,
        TrainingPlan,
        TrainingSession,
    )

    with time_machine.travel(at(2026, 12, 4, 10), tick=False):
        seed_sla()
    jz = Contract.objects.get(code="JZ-2026")
    for model in (
        Scorecard,
        Penalty,
        SatisfactionSurvey,
        SecurityMechanismItem,
        TrainingPlan,
        TrainingSession,
        Deduction,
    ):
        assert not model.objects.filter(contract=jz).exists(), model.__name__
    (record,) = MaintenanceNoticeShortfall.objects.filter(contract=jz)
    assert record.outage.title == JZ_MAINTENANCE
    assert record.required_hours == 72
