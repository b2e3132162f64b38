"""The SLA reads the contract's terms (issue 11, DESIGN §4a): what each reference contract's text
says, not one regime for all.

* JZ-2026 has no SLA annex: no scorecard, no points, no money into settlement — a late JZ ticket
  included; its pages say so and cite the contract.
* Planned maintenance: BT-2025 by approval of bureau and supervisor whatever the notice
  (附件2 1.1(1)); JZ-2026 by 72 hours' notice to the bureau (五.5), a shorter one flagged to the
  bureau as a notice-duty record with an e-mail, no points.
* The fix period of a written notice: JZ 15 working days (四.2), BT 10 (附件2 §9).
* Monthly statements as deliverables where the terms say so (BT 附件3 二(二)).
* The utilization rule from the terms (threshold, charge).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.template.loader import render_to_string
from django.urls import reverse

from billing.contracts import load_reference_contracts
from billing.models import Deduction, Statement, StatementStatus
from billing.signals import statement_found_wrong, statement_submitted
from govcloud.exceptions import ApplicationError, InvalidTransition
from govcloud.models import Contract, Organization, OutboxEmail
from requests_app.models import RequestStatus, ResourceRequest
from requests_app.services import LineInput, request_create
from sla.home import sla_cards
from sla.models import (
    Deliverable,
    DeliverableKind,
    ImprovementNotice,
    MaintenanceNoticeShortfall,
    Outage,
    Scorecard,
    ShortfallStatus,
)
from sla.services import actions, notices, outages, penalties, rightsizing, scorecard
from sla.services.clocks import sla_recompute_provisional
from sla.services.common import NoScorecard
from sla.services.deliverables import deliverable_create, statement_deliverable_submitted
from sla.services.reports import scorecard_view_model
from tests.conftest import World, verified_client
from tests.factories import DepartmentFactory, UserFactory, make_totp
from tests.sla.factories import at, item, resource, samples, vcpu_item

pytestmark = pytest.mark.django_db


def reference_world(code: str) -> World:
    """A reference contract as its folder defines it, with one staff user per party."""
    load_reference_contracts()
    contract = Contract.objects.prefetch_related("parties__organization").get(code=code)
    orgs: dict[str, Organization] = {}
    for party in contract.parties.order_by("pk"):
        orgs.setdefault(party.role, party.organization)
    orgs["department"] = DepartmentFactory(parent=orgs["bureau"])
    world = World(contract=contract, orgs=orgs)
    for key, org in orgs.items():
        world.users[key] = UserFactory(organization=org)
        make_totp(world.users[key])
    return world


@pytest.fixture
def jz() -> World:
    return reference_world("JZ-2026")


@pytest.fixture
def bt() -> World:
    return reference_world("BT-2025")


def _emails_to(org: Organization) -> set[str]:
    return {u.email.lower() for u in org.users.all()}


# ---------------------------------------------------------------- JZ: no SLA annex


def _late_jz_ticket(jz: World) -> ResourceRequest:
    """A JZ ticket delivered days after approval, marked breached as the old clock did.

    Whatever a ticket row says (the issue: "one late JZ ticket turned into ¥31,136.19"), the
    SLA must take nothing from it on a contract without an SLA annex.
    """
    flavour = item(jz.contract, "ecs.4c8g")
    ticket = request_create(
        actor=jz.users["department"],
        contract=jz.contract,
        kind="new",
        reason="新系统上云",
        system_name="不动产登记系统",
        lines=[LineInput(catalog_item_id=flavour.pk, quantity=1)],
        submit=True,
    )
    ResourceRequest.objects.filter(pk=ticket.pk).update(
        status=RequestStatus.DELIVERED,
        approved_at=at(2026, 7, 1, 10),
        due_at=at(2026, 7, 4),
        delivered_at=at(2026, 7, 10, 10),
        breached=True,
    )
    return ticket


class TestJiaozuoHasNoScorecard:
    def test_a_late_jz_ticket_costs_no_points_and_no_money(self, jz):
        _late_jz_ticket(jz)
        # The service year 2026-06-04 … 2027-06-03 has ended: the bureau would finalise now.
        with time_machine.travel(at(2027, 6, 10, 10), tick=False):
            with pytest.raises(NoScorecard) as refused:
                scorecard.scorecard_finalise(
                    actor=jz.users["bureau"], contract=jz.contract, year=2026
                )
            assert "没有服务水平协议" in refused.value.message
            assert "四.1" in refused.value.message  # the clause the contract file cites
            with pytest.raises(NoScorecard):
                scorecard.scorecard_compute(contract=jz.contract, year=2026)
            with pytest.raises(NoScorecard):
                scorecard.scorecard_for(contract=jz.contract, year=2026)
        assert not Scorecard.objects.filter(contract=jz.contract).exists()
        assert not Deduction.objects.filter(contract=jz.contract).exists()

    def test_no_penalties_surveys_training_or_checklist_can_be_recorded(self, jz):
        with time_machine.travel(at(2026, 7, 15, 10), tick=False):
            with pytest.raises(NoScorecard):
                penalties.penalty_record(
                    actor=jz.users["bureau"],
                    contract=jz.contract,
                    occurred_on=date(2026, 7, 1),
                    reason="未按时参加会议",
                    clause="十.4",
                    amount=Decimal("10000.00"),
                )
        offered = set()
        for user in jz.users.values():
            offered |= actions.contract_sla_actions(user=user, contract=jz.contract)
        assert offered.isdisjoint({"penalty_create", "survey_create", "training_session_record"})
        # What the text does ask of JZ stays: reports, written notices, deliverables, advice.
        assert {"outage_create", "notice_create", "deliverable_create", "metrics_upload"} <= offered

    def test_right_sizing_advice_stays_without_a_due_day_or_points(self, jz):
        """JZ 五.2 asks for "优化建议或动态调整意见": the advice is kept, owed 及时 (no due day),
        and nobody can mark a month wrong (that is −2 points under an SLA annex only)."""
        res = resource(jz.contract, jz.orgs["department"], vcpu_item(jz.contract), 8)
        samples(res, date(2026, 7, 1), 20, cpu="10", mem="50", user=jz.users["vendor"])
        with time_machine.travel(at(2026, 8, 20, 10), tick=False):
            report = rightsizing.rightsizing_compute(contract=jz.contract, month=date(2026, 7, 1))
            report = rightsizing.rightsizing_submit(actor=jz.users["vendor"], report=report)
            assert report.due_date is None
            assert report.due_at is None
            assert not report.is_late()
            assert "mark_wrong" not in actions.report_available_actions(
                user=jz.users["bureau"], obj=report
            )
            with pytest.raises(NoScorecard):
                rightsizing.rightsizing_mark_wrong(
                    actor=jz.users["bureau"], report=report, reason="算错了"
                )

    @pytest.mark.parametrize(
        "url_name",
        ["sla_scorecard", "sla_penalty_list", "sla_utilization", "sla_security_list"],
    )
    def test_its_sla_pages_say_so_and_cite_the_contract(self, jz, url_name):
        kwargs = {"contract_pk": jz.contract.pk}
        if url_name == "sla_scorecard":
            kwargs["year"] = 2026
        with time_machine.travel(at(2026, 7, 15, 10), tick=False):
            response = verified_client(jz.users["bureau"]).get(reverse(url_name, kwargs=kwargs))
        assert response.status_code == 200
        html = response.content.decode()
        assert "本合同没有服务水平协议" in html
        assert reverse("contract_terms", args=[jz.contract.pk]) + "#term-scorecard" in html
        assert "〔四.1〕" in html
        assert not Scorecard.objects.filter(contract=jz.contract).exists()

    def test_the_scorecard_api_refuses_with_the_reason(self, jz):
        client = verified_client(jz.users["bureau"])
        response = client.get(reverse("api_sla_scorecard", args=[jz.contract.pk, 2026]))
        assert response.status_code == 400
        assert "没有服务水平协议" in response.json()["message"]

    def test_the_overview_and_tabs_offer_no_scorecard_work(self, jz):
        with time_machine.travel(at(2026, 7, 15, 10), tick=False):
            response = verified_client(jz.users["bureau"]).get(
                reverse("sla_contract", args=[jz.contract.pk])
            )
        html = response.content.decode()
        assert "查看考核表" not in html
        assert reverse("sla_penalty_list", args=[jz.contract.pk]) not in html
        assert reverse("sla_survey_list", args=[jz.contract.pk]) not in html
        assert reverse("sla_shortfall_list", args=[jz.contract.pk]) in html  # 五.5 notices

    def test_home_cards_do_not_invite_scorecard_work(self, jz):
        (card,) = sla_cards(jz.users["vendor"])
        assert "考核表" not in card.text
        assert "罚则" not in card.text
        assert all("罚则" not in str(a.label) for a in card.actions)


# ---------------------------------------------------------------- planned maintenance


def _announce(world: World, start: datetime, title: str = "存储系统升级") -> Outage:
    return outages.outage_report(
        actor=world.users["vendor"],
        contract=world.contract,
        title=title,
        started_at=start,
        ended_at=start + timedelta(hours=4),  # 240 minutes
        cause="存储固件升级",
        scope="platform",
        planned=True,
    )


class TestMaintenance:
    def test_bt_maintenance_approved_by_bureau_and_supervisor_with_40h_notice_is_planned(self, bt):
        """BT-2025 附件2 1.1(1): approval, not notice, makes it planned. The issue's case:
        40 hours' notice used to count 240 minutes against availability."""
        with time_machine.travel(at(2026, 3, 9, 10), tick=False):
            outage = _announce(bt, at(2026, 3, 11, 2))  # 40 hours later
            assert outage.notice_hours_given == Decimal(40)
            for role in ("bureau", "supervisor"):
                outage = outages.outage_approve_maintenance(actor=bt.users[role], outage=outage)
            assert outage.maintenance_approved_at == at(2026, 3, 9, 10)
        with time_machine.travel(at(2026, 3, 12, 9), tick=False):
            for role in ("bureau", "supervisor"):
                outage = outages.outage_confirm(
                    actor=bt.users[role], outage=outage, vendor_caused=True
                )
            data = scorecard.scorecard_compute(contract=bt.contract, year=2025)
        assert outage.excluded_as_maintenance
        assert not outage.counts_for_availability
        availability = next(a for a in data["areas"] if a["code"] == "availability")
        assert availability["events"] == []  # 0 minutes against availability
        assert availability["points"] == "10"
        assert any("经甲方、监理同意" in n for n in data["notes"])
        # BT sets no notice period: nothing is flagged.
        assert not MaintenanceNoticeShortfall.objects.exists()

    def test_bt_maintenance_needs_every_approver(self, bt):
        with time_machine.travel(at(2026, 3, 9, 10), tick=False):
            outage = _announce(bt, at(2026, 3, 20, 2))  # 11 days' notice
            outage = outages.outage_approve_maintenance(actor=bt.users["bureau"], outage=outage)
        assert outage.maintenance_approved_at is None
        assert not outage.excluded_as_maintenance
        with pytest.raises(ApplicationError):  # the vendor is no approver
            outages.outage_approve_maintenance(actor=bt.users["vendor"], outage=outage)

    def test_jz_maintenance_with_40h_notice_is_flagged_to_the_bureau(self, jz):
        """JZ-2026 五.5: 72 hours' notice to the bureau, nobody approves. 40 hours → a notice-
        duty record and an e-mail to the bureau; no points (no scorecard)."""
        with time_machine.travel(at(2026, 7, 15, 10), tick=False):
            outage = _announce(jz, at(2026, 7, 17, 2), title="核心网络割接")
        record = MaintenanceNoticeShortfall.objects.get(outage=outage)
        assert record.contract == jz.contract
        assert record.required_hours == 72
        assert record.hours_given == Decimal("40.0")
        assert record.notified_at == at(2026, 7, 15, 10)
        assert record.status == ShortfallStatus.OPEN
        mails = OutboxEmail.objects.filter(key=f"sla:outage:{outage.pk}:notice-short")
        assert {m.recipient for m in mails} >= _emails_to(jz.orgs["bureau"])
        assert not ({m.recipient for m in mails} & _emails_to(jz.orgs["vendor"]))
        mail = mails.first()
        assert "72" in mail.subject
        assert "五.5" in mail.body
        assert "不扣分" in mail.body
        # Nobody approves a JZ maintenance: there is nothing to approve.
        assert "approve" not in actions.outage_available_actions(
            user=jz.users["bureau"], obj=outage
        )
        with pytest.raises(InvalidTransition, match="无须批准"):
            outages.outage_approve_maintenance(actor=jz.users["bureau"], outage=outage)
        with pytest.raises(NoScorecard):
            scorecard.scorecard_compute(contract=jz.contract, year=2026)

    def test_jz_maintenance_with_72h_notice_is_not_flagged(self, jz):
        with time_machine.travel(at(2026, 7, 15, 10), tick=False):
            outage = _announce(jz, at(2026, 7, 18, 10))  # exactly 72 hours
        assert outage.notice_in_time
        assert not MaintenanceNoticeShortfall.objects.exists()
        assert not OutboxEmail.objects.filter(key__endswith="notice-short").exists()

    def test_moving_the_window_later_clears_the_flag(self, jz):
        with time_machine.travel(at(2026, 7, 15, 10), tick=False):
            outage = _announce(jz, at(2026, 7, 17, 2))
            assert MaintenanceNoticeShortfall.objects.filter(outage=outage).exists()
            outages.outage_update(
                actor=jz.users["vendor"],
                outage=outage,
                title=outage.title,
                started_at=at(2026, 7, 20, 2),
                ended_at=at(2026, 7, 20, 6),
                cause=outage.cause,
                scope="platform",
            )
        assert not MaintenanceNoticeShortfall.objects.filter(outage=outage).exists()

    def test_the_bureau_sees_the_record_and_notes_it(self, jz):
        with time_machine.travel(at(2026, 7, 15, 10), tick=False):
            outage = _announce(jz, at(2026, 7, 17, 2), title="核心网络割接")
            record = outage.notice_shortfall
            url = reverse("sla_shortfall_list", args=[jz.contract.pk])
            page = verified_client(jz.users["bureau"]).get(url).content.decode()
            assert "核心网络割接" in page
            assert "#term-maintenance_notice_hours" in page
            assert "note" in actions.shortfall_available_actions(
                user=jz.users["bureau"], obj=record
            )
            assert not actions.shortfall_available_actions(user=jz.users["vendor"], obj=record)
            response = verified_client(jz.users["bureau"]).post(
                reverse("sla_shortfall_note", args=[record.pk]), {"comment": "已知悉，下不为例。"}
            )
        assert response.status_code == 302
        record.refresh_from_db()
        assert record.status == ShortfallStatus.NOTED
        assert record.noted_by == jz.users["bureau"]

    def test_outage_pages_cite_the_maintenance_terms(self, bt, jz):
        with time_machine.travel(at(2026, 3, 9, 10), tick=False):
            bt_outage = _announce(bt, at(2026, 3, 11, 2))
            bt_page = verified_client(bt.users["bureau"]).get(
                reverse("sla_outage_detail", args=[bt_outage.pk])
            )
        with time_machine.travel(at(2026, 7, 15, 10), tick=False):
            jz_outage = _announce(jz, at(2026, 7, 17, 2))
            jz_page = verified_client(jz.users["bureau"]).get(
                reverse("sla_outage_detail", args=[jz_outage.pk])
            )
        assert "#term-maintenance_approvers" in bt_page.content.decode()
        assert "72" not in bt_page.content.decode().split("维护通知")[1].split("</dd>")[0]
        jz_html = jz_page.content.decode()
        assert "#term-maintenance_notice_hours" in jz_html
        assert "通知不足72小时" in jz_html


