"""The annual scorecard on a seeded service year: every area's numbers, links, finalisation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from billing.models import Deduction, DeductionSource
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from sla.models import Scorecard, ScorecardStatus
from sla.services import (
    actions,
    deliverables,
    incidents,
    notices,
    outages,
    penalties,
    rightsizing,
    scorecard,
    security,
    surveys,
    training,
)
from tests.conftest import verified_client
from tests.factories import UserFactory
from tests.requests_app.factories import approved_ticket
from tests.sla import builders
from tests.sla.factories import at, pdf, resource, samples, vcpu_item

pytestmark = pytest.mark.django_db

JULY = at(2026, 7, 15, 10)
AFTER_YEAR = at(2027, 1, 10, 10)


def seed_year(world) -> dict[str, object]:
    """Events in every area of the world contract's 2026 service year."""
    contract = world.contract
    contract.estimated_amount = Decimal("1000000.00")
    contract.save(update_fields=["estimated_amount"])
    u = world.users
    made: dict[str, object] = {}

    # delivery: approved 07-01, delivered 07-10 (deadline: end of 07-03) → breached
    with time_machine.travel(at(2026, 7, 1, 10), tick=False):
        ticket = approved_ticket(world)
    with time_machine.travel(at(2026, 7, 10, 10), tick=False):
        from requests_app import services as ticket_services

        made["ticket"] = ticket_services.request_deliver(
            actor=u["vendor"],
            ticket=ticket,
            items=[
                ticket_services.DeliveryInput(line_id=line.pk, vendor_ref="i-1")
                for line in ticket.lines.all()
            ],
        )
    # an improvement notice issued 06-01 and never fixed
    with time_machine.travel(at(2026, 6, 1, 10), tick=False):
        made["notice"] = notices.notice_issue(
            actor=u["supervisor"], contract=contract, title="巡检缺失", description="补齐"
        )
    with time_machine.travel(JULY, tick=False):
        outage = outages.outage_report(
            actor=u["vendor"],
            contract=contract,
            title="存储故障",
            started_at=at(2026, 7, 1, 8),
            ended_at=at(2026, 7, 1, 14, 40),  # 400 minutes
            cause="存储控制器故障",
            scope="platform",
            backup_restore_failed=True,
        )
        for role in ("bureau", "supervisor"):
            outage = outages.outage_confirm(actor=u[role], outage=outage, vendor_caused=True)
        made["outage"] = outage
        incident = incidents.incident_report(
            actor=u["vendor"],
            contract=contract,
            level=3,
            title="网页篡改",
            description="首页被篡改",
            occurred_at=at(2026, 7, 2, 9),
        )
        made["incident"] = incidents.incident_assess(
            actor=u["bureau"], incident=incident, fully_reported=False, comment="未报告残留影响"
        )
        for code in ("emergency_plan", "drill", "mlps3"):
            row = security.security_item_submit(
                actor=u["vendor"], contract=contract, year=2026, item=code, evidence=pdf()
            )
            security.security_item_review(actor=u["bureau"], item=row, accept=True)
        plan = training.training_plan_submit(
            actor=u["vendor"], contract=contract, year=2026, description="两次培训"
        )
        training.training_plan_review(actor=u["bureau"], plan=plan, approve=True)
        session = training.training_session_record(
            actor=u["vendor"],
            contract=contract,
            held_on=date(2026, 7, 3),
            topic="云安全",
            attendees=20,
        )
        made["session"] = training.training_session_review(
            actor=u["bureau"], session=session, confirm=True
        )
        late = deliverables.deliverable_create(
            actor=u["bureau"],
            contract=contract,
            kind="other",
            title="方案",
            due_date=date(2026, 7, 1),
        )
        deliverables.deliverable_submit(actor=u["vendor"], deliverable=late, document=pdf())
        made["late"] = deliverables.deliverable_review(
            actor=u["bureau"], deliverable=late, accept=True
        )
        rejected = deliverables.deliverable_create(
            actor=u["bureau"],
            contract=contract,
            kind="other",
            title="报告",
            due_date=date(2026, 8, 1),
        )
        deliverables.deliverable_submit(actor=u["vendor"], deliverable=rejected, document=pdf())
        deliverables.deliverable_review(
            actor=u["bureau"], deliverable=rejected, accept=False, reason="格式不符"
        )
        made["rejected"] = rejected
        survey = surveys.survey_open(actor=u["bureau"], contract=contract, year=2026)
        people = [u["department"]] + [
            UserFactory(organization=world.orgs["department"]) for _ in range(19)
        ]
        scores = [70, 80, 90] * 6 + [80]  # 19 answers of 20 users (95 %), mean 80
        for person, score in zip(people, scores, strict=False):
            surveys.survey_respond(actor=person, survey=survey, score=score)
        made["survey"] = survey
        penalty = penalties.penalty_record(
            actor=u["supervisor"],
            contract=contract,
            occurred_on=date(2026, 7, 5),
            reason="未按时参加专题会议",
            clause="附件3 一",
            amount=Decimal("5000.00"),
            points=Decimal("1"),
            area="improvement",
        )
        made["penalty"] = penalties.penalty_acknowledge(actor=u["vendor"], penalty=penalty)
        res = resource(
            contract, world.orgs["department"], vcpu_item(contract), 8, system_name="低负载"
        )
        samples(res, date(2026, 6, 1), 30, cpu="10", mem="50")
        report = rightsizing.rightsizing_compute(contract=contract, month=date(2026, 6, 1))
        made["report"] = rightsizing.rightsizing_submit(actor=u["vendor"], report=report)  # late
    return made


