"""Every department and vendor page on a phone (375 px) and a laptop (1366 px), in Chromium;
and the busy state of a long submit (static/js/portal.js).

The pages walked are every portal route without parameters plus every object page of the
tenancy matrix (tests/scoped_urls.py) the role may open, so a new page is walked as soon as it
exists. On each: the page itself never scrolls sideways (wide tables scroll inside their own
box), no table cell is squeezed to a character per line and no drop-down shrinks below a
readable width. Screenshots of each role's home page at both widths go to
``var/screenshots/layout/`` (var/ is not versioned).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from govcloud.exceptions import ApplicationError
from requests_app.models import RequestStatus, ResourceRequest
from tests.conftest import build_world, verified_client
from tests.requests_app.factories import vcpu_item
from tests.requests_app.test_browser import CHROMIUM, _fontconfig
from tests.scoped_urls import EXEMPT_PREFIXES, SCOPED_URLS

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "var" / "screenshots" / "layout"
PHONE, LAPTOP = 375, 1366
WALKED_ROLES = ("department", "vendor")
HOME_ROLES = ("department", "vendor", "bureau", "supervisor", "auditor")
# Not pages: the API, the admin (its own layout), signing out, language switching.
DOWNLOADS = ("_pdf", "_file", "_evidence", "_attachment", "_certificate")
SKIPPED_PATHS = ("/api/", "/admin/", "/accounts/logout/", "/i18n/", "/static/", "/media/")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("official_calendar", "statement_pdfs_fast"),
]

# What a person would see as broken, measured in the page: the widest point of the document,
# text cells narrower than two characters while holding four or more, and drop-downs or text
# fields too narrow to show their value.
MEASURE = """() => {
  const squeezed = [];
  for (const el of document.querySelectorAll('main td, main th')) {
    const r = el.getBoundingClientRect();
    const text = (el.innerText || '').trim();
    if (r.width > 0 && text.length >= 4 && r.width < 36) squeezed.push(text.slice(0, 12));
  }
  const narrow = [];
  const fields = 'main select, main input[type=text], main input[type=number], main textarea';
  for (const el of document.querySelectorAll(fields)) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.width < 72) narrow.push(el.name || el.id);
  }
  // What sticks out of the window without a scrolling box around it (for the message).
  const outside = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.getBoundingClientRect().right <= window.innerWidth + 1) continue;
    let box = el.parentElement;
    while (box && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
    if (!box || box === document.body || box === document.documentElement) {
      outside.push(el.tagName.toLowerCase() + [...el.classList].map(c => '.' + c).join(''));
    }
  }
  const width = document.documentElement.scrollWidth;
  return {width, squeezed, narrow, outside: outside.slice(-4)};
}"""


def _routes_without_params(resolver: URLResolver, prefix: str = "") -> list[str]:
    names = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace:
                continue  # the admin and other namespaced apps are not portal pages
            names += _routes_without_params(entry, prefix)
        elif isinstance(entry, URLPattern) and entry.name and not entry.pattern.regex.groupindex:
            names.append(entry.name)
    return names


def _object_pages(world) -> list[tuple[str, str, object]]:
    """(route name, URL, world) of every object page a walked role may open."""
    worlds = [world]
    pages = []
    for name, spec in SCOPED_URLS.items():
        if spec.method != "get" or name.startswith((*EXEMPT_PREFIXES, "api_")):
            continue
        if name.endswith(DOWNLOADS):
            continue  # files, not pages (and their stand-in objects would upset real pages)
        if not spec.visible_to & set(WALKED_ROLES):
            continue
        # A builder that already ran on a world for another page (a report submitted twice,
        # a second statement of the same month) runs on the next world, or a new one.
        for owner in worlds:
            try:
                kwargs = spec.build(owner)
                break
            except (ApplicationError, IntegrityError):
                continue
        else:
            owner = build_world()
            worlds.append(owner)
            kwargs = spec.build(owner)
        pages.append((name, reverse(name, kwargs=kwargs), owner))
    return pages


def _portal_pages(world, objects, role: str) -> list[tuple[str, object]]:
    """(URL, user) of the HTML pages ``role`` may open: 200, a whole document (no fragment)."""
    candidates = [(reverse(name), world) for name in _routes_without_params(get_resolver())]
    candidates += [
        (url, owner) for name, url, owner in objects if role in SCOPED_URLS[name].visible_to
    ]
    clients: dict[int, Client] = {}
    pages = []
    seen: set[str] = set()
    for url, owner in candidates:
        if url.startswith(SKIPPED_PATHS) or url in seen:
            continue
        seen.add(url)
        user = owner.users[role]
        client = clients.setdefault(user.pk, verified_client(user))
        response = client.get(url)
        html = response.get("Content-Type", "").startswith("text/html")
        if response.status_code == 200 and html and b"<html" in response.content[:400]:
            pages.append((url, user))
    return pages


@pytest.fixture
def chromium(tmp_path, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
            env=_fontconfig(tmp_path),
        )
        yield browser
        browser.close()


def _sign_in(context, live_server, user) -> None:
    """The user's verified session in the browser (the sign-in form itself is walked in
    tests/requests_app/test_browser.py)."""
    session = verified_client(user).cookies[settings.SESSION_COOKIE_NAME].value
    context.clear_cookies()
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def _signed_in_page(chromium, live_server, user):
    context = chromium.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": PHONE, "height": 800}
    )
    _sign_in(context, live_server, user)
    return context, context.new_page()


@pytest.fixture
def world_pages():
    """The world and each walked role's pages, built before the browser starts: signing a
    statement runs its own event loop, which the Playwright thread's loop would refuse."""
    world = build_world()
    objects = _object_pages(world)
    return world, {role: _portal_pages(world, objects, role) for role in WALKED_ROLES}


