"""End to end in headless Chromium: a Baotou ticket from request to delivered resource.

On BT-2026 (the example successor, running today): BT-2025 ended on 2026-06-19 and takes no
requests.

Department requests 8 vCPU for a new system (sees the estimate, submits), the bureau and then
the supervisor approve (password + TOTP), the vendor delivers from its queue with a vendor ref,
and the department finds the resource in its inventory. Screenshots of each page go to
``var/screenshots/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django_otp.oath import totp

from billing.contracts import bureau_of, load_example_contract, load_reference_contracts
from billing.models import CatalogItem
from govcloud.models import ContractParty, Organization, OrganizationKind
from requests_app.models import RequestStatus, ResourceRequest
from tests.factories import PASSWORD, UserFactory, make_totp

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
FONTS = ROOT / "govcloud" / "pdf" / "fonts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
    # transaction=True for the live server thread; the flush of an earlier transactional
    # test may have removed the migration-loaded calendar, so `official_calendar` reloads it.
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("official_calendar"),
]


def _fontconfig(tmp_path: Path) -> dict[str, str]:
    """Let Chromium find the shipped CJK font on machines without a system CJK font."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{FONTS}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


@pytest.fixture
def browser(tmp_path, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    # The sync API runs an event loop in this thread; the ORM calls of the test are still
    # synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
            env=_fontconfig(tmp_path),
        )
        yield chromium
        chromium.close()


@pytest.fixture
def bt_world():
    load_reference_contracts()
    load_example_contract("bt-2026")
    bureau = bureau_of("BT-2026")
    parties = {
        p.role: p.organization
        for p in ContractParty.objects.filter(contract__code="BT-2026").select_related(
            "organization"
        )
    }
    department = Organization.objects.create(
        name="包头市城市管理综合执法局",
        short_name="城管执法局",
        kind=OrganizationKind.DEPARTMENT,
        parent=bureau,
    )
    users = {
        "department": UserFactory(username="dept", full_name="王芳", organization=department),
        "bureau": UserFactory(username="bureau", full_name="李强", organization=parties["bureau"]),
        "supervisor": UserFactory(
            username="supervisor", full_name="赵敏", organization=parties["supervisor"]
        ),
        "vendor": UserFactory(username="vendor", full_name="陈杰", organization=parties["vendor"]),
    }
    for user in users.values():
        if user.requires_two_factor:
            make_totp(user)
    return users


def _code(user) -> str:
    device = user.totpdevice_set.get()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _sign_in(browser, base: str, user):
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900}
    )
    page = context.new_page()
    # data-confirm buttons ask before irreversible steps; the person says yes.
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    if user.requires_two_factor:
        page.wait_for_url("**/accounts/2fa/**")
        page.fill("#id_token", _code(user))
        page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    return context, page


def test_ticket_from_request_to_delivered_resource(browser, live_server, bt_world):
    base = live_server.url
    errors: list[str] = []

    # Department: new request with an estimate, submitted for review.
    context, page = _sign_in(browser, base, bt_world["department"])
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    _shot(page, "01-department-home")
    page.click("text=新建申请")
    page.wait_for_selector("#request-form")
    item = CatalogItem.objects.get(contract__code="BT-2026", code="ecs.general.vcpu")
    page.select_option("#id_lines-0-catalog_item", str(item.pk))
    page.fill("#id_lines-0-quantity", "8")
    page.fill("#id_system_name", "智慧城管综合指挥平台")
    page.fill("#id_reason", "新建智慧城管综合指挥平台，需部署应用服务器。")
    page.wait_for_selector("text=¥172.78")
    # A second line updates the estimate; removing it brings the first amount back.
    memory = CatalogItem.objects.get(contract__code="BT-2026", code="ecs.general.mem")
    page.click("[data-formset-add=lines]")
    page.select_option("#id_lines-1-catalog_item", str(memory.pk))
    page.fill("#id_lines-1-quantity", "16")
    page.wait_for_selector("text=¥518.35")  # (8 + 16) × 21.60 × 0.9999
    page.locator("[data-formset-remove]").nth(1).click()
    page.wait_for_selector("text=¥172.78")
    _shot(page, "02-request-form-with-estimate")
    page.click("button[name=submit]")
    page.wait_for_selector("text=已提交审核")
    ticket = ResourceRequest.objects.get()
    assert ticket.status == RequestStatus.SUBMITTED
    _shot(page, "03-request-detail-submitted")
    context.close()

    # Bureau, then supervisor: approve from the review queue.
    for step, role in enumerate(("bureau", "supervisor"), start=4):
        context, page = _sign_in(browser, base, bt_world[role])
        page.click("nav >> text=待我审核")
        page.wait_for_selector(f"text={ticket.number}")
        _shot(page, f"0{step}-{role}-review-queue")
        page.click(f"a:has-text('{ticket.number}') >> nth=0")
        page.fill("#review-comment", "同意，资源配置合理。")
        if role == "bureau":
            _shot(page, "04b-bureau-request-detail")
        page.click("button:has-text('同意')")
        page.wait_for_selector("text=已同意工单")
        context.close()
    ticket.refresh_from_db()
    assert ticket.status == RequestStatus.APPROVED

    # Vendor: deliver from the queue with the instance id.
    context, page = _sign_in(browser, base, bt_world["vendor"])
    _shot(page, "06-vendor-home")
    page.click("nav >> text=交付队列")
    page.wait_for_selector(f"text={ticket.number}")
    assert page.locator("text=剩 ").count() or page.locator("text=今日到期").count()
    _shot(page, "07-vendor-delivery-queue")
    page.click(f"a:has-text('{ticket.number}') >> nth=0")
    line = ticket.lines.get()
    page.fill(f"#vendor-ref-{line.pk}", "ecs-bt-0001")
    _shot(page, "08-vendor-request-detail")
    page.click("button:has-text('确认交付')")
    page.wait_for_selector("text=已交付，资源已入库")
    context.close()
    ticket.refresh_from_db()
    assert ticket.status == RequestStatus.DELIVERED

    # Department: the resource is in its inventory.
    context, page = _sign_in(browser, base, bt_world["department"])
    page.click("nav >> text=云资源")
    page.wait_for_selector("text=ecs-bt-0001")
    assert page.locator("text=智慧城管综合指挥平台").count()
    _shot(page, "09-department-resources")
    page.click("nav >> text=资源申请")
    page.wait_for_selector(f"text={ticket.number}")
    _shot(page, "10-department-request-list")
    page.click(f"a:has-text('{ticket.number}') >> nth=0")
    page.wait_for_selector("text=交付资源")
    _shot(page, "11-request-detail-delivered")
    context.close()
    assert not errors, errors
    assert settings.TIME_ZONE == "Asia/Shanghai"
