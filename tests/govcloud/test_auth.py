"""Sign-in: password, lockout, TOTP for party staff, idle expiry, security headers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp

from govcloud.models import AuditEvent, OrganizationKind
from tests.factories import PASSWORD, DepartmentFactory, OrganizationFactory, UserFactory, make_totp

pytestmark = pytest.mark.django_db


def current_code(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def login(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_department_user_logs_in_without_second_factor():
    user = UserFactory(organization=DepartmentFactory())
    client = Client()
    response = login(client, user.username)
    assert response.status_code == 302
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert "使用单位" in home.content.decode()


@pytest.mark.parametrize("kind", ["bureau", "vendor", "supervisor", "auditor"])
def test_party_staff_must_pass_totp_before_any_page(kind):
    user = UserFactory(organization=OrganizationFactory(kind=kind))
    device = make_totp(user)
    client = Client()
    login(client, user.username)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_verify"))
    assert client.get("/api/v1/me/").status_code == 403

    wrong = client.post(reverse("two_factor_verify"), {"token": "000000"})
    assert "验证码不正确" in wrong.content.decode()
    assert client.get(reverse("home")).status_code == 302

    # django-otp throttles after a failure (1 s, doubling); wait it out as a person would.
    with time_machine.travel(timezone.now() + timedelta(seconds=3)):
        device.refresh_from_db()
        ok = client.post(reverse("two_factor_verify"), {"token": current_code(device)})
    assert ok.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert AuditEvent.objects.filter(action="auth.2fa_verified", actor=user).exists()


def test_first_login_enrols_an_authenticator():
    user = UserFactory(organization=OrganizationFactory(kind=OrganizationKind.VENDOR))
    client = Client()
    login(client, user.username)
    response = client.get(reverse("two_factor_verify"))
    assert response.status_code == 302
    assert "setup" in response.url
    page = client.get(reverse("two_factor_setup"))
    assert page.status_code == 200
    assert "data:image/svg+xml;base64," in page.content.decode()
    device = user.totpdevice_set.get(confirmed=False)
    client.post(reverse("two_factor_setup"), {"token": current_code(device)})
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("home")).status_code == 200


def test_repeated_failures_lock_the_account():
    user = UserFactory(organization=DepartmentFactory())
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, user.username, "wrong-password")
    response = login(client, user.username)  # even the right password is refused now
    assert response.status_code in (403, 429)
    assert "锁定" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_failed").count() >= 5


def test_idle_sessions_expire_after_30_minutes():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_pages_carry_a_strict_content_security_policy():
    response = Client().get(reverse("login"))
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<script>" not in response.content.decode()
    assert " style=" not in response.content.decode()


def test_logout_requires_post_and_ends_the_session(client_for):
    user = UserFactory(organization=DepartmentFactory())
    client = client_for(user)
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_password_change_is_audited(client_for):
    user = UserFactory(organization=DepartmentFactory())
    client = client_for(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Brand-new-2026!",
            "new_password2": "Brand-new-2026!",
        },
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.password_changed", actor=user).exists()


def test_chinese_is_the_default_whatever_the_browser_asks():
    page = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page.headers["Content-Language"] == "zh-hans"
    english = Client()
    english.cookies["django_language"] = "en"
    assert english.get(reverse("login")).headers["Content-Language"] == "en"


def test_no_navigation_before_the_second_factor():
    user = UserFactory(organization=OrganizationFactory(kind="bureau"))
    make_totp(user)
    client = Client()
    login(client, user.username)
    page = client.get(reverse("two_factor_verify")).content.decode()
    assert reverse("contract_list") not in page