@pytest.fixture
def home_world():
    return build_world()


def test_every_department_and_vendor_page_fits_a_phone_and_a_laptop(
    world_pages, chromium, live_server
):
    world, pages_of = world_pages
    problems: list[str] = []
    walked: dict[str, int] = {}
    for role in WALKED_ROLES:
        pages = pages_of[role]
        walked[role] = len(pages)
        context, page = _signed_in_page(chromium, live_server, world.users[role])
        signed_in = world.users[role]
        for url, user in pages:
            if user != signed_in:
                _sign_in(context, live_server, user)
                signed_in = user
            page.set_viewport_size({"width": PHONE, "height": 800})
            page.goto(live_server.url + url)
            phone = page.evaluate(MEASURE)
            # The same document at a laptop's width: no reload, the layout follows the window.
            page.set_viewport_size({"width": LAPTOP, "height": 900})
            laptop = page.evaluate(MEASURE)
            if phone["width"] > PHONE:
                problems.append(
                    f"{role} {url}: {phone['width']} px wide at {PHONE} px {phone['outside']}"
                )
            if laptop["width"] > LAPTOP:
                problems.append(f"{role} {url}: {laptop['width']} px wide at {LAPTOP} px")
            if phone["squeezed"]:
                problems.append(f"{role} {url}: squeezed cells {phone['squeezed'][:3]}")
            if phone["narrow"]:
                problems.append(f"{role} {url}: narrow fields {phone['narrow'][:3]}")
        context.close()
    # The walk covers the portal, not a handful of pages: home, lists, forms, object pages.
    assert walked["department"] >= 10, walked
    assert walked["vendor"] >= 30, walked
    assert not problems, "\n".join(problems)


def test_home_pages_of_each_role_at_both_widths(home_world, chromium, live_server):
    world = home_world
    SHOTS.mkdir(parents=True, exist_ok=True)
    for role in HOME_ROLES:
        context, page = _signed_in_page(chromium, live_server, world.users[role])
        for width in (PHONE, LAPTOP):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(live_server.url + "/")
            page.wait_for_selector("main h1, main .card")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (role, width)
            # The menu collapses behind its toggler on the phone and is open on the laptop.
            assert page.locator(".navbar-toggler").is_visible() == (width == PHONE), (role, width)
            shot = SHOTS / f"home-{role}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 5_000
        context.close()


# Watches the form from inside the page: right after the click (once portal.js has run) it
# notes the buttons' state and submits again, as an impatient second click or Enter would. The
# notes survive the navigation in sessionStorage.
WATCH_SUBMITS = """() => {
  document.addEventListener('submit', (event) => {
    const log = JSON.parse(sessionStorage.getItem('submits') || '[]');
    log.push(event.defaultPrevented);
    sessionStorage.setItem('submits', JSON.stringify(log));
    if (log.length > 1) return;
    window.setTimeout(() => {
      const pressed = document.querySelector('button[name=submit]');
      sessionStorage.setItem('busy', JSON.stringify({
        spinner: !!pressed.querySelector('.spinner-border'),
        submitDisabled: pressed.disabled,
        saveDisabled: document.querySelector('button[name=save]').disabled,
      }));
      event.target.requestSubmit();
    }, 0);
  });
}"""


@pytest.fixture
def ticket_world():
    world = build_world()
    return world, vcpu_item(world.contract)


def test_a_long_submit_shows_a_spinner_and_is_sent_once(ticket_world, chromium, live_server):
    world, item = ticket_world
    context, page = _signed_in_page(chromium, live_server, world.users["department"])
    page.goto(f"{live_server.url}/requests/new/?contract={world.contract.pk}&kind=new")
    page.select_option("#id_lines-0-catalog_item", str(item.pk))
    page.fill("#id_lines-0-quantity", "8")
    page.fill("#id_system_name", "不动产登记系统")
    page.fill("#id_reason", "新系统上云")
    posts = []
    page.on(
        "request",
        lambda r: posts.append(r.url) if r.method == "POST" and "/requests/new/" in r.url else None,
    )
    page.evaluate(WATCH_SUBMITS)
    page.click("button[name=submit]")
    page.wait_for_selector("text=已提交审核")
    busy = json.loads(page.evaluate("sessionStorage.getItem('busy')"))
    assert busy == {"spinner": True, "submitDisabled": True, "saveDisabled": True}
    # The second submit was refused in the page; one request reached the server.
    assert json.loads(page.evaluate("sessionStorage.getItem('submits')")) == [False, True]
    assert len(posts) == 1
    # The pressed button's name reached the server: submitted for review, not saved as draft.
    assert list(ResourceRequest.objects.values_list("status", flat=True)) == [
        RequestStatus.SUBMITTED
    ]
    # Back on the form, its buttons work again.
    page.go_back()
    page.wait_for_selector("#request-form")
    assert page.locator("button[name=submit]").is_enabled()
    assert page.locator("#request-form .spinner-border").count() == 0
    context.close()
