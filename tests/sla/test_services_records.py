"""SLA record services: the happy paths, every refusal, and that a refusal saves nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.http import Http404

from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.models import OutboxEmail, PartyRole
from sla import selectors
from sla.models import (
    Deliverable,
    DeliverableStatus,
    ImprovementNotice,
    NoticeStatus,
    Outage,
    OutageStatus,
    Penalty,
    PenaltyStatus,
    SecurityIncident,
    SecurityMechanismItem,
    SurveyResponse,
    TrainingSession,
)
from sla.services import (
    deliverables,
    incidents,
    notices,
    outages,
    penalties,
    security,
    surveys,
    training,
)
from sla.services.surveys import survey_stats
from tests.factories import UserFactory, contract_with_parties, make_totp
from tests.sla.factories import at, pdf

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("july")]


def _outage(world, **kwargs):
    values = {
        "title": "存储故障",
        "started_at": at(2026, 7, 1, 8),
        "ended_at": at(2026, 7, 1, 14, 40),
        "cause": "存储控制器故障",
        "scope": "platform",
    }
    values.update(kwargs)
    return outages.outage_report(actor=world.users["vendor"], contract=world.contract, **values)


# ---------------------------------------------------------------- outages


class TestOutages:
    def test_vendor_reports_and_both_parties_confirm(self, world):
        outage = _outage(world)
        assert outage.status == OutageStatus.REPORTED
        assert outage.minutes == Decimal("400")
        assert outage.service_year == 2026
        # bureau and supervisor were told
        recipients = set(
            OutboxEmail.objects.filter(key=f"sla:outage:{outage.pk}:reported").values_list(
                "recipient", flat=True
            )
        )
        assert world.users["bureau"].email in recipients
        assert world.users["supervisor"].email in recipients

        outages.outage_confirm(actor=world.users["bureau"], outage=outage, vendor_caused=True)
        outage.refresh_from_db()
        assert outage.status == OutageStatus.REPORTED  # the supervisor has not confirmed yet
        outage = outages.outage_confirm(
            actor=world.users["supervisor"], outage=outage, vendor_caused=True
        )
        assert outage.status == OutageStatus.CONFIRMED
        assert outage.vendor_caused is True
        assert outage.counts_for_availability

    def test_not_the_vendors_cause_only_when_every_confirmer_says_so(self, world):
        outage = _outage(world)
        outages.outage_confirm(
            actor=world.users["bureau"], outage=outage, vendor_caused=False, comment="市电中断"
        )
        outage = outages.outage_confirm(
            actor=world.users["supervisor"], outage=outage, vendor_caused=True
        )
        assert outage.vendor_caused is True

        other = _outage(world, title="市电中断")
        for role in ("bureau", "supervisor"):
            other = outages.outage_confirm(
                actor=world.users[role], outage=other, vendor_caused=False, comment="市电中断"
            )
        assert other.vendor_caused is False
        assert not other.counts_for_availability

    def test_contract_without_supervisor_needs_only_the_bureau(self, db):
        contract, orgs = contract_with_parties(supervisor=False)
        vendor = UserFactory(organization=orgs["vendor"])
        bureau = UserFactory(organization=orgs["bureau"])
        for user in (vendor, bureau):
            make_totp(user)
        outage = outages.outage_report(
            actor=vendor,
            contract=contract,
            title="网络中断",
            started_at=at(2026, 7, 1, 8),
            ended_at=at(2026, 7, 1, 9),
            cause="光缆被挖断",
            scope="platform",
        )
        outage = outages.outage_confirm(actor=bureau, outage=outage, vendor_caused=True)
        assert outage.status == OutageStatus.CONFIRMED

    def test_attributing_elsewhere_needs_a_reason(self, world):
        outage = _outage(world)
        with pytest.raises(ApplicationError):
            outages.outage_confirm(actor=world.users["bureau"], outage=outage, vendor_caused=False)
        assert not outage.signoffs.exists()

    @pytest.mark.parametrize("role", ["vendor", "auditor", "department"])
    def test_only_bureau_and_supervisor_confirm(self, world, role):
        outage = _outage(world)
        with pytest.raises(ActionForbidden):
            outages.outage_confirm(actor=world.users[role], outage=outage, vendor_caused=True)

    @pytest.mark.parametrize("role", ["bureau", "supervisor", "auditor", "department"])
    def test_only_the_vendor_reports(self, world, role):
        with pytest.raises(ActionForbidden):
            outages.outage_report(
                actor=world.users[role],
                contract=world.contract,
                title="x",
                started_at=at(2026, 7, 1, 8),
                ended_at=at(2026, 7, 1, 9),
                cause="x",
                scope="platform",
            )
        assert not Outage.objects.exists()

    def test_a_party_of_another_contract_is_refused(self, world, foreign):
        with pytest.raises(ActionForbidden):
            outages.outage_report(
                actor=foreign.users["vendor"],
                contract=world.contract,
                title="x",
                started_at=at(2026, 7, 1, 8),
                ended_at=at(2026, 7, 1, 9),
                cause="x",
                scope="platform",
            )
        outage = _outage(world)
        with pytest.raises(Http404):
            selectors.get_for_user(
                selectors.outage_list_for_user(user=foreign.users["bureau"]), outage.pk
            )

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"ended_at": at(2026, 7, 1, 7)}, "ended_at"),
            ({"started_at": at(2026, 8, 1, 8), "ended_at": at(2026, 8, 1, 9)}, "started_at"),
            ({"started_at": at(2025, 7, 1, 8), "ended_at": at(2025, 7, 1, 9)}, "started_at"),
            ({"title": "  "}, "title"),
            ({"scope": "systems"}, "systems"),
        ],
        ids=[
            "end-before-start",
            "future-unplanned",
            "outside-service-period",
            "no-title",
            "no-systems",
        ],
    )
    def test_bad_input_saves_nothing(self, world, changes, field):
        with pytest.raises(ApplicationError) as excinfo:
            _outage(world, **changes)
        assert excinfo.value.extra.get("field") == field
        assert not Outage.objects.exists()

    def test_planned_maintenance_notified_72_hours_ahead_and_approved_is_excluded(self, world):
        outage = _outage(
            world,
            title="存储升级",
            planned=True,
            started_at=at(2026, 7, 19, 1),
            ended_at=at(2026, 7, 19, 5),
        )
        assert outage.notified_at == at(2026, 7, 15, 10)
        outages.outage_approve_maintenance(actor=world.users["bureau"], outage=outage)
        outage = outages.outage_approve_maintenance(actor=world.users["supervisor"], outage=outage)
        assert outage.maintenance_approved_at is not None
        with time_machine.travel(at(2026, 7, 20, 9), tick=False):
            with pytest.raises(InvalidTransition):  # approving after the start is too late
                outages.outage_approve_maintenance(actor=world.users["bureau"], outage=outage)
            for role in ("bureau", "supervisor"):
                outage = outages.outage_confirm(
                    actor=world.users[role], outage=outage, vendor_caused=True
                )
        assert outage.excluded_as_maintenance
        assert not outage.counts_for_availability

    def test_maintenance_the_supervisor_did_not_approve_counts(self, world):
        # BT-2025 附件2 1.1(1): planned only once bureau *and* supervisor agreed.
        outage = _outage(
            world,
            title="紧急维护",
            planned=True,
            started_at=at(2026, 7, 20, 9),  # 5 days' notice: notice is not what is missing
            ended_at=at(2026, 7, 20, 11),
        )
        outage = outages.outage_approve_maintenance(actor=world.users["bureau"], outage=outage)
        assert outage.maintenance_approved_at is None
        with time_machine.travel(at(2026, 7, 21, 9), tick=False):
            for role in ("bureau", "supervisor"):
                outage = outages.outage_confirm(
                    actor=world.users[role], outage=outage, vendor_caused=True
                )
        assert not outage.excluded_as_maintenance
        assert outage.counts_for_availability

    def test_an_outage_cannot_be_confirmed_before_it_ended(self, world):
        outage = _outage(
            world, planned=True, started_at=at(2026, 7, 20, 1), ended_at=at(2026, 7, 20, 2)
        )
        with pytest.raises(InvalidTransition):
            outages.outage_confirm(actor=world.users["bureau"], outage=outage, vendor_caused=True)

    def test_vendor_corrects_until_confirmed_and_a_moved_window_loses_its_approvals(self, world):
        outage = _outage(
            world, planned=True, started_at=at(2026, 7, 20, 1), ended_at=at(2026, 7, 20, 2)
        )
        outages.outage_approve_maintenance(actor=world.users["bureau"], outage=outage)
        outage = outages.outage_update(
            actor=world.users["vendor"],
            outage=outage,
            title=outage.title,
            started_at=at(2026, 7, 21, 1),
            ended_at=at(2026, 7, 21, 3),
            cause="改期",
            scope="platform",
        )
        assert not outage.signoffs.exists()
        with time_machine.travel(at(2026, 7, 22), tick=False):
            outages.outage_confirm(actor=world.users["bureau"], outage=outage, vendor_caused=True)
            with pytest.raises(InvalidTransition):
                outages.outage_update(
                    actor=world.users["vendor"],
                    outage=outage,
                    title="x",
                    started_at=at(2026, 7, 21, 1),
                    ended_at=at(2026, 7, 21, 4),
                    cause="x",
                    scope="platform",
                )

    def test_each_party_confirms_once(self, world):
        outage = _outage(world)
        outages.outage_confirm(actor=world.users["bureau"], outage=outage, vendor_caused=True)
        with pytest.raises(InvalidTransition):
            outages.outage_confirm(actor=world.users["bureau"], outage=outage, vendor_caused=True)


# ---------------------------------------------------------------- incidents


class TestIncidents:
    def test_report_and_assess(self, world):
        incident = incidents.incident_report(
            actor=world.users["vendor"],
            contract=world.contract,
            level=2,
            title="勒索病毒",
            description="……",
            occurred_at=at(2026, 7, 2, 9),
            evidence=pdf(),
        )
        assert incident.evidence.name.endswith(".pdf")
        incident = incidents.incident_assess(
            actor=world.users["supervisor"],
            incident=incident,
            fully_reported=False,
            comment="未报告残留影响",
        )
        assert incident.fully_reported is False
        assert OutboxEmail.objects.filter(key=f"sla:incident:{incident.pk}:assessed").exists()
        with pytest.raises(InvalidTransition):
            incidents.incident_assess(
                actor=world.users["bureau"], incident=incident, fully_reported=True
            )

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"level": 5}, "level"),
            ({"occurred_at": at(2026, 8, 1)}, "occurred_at"),
            ({"reported_at": at(2026, 7, 1)}, "reported_at"),
            ({"description": ""}, "description"),
        ],
        ids=["level-5", "future", "reported-before-found", "no-description"],
    )
    def test_bad_input_saves_nothing(self, world, changes, field):
        values = {
            "level": 3,
            "title": "x",
            "description": "y",
            "occurred_at": at(2026, 7, 2, 9),
        }
        values.update(changes)
        with pytest.raises(ApplicationError) as excinfo:
            incidents.incident_report(
                actor=world.users["vendor"], contract=world.contract, **values
            )
        assert excinfo.value.extra["field"] == field
        assert not SecurityIncident.objects.exists()

    def test_unreported_or_not_vendors_needs_a_reason_and_department_cannot_assess(self, world):
        incident = incidents.incident_report(
            actor=world.users["bureau"],
            contract=world.contract,
            level=4,
            title="x",
            description="y",
            occurred_at=at(2026, 7, 2, 9),
        )
        with pytest.raises(ApplicationError):
            incidents.incident_assess(
                actor=world.users["bureau"], incident=incident, fully_reported=False
            )
        with pytest.raises(ActionForbidden):
            incidents.incident_assess(
                actor=world.users["vendor"], incident=incident, fully_reported=True
            )


# ---------------------------------------------------------------- security checklist


class TestSecurityChecklist:
    def test_submit_reject_resubmit_accept(self, world):
        row = security.security_item_submit(
            actor=world.users["vendor"],
            contract=world.contract,
            year=2026,
            item="drill",
            evidence=pdf(),
        )
        row = security.security_item_review(
            actor=world.users["bureau"], item=row, accept=False, comment="缺演练照片"
        )
        assert OutboxEmail.objects.filter(key__startswith=f"sla:security-item:{row.pk}:rejected")
        row = security.security_item_submit(
            actor=world.users["vendor"],
            contract=world.contract,
            year=2026,
            item="drill",
            evidence=pdf("drill-2.pdf"),
        )
        row = security.security_item_review(actor=world.users["bureau"], item=row, accept=True)
        assert row.fulfilled
        assert SecurityMechanismItem.objects.count() == 1

    def test_refusals(self, world):
        with pytest.raises(ApplicationError):  # evidence is required
            security.security_item_submit(
                actor=world.users["vendor"],
                contract=world.contract,
                year=2026,
                item="drill",
                evidence=None,
            )
        with pytest.raises(ApplicationError):  # not one of the five
            security.security_item_submit(
                actor=world.users["vendor"],
                contract=world.contract,
                year=2026,
                item="firewall",
                evidence=pdf(),
            )
        with pytest.raises(ApplicationError):  # no such service year
            security.security_item_submit(
                actor=world.users["vendor"],
                contract=world.contract,
                year=2030,
                item="drill",
                evidence=pdf(),
            )
        with pytest.raises(ActionForbidden):
            security.security_item_waive(
                actor=world.users["supervisor"],
                contract=world.contract,
                year=2026,
                item="crypto",
                reason="x",
            )
        assert not SecurityMechanismItem.objects.exists()

    def test_bureau_waives_an_item(self, world):
        row = security.security_item_waive(
            actor=world.users["bureau"],
            contract=world.contract,
            year=2026,
            item="cac_review",
            reason="网信办年度评估暂停",
        )
        assert row.fulfilled


# ---------------------------------------------------------------- training


class TestTraining:
    def test_plan_and_sessions(self, world):
        plan = training.training_plan_submit(
            actor=world.users["vendor"], contract=world.contract, year=2026, description="两次"
        )
        with pytest.raises(ApplicationError):  # rejecting needs a reason
            training.training_plan_review(actor=world.users["bureau"], plan=plan, approve=False)
        plan = training.training_plan_review(
            actor=world.users["bureau"], plan=plan, approve=False, comment="缺云安全内容"
        )
        plan = training.training_plan_submit(
            actor=world.users["vendor"], contract=world.contract, year=2026, description="三次"
        )
        plan = training.training_plan_review(actor=world.users["bureau"], plan=plan, approve=True)
        assert plan.status == "approved"

        session = training.training_session_record(
            actor=world.users["vendor"],
            contract=world.contract,
            held_on=date(2026, 7, 10),
            topic="云安全",
            attendees=30,
        )
        session = training.training_session_review(
            actor=world.users["bureau"], session=session, confirm=True
        )
        assert session.status == "confirmed"

    def test_future_or_empty_sessions_are_refused(self, world):
        for kwargs in (
            {"held_on": date(2026, 7, 16), "attendees": 3},
            {"held_on": date(2026, 7, 10), "attendees": 0},
        ):
            with pytest.raises(ApplicationError):
                training.training_session_record(
                    actor=world.users["vendor"], contract=world.contract, topic="x", **kwargs
                )
        assert not TrainingSession.objects.exists()


# ---------------------------------------------------------------- deliverables


class TestDeliverables:
    def test_monthly_report_due_on_the_fifth_working_day(self, world):
        report = deliverables.deliverable_create(
            actor=world.users["bureau"],
            contract=world.contract,
            kind="monthly_report",
            period_month=date(2026, 9, 1),
        )
        # October 2026: National Day off 10-01…10-07 (10-10 Sat is a make-up day):
        # working days 10-08 (Thu), 10-09, 10-10, 10-12, 10-13 → the 5th is 10-13.
        assert report.due_date == date(2026, 10, 13)
        assert report.due_at == at(2026, 10, 14)
        assert report.title == "2026-09 政务云运维服务月报"
        with pytest.raises(ApplicationError):  # the same month twice
            deliverables.deliverable_create(
                actor=world.users["vendor"],
                contract=world.contract,
                kind="monthly_report",
                period_month=date(2026, 9, 15),
            )

    def test_late_and_rejections(self, world):
        item = deliverables.deliverable_create(
            actor=world.users["bureau"],
            contract=world.contract,
            kind="inspection",
            title="巡检报告",
            due_date=date(2026, 7, 14),
        )
        assert item.is_late()  # due yesterday, nothing submitted
        deliverables.deliverable_submit(
            actor=world.users["vendor"], deliverable=item, document=pdf()
        )
        with pytest.raises(ApplicationError):  # a rejection needs its reason
            deliverables.deliverable_review(
                actor=world.users["bureau"], deliverable=item, accept=False
            )
        item = deliverables.deliverable_review(
            actor=world.users["bureau"], deliverable=item, accept=False, reason="格式不符"
        )
        assert item.status == DeliverableStatus.REJECTED
        assert OutboxEmail.objects.filter(key=f"sla:deliverable:{item.pk}:rejected:1").exists()
        deliverables.deliverable_submit(
            actor=world.users["vendor"], deliverable=item, document=pdf("v2.pdf")
        )
        item = deliverables.deliverable_review(
            actor=world.users["bureau"], deliverable=item, accept=True
        )
        assert item.status == DeliverableStatus.ACCEPTED
        assert item.first_submitted_at == at(2026, 7, 15, 10)
        assert item.is_late()
        assert [s.decision for s in item.submissions.order_by("number")] == [
            "rejected",
            "accepted",
        ]

    def test_refusals(self, world):
        with pytest.raises(ApplicationError):  # other kinds need a due date
            deliverables.deliverable_create(
                actor=world.users["bureau"], contract=world.contract, kind="other", title="x"
            )
        with pytest.raises(ActionForbidden):
            deliverables.deliverable_create(
                actor=world.users["auditor"],
                contract=world.contract,
                kind="other",
                title="x",
                due_date=date(2026, 8, 1),
            )
        assert not Deliverable.objects.exists()
        item = deliverables.deliverable_create(
            actor=world.users["vendor"],
            contract=world.contract,
            kind="other",
            title="x",
            due_date=date(2026, 8, 1),
        )
        with pytest.raises(ApplicationError):  # no file
            deliverables.deliverable_submit(
                actor=world.users["vendor"], deliverable=item, document=None
            )
        with pytest.raises(ActionForbidden):
            deliverables.deliverable_submit(
                actor=world.users["bureau"], deliverable=item, document=pdf()
            )
        with pytest.raises(InvalidTransition):  # nothing to review yet
            deliverables.deliverable_review(
                actor=world.users["bureau"], deliverable=item, accept=True
            )
        item.refresh_from_db()
        assert item.status == DeliverableStatus.PENDING
        assert not item.submissions.exists()


# ---------------------------------------------------------------- satisfaction surveys


class TestSurveys:
    def test_answers_mean_and_coverage(self, world):
        survey = surveys.survey_open(
            actor=world.users["auditor"], contract=world.contract, year=2026
        )
        department = world.orgs["department"]
        others = [UserFactory(organization=department) for _ in range(3)]
        for user, score in zip([world.users["department"], *others[:2]], [70, 80, 95], strict=True):
            surveys.survey_respond(actor=user, survey=survey, score=score)
        stats = survey_stats(survey)
        assert stats.answered == 3
        assert stats.eligible == 4
        assert stats.mean == Decimal("81.67")
        assert stats.coverage_pct == Decimal("75.00")
        with pytest.raises(InvalidTransition):  # one answer per user
            surveys.survey_respond(actor=world.users["department"], survey=survey, score=100)
        survey = surveys.survey_close(actor=world.users["bureau"], survey=survey)
        UserFactory(organization=department)  # joins after the close: coverage stays frozen
        assert survey_stats(survey).coverage_pct == Decimal("75.00")
        with pytest.raises(InvalidTransition):
            surveys.survey_respond(actor=others[2], survey=survey, score=90)

    def test_refusals(self, world, foreign):
        with pytest.raises(ActionForbidden):
            surveys.survey_open(actor=world.users["vendor"], contract=world.contract, year=2026)
        survey = surveys.survey_open(
            actor=world.users["bureau"], contract=world.contract, year=2026
        )
        with pytest.raises(ApplicationError):  # once per service year
            surveys.survey_open(actor=world.users["bureau"], contract=world.contract, year=2026)
        for actor in (world.users["bureau"], foreign.users["department"]):
            with pytest.raises(ActionForbidden):
                surveys.survey_respond(actor=actor, survey=survey, score=80)
        with pytest.raises(ApplicationError):
            surveys.survey_respond(actor=world.users["department"], survey=survey, score=101)
        assert not SurveyResponse.objects.exists()


# ---------------------------------------------------------------- improvement notices


class TestNotices:
    def test_ten_working_day_clock_fix_and_confirm(self, world):
        notice = notices.notice_issue(
            actor=world.users["supervisor"],
            contract=world.contract,
            title="巡检记录缺失",
            description="补齐",
        )
        # Wednesday 2026-07-15 10:00 + 10 working days → end of Wednesday 2026-07-29.
        assert notice.due_at == at(2026, 7, 30)
        assert not notice.due_provisional
        assert OutboxEmail.objects.filter(key=f"sla:notice:{notice.pk}:issued").exists()
        notice = notices.notice_fix(actor=world.users["vendor"], notice=notice, report="已补齐")
        with pytest.raises(ActionForbidden):  # only the issuing party confirms
            notices.notice_confirm(actor=world.users["bureau"], notice=notice, accept=True)
        notice = notices.notice_confirm(actor=world.users["supervisor"], notice=notice, accept=True)
        assert notice.status == NoticeStatus.CONFIRMED
        assert not notice.is_unfixed_in_time(at(2026, 9, 1))

    def test_a_rejected_fix_keeps_the_clock_running(self, world):
        notice = notices.notice_issue(
            actor=world.users["auditor"], contract=world.contract, title="x", description="y"
        )
        notice = notices.notice_fix(actor=world.users["vendor"], notice=notice, report="z")
        notice = notices.notice_confirm(
            actor=world.users["auditor"], notice=notice, accept=False, comment="未整改到位"
        )
        assert notice.status == NoticeStatus.ISSUED
        assert notice.fixed_at is None
        with time_machine.travel(at(2026, 7, 31, 9), tick=False):
            notice = notices.notice_fix(actor=world.users["vendor"], notice=notice, report="再改")
            notice = notices.notice_confirm(
                actor=world.users["auditor"], notice=notice, accept=True
            )
        assert notice.is_unfixed_in_time()

    def test_provisional_deadline_when_the_year_is_missing(self, world):
        from govcloud.models import CalendarYear

        CalendarYear.objects.filter(year=2026).delete()
        from govcloud.calendar import reset_cache

        reset_cache()
        notice = notices.notice_issue(
            actor=world.users["bureau"], contract=world.contract, title="x", description="y"
        )
        assert notice.due_provisional
        assert notice.due_at == at(2026, 7, 30)  # weekends only: the same here

    def test_vendor_and_department_cannot_issue(self, world):
        for role in ("vendor", "department"):
            with pytest.raises(ActionForbidden):
                notices.notice_issue(
                    actor=world.users[role], contract=world.contract, title="x", description="y"
                )
        assert not ImprovementNotice.objects.exists()


# ---------------------------------------------------------------- penalties


class TestPenalties:
    def test_recorded_by_the_supervisor_acknowledged_by_the_vendor(self, world):
        penalty = penalties.penalty_record(
            actor=world.users["supervisor"],
            contract=world.contract,
            occurred_on=date(2026, 7, 1),
            reason="不当竞争",
            clause="附件3 四(二)1",
            amount=Decimal("10000.00"),
            points=Decimal("1"),
            area="improvement",
        )
        with pytest.raises(ActionForbidden):
            penalties.penalty_acknowledge(actor=world.users["bureau"], penalty=penalty)
        penalty = penalties.penalty_acknowledge(actor=world.users["vendor"], penalty=penalty)
        assert penalty.status == PenaltyStatus.ACKNOWLEDGED
        with pytest.raises(InvalidTransition):
            penalties.penalty_withdraw(actor=world.users["supervisor"], penalty=penalty, reason="x")

    @pytest.mark.parametrize(
        "kwargs",
        [
            {},
            {"amount": Decimal("-5")},
            {"points": Decimal("2")},
            {"points": Decimal("2"), "area": "nonsense"},
        ],
        ids=["nothing", "negative", "points-without-area", "unknown-area"],
    )
    def test_bad_input_saves_nothing(self, world, kwargs):
        with pytest.raises(ApplicationError):
            penalties.penalty_record(
                actor=world.users["supervisor"],
                contract=world.contract,
                occurred_on=date(2026, 7, 1),
                reason="x",
                clause="y",
                **kwargs,
            )
        assert not Penalty.objects.exists()

    def test_the_bureau_records_only_where_there_is_no_supervisor(self, world):
        with pytest.raises(ActionForbidden):
            penalties.penalty_record(
                actor=world.users["bureau"],
                contract=world.contract,
                occurred_on=date(2026, 7, 1),
                reason="x",
                clause="y",
                amount=Decimal("1.00"),
            )
        contract, orgs = contract_with_parties(supervisor=False)
        bureau = UserFactory(organization=orgs["bureau"])
        penalty = penalties.penalty_record(
            actor=bureau,
            contract=contract,
            occurred_on=date(2026, 7, 1),
            reason="x",
            clause="y",
            amount=Decimal("1.00"),
        )
        assert penalty.pk


def test_administrators_do_no_business(world):
    from govcloud.models import Role

    with pytest.raises(ActionForbidden):
        notices.notice_issue(
            actor=world.users[Role.SYSTEM_ADMIN],
            contract=world.contract,
            title="x",
            description="y",
        )


def test_party_role_helper_reads_the_contract(world):
    from govcloud.access import party_role_of as party_role
    from sla.services.common import confirming_roles

    assert party_role(world.users["supervisor"], world.contract) == PartyRole.SUPERVISOR
    assert party_role(world.users["department"], world.contract) is None
    assert confirming_roles(world.contract) == ["bureau", "supervisor"]


def test_service_years_of_a_two_year_contract(db):
    from sla.periods import service_year_of, service_years

    years = service_years(date(2026, 6, 4), date(2028, 6, 3))
    assert [(y.label, y.start, y.end) for y in years] == [
        (2026, date(2026, 6, 4), date(2027, 6, 3)),
        (2027, date(2027, 6, 4), date(2028, 6, 3)),
    ]
    assert service_year_of(date(2026, 6, 4), date(2028, 6, 3), date(2027, 6, 4)).label == 2027
    assert service_year_of(date(2026, 6, 4), date(2028, 6, 3), date(2028, 6, 4)) is None