def _area(data, code):
    return next(a for a in data["areas"] if a["code"] == code)


@pytest.fixture
def seeded(world):
    return seed_year(world)


def test_every_area_matches_the_rules_and_cites_its_events(world, seeded):
    data = scorecard.scorecard_compute(contract=world.contract, year=2026, now=JULY)
    points = {a["code"]: a["points"] for a in data["areas"]}
    assert points == {
        "availability": "5",  # 400 − 262.8 = 137.2 min beyond → −5
        "delivery": "4",
        "security_mechanism": "6",  # crypto and CAC review missing
        "security_responsibility": "10",  # not fully reported
        "training": "4",  # one session short
        "disaster_recovery": "2.5",  # backup/restore failed in an outage > 2 h
        "utilization": "18",  # June's advice submitted late
        "satisfaction": "2",  # mean 80
        "improvement": "7",  # unfixed notice −2, penalty −1
        "deliverables": "8",  # one late, one rejected
    }
    assert data["total_points"] == "66.5"
    assert data["grade"] == "pass"
    assert data["deduction_ratio"] == "0.1"

    refs = {d["ref"] for a in data["areas"] for d in a["deductions"]}
    s = seeded
    assert {
        f"ticket:{s['ticket'].pk}",
        f"incident:{s['incident'].pk}",
        f"outage:{s['outage'].pk}",
        f"rightsizing:{s['report'].pk}",
        f"notice:{s['notice'].pk}",
        f"penalty:{s['penalty'].pk}",
        f"deliverable:{s['late'].pk}",
        "crypto",
        "cac_review",
    } <= refs
    rejection = s["rejected"].submissions.get()
    assert f"submission:{s['rejected'].pk}:{rejection.pk}" in refs
    assert _area(data, "availability")["events"] == [
        {"ref": f"outage:{s['outage'].pk}", "ref_label": f"服务中断 #{s['outage'].pk}"}
    ]

    money = {m["ref"]: m["amount"] for m in data["money"]}
    assert money == {
        f"incident:{s['incident'].pk}": "10000",
        f"utilization:{world.contract.pk}:2026": "200000",  # 20 % of ¥1,000,000
        f"penalty:{s['penalty'].pk}": "5000",
        f"grade:{world.contract.pk}:2026": "100000",  # 及格: up to 10 %
    }
    assert data["annual_fee"] == "1000000"
    assert data["money_payable"] == "315000"
    assert data["utilization"]["avg_cpu_pct"] == "10"
    assert data["survey"] == {"answered": 19, "eligible": 20, "mean": "80", "coverage_pct": "95"}


