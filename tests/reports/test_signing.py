"""The statement PDF: rendered when generated, one PAdES signature per sign-off applied inside
that sign-off with the signing party's own key, opened with the passphrase its signer typed
(DESIGN §7; issue "Trust boundaries", item 2)."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from celery import current_app
from django.core.management import call_command
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from billing.models import EscalationDecision, StatementDocument, StatementSignoff, StatementStatus
from billing.services.reauth import Reauth, SigningKeyRefused, SigningKeyUnavailable
from billing.services.statements import (
    DocumentNotReady,
    statement_confirm,
    statement_decide_escalation,
    statement_dispute,
    statement_escalate_overdue_disputes,
    statement_generate,
    statement_submit,
)
from billing.tasks import (
    department_bill_pdfs,
    settlement_pdf,
    statement_pdf_email,
    statement_pdf_render,
    statement_pdf_resume,
)
from govcloud.models import AuditEvent, OutboxEmail, PartyRole, User
from govcloud.pdf.signing import (
    demo_signing_passphrase,
    sha256_hex,
    trust_roots_from_settings,
    verify_pdf,
)
from tests.api_clients import person_api
from tests.billing.conftest import password, signing_passphrase
from tests.factories import make_totp
from tests.reports.conftest import document, draw_over_first_page, file_bytes, generate, sign_off

BT_SIGNING_ORDER = ["sig-2-vendor", "sig-1-bureau", "sig-3-supervisor"]


def org_name(world, role: str) -> str:
    return next(p.organization.name for p in world.contract.parties.all() if p.role == role)


def org_of(world, role: str):
    return next(p.organization for p in world.contract.parties.all() if p.role == role)


def reports_of(pdf: bytes):
    return verify_pdf(pdf, trust_roots=trust_roots_from_settings())


def field_names(pdf: bytes) -> list[str]:
    reader = PdfFileReader(BytesIO(pdf))
    return [name for name, _value, _ref in enumerate_sig_fields(reader)]


def snapshot(statement) -> tuple:
    """Everything a refused sign-off must leave as it was."""
    statement.refresh_from_db()
    doc = document(statement)
    return (
        statement.status,
        statement.signed_at,
        list(statement.signoffs.values_list("pk", flat=True)),
        doc.file.name,
        list(doc.signed_fields),
        file_bytes(doc),
    )


# ------------------------------------------------------------------------ the signed PDF


def test_each_party_signs_once_in_signoff_order_and_every_signature_holds(signed_bt):
    world, statement = signed_bt
    doc = document(statement)
    pdf = file_bytes(doc)

    reports = reports_of(pdf)

    # fields were created in the contract's sign-off order, signatures appended as signed
    assert field_names(pdf) == ["sig-1-bureau", "sig-2-vendor", "sig-3-supervisor"]
    assert [r.field_name for r in reports] == BT_SIGNING_ORDER
    assert [r.signer_organization for r in reports] == [
        org_name(world, role) for role in ("vendor", "bureau", "supervisor")
    ]
    assert all(r.intact and r.trusted and r.ok for r in reports)
    assert [r.modification_level for r in reports] == ["FORM_FILLING", "FORM_FILLING", "NONE"]
    assert reports[0].docmdp_ok is True  # the vendor, as issuer, certified the document
    assert (doc.signatures, doc.signed_fields) == (3, BT_SIGNING_ORDER)
    assert doc.sha256 == sha256_hex(pdf)


def test_pdf_is_rendered_at_generation_and_each_signoff_signs_at_once(bt):
    statement = generate(bt)
    doc = document(statement)  # rendered when generated: empty fields, no signature
    unsigned = file_bytes(doc)
    assert (doc.signatures, reports_of(unsigned)) == (0, [])
    assert field_names(unsigned) == ["sig-1-bureau", "sig-2-vendor", "sig-3-supervisor"]

    # No on-commit hook, no task runs here: the signature is applied by the sign-off itself.
    sign_off(bt, statement, "vendor")
    after_vendor = file_bytes(doc)
    assert after_vendor.startswith(unsigned)  # an incremental update, not a re-render
    assert [(r.field_name, r.ok) for r in reports_of(after_vendor)] == [("sig-2-vendor", True)]
    doc.refresh_from_db()
    assert (doc.signatures, doc.sha256) == (1, "")  # not complete: no fingerprint yet

    sign_off(bt, statement, "bureau")
    after_bureau = file_bytes(doc)

    assert after_bureau.startswith(after_vendor)
    assert [(r.field_name, r.ok) for r in reports_of(after_bureau)] == [
        ("sig-2-vendor", True),
        ("sig-1-bureau", True),
    ]
    assert StatementDocument.objects.filter(statement=statement).count() == 1
    # each revision is one file: the superseded revision's file is gone after commit
    assert doc.signatures == 2


def test_recomputing_a_draft_renders_its_pdf_again(bt, django_capture_on_commit_callbacks):
    statement = generate(bt)
    first = document(statement)

    with django_capture_on_commit_callbacks(execute=True):
        again = statement_generate(
            actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3
        )

    assert again.pk == statement.pk
    current = document(statement)
    assert current.pk != first.pk  # the draft's old PDF was dropped, a new one rendered
    assert current.signatures == 0


def test_signoff_before_the_pdf_is_rendered_is_refused_and_changes_nothing(bt):
    statement = generate(bt, render=False)  # the render task has not run yet
    vendor = bt.users["vendor"]

    with pytest.raises(DocumentNotReady, match="统计表 PDF 正在生成，请稍后再签认"):
        statement_submit(
            actor=vendor,
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(vendor),
        )

    statement.refresh_from_db()
    assert statement.status == StatementStatus.DRAFT
    assert not statement.signoffs.exists()

    statement_pdf_render.delay(statement.pk).get()
    sign_off(bt, statement, "vendor")
    assert document(statement).signed_fields == ["sig-2-vendor"]


def test_no_task_can_sign(bt, django_capture_on_commit_callbacks):
    statement = generate(bt)
    with django_capture_on_commit_callbacks(execute=True):
        sign_off(bt, statement, "vendor", "bureau", "supervisor")
    doc = document(statement)
    before = (file_bytes(doc), doc.file.name, doc.signatures)
    emails = OutboxEmail.objects.count()

    assert "billing.statement_pdf_sign" not in current_app.tasks
    statement_pdf_render.delay(statement.pk).get()
    statement_pdf_email.delay(statement.pk).get()
    department_bill_pdfs.delay(statement.pk).get()
    settlement_pdf.delay(statement.pk).get()
    assert statement_pdf_resume.delay().get() == []

    doc.refresh_from_db()
    assert (file_bytes(doc), doc.file.name, doc.signatures) == before
    assert StatementDocument.objects.filter(statement=statement).count() == 4  # + 2 bills, 1
    assert OutboxEmail.objects.count() == emails  # every e-mail once


def test_the_resume_task_renders_missing_pdfs_only(bt, django_capture_on_commit_callbacks):
    statement = generate(bt, render=False)

    with django_capture_on_commit_callbacks(execute=True):  # the render job runs after commit
        assert statement_pdf_resume.delay().get() == [statement.pk]

    assert document(statement).signatures == 0
    assert statement_pdf_resume.delay().get() == []


def test_a_flipped_byte_in_the_signed_content_is_detected(signed_bt):
    _world, statement = signed_bt
    pdf = bytearray(file_bytes(document(statement)))
    position = pdf.index(b"stream\n") + len(b"stream\n") + 20  # the first page's content
    pdf[position] ^= 0x01

    reports = reports_of(bytes(pdf))

    assert len(reports) == 3
    assert not any(r.intact or r.ok for r in reports)


def test_an_appended_revision_that_changes_a_page_is_detected(signed_bt):
    _world, statement = signed_bt

    reports = reports_of(draw_over_first_page(file_bytes(document(statement))))

    # every signed byte is intact, but what came after is more than signing: none holds
    assert all(r.intact and r.trusted for r in reports)
    assert {r.modification_level for r in reports} == {"OTHER"}
    assert not any(r.ok for r in reports)


def test_jiaozuo_vendor_then_bureau(jz):
    statement = generate(jz, 2026, 7)
    sign_off(jz, statement, "vendor", "bureau")

    pdf = file_bytes(document(statement))

    assert statement.total == Decimal("193.50")
    assert field_names(pdf) == ["sig-1-bureau", "sig-2-vendor"]
    assert [(r.field_name, r.signer_organization, r.ok) for r in reports_of(pdf)] == [
        ("sig-2-vendor", org_name(jz, PartyRole.VENDOR), True),
        ("sig-1-bureau", org_name(jz, PartyRole.BUREAU), True),
    ]


def test_the_auditor_signs_its_determination_into_the_disputing_partys_field(bt):
    statement = generate(bt)
    sign_off(bt, statement, "vendor", "bureau")
    statement_dispute(
        actor=bt.users["supervisor"], statement=statement, reauth=password(), comment="不符"
    )
    statement_escalate_overdue_disputes(now=timezone.now() + timedelta(days=15))
    auditor = bt.users["auditor"]
    decide = {
        "actor": auditor,
        "statement": statement,
        "decision": EscalationDecision.UPHOLD_VENDOR,
        "comment": "经核对，乙方统计无误。",
        "reauth": password(),
    }
    # the supervisor's passphrase is of no use to the auditor, nor is none at all
    for wrong in (signing_passphrase(bt.users["supervisor"]), ""):
        with pytest.raises(SigningKeyRefused):
            statement_decide_escalation(**decide, signing_passphrase=wrong)
    statement.refresh_from_db()
    assert statement.status == StatementStatus.ESCALATED

    statement_decide_escalation(**decide, signing_passphrase=signing_passphrase(auditor))

    statement.refresh_from_db()
    assert statement.status == StatementStatus.SIGNED
    reports = reports_of(file_bytes(document(statement)))
    assert [(r.field_name, r.signer_organization) for r in reports] == [
        ("sig-2-vendor", org_name(bt, "vendor")),
        ("sig-1-bureau", org_name(bt, "bureau")),
        ("sig-3-supervisor", org_name(bt, "auditor")),  # the ruling stands in for the supervisor
    ]
    assert all(r.ok for r in reports)


# ----------------------------------------------------------- keys under each party's control


def test_a_user_the_bureau_created_in_the_supervisors_organisation_cannot_sign_for_it(bt, caplog):
    """Acceptance (issue "Trust boundaries", item 2): holding a user account of the supervisor's
    organisation — with a valid password and TOTP device — is not enough to produce the
    supervisor's signature: that needs the supervisor's own signing-key passphrase."""
    statement = generate(bt)
    sign_off(bt, statement, "vendor", "bureau")
    supervisor_org = org_of(bt, "supervisor")
    intruder = User.objects.create(
        username="planted", full_name="代建账号", organization=supervisor_org
    )
    intruder.set_password("Planted-2026!")
    intruder.save()
    make_totp(intruder)
    before = snapshot(statement)
    guesses = [
        "",  # none
        demo_signing_passphrase(org_of(bt, "bureau").pk),  # the bureau's own key's
        "govcloud-dev",  # the old server-wide development passphrase
        "supervisor-2026",
    ]

    with caplog.at_level(logging.DEBUG):
        for guess in guesses:
            with pytest.raises(SigningKeyRefused) as refused:
                statement_confirm(
                    actor=intruder,
                    statement=statement,
                    reauth=Reauth(method="password", value="Planted-2026!"),
                    signing_passphrase=guess,
                )
            assert refused.value.status_code == 403

    assert snapshot(statement) == before  # no sign-off, no signature, same file
    pdf = file_bytes(document(statement))
    assert "sig-3-supervisor" not in [r.field_name for r in reports_of(pdf)]
    refusals = AuditEvent.objects.filter(action="statement.signing_key_refused", actor=intruder)
    assert refusals.count() == len(guesses)
    audit_rows = str(list(AuditEvent.objects.values()))
    for guess in guesses[1:]:
        assert guess not in caplog.text
        assert guess not in audit_rows

    # Only the supervisor's own passphrase signs for the supervisor (here typed by the intruder:
    # the secret, not the account, is what the organisation controls).
    statement_confirm(
        actor=bt.users["supervisor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(bt.users["supervisor"]),
    )
    reports = reports_of(file_bytes(document(statement)))
    assert [(r.field_name, r.signer_organization, r.ok) for r in reports][-1] == (
        "sig-3-supervisor",
        supervisor_org.name,
        True,
    )


def test_through_the_api_the_signature_is_in_the_pdf_when_the_request_returns(bt):
    statement = generate(bt)
    sign_off(bt, statement, "vendor", "bureau")
    supervisor = bt.users["supervisor"]
    client = person_api(supervisor)
    path = f"/api/v1/statements/{statement.pk}/confirm/"
    body = {"reauth": {"method": "password", "value": "Test-pass-2026!"}}
    before = snapshot(statement)

    wrong = client.post(path, {**body, "signing_passphrase": "guess"}, format="json")

    assert wrong.status_code == 403
    assert wrong.json()["extra"] == {"field": "signing_passphrase"}
    assert snapshot(statement) == before

    passphrase = signing_passphrase(supervisor)
    done = client.post(path, {**body, "signing_passphrase": passphrase}, format="json")

    assert done.status_code == 200, done.content
    assert done.json()["status"] == "signed"
    assert done.json()["document"]["signatures"] == 3
    reports = reports_of(file_bytes(document(statement)))  # no task ran in between
    assert [r.field_name for r in reports] == BT_SIGNING_ORDER
    assert all(r.ok for r in reports)
    assert reports[-1].signer_organization == org_name(bt, "supervisor")


def test_the_passphrase_is_stored_nowhere(bt, caplog):
    statement = generate(bt)
    passphrases = [signing_passphrase(bt.users[r]) for r in ("vendor", "bureau", "supervisor")]
    with caplog.at_level(logging.DEBUG):
        sign_off(bt, statement, "vendor", "bureau", "supervisor")
    assert statement.status == StatementStatus.SIGNED

    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    for passphrase in passphrases:
        assert passphrase not in dump.getvalue()
        assert passphrase not in caplog.text
    signoffs = StatementSignoff.objects.filter(statement=statement)
    assert set(signoffs.values_list("reauth_method", flat=True)) == {"password"}
    audit = AuditEvent.objects.get(action="statement.confirm", actor=bt.users["supervisor"])
    assert audit.after["signed_with"] == f"org-{org_of(bt, 'supervisor').pk}"  # the key's name


def test_a_party_without_an_installed_key_cannot_sign(bt, settings):
    settings.DEBUG = False  # production: nothing is created on the fly
    statement = generate(bt)
    sign_off(bt, statement, "vendor", "bureau")
    key = Path(settings.SIGNING_DIR) / f"org-{org_of(bt, 'supervisor').pk}.p12"
    signing_passphrase(bt.users["supervisor"])
    key.unlink()
    before = snapshot(statement)

    with pytest.raises(SigningKeyUnavailable, match="签名密钥尚未安装"):
        statement_confirm(
            actor=bt.users["supervisor"],
            statement=statement,
            reauth=password(),
            signing_passphrase=demo_signing_passphrase(org_of(bt, "supervisor").pk),
        )

    assert snapshot(statement) == before
