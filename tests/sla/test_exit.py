"""The exit (issue 12 item 7): handover plan, staff-with-access register, data return and
deletion records with the vendor's signed certificate and their confirmation.

BT-2025 (2.2, 附件4, 附件5): handover plan 30 days before 2026-06-19, a register, deletion
confirmed by bureau and supervisor. JZ-2026 (五.11): none of that; the bureau alone confirms.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from billing.contracts import load_reference_contracts
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.joint import joint_confirm, joint_for, joint_object
from govcloud.models import (
    AuditEvent,
    Contract,
    JointStatus,
    JointSubject,
    OutboxEmail,
)
from govcloud.pdf.signing import sha256_hex, trust_roots_from_settings, verify_pdf
from sla import tasks
from sla.models import (
    Deliverable,
    DeliverableKind,
    DeliverableStatus,
    ExitKind,
    ExitMethod,
    ExitStatus,
    StaffAccessEntry,
)
from sla.services import deliverables
from sla.services import exit as services
from tests.factories import UserFactory
from tests.sla.exit_builders import (
    bt_terms,
    deletion_data,
    draft_record,
    exit_system,
    jz_terms,
    signed_record,
    staff_entry,
    vendor_passphrase,
)
from tests.sla.factories import at, pdf

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_signing_keys", "december")]


@pytest.fixture
def december():
    """2026-12-20 10:00 Beijing: late in the test contracts' service year (to 2026-12-31)."""
    with time_machine.travel(at(2026, 12, 20, 10), tick=False) as traveller:
        yield traveller


@pytest.fixture
def bt(world):
    return bt_terms(world)


@pytest.fixture
def jz(world):
    return jz_terms(world)


def emails_to(address: str, key_part: str) -> list[OutboxEmail]:
    return list(OutboxEmail.objects.filter(recipient=address, key__contains=key_part))


