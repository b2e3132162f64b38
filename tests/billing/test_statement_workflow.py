"""The statement workflow: generate, submit, confirm or dispute, versions, signing, bills,
immutability, re-authentication and the parties' rights (DESIGN §4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django_otp.oath import totp

from billing.models import (
    DepartmentBill,
    DisputeComment,
    ImmutableRecordError,
    Resource,
    SignoffAction,
    Statement,
    StatementLine,
    StatementSignoff,
    StatementStatus,
)
from billing.services.engine import compute_statement
from billing.services.reauth import Reauth, ReauthFailed
from billing.services.statements import (
    statement_available_actions,
    statement_comment,
    statement_confirm,
    statement_dispute,
    statement_due_date,
    statement_generate,
    statement_submit,
    statement_supersede,
)
from billing.signals import statement_signed, statement_signoff_recorded
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.models import AuditEvent, Organization, Role
from tests.billing.conftest import add_resource, password, sh, signing_passphrase
from tests.factories import UserFactory, make_totp

SIGNED = StatementStatus.SIGNED


def bt_inventory(bt) -> None:
    """March 2026 on BT-2025: DESIGN's example in one department, a disk in another."""
    other = Organization.objects.create(
        name="包头市公安局", kind="department", parent=bt.contract.bureau
    )
    add_resource(bt.contract, bt.department, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15))
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 1, 5, 9))
    add_resource(bt.contract, other, "ebs.ssd", 333, sh(2026, 1, 5, 9), system="天网")


