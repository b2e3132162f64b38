"""Passwords are hashed with Argon2id at OWASP's parameters; older PBKDF2 hashes still log in
and are upgraded on the way (issue 13 item 8)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher, make_password
from django.test import Client
from django.urls import reverse

from govcloud import settings as project_settings
from tests.factories import PASSWORD, DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_hashers(settings):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS


def test_new_passwords_are_argon2id_at_owasp_parameters(real_hashers):
    encoded = make_password("Demo-2026-gov")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert identify_hasher(encoded).algorithm == "argon2"


def test_a_pbkdf2_hash_logs_in_and_is_upgraded(real_hashers):
    user = UserFactory(organization=DepartmentFactory())
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    response = Client().post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