def file_bytes(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


# ================================================================ the handover plan


class TestHandoverPlan:
    @pytest.fixture
    def reference(self, db):
        load_reference_contracts()
        return {c.code: c for c in Contract.objects.all()}

    def test_bt_2025_plan_is_due_30_days_before_the_end(self, reference):
        bt = reference["BT-2025"]
        assert bt.service_end == date(2026, 6, 19)
        assert deliverables.handover_plan_due(bt) == date(2026, 5, 20)
        bureau = UserFactory(organization=bt.bureau)

        plan = deliverables.handover_plan_ensure(contract=bt, actor=bureau)

        assert (plan.kind, plan.due_date, plan.status) == (
            DeliverableKind.HANDOVER_PLAN,
            date(2026, 5, 20),
            DeliverableStatus.PENDING,
        )
        assert plan.is_late()  # nothing submitted and 2026-05-20 is long gone
        # idempotent: the same plan, once
        assert deliverables.handover_plan_ensure(contract=bt, actor=bureau).pk == plan.pk
        assert Deliverable.objects.filter(kind=DeliverableKind.HANDOVER_PLAN).count() == 1
        assert "2.2" in services.handover_deliverables(bt)["clause"]

    def test_jz_2026_has_no_handover_plan(self, reference):
        jz = reference["JZ-2026"]
        assert deliverables.handover_plan_due(jz) is None
        bureau = UserFactory(organization=jz.bureau)
        assert deliverables.handover_plan_ensure(contract=jz) is None
        with pytest.raises(ApplicationError):
            deliverables.handover_plan_ensure(contract=jz, actor=bureau)
        assert not Deliverable.objects.filter(kind=DeliverableKind.HANDOVER_PLAN).exists()

    def test_daily_task_registers_bt_only_and_once(self, reference):
        for code in ("BT-2025", "JZ-2026"):
            UserFactory(organization=reference[code].bureau)
        first = tasks.ensure_handover_plans()
        again = tasks.ensure_handover_plans()
        plans = Deliverable.objects.filter(kind=DeliverableKind.HANDOVER_PLAN)
        assert [p.contract.code for p in plans] == ["BT-2025"]
        assert first == again == [plans.get().pk]
        assert AuditEvent.objects.filter(action="deliverable.create").count() == 1

    def test_plan_mails_the_vendor_with_the_clause(self, bt):
        plan = deliverables.handover_plan_ensure(contract=bt.contract, actor=bt.users["bureau"])
        assert plan.due_date == date(2026, 12, 1)  # 2026-12-31 − 30 days
        mail = emails_to(bt.users["vendor"].email, f"deliverable:{plan.pk}:handover-plan")
        assert mail
        assert "2026-12-01" in mail[0].subject

    def test_registered_by_hand_the_due_date_is_the_terms(self, bt):
        plan = deliverables.deliverable_create(
            actor=bt.users["bureau"],
            contract=bt.contract,
            kind=DeliverableKind.HANDOVER_PLAN,
            title="随便",
            due_date=date(2027, 1, 1),
        )
        assert plan.due_date == date(2026, 12, 1)

    def test_reviewed_through_the_deliverable_workflow(self, bt):
        plan = deliverables.handover_plan_ensure(contract=bt.contract, actor=bt.users["bureau"])
        deliverables.deliverable_submit(
            actor=bt.users["vendor"], deliverable=plan, document=pdf("plan.pdf")
        )
        deliverables.deliverable_review(
            actor=bt.users["bureau"], deliverable=plan, accept=False, reason="缺少回退方案"
        )
        plan.refresh_from_db()
        assert plan.status == DeliverableStatus.REJECTED
        assert plan.is_late()  # first submitted 2026-12-20, due 2026-12-01

    def test_vendor_cannot_register_it_on_the_exit_page(self, bt):
        assert "handover_plan_create" not in services.exit_contract_actions(
            user=bt.users["vendor"], contract=bt.contract
        )
        assert "handover_plan_create" in services.exit_contract_actions(
            user=bt.users["bureau"], contract=bt.contract
        )


# ================================================================ the staff register


class TestStaffRegister:
    def test_no_register_where_the_terms_ask_none(self, jz):
        with pytest.raises(services.NoStaffRegister):
            services.staff_entry_create(
                actor=jz.users["vendor"],
                contract=jz.contract,
                data=services.StaffEntryData(
                    person_name="王五",
                    employer="浪潮",
                    duty="operations",
                    access_scope="运维",
                    access_from=date(2026, 2, 1),
                    undertaking_signed_on=date(2026, 1, 1),
                ),
                undertaking_file=None,
            )
        assert not StaffAccessEntry.objects.exists()
        assert services.exit_contract_actions(user=jz.users["vendor"], contract=jz.contract) == {
            "record_create"
        }

    def test_only_the_vendor_registers(self, bt):
        with pytest.raises(ActionForbidden):
            services.staff_entry_create(
                actor=bt.users["bureau"],
                contract=bt.contract,
                data=services.StaffEntryData(
                    person_name="王五",
                    employer="电信",
                    duty="operations",
                    access_scope="运维",
                    access_from=date(2026, 2, 1),
                    undertaking_signed_on=date(2026, 1, 1),
                ),
                undertaking_file=None,
            )

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            pytest.param(
                {"undertaking_signed_on": date(2026, 2, 2)},
                "undertaking_signed_on",
                id="undertaking-after-access",
            ),
            pytest.param({"person_name": " "}, "person_name", id="no-name"),
            pytest.param({"duty": "cook"}, "duty", id="unknown-duty"),
            pytest.param({"access_from": None}, "access_from", id="no-start"),
        ],
    )
    def test_entry_is_checked(self, bt, overrides, field):
        with pytest.raises(ApplicationError) as refused:
            staff_entry(bt, **overrides)
        assert refused.value.extra["field"] == field

    def test_the_undertaking_file_is_required(self, bt):
        with pytest.raises(ApplicationError) as refused:
            services.staff_entry_create(
                actor=bt.users["vendor"],
                contract=bt.contract,
                data=services.StaffEntryData(
                    person_name="王五",
                    employer="电信",
                    duty="supply_chain",
                    access_scope="备件更换",
                    access_from=date(2026, 2, 1),
                    undertaking_signed_on=date(2026, 1, 1),
                ),
                undertaking_file=None,
            )
        assert refused.value.extra["field"] == "undertaking_file"

    def test_submitted_as_a_deliverable_and_filed_by_the_bureau(self, bt):
        ops = staff_entry(bt)
        supplier = staff_entry(bt, person_name="赵六", duty="supply_chain", employer="某服务器厂商")
        register = services.staff_register_submit(actor=bt.users["vendor"], contract=bt.contract)

        assert (register.kind, register.status, register.due_date) == (
            DeliverableKind.STAFF_REGISTER,
            DeliverableStatus.SUBMITTED,
            date(2026, 12, 20),
        )
        assert not register.is_late()
        document = register.submissions.get().document
        assert file_bytes(document).startswith(b"%PDF")
        ops.refresh_from_db()
        assert services.entry_filing(ops)[0] == "submitted"
        # a second submission waits for the bureau's review
        with pytest.raises(InvalidTransition):
            services.staff_register_submit(actor=bt.users["vendor"], contract=bt.contract)

        deliverables.deliverable_review(actor=bt.users["bureau"], deliverable=register, accept=True)
        supplier.refresh_from_db()
        assert services.entry_filing(supplier) == ("accepted", "已备案")

        # a change waits for the next submission
        services.staff_entry_update(
            actor=bt.users["vendor"],
            entry=supplier,
            data=services.StaffEntryData(
                person_name="赵六",
                employer="某服务器厂商",
                duty="supply_chain",
                access_scope="备件更换（机房陪同）",
                access_from=date(2026, 2, 1),
                undertaking_signed_on=date(2026, 1, 20),
            ),
        )
        supplier.refresh_from_db()
        assert services.entry_filing(supplier)[0] == "pending"

    def test_removal_ends_the_entry_on_the_revocation_date(self, bt):
        entry = staff_entry(bt)
        services.staff_entry_end(
            actor=bt.users["bureau"], entry=entry, ended_on=date(2026, 12, 18), reason="调离项目"
        )
        entry.refresh_from_db()
        assert entry.access_to == date(2026, 12, 18)
        assert not entry.is_active(date(2026, 12, 20))
        assert entry.is_active(date(2026, 12, 18))
        assert services.staff_available_actions(user=bt.users["vendor"], obj=entry) == frozenset()
        assert emails_to(bt.users["vendor"].email, f"staff:{entry.pk}:ended")
        with pytest.raises(InvalidTransition):
            services.staff_entry_end(
                actor=bt.users["vendor"], entry=entry, ended_on=date(2026, 12, 19)
            )

    def test_revocation_cannot_precede_the_access_or_be_in_the_future(self, bt):
        entry = staff_entry(bt)
        for day in (date(2026, 1, 31), date(2026, 12, 21)):
            with pytest.raises(ApplicationError):
                services.staff_entry_end(actor=bt.users["vendor"], entry=entry, ended_on=day)


