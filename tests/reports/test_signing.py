"""The statement PDF gains one PAdES signature per sign-off, in sign-off order (DESIGN §7)."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from billing.models import EscalationDecision, StatementDocument, StatementStatus
from billing.services.statements import (
    statement_decide_escalation,
    statement_dispute,
    statement_escalate_overdue_disputes,
)
from billing.tasks import (
    department_bill_pdfs,
    settlement_pdf,
    statement_pdf_resume,
    statement_pdf_sign,
)
from govcloud.models import OutboxEmail, PartyRole
from govcloud.pdf.signing import (
    PASSPHRASE_ENV,
    create_dev_ca,
    party_key,
    sha256_hex,
    trust_roots_from_settings,
    verify_pdf,
)
from tests.billing.conftest import password
from tests.reports.conftest import document, draw_over_first_page, file_bytes, generate, sign_off

BT_SIGNING_ORDER = ["sig-2-vendor", "sig-1-bureau", "sig-3-supervisor"]


def org_name(world, role: str) -> str:
    return next(p.organization.name for p in world.contract.parties.all() if p.role == role)


def reports_of(pdf: bytes):
    return verify_pdf(pdf, trust_roots=trust_roots_from_settings())


def field_names(pdf: bytes) -> list[str]:
    reader = PdfFileReader(BytesIO(pdf))
    return [name for name, _value, _ref in enumerate_sig_fields(reader)]


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
    # the development CA was created on the spot (DEBUG, fresh machine)
    assert (Path(doc.file.storage.location).parent / "signing" / "ca.pem").exists()


def test_pdf_is_rendered_at_submission_and_later_signatures_only_append(
    bt, django_capture_on_commit_callbacks
):
    statement = generate(bt)
    assert not StatementDocument.objects.filter(statement=statement).exists()  # drafts: none

    with django_capture_on_commit_callbacks(execute=True):
        sign_off(bt, statement, "vendor")
    doc = document(statement)
    after_vendor = file_bytes(doc)
    assert [r.field_name for r in reports_of(after_vendor)] == ["sig-2-vendor"]
    assert (doc.signatures, doc.sha256) == (1, "")  # not complete: no fingerprint yet

    with django_capture_on_commit_callbacks(execute=True):
        sign_off(bt, statement, "bureau")
    after_bureau = file_bytes(doc)

    # the first revision is untouched: an incremental update, not a re-render
    assert after_bureau.startswith(after_vendor)
    assert [(r.field_name, r.ok) for r in reports_of(after_bureau)] == [
        ("sig-2-vendor", True),
        ("sig-1-bureau", True),
    ]
    assert StatementDocument.objects.filter(statement=statement).count() == 1
    # each revision is one file: the superseded revision's file is gone
    assert len(list(Path(doc.file.path).parent.glob("statement-*.pdf"))) == 1


def test_a_late_task_signs_every_recorded_signoff_in_order(bt):
    # The sign-offs happen but no task runs (the callbacks are never executed)…
    statement = sign_off(bt, generate(bt), "vendor", "bureau", "supervisor")
    assert statement.status == StatementStatus.SIGNED
    assert not StatementDocument.objects.filter(statement=statement).exists()

    # …then one late run renders and applies all three, oldest first.
    result = statement_pdf_sign.delay(statement.pk).get()

    assert result["applied"] == BT_SIGNING_ORDER
    assert result["complete"]
    pdf = file_bytes(document(statement))
    assert [r.field_name for r in reports_of(pdf)] == BT_SIGNING_ORDER
    assert all(r.ok for r in reports_of(pdf))


def test_every_document_task_is_idempotent(signed_bt):
    _world, statement = signed_bt
    doc = document(statement)
    before = (file_bytes(doc), doc.file.name, doc.signatures)
    documents = StatementDocument.objects.count()
    emails = OutboxEmail.objects.count()

    again = statement_pdf_sign.delay(statement.pk).get()
    department_bill_pdfs.delay(statement.pk).get()
    settlement_pdf.delay(statement.pk).get()
    assert statement_pdf_resume.delay().get() == []

    assert (again["applied"], again["emailed"]) == ([], 0)
    assert (file_bytes(doc), doc.file.name, doc.signatures) == before
    assert StatementDocument.objects.count() == documents  # statement, 2 bills, settlement
    assert documents == 4
    assert OutboxEmail.objects.count() == emails


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


def test_jiaozuo_vendor_then_bureau(jz, django_capture_on_commit_callbacks):
    statement = generate(jz, 2026, 7)
    with django_capture_on_commit_callbacks(execute=True):
        sign_off(jz, statement, "vendor", "bureau")

    pdf = file_bytes(document(statement))

    assert statement.total == Decimal("193.50")
    assert field_names(pdf) == ["sig-1-bureau", "sig-2-vendor"]
    assert [(r.field_name, r.signer_organization, r.ok) for r in reports_of(pdf)] == [
        ("sig-2-vendor", org_name(jz, PartyRole.VENDOR), True),
        ("sig-1-bureau", org_name(jz, PartyRole.BUREAU), True),
    ]


def test_the_auditor_signs_its_determination_into_the_disputing_partys_field(
    bt, django_capture_on_commit_callbacks
):
    statement = generate(bt)
    with django_capture_on_commit_callbacks(execute=True):
        sign_off(bt, statement, "vendor", "bureau")
        statement_dispute(
            actor=bt.users["supervisor"], statement=statement, reauth=password(), comment="不符"
        )
    statement_escalate_overdue_disputes(now=timezone.now() + timedelta(days=15))
    with django_capture_on_commit_callbacks(execute=True):
        statement_decide_escalation(
            actor=bt.users["auditor"],
            statement=statement,
            decision=EscalationDecision.UPHOLD_VENDOR,
            comment="经核对，乙方统计无误。",
            reauth=password(),
        )
    statement.refresh_from_db()
    assert statement.status == StatementStatus.SIGNED

    reports = reports_of(file_bytes(document(statement)))

    assert [(r.field_name, r.signer_organization) for r in reports] == [
        ("sig-2-vendor", org_name(bt, "vendor")),
        ("sig-1-bureau", org_name(bt, "bureau")),
        ("sig-3-supervisor", org_name(bt, "auditor")),  # the ruling stands in for the supervisor
    ]
    assert all(r.ok for r in reports)


def test_without_keys_in_production_the_pdf_stays_partly_signed_and_resumes_later(
    bt, settings, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    # Production: no dev CA on the fly. The vendor's and the bureau's keys are installed,
    # the supervisor's is not.
    settings.DEBUG = False
    monkeypatch.setenv(PASSPHRASE_ENV, "prod-secret")
    keys = {
        p.role: (party_key(p.organization_id), p.organization.name)
        for p in bt.contract.parties.select_related("organization")
    }
    create_dev_ca(
        Path(settings.SIGNING_DIR), [keys["vendor"], keys["bureau"]], passphrase=b"prod-secret"
    )
    statement = generate(bt)

    with caplog.at_level(logging.ERROR, logger="billing.reports.signing"):
        with django_capture_on_commit_callbacks(execute=True):
            sign_off(bt, statement, "vendor", "bureau", "supervisor")

    doc = document(statement)
    assert statement.status == StatementStatus.SIGNED  # the sign-off itself is not undone
    assert (doc.signatures, doc.signed_fields, doc.sha256) == (2, BT_SIGNING_ORDER[:2], "")
    assert "sig-3-supervisor" in caplog.text
    assert "2 of 3 signature(s)" in caplog.text
    assert not OutboxEmail.objects.filter(key__endswith=":signed-pdf").exists()
    assert OutboxEmail.objects.filter(key__startswith="bill:").exists()  # bills do not wait

    # The key is installed; the resume task finishes the job and the e-mail goes out once.
    create_dev_ca(Path(settings.SIGNING_DIR), [keys["supervisor"]], passphrase=b"prod-secret")
    assert statement_pdf_resume.delay().get() == [statement.pk]
    assert statement_pdf_resume.delay().get() == []

    doc.refresh_from_db()
    assert (doc.signatures, doc.signed_fields) == (3, BT_SIGNING_ORDER)
    assert all(r.ok for r in reports_of(file_bytes(doc)))
    sent = OutboxEmail.objects.filter(key=f"statement:{statement.pk}:signed-pdf")
    assert sent.count() == len({e for e in sent.values_list("recipient", flat=True)}) > 0