# ---------------------------------------------------------------- written notices


class TestFixPeriod:
    def _issue(self, world: World, when: datetime) -> ImprovementNotice:
        with time_machine.travel(when, tick=False):
            return notices.notice_issue(
                actor=world.users["bureau"],
                contract=world.contract,
                title="巡检记录不完整",
                description="请补齐机房巡检记录。",
            )

    def test_jz_gets_15_working_days_across_national_day(self, jz):
        # 2026: 10-01…10-07 off, 10-10 (Sat) a make-up working day. From Mon 09-28: 09-29,
        # 09-30, 10-08, 10-09, 10-10, 10-12 … 10-16, 10-19 … 10-23 = 15 working days.
        notice = self._issue(jz, at(2026, 9, 28, 10))
        assert notice.due_at == at(2026, 10, 24)  # 24:00 of 2026-10-23
        assert not notice.due_provisional

    def test_bt_gets_10_working_days(self, world):
        notice = self._issue(world, at(2026, 9, 28, 10))
        assert notice.due_at == at(2026, 10, 17)  # 24:00 of 2026-10-16

    def test_the_notice_e_mail_and_page_cite_the_term(self, jz):
        notice = self._issue(jz, at(2026, 9, 28, 10))
        mail = OutboxEmail.objects.filter(key=f"sla:notice:{notice.pk}:issued").first()
        assert "四.2" in mail.body
        assert "15个工作日" in mail.body
        with time_machine.travel(at(2026, 9, 28, 11), tick=False):
            page = verified_client(jz.users["bureau"]).get(
                reverse("sla_notice_detail", args=[notice.pk])
            )
        html = page.content.decode()
        assert "15个工作日" in html
        assert "#term-improvement_working_days" in html

    def test_a_provisional_deadline_is_recomputed_with_its_own_contracts_period(self, jz, world):
        jz_notice = self._issue(jz, at(2026, 9, 28, 10))
        bt_notice = self._issue(world, at(2026, 9, 28, 10))
        ImprovementNotice.objects.filter(pk__in=[jz_notice.pk, bt_notice.pk]).update(
            due_at=at(2026, 10, 1), due_provisional=True
        )
        assert sla_recompute_provisional(year=2026) == 2
        jz_notice.refresh_from_db()
        bt_notice.refresh_from_db()
        assert jz_notice.due_at == at(2026, 10, 24)
        assert bt_notice.due_at == at(2026, 10, 17)

    def test_an_overdue_jz_notice_is_a_breach_without_points(self, jz):
        notice = self._issue(jz, at(2026, 9, 28, 10))
        with time_machine.travel(at(2026, 10, 26, 10), tick=False):
            assert notice.is_unfixed_in_time()
            page = verified_client(jz.users["bureau"]).get(
                reverse("sla_notice_detail", args=[notice.pk])
            )
        html = page.content.decode()
        assert "视为违约" in html
        assert "扣2分" not in html


