"""After the password: the second factor guards everything, nothing signed-in is cached, and
``/healthz`` tells the truth about the database and the broker (issue: trust boundaries)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from govcloud.models import User
from tests.factories import PASSWORD, DepartmentFactory, OrganizationFactory, UserFactory, make_totp


@pytest.fixture
def bureau_user(db):
    user = UserFactory(organization=OrganizationFactory(kind="bureau"))
    make_totp(user)
    return user


def test_a_password_only_session_cannot_change_the_password(bureau_user):
    client = Client()
    client.force_login(bureau_user)  # password passed, second factor not yet

    page = client.get(reverse("password_change"))
    posted = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Other-pw-2026!",
            "new_password2": "Other-pw-2026!",
        },
    )

    assert page.status_code == 302
    assert page.headers["Location"].startswith(reverse("two_factor_verify"))
    assert posted.status_code == 302
    bureau_user.refresh_from_db()
    assert bureau_user.check_password(PASSWORD)


def test_the_second_factor_and_signing_out_stay_reachable(bureau_user):
    client = Client()
    client.force_login(bureau_user)
    assert client.get(reverse("two_factor_verify")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302  # signed out: back to the login


def test_signed_in_pages_are_never_cached(db, client_for):
    user = UserFactory(organization=DepartmentFactory())
    response = client_for(user).get(reverse("home"))
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]


def test_healthz_is_ok_when_the_database_answers(db):
    response = Client().get(reverse("healthz"))
    assert (response.status_code, response.content) == (200, b"ok")


def test_healthz_says_503_when_the_database_is_down(db):
    with mock.patch.object(connection, "cursor", side_effect=RuntimeError("connection refused")):
        response = Client().get(reverse("healthz"))
    assert response.status_code == 503
    assert b"database unavailable" in response.content


def test_healthz_says_503_when_the_broker_is_down(db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = Client().get(reverse("healthz"))
    assert response.status_code == 503
    assert b"broker unavailable" in response.content


@pytest.mark.parametrize(
    ("command", "args"), [("seed_demo", []), ("demo_totp", ["bt_bureau"])], ids=["seed", "totp"]
)
@pytest.mark.parametrize(
    ("production", "debug"), [(True, True), (False, False)], ids=["production", "debug-off"]
)
def test_demo_commands_refuse_outside_development(db, settings, command, args, production, debug):
    settings.PRODUCTION = production
    settings.DEBUG = debug
    with pytest.raises(CommandError, match="生产模式"):
        call_command(command, *args)
    assert not User.objects.filter(username="bt_bureau").exists()