# ================================================================ return and deletion records


class TestRecordRules:
    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            pytest.param(
                {"method": ExitMethod.TRANSFER}, "method", id="return-method-for-deletion"
            ),
            pytest.param({"method": ""}, "method", id="no-method"),
            pytest.param({"performed_on": None}, "performed_on", id="no-date"),
            pytest.param({"performed_on": date(2026, 12, 21)}, "performed_on", id="future"),
            pytest.param(
                {"scope_data": False, "scope_backups": False}, "scope_data", id="no-scope"
            ),
            pytest.param({"scope_backups": False}, "scope_backups", id="backups-left"),
            pytest.param({"authorisation_ref": ""}, "authorisation_ref", id="no-authorisation"),
            pytest.param({"scope_media": True}, "media_method", id="media-without-method"),
            pytest.param(
                {"scope_media": True, "media_method": "destroy", "witnesses": ()},
                "witnesses",
                id="media-without-witness",
            ),
            pytest.param({"witnesses": (("mayor", "某"),)}, "witnesses", id="unknown-party"),
            pytest.param({"scope_note": ""}, "scope_note", id="no-scope-note"),
        ],
    )
    def test_deletion_record_needs_method_date_scope(self, jz, overrides, field):
        with pytest.raises(ApplicationError) as refused:
            draft_record(jz, **overrides)
        assert refused.value.extra["field"] == field

    def test_a_return_lists_the_handover_and_needs_no_authorisation(self, jz):
        record = draft_record(
            jz,
            kind=ExitKind.RETURN,
            method=ExitMethod.MEDIA_HANDOVER,
            scope_backups=False,
            authorisation_ref="",
            scope_note="移交数据清单：业务库全量导出、归档数据、运行日志",
        )
        assert (record.kind, record.status) == (ExitKind.RETURN, ExitStatus.DRAFT)

    def test_only_the_vendor_records_and_only_for_the_contracts_systems(self, jz, foreign):
        with pytest.raises(ActionForbidden):
            services.exit_record_create(
                actor=jz.users["bureau"],
                contract=jz.contract,
                system=exit_system(jz),
                data=deletion_data(),
            )
        with pytest.raises(ApplicationError) as refused:
            services.exit_record_create(
                actor=jz.users["vendor"],
                contract=jz.contract,
                system=exit_system(foreign),
                data=deletion_data(),
            )
        assert refused.value.extra["field"] == "system"