# ---------------------------------------------------------------- statements as deliverables


def _statement(world: World, year: int, month: int, *, version: int = 1, submitted: datetime):
    """A submitted statement version (the row billing's signals carry)."""
    contract = world.contract
    return Statement.objects.create(
        contract=contract,
        year=year,
        month=month,
        version=version,
        status=StatementStatus.SUBMITTED,
        due_date=date(2026, 4, 8),
        discount=contract.discount_factor,
        vat_rate=contract.vat_rate,
        subtotal=Decimal("100.00"),
        total=Decimal("99.99"),
        vat=Decimal("5.66"),
        generated_at=submitted - timedelta(hours=1),
        generated_by=world.users["vendor"],
        submitted_at=submitted,
        submitted_by=world.users["vendor"],
    )


def _deliverables_area(world: World, year: int) -> dict:
    data = scorecard.scorecard_compute(contract=world.contract, year=year)
    return next(a for a in data["areas"] if a["code"] == "deliverables")


class TestStatementsAsDeliverables:
    def test_a_late_statement_is_one_late_deliverable_however_often_submitted(self, bt):
        first = _statement(bt, 2026, 3, submitted=at(2026, 4, 10, 9))  # due 04-08
        statement_submitted.send(sender=Statement, statement=first, due=date(2026, 4, 8), late=True)
        second = _statement(bt, 2026, 3, version=2, submitted=at(2026, 4, 14, 9))
        statement_submitted.send(
            sender=Statement, statement=second, due=date(2026, 4, 8), late=True
        )
        (deliverable,) = Deliverable.objects.filter(
            contract=bt.contract, kind=DeliverableKind.STATEMENT
        )
        assert deliverable.period_month == date(2026, 3, 1)
        assert deliverable.statement == second
        assert deliverable.first_submitted_at == at(2026, 4, 10, 9)
        assert deliverable.is_late()
        with time_machine.travel(at(2026, 4, 20, 10), tick=False):
            area = _deliverables_area(bt, 2025)
        late = [d for d in area["deductions"] if d["ref"] == f"deliverable:{deliverable.pk}"]
        assert [d["points"] for d in late] == ["1"]
        assert area["points"] == "9"
        assert any(t["key"] == "statement_is_deliverable" for t in area["terms"])

    def test_a_statement_found_wrong_counts_once_per_month(self, bt):
        first = _statement(bt, 2026, 3, submitted=at(2026, 4, 7, 9))  # on time
        statement_submitted.send(
            sender=Statement, statement=first, due=date(2026, 4, 8), late=False
        )
        statement_found_wrong.send(sender=Statement, statement=first, reason="少计一台云主机")
        second = _statement(bt, 2026, 3, version=2, submitted=at(2026, 4, 9, 9))
        statement_submitted.send(
            sender=Statement, statement=second, due=date(2026, 4, 8), late=False
        )
        statement_found_wrong.send(sender=Statement, statement=second, reason="又算错了")
        (deliverable,) = Deliverable.objects.filter(kind=DeliverableKind.STATEMENT)
        assert not deliverable.is_late()  # the month's first submission was in time
        assert deliverable.found_wrong_reason == "少计一台云主机"
        with time_machine.travel(at(2026, 4, 20, 10), tick=False):
            area = _deliverables_area(bt, 2025)
        assert [d["ref"] for d in area["deductions"]] == [f"nonconforming:{deliverable.pk}"]
        assert area["points"] == "9"

    def test_an_on_time_statement_costs_nothing(self, bt):
        on_time = _statement(bt, 2026, 3, submitted=at(2026, 4, 8, 17))
        statement_submitted.send(
            sender=Statement, statement=on_time, due=date(2026, 4, 8), late=False
        )
        with time_machine.travel(at(2026, 4, 20, 10), tick=False):
            area = _deliverables_area(bt, 2025)
        assert area["deductions"] == []
        # A statement deliverable is confirmed in billing: it blocks no finalisation.
        assert scorecard._pending(bt.contract, 2025) == []

    def test_lateness_is_the_months_first_submission_even_if_heard_of_later(self, bt):
        # Version 1 was submitted late before anyone listened; version 2 (on the day of the
        # signal) is what the first signal carries.
        _statement(bt, 2026, 3, submitted=at(2026, 4, 10, 9))
        second = _statement(bt, 2026, 3, version=2, submitted=at(2026, 4, 14, 9))
        deliverable = statement_deliverable_submitted(
            statement=second, due=date(2026, 4, 8), late=True
        )
        assert deliverable.first_submitted_at == at(2026, 4, 10, 9)
        assert deliverable.is_late()

    def test_nothing_is_recorded_where_statements_are_no_deliverables(self, jz):
        statement = _statement(jz, 2026, 7, submitted=at(2026, 8, 20, 9))
        statement_submitted.send(sender=Statement, statement=statement, due=None, late=True)
        statement_found_wrong.send(sender=Statement, statement=statement, reason="错")
        assert not Deliverable.objects.exists()
        assert statement_deliverable_submitted(statement=statement, late=True) is None

    def test_statement_deliverables_are_neither_created_nor_reviewed_by_hand(self, bt):
        late = _statement(bt, 2026, 3, submitted=at(2026, 4, 10, 9))
        deliverable = statement_deliverable_submitted(
            statement=late, due=date(2026, 4, 8), late=True
        )
        assert not actions.deliverable_available_actions(user=bt.users["bureau"], obj=deliverable)
        assert not actions.deliverable_available_actions(user=bt.users["vendor"], obj=deliverable)

        with pytest.raises(ApplicationError):
            deliverable_create(
                actor=bt.users["bureau"],
                contract=bt.contract,
                kind=DeliverableKind.STATEMENT,
                period_month=date(2026, 4, 1),
            )

    @pytest.mark.usefixtures("statement_pdfs_fast")
    def test_a_late_statement_submitted_through_billing_is_a_late_deliverable(
        self, bt, django_capture_on_commit_callbacks
    ):
        """End to end: billing's ``statement_submit`` sends ``statement_submitted`` on commit."""
        from billing.services.statements import (
            statement_dispute,
            statement_generate,
            statement_submit,
        )
        from tests.billing.conftest import add_resource, ensure_signing_key, password
        from tests.billing.conftest import signing_passphrase as passphrase_of

        vendor = bt.users["vendor"]
        ensure_signing_key(*(p.organization for p in bt.contract.parties.all()))
        add_resource(bt.contract, bt.orgs["department"], "ebs.ssd", 500, at(2026, 1, 5, 9))
        with time_machine.travel(at(2026, 4, 20, 10), tick=False):  # due 2026-04-08
            with django_capture_on_commit_callbacks(execute=True):
                generated = statement_generate(
                    actor=vendor, contract=bt.contract, year=2026, month=3
                )
            with django_capture_on_commit_callbacks(execute=True):
                statement_submit(
                    actor=vendor,
                    statement=generated,
                    reauth=password(),
                    signing_passphrase=passphrase_of(vendor),
                )
            deliverable = Deliverable.objects.get(
                contract=bt.contract, kind=DeliverableKind.STATEMENT, period_month=date(2026, 3, 1)
            )
            assert deliverable.is_late()
            assert deliverable.statement_id == generated.pk

            # The bureau disputes, the vendor answers with corrected figures: found wrong, once.
            add_resource(bt.contract, bt.orgs["department"], "ebs.ssd", 100, at(2026, 1, 5, 9))
            statement_dispute(
                actor=bt.users["bureau"],
                statement=generated,
                reauth=password(),
                comment="漏计一块云硬盘",
            )
            with django_capture_on_commit_callbacks(execute=True):
                corrected = statement_generate(
                    actor=vendor, contract=bt.contract, year=2026, month=3
                )
            with django_capture_on_commit_callbacks(execute=True):
                statement_submit(
                    actor=vendor,
                    statement=corrected,
                    reauth=password(),
                    signing_passphrase=passphrase_of(vendor),
                )
            deliverable.refresh_from_db()
            assert deliverable.found_wrong_at is not None
            assert deliverable.statement_id == corrected.pk
            area = _deliverables_area(bt, 2025)
        assert Deliverable.objects.filter(kind=DeliverableKind.STATEMENT).count() == 1
        assert sorted(d["ref"].split(":")[0] for d in area["deductions"]) == [
            "deliverable",
            "nonconforming",
        ]
        assert area["points"] == "8"