def test_the_page_links_each_deduction_to_its_event(world, seeded):
    with time_machine.travel(JULY, tick=False):
        page = verified_client(world.users["bureau"]).get(
            reverse("sla_scorecard", args=[world.contract.pk, 2026])
        )
    html = page.content.decode()
    assert page.status_code == 200
    for url in (
        reverse("sla_outage_detail", args=[seeded["outage"].pk]),
        reverse("sla_incident_detail", args=[seeded["incident"].pk]),
        reverse("sla_notice_detail", args=[seeded["notice"].pk]),
        reverse("sla_report_detail", args=[seeded["report"].pk]),
        reverse("sla_penalty_detail", args=[seeded["penalty"].pk]),
        reverse("sla_deliverable_detail", args=[seeded["late"].pk]),
        reverse("request_detail", args=[seeded["ticket"].pk]),
    ):
        assert f'href="{url}' in html, url
    assert "66.5" in html
    assert "<svg" in html  # the chart, the same SVG the PDF uses
    assert "style=" not in html


def test_finalising_freezes_the_snapshot_and_feeds_settlement(world, seeded):
    builders.sign_year(world)
    surveys.survey_close(actor=world.users["bureau"], survey=seeded["survey"])
    with time_machine.travel(AFTER_YEAR, tick=False):
        card = scorecard.scorecard_finalise(
            actor=world.users["bureau"], contract=world.contract, year=2026
        )
        assert card.status == ScorecardStatus.FINALISED
        assert card.snapshot["total_points"] == "66.5"
        rows = Deduction.objects.filter(contract=world.contract).order_by("pk")
        assert [(r.amount, r.source) for r in rows] == [
            (Decimal("10000.00"), DeductionSource.SLA),
            (Decimal("200000.00"), DeductionSource.SLA),
            (Decimal("5000.00"), DeductionSource.SLA),
            (Decimal("100000.00"), DeductionSource.SLA),
        ]
        assert {r.period_label for r in rows} == {"2026-07-01/2026-12-31"}
        assert all(r.sla_ref.startswith(f"scorecard:{card.pk}:") for r in rows)

        # Later records do not move a finalised scorecard, and it cannot be finalised twice.
        outage = outages.outage_report(
            actor=world.users["vendor"],
            contract=world.contract,
            title="再次中断",
            started_at=at(2026, 12, 30, 8),
            ended_at=at(2026, 12, 30, 20),
            cause="x",
            scope="platform",
        )
        for role in ("bureau", "supervisor"):
            outages.outage_confirm(actor=world.users[role], outage=outage, vendor_caused=True)
        card = Scorecard.objects.get(pk=card.pk)
        assert scorecard.scorecard_data(card)["total_points"] == "66.5"
        live = scorecard.scorecard_compute(contract=world.contract, year=2026)
        assert live["total_points"] != "66.5"
        with pytest.raises(InvalidTransition):
            scorecard.scorecard_finalise(
                actor=world.users["bureau"], contract=world.contract, year=2026
            )
        assert Deduction.objects.filter(contract=world.contract).count() == 4


def test_a_lower_ratio_within_the_grade_ceiling(world, seeded):
    builders.sign_year(world)
    surveys.survey_close(actor=world.users["bureau"], survey=seeded["survey"])
    with time_machine.travel(AFTER_YEAR, tick=False):
        with pytest.raises(ApplicationError):
            scorecard.scorecard_finalise(
                actor=world.users["bureau"],
                contract=world.contract,
                year=2026,
                ratio=Decimal("0.2"),
            )
        card = scorecard.scorecard_finalise(
            actor=world.users["bureau"], contract=world.contract, year=2026, ratio=Decimal("0.05")
        )
    assert card.snapshot["ratio_amount"] == "50000"
    assert card.snapshot["money_payable"] == "265000"


