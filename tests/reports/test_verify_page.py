"""The portal page that verifies an uploaded PDF (/pdf/verify/)."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from billing.models import DepartmentBill, DocumentKind
from tests.conftest import verified_client
from tests.factories import DepartmentFactory, UserFactory
from tests.reports.conftest import document, draw_over_first_page, file_bytes

URL = "/pdf/verify/"


def upload(client: Client, content: bytes, name: str = "statement.pdf"):
    return client.post(URL, {"file": SimpleUploadedFile(name, content, "application/pdf")})


def states(response) -> list[str]:
    return re.findall(r'data-state="(\w+)"', response.content.decode())


def org_of(world, role: str):
    return next(p.organization for p in world.contract.parties.all() if p.role == role)


def test_needs_a_login():
    response = Client().get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_signed_statement_lists_every_party_and_matches_the_issued_file(signed_bt):
    world, statement = signed_bt
    client = verified_client(world.users["supervisor"])

    page = client.get(URL)
    response = upload(client, file_bytes(document(statement)))

    assert page.status_code == 200
    assert "PDF 签名验证" in page.content.decode()
    assert response.status_code == 200
    html = response.content.decode()
    assert states(response) == ["ok", "ok", "ok"]
    positions = [html.index(org_of(world, r).name) for r in ("vendor", "bureau", "supervisor")]
    assert positions == sorted(positions)  # in signing order
    assert "全部 3 个签名有效" in html
    assert document(statement).sha256 in html
    assert "一致" in html
    assert f'href="/billing/statements/{statement.pk}/"' in html
    # strict CSP: nothing inline
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_a_tampered_upload_is_flagged(signed_bt):
    world, statement = signed_bt
    client = verified_client(world.users["bureau"])
    signed = file_bytes(document(statement))
    flipped = bytearray(signed)
    flipped[flipped.index(b"stream\n") + 27] ^= 0x01

    redrawn = upload(client, draw_over_first_page(signed))
    corrupted = upload(client, bytes(flipped))

    assert states(redrawn) == ["changed", "changed", "changed"]
    assert "签名后被修改" in redrawn.content.decode()
    assert "未找到" in redrawn.content.decode()
    assert "存在无效的签名" in redrawn.content.decode()
    assert states(corrupted) == ["tampered", "tampered", "tampered"]


def test_a_partly_signed_pdf_shows_the_fields_still_to_sign(bt, django_capture_on_commit_callbacks):
    from tests.reports.conftest import generate, sign_off

    statement = generate(bt)
    with django_capture_on_commit_callbacks(execute=True):
        sign_off(bt, statement, "vendor")

    response = upload(verified_client(bt.users["vendor"]), file_bytes(document(statement)))

    html = response.content.decode()
    assert states(response) == ["ok"]
    assert "尚未签名的签名域" in html
    assert "sig-1-bureau" in html
    assert "sig-3-supervisor" in html


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello, not a pdf", "不是 PDF"),
        (b"%PDF-1.7\n garbage", "无法"),
        (b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024), "超过 20 MB"),
    ],
    ids=["not-a-pdf", "broken-pdf", "too-large"],
)
def test_bad_uploads_get_a_clear_message(db, content, message):
    user = UserFactory(organization=DepartmentFactory())  # any role may use the page
    client = verified_client(user)

    response = upload(client, content, "x.pdf")

    assert response.status_code == 400
    assert message in response.content.decode()


def test_another_tenant_learns_nothing_about_our_statement(signed_bt, foreign):
    _world, statement = signed_bt
    client = verified_client(foreign.users["bureau"])

    response = upload(client, file_bytes(document(statement)))

    html = response.content.decode()
    assert response.status_code == 200
    assert "未找到" in html
    assert f"/billing/statements/{statement.pk}/" not in html
    assert "BT-2025 2026-03" not in html


def test_a_department_matches_its_own_bill_but_not_the_statement(signed_bt):
    world, statement = signed_bt
    edu, police = world.departments
    client = verified_client(edu.users.get())
    bill = DepartmentBill.objects.get(statement=statement, department=edu)
    own = file_bytes(document(statement, DocumentKind.DEPARTMENT_BILL, department=edu))
    other = file_bytes(document(statement, DocumentKind.DEPARTMENT_BILL, department=police))

    own_response = upload(client, own)
    other_response = upload(client, other)
    statement_response = upload(client, file_bytes(document(statement)))

    assert "一致" in own_response.content.decode()
    assert f'href="/billing/bills/{bill.pk}/"' in own_response.content.decode()
    assert "未找到" in other_response.content.decode()
    assert "未找到" in statement_response.content.decode()
    assert "该文件没有数字签名" in own_response.content.decode()