# ---------------------------------------------------------------- the utilization rule


class TestUtilizationRule:
    def _low_usage(self, world: World) -> None:
        res = resource(world.contract, world.orgs["department"], vcpu_item(world.contract), 8)
        samples(res, date(2026, 2, 1), 20, cpu="35", mem="60")

    def test_a_contract_with_threshold_40_and_charge_10_is_charged_10_percent(self, world):
        world.contract.utilization_threshold_pct = 40
        world.contract.utilization_charge_pct = Decimal("10")
        world.contract.estimated_amount = Decimal("365000.00")
        world.contract.save()
        self._low_usage(world)
        with time_machine.travel(at(2026, 7, 15, 10), tick=False):
            data = scorecard.scorecard_compute(contract=world.contract, year=2026)
        area = next(a for a in data["areas"] if a["code"] == "utilization")
        (money,) = area["money"]
        assert Decimal(money["amount"]) == Decimal(data["annual_fee"]) * Decimal("0.10")
        assert "低于40%" in money["reason"]
        assert "10%" in money["reason"]
        assert money["term"] == "utilization_charge_pct"
        assert "低于40%" in area["rule"]
        assert "10%" in area["rule"]
        assert {t["key"] for t in area["terms"]} == {
            "utilization_threshold_pct",
            "utilization_charge_pct",
        }

    def test_the_same_usage_is_no_breach_at_bt_s_30_percent(self, world):
        self._low_usage(world)
        with time_machine.travel(at(2026, 7, 15, 10), tick=False):
            data = scorecard.scorecard_compute(contract=world.contract, year=2026)
        area = next(a for a in data["areas"] if a["code"] == "utilization")
        assert area["money"] == []

    def test_no_charge_where_the_contract_sets_no_rule(self, world):
        world.contract.utilization_charge_pct = None
        world.contract.save()
        self._low_usage(world)
        with time_machine.travel(at(2026, 7, 15, 10), tick=False):
            data = scorecard.scorecard_compute(contract=world.contract, year=2026)
            page = verified_client(world.users["bureau"]).get(
                reverse("sla_utilization", args=[world.contract.pk]) + "?month=2026-02"
            )
        area = next(a for a in data["areas"] if a["code"] == "utilization")
        assert area["money"] == []
        assert "扣除乙方年度服务费" not in page.content.decode()

    def test_the_utilization_page_cites_the_terms(self, world):
        self._low_usage(world)
        with time_machine.travel(at(2026, 7, 15, 10), tick=False):
            page = verified_client(world.users["bureau"]).get(
                reverse("sla_utilization", args=[world.contract.pk]) + "?month=2026-02"
            )
        html = page.content.decode()
        assert "#term-utilization_threshold_pct" in html
        assert "#term-utilization_charge_pct" in html