def test_finalising_is_refused_before_the_year_ends_while_items_wait_and_for_others(world, seeded):
    builders.sign_year(world)
    with time_machine.travel(JULY, tick=False), pytest.raises(ApplicationError):
        scorecard.scorecard_finalise(
            actor=world.users["bureau"], contract=world.contract, year=2026
        )
    with time_machine.travel(AFTER_YEAR, tick=False):
        with pytest.raises(ApplicationError) as excinfo:  # the survey is still open
            scorecard.scorecard_finalise(
                actor=world.users["bureau"], contract=world.contract, year=2026
            )
        assert excinfo.value.extra["pending"] == ["满意度调查尚未结束"]
        for role in ("supervisor", "vendor", "auditor"):
            with pytest.raises(ActionForbidden):
                scorecard.scorecard_finalise(
                    actor=world.users[role], contract=world.contract, year=2026
                )
    assert not Scorecard.objects.filter(status=ScorecardStatus.FINALISED).exists()
    assert not Deduction.objects.exists()


def test_money_is_capped_at_the_annual_fee(world):
    world.contract.estimated_amount = Decimal("15000.00")
    world.contract.save(update_fields=["estimated_amount"])
    with time_machine.travel(JULY, tick=False):
        for _ in range(2):
            incident = incidents.incident_report(
                actor=world.users["vendor"],
                contract=world.contract,
                level=3,
                title="x",
                description="y",
                occurred_at=at(2026, 7, 2),
            )
            incidents.incident_assess(
                actor=world.users["bureau"], incident=incident, fully_reported=True
            )
    builders.sign_year(world, fee=Decimal("15000"))
    with time_machine.travel(AFTER_YEAR, tick=False):
        card = scorecard.scorecard_finalise(
            actor=world.users["bureau"], contract=world.contract, year=2026
        )
    assert card.snapshot["money_total"] == "20000"
    assert card.snapshot["money_payable"] == "15000"
    assert card.snapshot["cap_applied"] is True
    assert sum(d.amount for d in Deduction.objects.all()) == Decimal("15000.00")


def test_an_empty_year_scores_what_the_missing_records_cost(world):
    data = scorecard.scorecard_compute(contract=world.contract, year=2026, now=JULY)
    # No security evidence (−10), no training plan or sessions (−5); nothing else recorded.
    assert data["total_points"] == "85"
    assert data["grade"] == "excellent"
    assert _area(data, "satisfaction")["notes"] == ["未开展用户满意度调查，本项暂不扣分"]
    assert data["money"] == []


def test_the_annual_fee_comes_from_signed_statements_when_there_are_some(world, seeded):
    from billing.models import Statement, StatementStatus

    fee, basis = scorecard.annual_fee(world.contract, scorecard.service_year(world.contract, 2026))
    assert fee == Decimal("1000000.00")
    assert "估算" in basis
    common = {
        "contract": world.contract,
        "due_date": date(2026, 7, 7),
        "discount": Decimal("0.9999"),
        "vat_rate": Decimal("0.06"),
        "subtotal": Decimal("0"),
        "vat": Decimal("0"),
        "generated_at": JULY,
        "submitted_at": JULY,
        "signed_at": JULY,
    }
    Statement.objects.bulk_create(
        [
            Statement(
                year=2026, month=5, status=StatementStatus.SIGNED, total=Decimal("100.50"), **common
            ),
            Statement(
                year=2026, month=6, status=StatementStatus.SIGNED, total=Decimal("200.25"), **common
            ),
            Statement(
                year=2026, month=7, status=StatementStatus.SUBMITTED, total=Decimal("999"), **common
            ),
        ]
    )
    fee, basis = scorecard.annual_fee(world.contract, scorecard.service_year(world.contract, 2026))
    assert fee == Decimal("300.75")
    assert "2/12" in basis


# ---------------------------------------------------------------- every month signed


def test_finalising_is_refused_while_a_month_is_unsigned_and_names_it(world):
    builders.sign_year(world, skip={(2026, 11)})
    with time_machine.travel(AFTER_YEAR, tick=False):
        with pytest.raises(ApplicationError) as refused:
            scorecard.scorecard_finalise(
                actor=world.users["bureau"], contract=world.contract, year=2026
            )
        assert "2026年11月" in refused.value.message
        assert "尚未签认" in refused.value.message
        assert refused.value.extra["unsigned_months"] == ["2026-11"]
        card = scorecard.scorecard_for(contract=world.contract, year=2026)
        available = actions.scorecard_available_actions(user=world.users["bureau"], obj=card)
        assert "finalise" not in available
        assert "override_finalise" in available
        assert not actions.scorecard_available_actions(user=world.users["supervisor"], obj=card) & {
            "finalise",
            "override_finalise",
        }
    assert not Scorecard.objects.filter(status=ScorecardStatus.FINALISED).exists()
    assert not Deduction.objects.exists()


