"""Portal pages of billing: who sees what, the sign-off by portal POSTs with re-authentication,
dispute → new version → diff, department bills, the settlement dashboard, immutability of a
signed statement through every path, constant queries and the CSP."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp

from billing.models import (
    Deduction,
    DepartmentBill,
    DisputeComment,
    DocumentKind,
    Payment,
    Resource,
    Statement,
    StatementDocument,
    StatementLine,
    StatementSignoff,
    StatementStatus,
)
from billing.money import format_yuan
from billing.services.reauth import Reauth
from billing.services.statements import (
    statement_confirm,
    statement_dispute,
    statement_generate,
    statement_submit,
)
from govcloud.exceptions import InvalidTransition
from govcloud.home import cards_for
from govcloud.models import AuditEvent, Installment, Organization, User
from tests.billing.conftest import add_resource, sh, signing_passphrase
from tests.conftest import verified_client
from tests.factories import PASSWORD, CatalogItemFactory, DepartmentFactory, make_totp
from tests.requests_app.factories import vcpu_item
from tests.scoped_urls import ALL_ROLES

pytestmark = pytest.mark.django_db

PARTIES = frozenset({"bureau", "vendor", "supervisor", "auditor"})
ADMIN_ROLES = frozenset({"security_admin", "audit_admin", "system_admin"})
SIGNED = StatementStatus.SIGNED


# ------------------------------------------------------------------- builders
# Shared with tests/billing/test_api.py and the tenancy matrix in tests/scoped_urls.py.


def password() -> Reauth:
    return Reauth("password", PASSWORD)


def world_inventory(world) -> Organization:
    """March 2026 on the world contract (monthly prices, 0.9999): the DESIGN example in the
    world's department — 8 vCPU online 03-10 15:00 (119.85) and 500 GB SSD (225.00) — and
    333 GB SSD in a second department (149.85). Returns the second department."""
    vcpu_item(world.contract)
    CatalogItemFactory(
        contract=world.contract, code="ebs.ssd", unit="GB", unit_price=Decimal("0.45")
    )
    bureau = world.orgs["bureau"]
    other = DepartmentFactory(parent=bureau, name=f"其他使用单位（{bureau.name}）")
    department = world.orgs["department"]
    add_resource(world.contract, department, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15))
    add_resource(world.contract, department, "ebs.ssd", 500, sh(2026, 1, 5, 9))
    add_resource(world.contract, other, "ebs.ssd", 333, sh(2026, 1, 5, 9), system="天网")
    return other


def draft_statement(world) -> Statement:
    world_inventory(world)
    return statement_generate(
        actor=world.users["vendor"], contract=world.contract, year=2026, month=3
    )


def submitted_statement(world) -> Statement:
    statement = draft_statement(world)
    return statement_submit(
        actor=world.users["vendor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(world.users["vendor"]),
    )


def signed_statement(world) -> Statement:
    statement = submitted_statement(world)
    for role in ("bureau", "supervisor"):
        statement_confirm(
            actor=world.users[role],
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(world.users[role]),
        )
    statement.refresh_from_db()
    assert statement.status == SIGNED
    return statement


def two_versions(world) -> tuple[Statement, Statement]:
    """Version 1 disputed by the bureau (the vCPU came online on 03-12), version 2 a draft."""
    v1 = submitted_statement(world)
    statement_dispute(
        actor=world.users["bureau"], statement=v1, reauth=password(), comment="3月12日才交付"
    )
    Resource.objects.filter(catalog_item__code="ecs.general.vcpu").update(
        online_at=sh(2026, 3, 12, 9), billing_starts_at=sh(2026, 3, 12, 9)
    )
    v2 = statement_generate(
        actor=world.users["vendor"], contract=world.contract, year=2026, month=3
    )
    v1.refresh_from_db()
    return v1, v2


PDF = b"%PDF-1.7 statement"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _attach(statement: Statement, kind: str, department=None) -> StatementDocument:
    document, _created = StatementDocument.objects.get_or_create(
        statement=statement, kind=kind, department=department
    )
    document.file.save(f"{kind}.pdf", ContentFile(PDF), save=False)
    document.sha256 = hashlib.sha256(PDF).hexdigest()
    document.signatures = 3
    document.rendered_at = timezone.now()
    document.save()
    return document


def statement_with_pdf(world) -> Statement:
    statement = signed_statement(world)
    _attach(statement, DocumentKind.STATEMENT)
    return statement


def own_bill(world, statement: Statement | None = None) -> DepartmentBill:
    statement = statement or signed_statement(world)
    return DepartmentBill.objects.get(statement=statement, department=world.orgs["department"])


def bill_with_pdf(world) -> DepartmentBill:
    bill = own_bill(world)
    _attach(bill.statement, DocumentKind.DEPARTMENT_BILL, bill.department)
    return bill


# ------------------------------------------------------------------- helpers


def text(response) -> str:
    return response.content.decode()


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def code_for(user: User) -> str:
    device = user.totpdevice_set.get(confirmed=True)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def totp_form(user: User, **extra) -> dict:
    """A current code, and the passphrase of the user's organisation's signing key."""
    return {
        "reauth_method": "totp",
        "reauth_value": code_for(user),
        "signing_passphrase": signing_passphrase(user),
        **extra,
    }


def password_form(**extra) -> dict:
    return {"reauth_method": "password", "reauth_value": PASSWORD, **extra}


def state(statement: Statement) -> tuple:
    """Everything an action could change about a version, re-read from the database."""
    fresh = Statement.objects.get(pk=statement.pk)
    return (
        fresh.status,
        fresh.subtotal,
        fresh.total,
        fresh.vat,
        fresh.submitted_at,
        fresh.signed_at,
        StatementLine.objects.filter(statement=fresh).count(),
        list(StatementLine.objects.filter(statement=fresh).values_list("amount", flat=True)),
        StatementSignoff.objects.filter(statement=fresh).count(),
        DisputeComment.objects.filter(statement=fresh).count(),
        DepartmentBill.objects.filter(statement=fresh).count(),
        Statement.objects.filter(contract=fresh.contract, year=fresh.year, month=fresh.month)
        .exclude(pk=fresh.pk)
        .exclude(supersedes=fresh)
        .count(),
    )


def url(name: str, *args) -> str:
    return reverse(name, args=args)


# ------------------------------------------------------------------- who may open which page

PAGES = {
    "statement_list": PARTIES,
    "bill_list": PARTIES | {"department"},
}
PAGE_CASES = [(name, role) for name in PAGES for role in sorted(ALL_ROLES)]


@pytest.mark.parametrize(("url_name", "role"), PAGE_CASES, ids=[f"{n}-{r}" for n, r in PAGE_CASES])
def test_each_list_opens_for_its_roles_and_is_forbidden_to_the_others(world, url_name, role):
    response = verified_client(world.users[role]).get(reverse(url_name))
    assert response.status_code == (200 if role in PAGES[url_name] else 403)


@pytest.mark.parametrize("url_name", sorted(PAGES))
def test_anonymous_visitors_are_sent_to_login(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# Object pages beyond the tenancy matrix: the same tenant's roles that must not see them.
OBJECT_CASES = [
    # (page, role, expected): departments see nothing of statements (404, like a foreign
    # object); the three administrators see nothing of billing at all (三员分立, 404).
    *[("statement_detail", role, 404) for role in ("department", *sorted(ADMIN_ROLES))],
    *[("statement_pdf", role, 404) for role in ("department", *sorted(ADMIN_ROLES))],
    *[("bill_detail", role, 404) for role in sorted(ADMIN_ROLES)],
    *[("contract_dashboard", role, 404) for role in sorted(ADMIN_ROLES)],
    # The department sees the contract itself, but not its money.
    ("contract_dashboard", "department", 403),
]


@pytest.mark.parametrize(
    ("page", "role", "expected"), OBJECT_CASES, ids=[f"{p}-{r}" for p, r, _e in OBJECT_CASES]
)
def test_object_pages_refuse_the_wrong_roles_of_the_same_tenant(world, page, role, expected):
    bill = bill_with_pdf(world)
    _attach(bill.statement, DocumentKind.STATEMENT)
    kwargs = {
        "statement_detail": bill.statement_id,
        "statement_pdf": bill.statement_id,
        "bill_detail": bill.pk,
        "contract_dashboard": world.contract.pk,
    }
    response = verified_client(world.users[role]).get(url(page, kwargs[page]))
    assert response.status_code == expected


def test_a_department_sees_only_its_own_bill(world):
    statement = signed_statement(world)
    mine = own_bill(world, statement)
    theirs = DepartmentBill.objects.exclude(pk=mine.pk).get(statement=statement)
    client = verified_client(world.users["department"])

    listing = text(client.get(reverse("bill_list")))
    assert url("bill_detail", mine.pk) in listing
    assert url("bill_detail", theirs.pk) not in listing
    assert client.get(url("bill_detail", theirs.pk)).status_code == 404
    assert client.get(url("statement_detail", statement.pk)).status_code == 404
    assert client.get(url("statement_diff", statement.pk, statement.pk)).status_code == 404

    page = text(client.get(url("bill_detail", mine.pk)))
    assert "225.00" in page
    assert "119.85" in page  # its two lines
    assert "149.85" not in page  # the other department's line
    assert str(mine.total) in page
    assert str(mine.vat) in page
    # No link to the statement the department may not open.
    assert url("statement_detail", statement.pk) not in page


def test_parties_see_every_bill_of_their_contracts_and_nothing_of_others(world, foreign):
    statement = signed_statement(world)
    other = signed_statement(foreign)
    listing = text(verified_client(world.users["supervisor"]).get(reverse("bill_list")))
    for bill in statement.department_bills.all():
        assert url("bill_detail", bill.pk) in listing
    for bill in other.department_bills.all():
        assert url("bill_detail", bill.pk) not in listing
    statements = text(verified_client(world.users["auditor"]).get(reverse("statement_list")))
    assert url("statement_detail", statement.pk) in statements
    assert url("statement_detail", other.pk) not in statements


def test_navigation_per_role(world):
    expected = {
        "department": {"账单"},
        "bureau": {"月度统计表", "账单"},
        "supervisor": {"月度统计表", "账单"},
        "vendor": {"月度统计表", "账单"},
        "auditor": {"月度统计表", "账单"},
        "security_admin": set(),
        "audit_admin": set(),
        "system_admin": set(),
    }
    for role, labels in expected.items():
        page = text(verified_client(world.users[role]).get(reverse("home")))
        shown = {label for label in ("月度统计表", "账单") if f">{label}</a>" in page}
        assert shown == labels, role


# ------------------------------------------------------------------- the list page


def test_statement_list_filters_and_shows_version_status_total_due_and_late(world):
    v1, v2 = two_versions(world)
    client = verified_client(world.users["bureau"])
    page = text(client.get(reverse("statement_list")))
    assert url("statement_detail", v1.pk) in page
    assert url("statement_detail", v2.pk) in page
    assert "第 1 版" in page
    assert "第 2 版" in page
    assert "有异议，退回乙方" in page
    assert "草稿" in page
    assert str(v1.total) in page
    assert "2026-04-08" in page  # due: the 5th working day of April (清明 04-04…04-06)
    assert "逾期提交" in page  # v1 was submitted (today) after 2026-04-08

    disputed = text(client.get(reverse("statement_list"), {"status": "disputed"}))
    assert url("statement_detail", v1.pk) in disputed
    assert url("statement_detail", v2.pk) not in disputed
    other_month = text(client.get(reverse("statement_list"), {"year": 2026, "month": 4}))
    assert url("statement_detail", v1.pk) not in other_month
    assert "没有符合条件的统计表" in other_month


def test_only_the_vendor_is_offered_the_generate_form(world):
    for role in PARTIES:
        page = text(verified_client(world.users[role]).get(reverse("statement_list")))
        assert ("生成本月统计表" in page) == (role == "vendor"), role


def test_vendor_generates_the_month_from_the_list(world):
    world_inventory(world)
    client = verified_client(world.users["vendor"])
    response = client.post(
        reverse("statement_generate"), {"contract": world.contract.pk, "month": "2026-03"}
    )
    statement = Statement.objects.get()
    assert response.url == url("statement_detail", statement.pk)
    assert (statement.version, statement.status, statement.total) == (
        1,
        StatementStatus.DRAFT,
        Decimal("494.65"),
    )
    refused = client.post(
        reverse("statement_generate"), {"contract": world.contract.pk, "month": "2027-01"}
    )
    assert refused.status_code == 302
    assert any("不在合同计费期内" in m for m in flashed(refused))
    assert Statement.objects.count() == 1


def test_generation_is_refused_to_other_parties_and_foreign_contracts(world, foreign):
    world_inventory(world)
    bureau = verified_client(world.users["bureau"])
    response = bureau.post(
        reverse("statement_generate"), {"contract": world.contract.pk, "month": "2026-03"}
    )
    assert any("乙方" in m for m in flashed(response))
    outsider = verified_client(foreign.users["vendor"])
    response = outsider.post(
        reverse("statement_generate"), {"contract": world.contract.pk, "month": "2026-03"}
    )
    assert response.status_code == 302  # the foreign contract is not even a choice
    assert not Statement.objects.exists()


# ------------------------------------------------------------------- the statement page


def test_statement_page_shows_subtotals_totals_and_the_signoff_order(world):
    statement = submitted_statement(world)
    page = text(verified_client(world.users["auditor"]).get(url("statement_detail", statement.pk)))
    # Subtotals by department and system, before the discount; the totals after it.
    assert "其他使用单位" in page
    assert "天网" in page
    assert "344.85" in page  # the world department: 119.85 + 225.00
    for amount in ("494.70", "0.9999", "494.65", str(statement.vat)):
        assert amount in page
    # Every required party in the contract's order, who confirmed, who is next.
    bureau, vendor, supervisor = (
        world.orgs["bureau"].name,
        world.orgs["vendor"].name,
        world.orgs["supervisor"].name,
    )
    panel = page[page.index("签认进度") :]
    assert panel.index(bureau) < panel.index(vendor) < panel.index(supervisor)
    assert "已确认" in panel
    assert str(world.users["vendor"]) in panel
    assert "待确认" in panel
    assert "等待「" in panel
    assert "」确认" in panel


def test_line_table_pages_200_lines_and_filters_by_department(world):
    other = world_inventory(world)
    for i in range(250):
        add_resource(world.contract, other, "ebs.ssd", 10 + i, sh(2026, 1, 5, 9), system="天网")
    statement = statement_generate(
        actor=world.users["vendor"], contract=world.contract, year=2026, month=3
    )
    assert statement.lines.count() == 253
    client = verified_client(world.users["vendor"])
    first = text(client.get(url("statement_detail", statement.pk)))
    assert "第 1 / 2 页，共 253 条" in first
    own = text(
        client.get(
            url("statement_detail", statement.pk), {"department": world.orgs["department"].pk}
        )
    )
    assert "共 2 条" in own
    assert "ecs.general.vcpu" in own
    # The subtotal table is always complete, whatever the line filter.
    assert "其他使用单位" in own
    assert "天网" in own


def test_pdf_link_and_sha256_when_a_document_exists(world):
    statement = draft_statement(world)
    StatementDocument.objects.filter(statement=statement).delete()  # the render is still queued
    client = verified_client(world.users["vendor"])
    assert client.get(url("statement_pdf", statement.pk)).status_code == 404
    waiting = text(client.get(url("statement_detail", statement.pk)))
    assert url("statement_pdf", statement.pk) not in waiting
    assert "统计表 PDF 正在生成，请稍后再签认" in waiting  # signing waits for the PDF
    document = _attach(statement, DocumentKind.STATEMENT)
    page = text(client.get(url("statement_detail", statement.pk)))
    assert url("statement_pdf", statement.pk) in page
    assert document.sha256 in page
    pdf = client.get(url("statement_pdf", statement.pk))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content) == PDF


def test_bill_pdf_is_the_departments_document(world):
    bill = own_bill(world)
    client = verified_client(world.users["department"])
    assert client.get(url("bill_pdf", bill.pk)).status_code == 404
    _attach(bill.statement, DocumentKind.STATEMENT)  # the statement's PDF is not the bill's
    assert client.get(url("bill_pdf", bill.pk)).status_code == 404
    _attach(bill.statement, DocumentKind.DEPARTMENT_BILL, bill.department)
    assert url("bill_pdf", bill.pk) in text(client.get(url("bill_detail", bill.pk)))
    response = client.get(url("bill_pdf", bill.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


# ------------------------------------------------------------------- the sign-off by portal


def test_full_signoff_through_the_portal_with_totp(world):
    """Generate, submit, confirm in order — each act re-authenticated with a TOTP code."""
    with time_machine.travel(sh(2026, 4, 7, 10), tick=False) as clock:
        world_inventory(world)
        vendor = verified_client(world.users["vendor"])
        bureau = verified_client(world.users["bureau"])
        supervisor = verified_client(world.users["supervisor"])

        vendor.post(
            reverse("statement_generate"), {"contract": world.contract.pk, "month": "2026-03"}
        )
        statement = Statement.objects.get()
        detail = url("statement_detail", statement.pk)
        assert url("statement_submit", statement.pk) in text(vendor.get(detail))
        assert "动态验证码或登录密码" in text(vendor.get(detail))
        assert re.search(
            r'<input[^>]*name="signing_passphrase"[^>]*autocomplete="off"', text(vendor.get(detail))
        )

        # A wrong code changes nothing
        before = state(statement)
        wrong = vendor.post(
            url("statement_submit", statement.pk),
            {"reauth_method": "totp", "reauth_value": "000000"},
            follow=True,
        )
        assert "身份验证失败" in text(wrong)
        assert state(statement) == before

        clock.shift(timedelta(seconds=5))  # django-otp throttles after the failure
        done = vendor.post(
            url("statement_submit", statement.pk), totp_form(world.users["vendor"]), follow=True
        )
        assert "已提交" in text(done)
        statement.refresh_from_db()
        assert (statement.status, statement.is_late) == (StatementStatus.SUBMITTED, False)

        # The supervisor signs after the bureau: offered the dispute only, and refused
        page = text(supervisor.get(detail))
        assert url("statement_confirm", statement.pk) not in page
        assert url("statement_dispute", statement.pk) in page
        early = supervisor.post(
            url("statement_confirm", statement.pk), totp_form(world.users["supervisor"])
        )
        assert any("先行签认" in m for m in flashed(early))

        clock.shift(timedelta(seconds=31))  # a fresh time step for the supervisor's next code
        assert url("statement_confirm", statement.pk) in text(bureau.get(detail))
        bureau.post(
            url("statement_confirm", statement.pk),
            totp_form(world.users["bureau"], comment="核对无误"),
        )
        supervisor.post(
            url("statement_confirm", statement.pk), totp_form(world.users["supervisor"])
        )

    statement.refresh_from_db()
    assert statement.status == SIGNED
    assert list(statement.signoffs.values_list("party__role", "reauth_method")) == [
        ("vendor", "totp"),
        ("bureau", "totp"),
        ("supervisor", "totp"),
    ]
    # each party's signature was applied by its own request: three, in signing order
    document = StatementDocument.objects.get(statement=statement, kind=DocumentKind.STATEMENT)
    assert document.signed_fields == ["sig-2-vendor", "sig-1-bureau", "sig-3-supervisor"]
    page = text(verified_client(world.users["auditor"]).get(detail))
    assert page.count("已确认") >= 3
    assert "核对无误" in page
    for user in (world.users["vendor"], world.users["bureau"], world.users["supervisor"]):
        assert str(user) in page
    bills = DepartmentBill.objects.filter(statement=statement)
    assert bills.count() == 2
    for bill in bills:
        assert url("bill_detail", bill.pk) in page


@pytest.mark.parametrize(
    ("action", "role", "extra"),
    [
        pytest.param("submit", "vendor", {}, id="submit"),
        pytest.param("confirm", "bureau", {}, id="confirm"),
        pytest.param("dispute", "bureau", {"comment": "数量不符"}, id="dispute"),
    ],
)
def test_a_wrong_password_changes_nothing(world, action, role, extra):
    statement = draft_statement(world) if action == "submit" else submitted_statement(world)
    before = state(statement)
    response = verified_client(world.users[role]).post(
        url(f"statement_{action}", statement.pk),
        {"reauth_method": "password", "reauth_value": "wrong", **extra},
    )
    assert flashed(response) == ["身份验证失败"]
    assert state(statement) == before


def test_dispute_then_new_version_then_diff(world):
    statement = submitted_statement(world)
    vcpu = statement.lines.get(item_code="ecs.general.vcpu")
    disk = statement.lines.get(item_code="ebs.ssd", quantity=500)
    bureau = verified_client(world.users["bureau"])
    bureau.post(
        url("statement_dispute", statement.pk),
        password_form(
            comment="该云主机3月12日才交付。", line_ids=[vcpu.pk], positions=str(disk.position)
        ),
    )
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DISPUTED
    assert set(DisputeComment.objects.values_list("line", flat=True)) == {vcpu.pk, disk.pk}

    vendor = verified_client(world.users["vendor"])
    page = text(vendor.get(url("statement_detail", statement.pk)))
    assert "该云主机3月12日才交付。" in page
    assert url("statement_regenerate", statement.pk) in page  # "生成新版本"

    Resource.objects.filter(catalog_item__code="ecs.general.vcpu").update(
        online_at=sh(2026, 3, 12, 9), billing_starts_at=sh(2026, 3, 12, 9)
    )
    response = vendor.post(url("statement_regenerate", statement.pk))
    v2 = Statement.objects.get(version=2)
    assert response.url == url("statement_detail", v2.pk)
    assert v2.status == StatementStatus.DRAFT
    assert state(statement)[0] == StatementStatus.DISPUTED  # kept as it was

    # 8 vCPU from 03-12 09:00: 20 days → 21.6 × 8 × 20 / 31 = 111.48 (was 119.85)
    diff = text(vendor.get(url("statement_diff", statement.pk, v2.pk)))
    assert "第 1 版 → 第 2 版" in diff
    assert "变化 1 条" in diff
    assert "新增 0 条" in diff
    assert "删除 0 条" in diff
    assert "119.85" in diff
    assert "111.48" in diff
    assert "-¥8.37" in diff
    assert "2026-03-10 15:00" in diff
    assert "2026-03-12 09:00" in diff
    assert format_yuan(v2.total - statement.total) in diff
    # Either order of the two versions shows the same comparison; both are in the history.
    assert "第 1 版 → 第 2 版" in text(vendor.get(url("statement_diff", v2.pk, statement.pk)))
    assert url("statement_diff", statement.pk, v2.pk) in text(
        vendor.get(url("statement_detail", v2.pk))
    )


def test_diff_across_months_or_contracts_is_404(world, foreign):
    statement = submitted_statement(world)
    other = submitted_statement(foreign)
    client = verified_client(world.users["bureau"])
    assert client.get(url("statement_diff", statement.pk, other.pk)).status_code == 404


def test_comment_thread_with_a_line_reference(world):
    statement = submitted_statement(world)
    line = statement.lines.get(item_code="ecs.general.vcpu")
    client = verified_client(world.users["auditor"])
    client.post(
        url("statement_comment", statement.pk), {"text": "请提供交付单", "position": line.position}
    )
    comment = DisputeComment.objects.get()
    assert (comment.line, comment.text, comment.author) == (
        line,
        "请提供交付单",
        world.users["auditor"],
    )
    bad = client.post(url("statement_comment", statement.pk), {"text": "x", "position": 999})
    assert any("不在该统计表中" in m for m in flashed(bad))
    assert DisputeComment.objects.count() == 1


def test_a_planted_supervisor_account_cannot_sign_for_the_supervisor_in_the_portal(world):
    """An account the bureau created in the supervisor's organisation, with its own TOTP
    device, passes re-authentication but cannot open the supervisor's signing key."""
    statement = submitted_statement(world)
    statement_confirm(
        actor=world.users["bureau"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(world.users["bureau"]),
    )
    signing_passphrase(world.users["supervisor"])  # the supervisor's key is installed
    planted = User.objects.create(
        username="planted", full_name="代建账号", organization=world.orgs["supervisor"]
    )
    make_totp(planted)
    before = state(statement)

    refused = verified_client(planted).post(
        url("statement_confirm", statement.pk),
        totp_form(planted, signing_passphrase=signing_passphrase(world.users["bureau"])),
    )

    assert any("签名密钥口令错误" in m for m in flashed(refused))
    assert state(statement) == before
    document = StatementDocument.objects.get(statement=statement, kind=DocumentKind.STATEMENT)
    assert document.signed_fields == ["sig-2-vendor", "sig-1-bureau"]  # no supervisor's
    assert AuditEvent.objects.filter(action="statement.signing_key_refused", actor=planted).exists()


def test_escalated_dispute_is_decided_by_the_auditor(world):
    from billing.services.statements import statement_escalate_overdue_disputes

    with time_machine.travel(sh(2026, 4, 7, 10), tick=False) as clock:
        statement = submitted_statement(world)
        statement_dispute(
            actor=world.users["bureau"], statement=statement, reauth=password(), comment="有误"
        )
        clock.move_to(sh(2026, 4, 14, 9))  # more than 3 working days later
        assert statement_escalate_overdue_disputes() == [statement.pk]
        auditor = verified_client(world.users["auditor"])
        page = text(auditor.get(url("statement_detail", statement.pk)))
        assert url("statement_decide", statement.pk) in page
        auditor.post(
            url("statement_decide", statement.pk),
            totp_form(world.users["auditor"], decision="uphold_vendor", comment="乙方统计无误"),
        )
    statement.refresh_from_db()
    assert statement.status == StatementStatus.SUBMITTED  # the supervisor still confirms
    assert statement.escalations.get().decision == "uphold_vendor"


def test_vendor_supersedes_a_signed_statement_with_a_reason(world):
    statement = signed_statement(world)
    before = state(statement)
    vendor = verified_client(world.users["vendor"])
    assert url("statement_supersede", statement.pk) in text(
        vendor.get(url("statement_detail", statement.pk))
    )
    refused = vendor.post(url("statement_supersede", statement.pk), {"reason": ""})
    assert any("更正原因" in m for m in flashed(refused))
    response = vendor.post(url("statement_supersede", statement.pk), {"reason": "数量录入错误"})
    correction = Statement.objects.get(supersedes=statement)
    assert response.url == url("statement_detail", correction.pk)
    assert (correction.version, correction.status) == (2, StatementStatus.DRAFT)
    assert state(statement) == before  # the signed version is untouched


def test_action_panel_shows_only_what_the_user_may_do_now(world):
    statement = submitted_statement(world)

    def offered(role: str) -> set[str]:
        page = text(verified_client(world.users[role]).get(url("statement_detail", statement.pk)))
        names = ("submit", "confirm", "dispute", "comment", "decide", "regenerate", "supersede")
        return {n for n in names if url(f"statement_{n}", statement.pk) in page}

    assert offered("vendor") == {"comment"}
    assert offered("bureau") == {"confirm", "dispute", "comment"}
    assert offered("supervisor") == {"dispute", "comment"}
    assert offered("auditor") == {"comment"}


# ------------------------------------------------------------------- immutability, every path

PORTAL_ACTIONS = [
    ("submit", "vendor", password_form()),
    ("regenerate", "vendor", {}),
    ("confirm", "bureau", password_form()),
    ("confirm", "supervisor", password_form()),
    ("dispute", "bureau", password_form(comment="晚了")),
    ("comment", "auditor", {"text": "晚了"}),
    ("decide", "auditor", password_form(decision="uphold_dispute", comment="晚了")),
]


@pytest.mark.parametrize(
    ("action", "role", "data"), PORTAL_ACTIONS, ids=[f"{a}-{r}" for a, r, _d in PORTAL_ACTIONS]
)
def test_a_signed_statement_cannot_be_changed_through_the_portal(world, action, role, data):
    statement = signed_statement(world)
    before = state(statement)

    response = verified_client(world.users[role]).post(
        url(f"statement_{action}", statement.pk), data
    )

    assert response.status_code == 302
    assert response.url == url("statement_detail", statement.pk)
    (message,) = flashed(response)
    assert "已签认" in message
    assert state(statement) == before


def test_a_signed_statement_page_offers_no_change(world):
    statement = signed_statement(world)
    for role in PARTIES:
        page = text(verified_client(world.users[role]).get(url("statement_detail", statement.pk)))
        for name in ("submit", "confirm", "dispute", "comment", "decide", "regenerate"):
            assert url(f"statement_{name}", statement.pk) not in page, (role, name)
        assert "内容已锁定" in page


def test_a_signed_statement_cannot_be_changed_in_the_admin(world):
    statement = signed_statement(world)
    before = state(statement)
    superuser = User.objects.create_superuser("root", "root@example.test", "x")
    make_totp(superuser)
    for user in (world.users["bureau"], superuser):
        client = verified_client(user)
        change = reverse("admin:billing_statement_change", args=[statement.pk])
        assert client.get(change).status_code == 200
        assert client.post(change, {"total": "0.01", "status": "draft"}).status_code == 403
        delete = reverse("admin:billing_statement_delete", args=[statement.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        line = statement.lines.first()
        line_change = reverse("admin:billing_statementline_change", args=[line.pk])
        assert client.post(line_change, {"amount": "0"}).status_code == 403
        line_delete = reverse("admin:billing_statementline_delete", args=[line.pk])
        assert client.post(line_delete, {"post": "yes"}).status_code == 403
    assert state(statement) == before


def test_a_signed_statement_cannot_be_changed_by_a_service_call(world):
    statement = signed_statement(world)
    before = state(statement)
    with pytest.raises(InvalidTransition, match="已签认"):
        statement_generate(actor=world.users["vendor"], contract=world.contract, year=2026, month=3)
    with pytest.raises(InvalidTransition):
        statement_confirm(
            actor=world.users["supervisor"],
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(world.users["supervisor"]),
        )
    with pytest.raises(InvalidTransition):
        statement_submit(
            actor=world.users["vendor"],
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(world.users["vendor"]),
        )
    assert state(statement) == before
    assert Statement.objects.count() == 1


# ------------------------------------------------------------------- the contract dashboard


def test_dashboard_shows_months_chart_burn_forecast_and_settlement(world):
    world.contract.estimated_amount = Decimal("1000.00")
    world.contract.save(update_fields=["estimated_amount"])
    statement = signed_statement(world)
    Installment.objects.create(
        contract=world.contract, sequence=1, label="预付款", amount=Decimal("300.00")
    )
    page = text(
        verified_client(world.users["supervisor"]).get(url("contract_dashboard", world.contract.pk))
    )
    assert "<svg" in page
    assert "2026-03" in page
    assert "494.65" in page
    assert url("statement_detail", statement.pk) in page
    assert 'class="progress-bar burn-50"' in page  # 494.65 / 1000 → 49.5 % → the 50 % step
    assert "49.5%" in page
    assert "预付款" in page
    assert "实际应付" in page
    # Only the bureau records deductions and payments.
    assert url("contract_deduction_create", world.contract.pk) not in page


def test_bureau_records_a_deduction_and_a_payment(world):
    signed_statement(world)
    installment = Installment.objects.create(
        contract=world.contract, sequence=1, label="预付款", amount=Decimal("300.00")
    )
    bureau = verified_client(world.users["bureau"])
    dashboard = url("contract_dashboard", world.contract.pk)
    page = text(bureau.get(dashboard))
    assert url("contract_deduction_create", world.contract.pk) in page
    assert url("contract_payment_record", world.contract.pk) in page
    first_half = "2026-01-01/2026-06-30"
    bureau.post(
        url("contract_deduction_create", world.contract.pk),
        {"period_label": first_half, "amount": "100.00", "reason": "交付超时 2 次"},
    )
    bureau.post(
        url("contract_payment_record", world.contract.pk),
        {
            "installment": installment.pk,
            "amount": "300.00",
            "paid_on": timezone.localdate().isoformat(),
            "note": "预付款",
        },
    )
    deduction = Deduction.objects.get()
    assert (deduction.amount, deduction.period_label) == (Decimal("100.00"), first_half)
    assert Payment.objects.get().installment == installment
    page = text(bureau.get(dashboard))
    assert "交付超时 2 次" in page
    assert "394.65" in page  # payable: 494.65 signed − 100.00

    vendor = verified_client(world.users["vendor"])
    refused = vendor.post(
        url("contract_deduction_create", world.contract.pk),
        {"period_label": first_half, "amount": "1.00", "reason": "x"},
    )
    assert any("甲方" in m for m in flashed(refused))
    assert Deduction.objects.count() == 1


def test_burn_step_rounds_to_the_nearest_ten_percent():
    from billing.views import burn_step

    assert [
        burn_step(v)
        for v in (None, Decimal("0"), Decimal("0.04"), Decimal("0.05"), Decimal("0.495"))
    ] == [0, 0, 0, 10, 50]
    assert burn_step(Decimal("1.7")) == 100


# ------------------------------------------------------------------- home cards


def test_home_cards_per_role(world):
    with time_machine.travel(sh(2026, 4, 7, 10), tick=False):
        statement = submitted_statement(world)
        titles = {role: {c.title for c in cards_for(u)} for role, u in world.users.items()}
        assert "待确认的统计表" in titles["bureau"]
        assert "待确认的统计表" in titles["supervisor"]
        assert "本单位账单" in titles["department"]
        assert "统计表争议" in titles["auditor"]
        for role in ADMIN_ROLES:
            assert not titles[role] & {
                "待确认的统计表",
                "本单位账单",
                "统计表争议",
                "本月统计表待生成/待提交",
                "月度服务资源统计表",
            }

        def card(role: str, title: str):
            return next(c for c in cards_for(world.users[role]) if c.title == title)

        assert card("bureau", "待确认的统计表").actions[0].count == 1
        assert card("supervisor", "待确认的统计表").actions[0].count == 0  # the bureau is next
        vendor = card("vendor", "月度服务资源统计表")  # submitted: nothing left to do
        assert "2026-04-08" in vendor.text
        assert any("2026-03 已提交，待签认" in a.label for a in vendor.actions)
    with time_machine.travel(sh(2026, 5, 6, 10), tick=False):
        vendor = card("vendor", "本月统计表待生成/待提交")  # April has no statement yet
        assert any("2026-04 待生成" in a.label for a in vendor.actions)
    assert statement.pk


def test_home_cards_use_a_bounded_number_of_queries(world):
    from billing.home import billing_cards

    two_versions(world)
    for role in ("department", "bureau", "supervisor", "vendor", "auditor"):
        user = User.objects.select_related("organization").get(pk=world.users[role].pk)
        with CaptureQueriesContext(connection) as ctx:
            cards = billing_cards(user)
        assert cards, role
        assert len(ctx.captured_queries) <= 3, (role, len(ctx.captured_queries))


# ------------------------------------------------------------------- constant queries


def _queries(client, path: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _bare_statements(world, n: int) -> None:
    now = timezone.now()
    start = Statement.objects.filter(contract=world.contract).count()
    for version in range(start + 1, start + n + 1):
        Statement.objects.create(
            contract=world.contract,
            year=2026,
            month=2,
            version=version,
            status=StatementStatus.DISPUTED,
            due_date=date(2026, 3, 6),
            discount=Decimal("0.9999"),
            vat_rate=Decimal("0.06"),
            subtotal=Decimal("10.00"),
            total=Decimal("10.00"),
            vat=Decimal("0.57"),
            generated_at=now,
            submitted_at=now,
            disputed_at=now,
        )


def _bills(world, n: int) -> None:
    statement = Statement.objects.filter(status=SIGNED).first() or signed_statement(world)
    for _i in range(n):
        department = DepartmentFactory(parent=world.orgs["bureau"])
        DepartmentBill.objects.create(
            statement=statement,
            department=department,
            department_name=department.name,
            subtotal=Decimal("1.00"),
            total=Decimal("1.00"),
            vat=Decimal("0.06"),
            lines_count=1,
            created_at=timezone.now(),
        )


def test_statement_list_runs_a_constant_number_of_queries(world):
    client = verified_client(world.users["bureau"])
    _bare_statements(world, 3)
    client.get(reverse("statement_list"))
    few = _queries(client, reverse("statement_list"))
    _bare_statements(world, 9)
    assert _queries(client, reverse("statement_list")) == few


def test_bill_list_runs_a_constant_number_of_queries(world):
    client = verified_client(world.users["bureau"])
    _bills(world, 1)  # with the statement's two bills: 3 rows
    assert DepartmentBill.objects.count() == 3
    client.get(reverse("bill_list"))
    few = _queries(client, reverse("bill_list"))
    _bills(world, 9)
    assert _queries(client, reverse("bill_list")) == few


def test_line_table_runs_a_constant_number_of_queries(world):
    statement = draft_statement(world)  # 3 lines
    client = verified_client(world.users["vendor"])
    page = url("statement_detail", statement.pk)
    client.get(page)
    few = _queries(client, page)
    for i in range(9):
        add_resource(
            world.contract,
            world.orgs["department"],
            "ebs.ssd",
            1 + i,
            sh(2026, 2, 1),
            system=f"S{i}",
        )
    statement = statement_generate(
        actor=world.users["vendor"], contract=world.contract, year=2026, month=3
    )
    assert statement.lines.count() == 12
    assert _queries(client, page) == few


def test_bill_lines_run_a_constant_number_of_queries(world):
    """The department's bill of March has 3 lines; April's (9 resources more) has 12."""
    vcpu_item(world.contract)
    department = world.orgs["department"]
    for i in range(3):
        add_resource(world.contract, department, "ecs.general.vcpu", 1 + i, sh(2026, 1, 5))
    march = signed_statement_from(
        world,
        statement_generate(
            actor=world.users["vendor"], contract=world.contract, year=2026, month=3
        ),
    )
    for i in range(9):
        add_resource(world.contract, department, "ecs.general.vcpu", 1 + i, sh(2026, 3, 5))
    april = signed_statement_from(
        world,
        statement_generate(
            actor=world.users["vendor"], contract=world.contract, year=2026, month=4
        ),
    )
    small, large = own_bill(world, march), own_bill(world, april)
    assert (small.lines_count, large.lines_count) == (3, 12)
    client = verified_client(world.users["department"])
    client.get(url("bill_detail", small.pk))
    assert _queries(client, url("bill_detail", small.pk)) == _queries(
        client, url("bill_detail", large.pk)
    )


def signed_statement_from(world, statement: Statement) -> Statement:
    statement_submit(
        actor=world.users["vendor"],
        statement=statement,
        reauth=password(),
        signing_passphrase=signing_passphrase(world.users["vendor"]),
    )
    for role in ("bureau", "supervisor"):
        statement_confirm(
            actor=world.users[role],
            statement=statement,
            reauth=password(),
            signing_passphrase=signing_passphrase(world.users[role]),
        )
    statement.refresh_from_db()
    return statement


# ------------------------------------------------------------------- CSP: nothing inline

INLINE = [
    re.compile(r"\sstyle\s*=", re.IGNORECASE),
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
]


def test_pages_have_no_inline_scripts_or_styles(world):
    v1, v2 = two_versions(world)
    statement_submit(
        actor=world.users["vendor"],
        statement=v2,
        reauth=password(),
        signing_passphrase=signing_passphrase(world.users["vendor"]),
    )
    for role in ("bureau", "supervisor"):
        statement_confirm(
            actor=world.users[role],
            statement=v2,
            reauth=password(),
            signing_passphrase=signing_passphrase(world.users[role]),
        )
    _attach(v2, DocumentKind.STATEMENT)
    bill = own_bill(world, v2)
    pages = [
        ("vendor", reverse("statement_list")),
        ("bureau", reverse("statement_list")),
        ("vendor", url("statement_detail", v1.pk)),
        ("bureau", url("statement_detail", v2.pk)),
        ("bureau", url("statement_diff", v1.pk, v2.pk)),
        ("bureau", reverse("bill_list")),
        ("department", reverse("bill_list")),
        ("department", url("bill_detail", bill.pk)),
        ("bureau", url("contract_dashboard", world.contract.pk)),
        ("bureau", reverse("home")),
        ("vendor", reverse("home")),
    ]
    for role, path in pages:
        response = verified_client(world.users[role]).get(path)
        assert response.status_code == 200, path
        body = text(response)
        for pattern in INLINE:
            assert not pattern.search(body), (path, pattern.pattern, pattern.search(body))
        assert "script-src 'self'" in response["Content-Security-Policy"]


# ------------------------------------------------ settlement builders (tests/scoped_urls.py)


def pending_deduction(world):
    """A deduction notice awaiting the vendor, on the world's first settlement period."""
    from billing.models import Deduction, DeductionStatus
    from billing.services.settlement import contract_settlement_periods

    period = contract_settlement_periods(world.contract)[0]
    return Deduction.objects.create(
        contract=world.contract,
        period_label=period.key,
        amount=Decimal("1.00"),
        reason="矩阵测试",
        status=DeductionStatus.PENDING,
        created_at=timezone.now(),
    )


def registered_invoice(world):
    """An invoice the vendor registered, awaiting the bureau."""
    from billing.models import Invoice
    from billing.services.settlement import contract_settlement_periods

    period = contract_settlement_periods(world.contract)[0]
    return Invoice.objects.create(
        contract=world.contract,
        number=f"M{Invoice.objects.count() + 1}",
        issued_on=period.start,
        amount=Decimal("106.00"),
        tax_amount=Decimal("6.00"),
        vat_rate=Decimal("0.06"),
        period_label=period.key,
        registered_by=world.users["vendor"],
        registered_at=timezone.now(),
    )