# ---------------------------------------------------------------- every deduction cites its term


class TestScorecardCitesTheTerms:
    def test_each_area_shows_its_rule_and_clauses_on_the_page(self, bt):
        with time_machine.travel(at(2026, 3, 9, 10), tick=False):
            response = verified_client(bt.users["bureau"]).get(
                reverse("sla_scorecard", args=[bt.contract.pk, 2025])
            )
        html = response.content.decode()
        terms = reverse("contract_terms", args=[bt.contract.pk])
        for key in (
            "scorecard",
            "delivery_working_days",
            "utilization_threshold_pct",
            "utilization_charge_pct",
            "improvement_working_days",
            "maintenance_approvers",
            "statement_is_deliverable",
        ):
            assert f"{terms}#term-{key}" in html, key
        assert "〔附件2 7.3〕" in html
        assert "扣除年度服务费用的20%" in html  # the utilization rule, from the terms
        assert "10个工作日内未完成整改" in html

    def test_the_pdf_shows_the_clause_text_next_to_each_rule(self, bt):
        with time_machine.travel(at(2026, 3, 9, 10), tick=False):
            card = scorecard.scorecard_for(contract=bt.contract, year=2025)
            data = scorecard_view_model(scorecard.scorecard_data(card))
        html = render_to_string(
            "reports/sla_scorecard.html",
            {**data, "scorecard": card, "report_title": "t", "report_subtitle": "s"},
        )
        assert "〔附件2 §9〕" in html
        assert "接到甲方确认的监理方、审计方提出的问题整改通知后的10个工作日内完成整改" in html
        assert "〔附件2 7.3〕" in html

    def test_money_deductions_carry_their_clause(self, bt):
        with time_machine.travel(at(2026, 3, 9, 10), tick=False):
            penalty = penalties.penalty_record(
                actor=bt.users["supervisor"],
                contract=bt.contract,
                occurred_on=date(2026, 1, 15),
                reason="未经批准更换驻场负责人",
                clause="附件3 五",
                amount=Decimal("10000.00"),
            )
            penalties.penalty_acknowledge(actor=bt.users["vendor"], penalty=penalty)
            data = scorecard.scorecard_compute(contract=bt.contract, year=2025)
        (money,) = [m for m in data["money"] if m["kind"] == "penalty"]
        assert money["clause"] == "附件2"
        assert money["term"] == "scorecard"


def test_contract_terms_command_agrees_with_what_the_sla_reads(jz, capsys):
    """The regime the SLA applies to JZ is the one its terms print."""
    call_command("contract_terms", "JZ-2026", "--json")
    terms = json.loads(capsys.readouterr().out)
    assert terms["scorecard"] is None
    assert terms["maintenance_notice_hours"] == 72
    assert terms["maintenance_approvers"] is None
    assert terms["improvement_working_days"] == 15
    assert terms["utilization_threshold_pct"] is None