def sign_all(parties, statement: Statement) -> Statement:
    statement_submit(
        actor=parties.users["vendor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(parties.users["vendor"]),
    )
    for role in ("bureau", "supervisor"):
        if role in parties.users:
            statement_confirm(
                actor=parties.users[role],
                statement=statement,
                reauth=password(),
                signing_passphrase=signing_passphrase(parties.users[role]),
            )
    statement.refresh_from_db()
    return statement


@pytest.fixture
def signals_received():
    received: list[tuple[str, object]] = []

    def on_signoff(sender, statement, signoff, **kwargs):
        received.append(("signoff", signoff.party.role))

    def on_signed(sender, statement, **kwargs):
        received.append(("signed", statement.pk))

    statement_signoff_recorded.connect(on_signoff, dispatch_uid="test-signoff")
    statement_signed.connect(on_signed, dispatch_uid="test-signed")
    yield received
    statement_signoff_recorded.disconnect(dispatch_uid="test-signoff")
    statement_signed.disconnect(dispatch_uid="test-signed")


# ------------------------------------------------------------------------ the full flows


def test_baotou_dispute_new_version_and_sign_off_by_every_party(
    bt, signals_received, django_capture_on_commit_callbacks
):
    bt_inventory(bt)
    vendor, bureau, supervisor = bt.users["vendor"], bt.users["bureau"], bt.users["supervisor"]

    # The vendor generates version 1 from the inventory: the engine's figures, due 04-08
    v1 = statement_generate(actor=vendor, contract=bt.contract, year=2026, month=3)
    computed = compute_statement(bt.contract, 2026, 3)
    assert (v1.version, v1.status, v1.total) == (1, StatementStatus.DRAFT, computed.total)
    assert v1.lines.count() == len(computed.lines) == 3
    assert (v1.due_date, v1.due_provisional) == (date(2026, 4, 8), False)

    statement_submit(
        actor=vendor, statement=v1, reauth=password(), signing_passphrase=signing_passphrase(vendor)
    )
    v1.refresh_from_db()
    assert v1.status == StatementStatus.SUBMITTED
    assert v1.is_late  # submitted (today, in the test run) after 2026-04-08

    # Sign-off order: the supervisor waits for the bureau
    with pytest.raises(InvalidTransition, match="先行签认"):
        statement_confirm(
            actor=supervisor,
            statement=v1,
            reauth=password(),
            signing_passphrase=signing_passphrase(supervisor),
        )

    # The bureau disputes one line
    vcpu_line = v1.lines.get(item_code="ecs.general.vcpu")
    statement_dispute(
        actor=bureau,
        statement=v1,
        reauth=password(),
        comment="该云主机3月12日才交付。",
        line_ids=[vcpu_line.pk],
    )
    v1.refresh_from_db()
    assert v1.status == StatementStatus.DISPUTED
    assert DisputeComment.objects.get(statement=v1).line == vcpu_line
    v1_lines = list(v1.lines.values_list("amount", flat=True))

    # The vendor corrects the inventory and answers with version 2
    Resource.objects.filter(catalog_item__code="ecs.general.vcpu").update(
        online_at=sh(2026, 3, 12, 9), billing_starts_at=sh(2026, 3, 12, 9)
    )
    v2 = statement_generate(actor=vendor, contract=bt.contract, year=2026, month=3)
    assert (v2.version, v2.status, v2.due_date) == (2, StatementStatus.DRAFT, v1.due_date)
    assert v2.total < v1.total
    v1.refresh_from_db()
    assert v1.status == StatementStatus.DISPUTED  # kept, readable, unchanged
    assert list(v1.lines.values_list("amount", flat=True)) == v1_lines

    # Every party confirms version 2, in order → signed
    with django_capture_on_commit_callbacks(execute=True):
        statement_submit(
            actor=vendor,
            statement=v2,
            reauth=password(),
            signing_passphrase=signing_passphrase(vendor),
        )
        statement_confirm(
            actor=bureau,
            statement=v2,
            reauth=password(),
            comment="无异议",
            signing_passphrase=signing_passphrase(bureau),
        )
        v2.refresh_from_db()
        assert v2.status == StatementStatus.SUBMITTED
        statement_confirm(
            actor=supervisor,
            statement=v2,
            reauth=password(),
            signing_passphrase=signing_passphrase(supervisor),
        )
    v2.refresh_from_db()
    assert v2.status == SIGNED
    assert v2.signed_at is not None
    assert list(v2.signoffs.values_list("party__role", "action")) == [
        ("vendor", SignoffAction.CONFIRM),
        ("bureau", SignoffAction.CONFIRM),
        ("supervisor", SignoffAction.CONFIRM),
    ]
    assert signals_received == [
        ("signoff", "vendor"),  # version 1's submission (then disputed: no signal for that)
        ("signoff", "vendor"),
        ("signoff", "bureau"),
        ("signoff", "supervisor"),
        ("signed", v2.pk),
    ]

    # Department bills add up to the statement total and VAT to the fen
    bills = list(DepartmentBill.objects.filter(statement=v2))
    assert len(bills) == 2
    assert sum(b.total for b in bills) == v2.total
    assert sum(b.vat for b in bills) == v2.vat
    assert sum(b.subtotal for b in bills) == v2.subtotal
    assert sum(b.lines_count for b in bills) == v2.lines.count()

    actions = set(
        AuditEvent.objects.filter(object_type="billing.statement").values_list("action", flat=True)
    )
    assert {
        "statement.generate",
        "statement.submit",
        "statement.dispute",
        "statement.confirm",
        "statement.sign",
    } <= actions


def test_jiaozuo_bureau_and_vendor_sign(jz, signals_received, django_capture_on_commit_callbacks):
    add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 7, 1))
    statement = statement_generate(
        actor=jz.users["vendor"], contract=jz.contract, year=2026, month=7
    )
    assert statement.total == Decimal("193.50")
    with django_capture_on_commit_callbacks(execute=True):
        statement_submit(
            actor=jz.users["vendor"],
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(jz.users["vendor"]),
        )
        statement_confirm(
            actor=jz.users["bureau"],
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(jz.users["bureau"]),
        )
    statement.refresh_from_db()
    assert statement.status == SIGNED
    assert signals_received == [
        ("signoff", "vendor"),
        ("signoff", "bureau"),
        ("signed", statement.pk),
    ]
    (bill,) = DepartmentBill.objects.filter(statement=statement)
    assert (bill.subtotal, bill.total) == (Decimal("193.64"), Decimal("193.50"))


def test_generating_again_recomputes_the_draft_in_place(bt):
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 1, 5, 9))
    first = statement_generate(actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3)
    add_resource(bt.contract, bt.department, "ebs.ssd", 100, sh(2026, 1, 5, 9))
    again = statement_generate(actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3)
    assert (again.pk, again.version) == (first.pk, 1)
    assert again.lines.count() == 2
    assert again.subtotal == Decimal("270.00")