class TestCertificate:
    def test_wrong_passphrase_changes_nothing(self, jz):
        record = draft_record(jz)
        vendor_passphrase(jz)
        with pytest.raises(services.SigningKeyRefused):
            services.exit_record_sign(
                actor=jz.users["vendor"], record=record, signing_passphrase="guess"
            )
        record.refresh_from_db()
        assert (record.status, record.round, bool(record.certificate)) == (
            ExitStatus.DRAFT,
            0,
            False,
        )
        assert AuditEvent.objects.filter(action="exit_record.signing_key_refused").exists()

    def test_certificate_is_a_pdf_signed_by_the_vendor(self, jz):
        record = signed_record(jz)
        assert (record.status, record.round) == (ExitStatus.SUBMITTED, 1)
        pdf = file_bytes(record.certificate)
        assert record.certificate_sha256 == sha256_hex(pdf)
        reports = verify_pdf(pdf, trust_roots=trust_roots_from_settings())
        assert len(reports) == 1
        signature = reports[0]
        assert signature.ok
        assert signature.field_name == "vendor"
        assert signature.signer_organization == jz.orgs["vendor"].name

    def test_only_the_vendor_signs(self, jz):
        record = draft_record(jz)
        with pytest.raises(ActionForbidden):
            services.exit_record_sign(
                actor=jz.users["bureau"], record=record, signing_passphrase="x"
            )


