"""Signed statement and department bills by e-mail: the right PDF to the right people, once."""

from __future__ import annotations

import re
from io import BytesIO

from django.core import mail
from pypdf import PdfReader

from billing.models import DepartmentBill, DocumentKind
from billing.tasks import department_bill_pdfs, statement_pdf_email
from govcloud.models import Role, User
from tests.reports.conftest import PORTAL, document, file_bytes, generate, sign_off


def pdf_text(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages))


def messages_with_pdf() -> dict[str, list]:
    """recipient → the messages (with PDF attachments) they received."""
    received: dict[str, list] = {}
    for message in mail.outbox:
        if message.attachments:
            (recipient,) = message.to
            received.setdefault(recipient, []).append(message)
    return received


def party_recipients(world) -> set[str]:
    orgs = [p.organization for p in world.contract.parties.all()]
    staff = User.objects.filter(organization__in=orgs, role=Role.STAFF, is_active=True)
    return {u.email for u in staff} | {o.email for o in orgs if o.email}


def test_each_department_gets_only_its_bill_and_each_party_the_signed_statement(signed_bt):
    world, statement = signed_bt
    received = messages_with_pdf()
    signed_pdf = file_bytes(document(statement))

    # parties: bureau, vendor, supervisor and auditor staff — one message, the signed statement
    parties = party_recipients(world)
    assert {u.organization.kind for u in User.objects.filter(email__in=parties)} == {
        "bureau",
        "vendor",
        "supervisor",
        "auditor",
    }
    for recipient in parties:
        (message,) = received[recipient]
        (attachment,) = message.attachments
        name, content, mimetype = attachment
        assert (content, mimetype) == (signed_pdf, "application/pdf")
        assert "已签认" in name
        assert f"{PORTAL}/billing/statements/{statement.pk}/" in message.body
        assert "月度服务资源统计表已签认" in message.subject

    # departments: the organisation address and its staff — its own bill, nothing else
    for department, other in (world.departments, reversed(world.departments)):
        bill = DepartmentBill.objects.get(statement=statement, department=department)
        bill_pdf = file_bytes(
            document(statement, DocumentKind.DEPARTMENT_BILL, department=department)
        )
        recipients = {department.email, *department.users.values_list("email", flat=True)}
        for recipient in recipients:
            (message,) = received[recipient]
            ((name, content, _mimetype),) = message.attachments
            assert department.name in name
            assert content == bill_pdf
            assert f"{PORTAL}/billing/bills/{bill.pk}/" in message.body
            assert f"{bill.total:,}" in message.body
        text = pdf_text(bill_pdf)
        assert department.name in text
        assert other.name not in text  # a bill never shows another department's lines

    assert set(received) == parties | {
        r for d in world.departments for r in [d.email, *d.users.values_list("email", flat=True)]
    }


def test_emails_go_out_once_however_often_the_tasks_run(
    signed_bt, django_capture_on_commit_callbacks
):
    _world, statement = signed_bt
    sent = len(mail.outbox)

    with django_capture_on_commit_callbacks(execute=True):
        statement_pdf_email.delay(statement.pk)
        department_bill_pdfs.delay(statement.pk)
        department_bill_pdfs.delay(statement.pk)

    assert len(mail.outbox) == sent


def test_the_signed_statement_is_not_emailed_before_the_last_signature(
    bt, django_capture_on_commit_callbacks
):
    statement = generate(bt)
    with django_capture_on_commit_callbacks(execute=True):
        sign_off(bt, statement, "vendor", "bureau")

    assert document(statement).signatures == 2
    assert messages_with_pdf() == {}  # not signed yet: no statement, no bills

    with django_capture_on_commit_callbacks(execute=True):
        sign_off(bt, statement, "supervisor")

    attachments = [m.attachments[0][0] for ms in messages_with_pdf().values() for m in ms]
    assert any("已签认" in name for name in attachments)
    assert any("账单" in name for name in attachments)