def test_generation_needs_a_finished_month_in_the_billing_window(bt):
    vendor = bt.users["vendor"]
    with (
        time_machine.travel(sh(2026, 3, 31, 23, 59), tick=False),
        pytest.raises(ApplicationError, match="尚未结束"),
    ):
        statement_generate(actor=vendor, contract=bt.contract, year=2026, month=3)
    with pytest.raises(ApplicationError, match="不在合同计费期内"):
        statement_generate(actor=vendor, contract=bt.contract, year=2026, month=7)
    with pytest.raises(ApplicationError, match="不在合同计费期内"):
        statement_generate(actor=vendor, contract=bt.contract, year=2025, month=5)


def test_due_date_is_the_fifth_working_day_and_provisional_without_calendar(bt, jz):
    # BT-2025 5.1.5: "每月前5个工作日内" → statement_due_working_day = 5.
    contract = bt.contract
    assert statement_due_date(contract, 2026, 3) == (date(2026, 4, 8), False)  # 清明 04-04…04-06
    assert statement_due_date(contract, 2026, 9) == (date(2026, 10, 13), False)  # 10-10 make-up
    due, provisional = statement_due_date(contract, 2027, 6)  # 2027 not loaded
    assert (due, provisional) == (date(2027, 7, 7), True)
    # JZ-2026 sets no due day: no due date at all.
    assert statement_due_date(jz.contract, 2026, 7) == (None, False)


# ------------------------------------------------------------------------- who may do what


def test_only_the_signing_vendor_generates_and_submits(jz):
    with pytest.raises(ActionForbidden):
        statement_generate(actor=jz.users["bureau"], contract=jz.contract, year=2026, month=7)
    partner = jz.contract.parties.get(is_lead=False).organization  # consortium member
    with pytest.raises(ActionForbidden):
        statement_generate(
            actor=UserFactory(organization=partner), contract=jz.contract, year=2026, month=7
        )
    statement = statement_generate(
        actor=jz.users["vendor"], contract=jz.contract, year=2026, month=7
    )
    with pytest.raises(ActionForbidden):
        statement_submit(
            actor=jz.users["bureau"],
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(jz.users["bureau"]),
        )


