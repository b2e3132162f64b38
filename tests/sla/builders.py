"""Records of every SLA kind for a test world, built through the real services.

Dates are taken inside the world contract's service period (2026) and in the past, so the
builders work whatever day the suite runs on after the period started.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile

from sla.models import RightsizingAdvice, RightsizingReport, Scorecard
from sla.services import (
    deliverables,
    incidents,
    notices,
    outages,
    penalties,
    rightsizing,
    security,
    surveys,
    training,
)
from tests.sla.factories import at, pdf, resource, samples, vcpu_item


def _day(world, offset: int = 10) -> date:
    return world.contract.service_start + timedelta(days=offset)


def outage(world, **kwargs):
    start = _day(world)
    defaults = {
        "title": "核心交换机故障",
        "started_at": at(start.year, start.month, start.day, 8),
        "ended_at": at(start.year, start.month, start.day, 14, 40),
        "cause": "核心交换机板卡故障",
        "scope": "platform",
    }
    defaults.update(kwargs)
    return outages.outage_report(actor=world.users["vendor"], contract=world.contract, **defaults)


def shortfall(world):
    """A notice-duty record: the world contract given JZ's 72-hour notice term, a maintenance
    announced now for a window in its (past) service period."""
    contract = world.contract
    contract.maintenance_notice_hours = 72
    contract.maintenance_approvers = []
    contract.save(update_fields=["maintenance_notice_hours", "maintenance_approvers"])
    start = _day(world, 40)
    planned = outages.outage_report(
        actor=world.users["vendor"],
        contract=contract,
        title="线路割接",
        started_at=at(start.year, start.month, start.day, 1),
        ended_at=at(start.year, start.month, start.day, 3),
        cause="线路割接",
        scope="platform",
        planned=True,
    )
    return planned.notice_shortfall


def incident(world, **kwargs):
    day = _day(world, 12)
    defaults = {
        "level": 3,
        "title": "Web 应用遭篡改",
        "description": "门户网站首页被篡改，已恢复。",
        "occurred_at": at(day.year, day.month, day.day, 9),
        "evidence": pdf("report.pdf"),
    }
    defaults.update(kwargs)
    return incidents.incident_report(
        actor=world.users["vendor"], contract=world.contract, **defaults
    )


def security_item(world, item: str = "drill"):
    return security.security_item_submit(
        actor=world.users["vendor"],
        contract=world.contract,
        year=world.contract.service_start.year,
        item=item,
        evidence=pdf("drill.pdf"),
    )


def training_plan(world):
    return training.training_plan_submit(
        actor=world.users["vendor"],
        contract=world.contract,
        year=world.contract.service_start.year,
        description="全年两次培训：云技术与云安全。",
        document=pdf("plan.pdf"),
    )


def training_session(world):
    return training.training_session_record(
        actor=world.users["vendor"],
        contract=world.contract,
        held_on=_day(world, 20),
        topic="政务云资源申请流程",
        attendees=35,
        materials=pdf("slides.pdf"),
    )


def deliverable(world, *, submit: bool = True):
    d = deliverables.deliverable_create(
        actor=world.users["bureau"],
        contract=world.contract,
        kind="inspection",
        title="季度巡检记录报告",
        due_date=_day(world, 30),
    )
    if submit:
        deliverables.deliverable_submit(
            actor=world.users["vendor"], deliverable=d, document=pdf("inspection.pdf")
        )
    return d


def survey(world):
    return surveys.survey_open(
        actor=world.users["bureau"], contract=world.contract, year=world.contract.service_start.year
    )


def notice(world, *, fixed: bool = True):
    n = notices.notice_issue(
        actor=world.users["supervisor"],
        contract=world.contract,
        title="巡检记录不完整",
        description="请补齐机房巡检记录。",
    )
    if fixed:
        n = notices.notice_fix(
            actor=world.users["vendor"], notice=n, report="已补齐。", document=pdf("fix.pdf")
        )
    return n


def penalty(world):
    return penalties.penalty_record(
        actor=world.users["supervisor"],
        contract=world.contract,
        occurred_on=_day(world, 15),
        reason="未按时参加专题会议",
        clause="附件3 一",
        amount=Decimal("10000.00"),
    )


def submitted_report(world) -> tuple[RightsizingReport, RightsizingAdvice]:
    """A submitted report of the contract's 3rd month with one change advice for the department."""
    contract = world.contract
    res = resource(contract, world.orgs["department"], vcpu_item(contract), 8)
    month = date(contract.service_start.year, contract.service_start.month + 2, 1)
    samples(res, month, 20, cpu="10", mem="50")
    report = rightsizing.rightsizing_compute(contract=contract, month=month)
    report = rightsizing.rightsizing_submit(actor=world.users["vendor"], report=report)
    report.pdf.save("advice.pdf", ContentFile(b"%PDF-1.4 advice"), save=True)
    return report, report.advice.get(resource=res)


def scorecard_with_pdf(world) -> Scorecard:
    card = Scorecard.objects.create(
        contract=world.contract, service_year=world.contract.service_start.year
    )
    card.pdf.save("scorecard.pdf", ContentFile(b"%PDF-1.4 scorecard"), save=True)
    return card


def sign_year(world, *, year: int = 2026, fee: Decimal = Decimal("1000000"), skip=()) -> list:
    """Signed statements for every month the service year bills (but ``skip``), summing to
    ``fee`` over all its months (so the annual fee is ``fee`` once all are signed)."""
    from billing.models import Statement, StatementStatus
    from sla.services.common import service_year
    from sla.services.signed_months import service_year_months

    months = service_year_months(world.contract, service_year(world.contract, year))
    share = (fee / len(months)).quantize(Decimal("0.01"))
    last = fee - share * (len(months) - 1)
    signed = at(2026, 7, 15, 10)
    rows = [
        Statement(
            contract=world.contract,
            year=y,
            month=m,
            status=StatementStatus.SIGNED,
            due_date=date(y, m, 1),
            discount=Decimal("1"),
            vat_rate=Decimal("0.06"),
            subtotal=Decimal("0"),
            vat=Decimal("0"),
            total=last if i == len(months) - 1 else share,
            generated_at=signed,
            submitted_at=signed,
            signed_at=signed,
        )
        for i, (y, m) in enumerate(months)
        if (y, m) not in skip
    ]
    return Statement.objects.bulk_create(rows)