def test_the_bureau_overrides_with_a_reason_shown_on_the_card(world):
    from govcloud.models import AuditEvent

    builders.sign_year(world, skip={(2026, 11)})
    with time_machine.travel(AFTER_YEAR, tick=False):
        card = scorecard.scorecard_finalise(
            actor=world.users["bureau"],
            contract=world.contract,
            year=2026,
            override_reason="  十一月统计表争议由审计处理中，先行定稿  ",
        )
        assert card.status == ScorecardStatus.FINALISED
        assert card.override_reason == "十一月统计表争议由审计处理中，先行定稿"
        assert card.override_months == ["2026-11"]
        assert card.override_by == world.users["bureau"]
        assert card.override_at is not None
        assert "11/12" in card.snapshot["annual_fee_basis"]
        log = AuditEvent.objects.filter(action="scorecard.finalise").get()
        assert log.after["override_reason"] == card.override_reason
        html = (
            verified_client(world.users["supervisor"])
            .get(reverse("sla_scorecard", args=[world.contract.pk, 2026]))
            .content.decode()
        )
        assert "十一月统计表争议由审计处理中，先行定稿" in html
        assert "2026年11月" in html
        from sla.services.reports import scorecard_pdf_bytes

        assert scorecard_pdf_bytes(card)[:4] == b"%PDF"


def test_the_pdf_template_shows_the_override(world):
    from django.template.loader import render_to_string

    builders.sign_year(world, skip={(2026, 11)})
    with time_machine.travel(AFTER_YEAR, tick=False):
        card = scorecard.scorecard_finalise(
            actor=world.users["bureau"],
            contract=world.contract,
            year=2026,
            override_reason="先行定稿",
        )
    from sla.services.reports import scorecard_view_model

    html = render_to_string(
        "reports/sla_scorecard.html",
        {**scorecard_view_model(card.snapshot), "scorecard": card, "contract": world.contract},
    )
    assert "强制定稿" in html
    assert "先行定稿" in html
    assert "2026年11月" in html


def test_an_override_needs_unsigned_months_and_all_signed_finalises_plainly(world):
    builders.sign_year(world)
    with time_machine.travel(AFTER_YEAR, tick=False):
        with pytest.raises(InvalidTransition):
            scorecard.scorecard_finalise(
                actor=world.users["bureau"], contract=world.contract, year=2026, override_reason="x"
            )
        card = scorecard.scorecard_finalise(
            actor=world.users["bureau"], contract=world.contract, year=2026
        )
    assert card.status == ScorecardStatus.FINALISED
    assert card.override_reason == ""
    assert card.snapshot["annual_fee"] == "1000000"
    assert "12/12" in card.snapshot["annual_fee_basis"]


def test_the_page_offers_the_override_form_and_requires_a_reason(world):
    builders.sign_year(world, skip={(2026, 11), (2026, 12)})
    url = reverse("sla_scorecard", args=[world.contract.pk, 2026])
    post = reverse("sla_scorecard_finalise", args=[world.contract.pk, 2026])
    with time_machine.travel(AFTER_YEAR, tick=False):
        client = verified_client(world.users["bureau"])
        html = client.get(url).content.decode()
        assert "强制定稿考核表" in html
        assert "2026年11月、2026年12月" in html
        refused = client.post(post, {"ratio_pct": "", "override_reason": ""})
        assert refused.status_code == 200
        assert Scorecard.objects.get().status == ScorecardStatus.LIVE
        done = client.post(post, {"ratio_pct": "", "override_reason": "年底统计表仍在核对"})
    assert done.status_code == 302
    card = Scorecard.objects.get()
    assert card.status == ScorecardStatus.FINALISED
    assert card.override_months == ["2026-11", "2026-12"]