def test_others_cannot_confirm(bt):
    bt_inventory(bt)
    statement = statement_generate(
        actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
    )
    statement_submit(
        actor=bt.users["vendor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(bt.users["vendor"]),
    )
    admin = UserFactory(organization=bt.contract.bureau, role=Role.SYSTEM_ADMIN)
    for actor in (
        bt.users["vendor"],
        bt.users["auditor"],
        UserFactory(organization=bt.department),
        admin,
    ):
        with pytest.raises(ActionForbidden):
            statement_confirm(
                actor=actor,
                statement=statement,
                reauth=password(),
                signing_passphrase=signing_passphrase(actor),
            )
    assert statement.signoffs.count() == 1  # the vendor's own


def test_a_confirmed_party_can_neither_confirm_nor_dispute_again(bt):
    bt_inventory(bt)
    statement = statement_generate(
        actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
    )
    statement_submit(
        actor=bt.users["vendor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(bt.users["vendor"]),
    )
    statement_confirm(
        actor=bt.users["bureau"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(bt.users["bureau"]),
    )
    with pytest.raises(InvalidTransition):
        statement_confirm(
            actor=bt.users["bureau"],
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(bt.users["bureau"]),
        )
    with pytest.raises(InvalidTransition):
        statement_dispute(
            actor=bt.users["bureau"], statement=statement, reauth=password(), comment="x"
        )


def test_the_supervisor_may_dispute_before_the_bureau_confirms(bt):
    bt_inventory(bt)
    statement = statement_generate(
        actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
    )
    statement_submit(
        actor=bt.users["vendor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(bt.users["vendor"]),
    )
    statement_dispute(
        actor=bt.users["supervisor"], statement=statement, reauth=password(), comment="数量不符"
    )
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DISPUTED


def test_dispute_needs_a_comment_and_lines_of_the_statement(bt, jz):
    bt_inventory(bt)
    add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 7, 1))
    statement = statement_generate(
        actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
    )
    other = statement_generate(actor=jz.users["vendor"], contract=jz.contract, year=2026, month=7)
    statement_submit(
        actor=bt.users["vendor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(bt.users["vendor"]),
    )
    with pytest.raises(ApplicationError, match="异议意见"):
        statement_dispute(
            actor=bt.users["bureau"], statement=statement, reauth=password(), comment=" "
        )
    with pytest.raises(ApplicationError, match="不属于该统计表"):
        statement_dispute(
            actor=bt.users["bureau"],
            statement=statement,
            reauth=password(),
            comment="有误",
            line_ids=[other.lines.first().pk],
        )
    statement.refresh_from_db()
    assert statement.status == StatementStatus.SUBMITTED


def test_comments_thread(bt):
    bt_inventory(bt)
    statement = statement_generate(
        actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
    )
    with pytest.raises(InvalidTransition):
        statement_comment(actor=bt.users["bureau"], statement=statement, text="草稿")
    statement_submit(
        actor=bt.users["vendor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(bt.users["vendor"]),
    )
    line = statement.lines.first()
    statement_comment(
        actor=bt.users["auditor"], statement=statement, text="请说明", line_id=line.pk
    )
    with pytest.raises(ActionForbidden):
        statement_comment(actor=UserFactory(), statement=statement, text="外人")
    assert DisputeComment.objects.get(statement=statement).line == line


# ------------------------------------------------------------------------ re-authentication


def test_wrong_password_changes_nothing(bt):
    bt_inventory(bt)
    statement = statement_generate(
        actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
    )
    with pytest.raises(ReauthFailed, match="身份验证失败"):
        statement_submit(
            actor=bt.users["vendor"],
            statement=statement,
            reauth=Reauth("password", "wrong"),
            signing_passphrase=signing_passphrase(bt.users["vendor"]),
        )
    statement.refresh_from_db()
    assert (statement.status, statement.submitted_at) == (StatementStatus.DRAFT, None)
    assert not StatementSignoff.objects.exists()
    assert AuditEvent.objects.filter(action="statement.reauth_failed").count() == 1


@pytest.mark.parametrize(
    "reauth",
    [
        pytest.param(Reauth("totp", "000000"), id="wrong-code"),
        pytest.param(Reauth("totp", ""), id="empty"),
        pytest.param(Reauth("sms", "123456"), id="unknown-method"),
        pytest.param(None, id="missing"),
    ],
)
def test_wrong_totp_on_confirm_changes_nothing(bt, reauth):
    bt_inventory(bt)
    statement = statement_generate(
        actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
    )
    statement_submit(
        actor=bt.users["vendor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(bt.users["vendor"]),
    )
    with pytest.raises(ReauthFailed):
        statement_confirm(
            actor=bt.users["bureau"],
            statement=statement,
            reauth=reauth,
            signing_passphrase=signing_passphrase(bt.users["bureau"]),
        )
    assert statement.signoffs.count() == 1


def test_current_totp_code_is_accepted_and_recorded(jz):
    add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 7, 1))
    vendor = jz.users["vendor"]
    device = vendor.totpdevice_set.get()
    statement = statement_generate(actor=vendor, contract=jz.contract, year=2026, month=7)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    statement_submit(
        actor=vendor,
        statement=statement,
        reauth=Reauth("totp", code),
        signing_passphrase=signing_passphrase(vendor),
    )
    assert statement.signoffs.get().reauth_method == "totp"


def test_user_without_device_cannot_use_totp(jz):
    add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 7, 1))
    vendor2 = UserFactory(organization=jz.users["vendor"].organization)
    statement = statement_generate(actor=vendor2, contract=jz.contract, year=2026, month=7)
    with pytest.raises(ReauthFailed):
        statement_submit(
            actor=vendor2,
            statement=statement,
            reauth=Reauth("totp", "123456"),
            signing_passphrase=signing_passphrase(vendor2),
        )
    make_totp(vendor2)  # unconfirmed devices never count either
    vendor2.totpdevice_set.update(confirmed=False)
    with pytest.raises(ReauthFailed):
        statement_submit(
            actor=vendor2,
            statement=statement,
            reauth=Reauth("totp", "123456"),
            signing_passphrase=signing_passphrase(vendor2),
        )


# --------------------------------------------------------------------------- immutability


@pytest.fixture
def signed_statement(bt) -> Statement:
    bt_inventory(bt)
    statement = statement_generate(
        actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
    )
    return sign_all(bt, statement)


def test_signed_statement_refuses_every_service(bt, signed_statement):
    assert signed_statement.status == SIGNED
    vendor, bureau = bt.users["vendor"], bt.users["bureau"]
    with pytest.raises(InvalidTransition, match="更正"):
        statement_generate(actor=vendor, contract=bt.contract, year=2026, month=3)
    with pytest.raises(InvalidTransition):
        statement_submit(
            actor=vendor,
            statement=signed_statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(vendor),
        )
    with pytest.raises(InvalidTransition):
        statement_confirm(
            actor=bureau,
            statement=signed_statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(bureau),
        )
    with pytest.raises(InvalidTransition):
        statement_dispute(
            actor=bureau, statement=signed_statement, reauth=password(), comment="晚了"
        )
    with pytest.raises(InvalidTransition):
        statement_comment(actor=bureau, statement=signed_statement, text="晚了")


def test_signed_statement_refuses_model_writes(signed_statement):
    statement = Statement.objects.get(pk=signed_statement.pk)
    statement.total = Decimal("0.01")
    with pytest.raises(ImmutableRecordError):
        statement.save()
    with pytest.raises(ImmutableRecordError):
        statement.save(update_fields=["total"])
    statement.status = StatementStatus.SUPERSEDED  # only through statement_supersede's signing
    with pytest.raises(ImmutableRecordError):
        statement.save()
    with pytest.raises(ImmutableRecordError):
        Statement.objects.get(pk=statement.pk).delete()
    with pytest.raises(ImmutableRecordError):
        Statement.objects.filter(pk=statement.pk).update(total=Decimal("0"))
    with pytest.raises(ImmutableRecordError):
        Statement.objects.filter(pk=statement.pk).delete()

    line = StatementLine.objects.filter(statement=statement).first()
    line.amount = Decimal("0")
    with pytest.raises(ImmutableRecordError):
        line.save()
    with pytest.raises(ImmutableRecordError):
        line.delete()
    with pytest.raises(ImmutableRecordError):
        StatementLine.objects.filter(statement=statement).update(amount=Decimal("0"))
    with pytest.raises(ImmutableRecordError):
        StatementLine.objects.filter(statement=statement).delete()
    line.pk = None
    line.position = 999
    with pytest.raises(ImmutableRecordError):
        line.save()
    with pytest.raises(ImmutableRecordError):
        StatementLine.objects.bulk_create([line])

    signoff = statement.signoffs.first()
    signoff.comment = "改"
    with pytest.raises(ImmutableRecordError):
        signoff.save()
    with pytest.raises(ImmutableRecordError):
        signoff.delete()
    with pytest.raises(ImmutableRecordError):
        StatementSignoff.objects.filter(statement=statement).update(comment="改")
    with pytest.raises(ImmutableRecordError):
        DepartmentBill.objects.filter(statement=statement).update(total=Decimal("0"))

    fresh = Statement.objects.get(pk=statement.pk)
    assert (fresh.status, fresh.total) == (SIGNED, signed_statement.total)
    assert StatementLine.objects.filter(statement=statement, amount=0).count() == 0


def test_lines_freeze_at_submission(bt):
    bt_inventory(bt)
    statement = statement_generate(
        actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
    )
    StatementLine.objects.filter(statement=statement).update(service_days=Decimal("1"))  # draft
    statement_submit(
        actor=bt.users["vendor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(bt.users["vendor"]),
    )
    with pytest.raises(ImmutableRecordError):
        StatementLine.objects.filter(statement=statement).update(service_days=Decimal("2"))


def test_database_keeps_one_signed_version_per_month(signed_statement):
    twin = Statement.objects.get(pk=signed_statement.pk)
    twin.pk = None
    twin.version = 9
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


# ---------------------------------------------------------------------------- corrections


def test_correction_supersedes_the_signed_version_once_signed(bt, signed_statement):
    vendor = bt.users["vendor"]
    with pytest.raises(ApplicationError, match="更正原因"):
        statement_supersede(actor=vendor, signed_statement=signed_statement, reason="")
    with pytest.raises(ActionForbidden):
        statement_supersede(actor=bt.users["bureau"], signed_statement=signed_statement, reason="x")

    Resource.objects.filter(catalog_item__code="ebs.ssd", quantity=333).update(quantity=300)
    correction = statement_supersede(
        actor=vendor, signed_statement=signed_statement, reason="公安局存储数量录入错误"
    )
    assert (correction.version, correction.status) == (2, StatementStatus.DRAFT)
    assert correction.supersedes == signed_statement
    with pytest.raises(InvalidTransition, match="更正版本"):
        statement_supersede(actor=vendor, signed_statement=signed_statement, reason="again")

    signed_statement.refresh_from_db()
    assert signed_statement.status == SIGNED  # still the valid statement meanwhile
    correction = sign_all(bt, correction)
    signed_statement.refresh_from_db()
    assert correction.status == SIGNED
    assert signed_statement.status == StatementStatus.SUPERSEDED
    assert signed_statement.superseded_at == correction.signed_at
    assert signed_statement.lines.count() == 3  # the old version's lines are untouched
    assert DepartmentBill.objects.filter(statement=signed_statement).count() == 2
    assert not correction.is_late


# ------------------------------------------------------------------- available actions


def _actions(parties, statement: Statement) -> dict[str, frozenset[str]]:
    statement = Statement.objects.select_related("contract").get(pk=statement.pk)
    return {
        role: statement_available_actions(user=user, obj=statement)
        for role, user in parties.users.items()
    }


def test_available_actions_follow_the_workflow_for_every_party(bt):
    bt_inventory(bt)
    vendor, bureau = bt.users["vendor"], bt.users["bureau"]
    v1 = statement_generate(actor=vendor, contract=bt.contract, year=2026, month=3)
    nothing = frozenset()
    assert _actions(bt, v1) == {
        "vendor": {"regenerate", "submit"},
        "bureau": nothing,
        "supervisor": nothing,
        "auditor": nothing,
    }

    statement_submit(
        actor=vendor, statement=v1, reauth=password(), signing_passphrase=signing_passphrase(vendor)
    )
    # The bureau is next; the supervisor may only dispute until the bureau has confirmed.
    assert _actions(bt, v1) == {
        "vendor": {"comment"},
        "bureau": {"confirm", "dispute", "comment"},
        "supervisor": {"dispute", "comment"},
        "auditor": {"comment"},
    }

    statement_dispute(actor=bureau, statement=v1, reauth=password(), comment="数量不对")
    assert _actions(bt, v1)["vendor"] == {"new_version", "comment"}

    v2 = statement_generate(actor=vendor, contract=bt.contract, year=2026, month=3)
    assert _actions(bt, v1)["vendor"] == {"comment"}  # answered: only the latest moves on
    signed = sign_all(bt, v2)
    assert _actions(bt, signed) == {
        "vendor": {"supersede"},
        "bureau": nothing,
        "supervisor": nothing,
        "auditor": nothing,
    }


def test_what_is_available_is_what_the_services_allow(bt):
    """Each offered action goes through; each one not offered is refused by the service."""
    bt_inventory(bt)
    vendor, bureau, supervisor = bt.users["vendor"], bt.users["bureau"], bt.users["supervisor"]
    statement = statement_generate(actor=vendor, contract=bt.contract, year=2026, month=3)
    statement_submit(
        actor=vendor,
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(vendor),
    )
    assert "confirm" not in _actions(bt, statement)["supervisor"]
    with pytest.raises(InvalidTransition, match="先行签认"):
        statement_confirm(
            actor=supervisor,
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(supervisor),
        )
    assert "confirm" in _actions(bt, statement)["bureau"]
    statement_confirm(
        actor=bureau,
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(bureau),
    )
    assert "confirm" not in _actions(bt, statement)["bureau"]
    with pytest.raises(InvalidTransition, match="已签认"):
        statement_confirm(
            actor=bureau,
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(bureau),
        )
    admin = UserFactory(organization=bureau.organization, role=Role.SYSTEM_ADMIN)
    assert statement_available_actions(user=admin, obj=statement) == frozenset()
    with pytest.raises(ActionForbidden, match="三员分立"):
        statement_comment(actor=admin, statement=statement, text="看看")
