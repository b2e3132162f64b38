"""The proofs after login are counted and locked like login (issue 13 item 3): the second
factor's code and the re-authentication at sign-off, per user, reset by a success; while locked
even the right answer is refused with 429, so neither endpoint is an oracle."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.throttling import UserRateThrottle

from billing.services.reauth import ProofLocked, Reauth, ReauthFailed, reauth_verify
from govcloud.attempts import locked_until
from tests.api_clients import token_client
from tests.factories import PASSWORD, OrganizationFactory, UserFactory, make_totp
from tests.govcloud.test_auth import current_code, login

pytestmark = pytest.mark.django_db


def _fail(user, times: int) -> None:
    for _ in range(times):
        with pytest.raises(ReauthFailed):
            reauth_verify(actor=user, reauth=Reauth("password", "wrong"), action="submit")


def test_reauth_locks_after_the_limit_even_for_the_right_password():
    user = UserFactory(organization=OrganizationFactory(kind="vendor"))
    limit = settings.AXES_FAILURE_LIMIT
    _fail(user, limit - 1)
    assert locked_until(user, "reauth") is None
    _fail(user, 1)
    until = locked_until(user, "reauth")
    assert until is not None
    with pytest.raises(ProofLocked, match="签认身份验证连续失败次数过多") as exc:
        reauth_verify(actor=user, reauth=Reauth("password", PASSWORD), action="submit")
    assert exc.value.status_code == 429
    assert 0 < exc.value.extra["retry_after"] <= settings.AXES_COOLOFF_TIME.total_seconds()
    # after the cool-off the right password works and resets the count
    with time_machine.travel(until + timedelta(seconds=1)):
        assert reauth_verify(actor=user, reauth=Reauth("password", PASSWORD), action="x") == (
            "password"
        )
        _fail(user, limit - 1)
        assert locked_until(user, "reauth") is None


def test_a_success_resets_the_count_and_users_are_counted_apart():
    user = UserFactory(organization=OrganizationFactory(kind="vendor"))
    other = UserFactory(organization=user.organization)
    limit = settings.AXES_FAILURE_LIMIT
    _fail(user, limit - 1)
    reauth_verify(actor=user, reauth=Reauth("password", PASSWORD), action="submit")
    _fail(user, limit - 1)
    assert locked_until(user, "reauth") is None
    _fail(other, limit)
    assert locked_until(other, "reauth") is not None
    assert locked_until(user, "reauth") is None


def test_second_factor_codes_lock_like_login():
    user = UserFactory(organization=OrganizationFactory(kind="bureau"))
    device = make_totp(user)
    client = Client()
    login(client, user.username)
    start = timezone.now()
    for step in range(settings.AXES_FAILURE_LIMIT):
        # django-otp's own back-off (1 s, doubling) is waited out: only our count locks
        with time_machine.travel(start + timedelta(seconds=60 * step)):
            wrong = client.post(reverse("two_factor_verify"), {"token": "000000"})
            assert wrong.status_code == 200
    with time_machine.travel(start + timedelta(minutes=6)):
        device.refresh_from_db()
        locked = client.post(reverse("two_factor_verify"), {"token": current_code(device)})
        assert locked.status_code == 429
        assert "动态验证码连续失败次数过多" in locked.content.decode()
        assert client.get(reverse("home")).status_code == 302
    with time_machine.travel(start + timedelta(minutes=40)):
        device.refresh_from_db()
        ok = client.post(reverse("two_factor_verify"), {"token": current_code(device)})
        assert ok.status_code == 302


def test_api_users_are_throttled_with_a_chinese_message_and_retry_after(world, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "2/min"})
    api = token_client(world.users["vendor"])
    codes = [api.get("/api/v1/contracts/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.get("/api/v1/contracts/")
    assert response.json()["message"].startswith("请求过于频繁，请")
    assert int(response["Retry-After"]) > 0
    # another user has a budget of their own
    assert token_client(world.users["bureau"]).get("/api/v1/contracts/").status_code == 200