class TestConfirmation:
    def test_bt_needs_bureau_and_supervisor(self, bt):
        record = signed_record(bt)
        confirmation = joint_for(record, JointSubject.DATA_DELETION)
        assert confirmation.required_roles == ["bureau", "supervisor"]
        # the bureau alone cannot confirm it outside the joint confirmation
        with pytest.raises(ActionForbidden):
            services.exit_record_confirm(actor=bt.users["bureau"], record=record)

        joint_confirm(actor=bt.users["bureau"], confirmation=confirmation)
        record.refresh_from_db()
        assert record.status == ExitStatus.SUBMITTED
        joint_confirm(actor=bt.users["supervisor"], confirmation=confirmation)
        record.refresh_from_db()
        assert (record.status, record.confirmed_by) == (
            ExitStatus.CONFIRMED,
            bt.users["supervisor"],
        )

    def test_jz_bureau_alone_confirms(self, jz):
        record = signed_record(jz)
        assert joint_for(record, JointSubject.DATA_DELETION) is None
        with pytest.raises(ActionForbidden):
            services.exit_record_confirm(actor=jz.users["supervisor"], record=record)
        services.exit_record_confirm(actor=jz.users["bureau"], record=record)
        record.refresh_from_db()
        assert (record.status, record.confirmed_by) == (ExitStatus.CONFIRMED, jz.users["bureau"])
        with pytest.raises(InvalidTransition):
            services.exit_record_confirm(actor=jz.users["bureau"], record=record)

    def test_emails_go_to_the_confirming_parties_and_the_department(self, bt):
        department_user = bt.users["department"]
        record = signed_record(bt)
        key = f"exit:{record.pk}:signed:1"
        for who in ("bureau", "supervisor", "department"):
            mails = emails_to(bt.users[who].email, key)
            assert mails, who
            assert mails[0].attachments[0]["path"] == record.certificate.name
        assert not emails_to(bt.users["auditor"].email, key)
        confirmation = joint_for(record, JointSubject.DATA_DELETION)
        joint_confirm(actor=bt.users["bureau"], confirmation=confirmation)
        joint_confirm(actor=bt.users["supervisor"], confirmation=confirmation)
        assert emails_to(department_user.email, f"exit:{record.pk}:confirmed")
        assert emails_to(bt.users["vendor"].email, f"exit:{record.pk}:confirmed")

    def test_jz_objection_needs_a_reason_and_the_vendor_signs_again(self, jz):
        record = signed_record(jz)
        with pytest.raises(ApplicationError):
            services.exit_record_object(actor=jz.users["bureau"], record=record, reason=" ")
        services.exit_record_object(
            actor=jz.users["bureau"], record=record, reason="未提供覆盖写工具的执行日志"
        )
        record.refresh_from_db()
        assert (record.status, record.objection) == (
            ExitStatus.OBJECTED,
            "未提供覆盖写工具的执行日志",
        )
        assert emails_to(jz.users["vendor"].email, f"exit:{record.pk}:objected")

        record = services.exit_record_update(
            actor=jz.users["vendor"],
            record=record,
            data=deletion_data(method_detail="附覆盖写工具执行日志（3遍随机数据）"),
        )
        assert record.status == ExitStatus.DRAFT
        record = services.exit_record_sign(
            actor=jz.users["vendor"], record=record, signing_passphrase=vendor_passphrase(jz)
        )
        assert (record.status, record.round) == (ExitStatus.SUBMITTED, 2)
        assert record.certificate.name.endswith("-r2.pdf")

    def test_bt_objection_by_the_supervisor_restarts_the_round(self, bt):
        record = signed_record(bt)
        confirmation = joint_for(record, JointSubject.DATA_DELETION)
        joint_confirm(actor=bt.users["bureau"], confirmation=confirmation)
        joint_object(
            actor=bt.users["supervisor"], confirmation=confirmation, reason="未见介质销毁记录"
        )
        record.refresh_from_db()
        assert (record.status, record.objection) == (ExitStatus.OBJECTED, "未见介质销毁记录")
        assert record.objected_by == bt.users["supervisor"]

        services.exit_record_sign(
            actor=bt.users["vendor"], record=record, signing_passphrase=vendor_passphrase(bt)
        )
        confirmation.refresh_from_db()
        assert (confirmation.status, confirmation.round) == (JointStatus.OPEN, 2)

    def test_a_confirmed_record_cannot_change(self, jz):
        record = signed_record(jz)
        services.exit_record_confirm(actor=jz.users["bureau"], record=record)
        assert (
            services.exit_record_available_actions(user=jz.users["vendor"], obj=record)
            == frozenset()
        )
        with pytest.raises(InvalidTransition):
            services.exit_record_update(
                actor=jz.users["vendor"], record=record, data=deletion_data()
            )
