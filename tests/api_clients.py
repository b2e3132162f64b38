"""API clients for tests, the way real callers authenticate.

* ``token_client(user)`` — a system with an API token: the user becomes a service account (the
  only kind of user tokens are issued to) with a vendor-write token (vendors) or a read token.
* ``person_api(user)`` — a person in the browser: a session that passed the second factor.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from govcloud.api_auth import token_hash
from govcloud.models import ApiToken, OrganizationKind, TokenScope, User
from tests.conftest import verified_client


def issue_token(user: User, *, scope: str | None = None, days: int = 90) -> str:
    """A usable token secret for ``user`` (made a service account), stored as the service would."""
    User.objects.filter(pk=user.pk).update(is_service_account=True)
    user.is_service_account = True
    if scope is None:
        vendor = user.kind == OrganizationKind.VENDOR
        scope = TokenScope.VENDOR_WRITE if vendor else TokenScope.READ
    secret = "gct_" + secrets.token_urlsafe(24)
    now = timezone.now()
    ApiToken.objects.create(
        user=user,
        name=f"tests-{secrets.token_hex(4)}",
        prefix=secret[:10],
        key_hash=token_hash(secret),
        scope=scope,
        created_by=user,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    return secret


def token_client(user: User, *, scope: str | None = None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user, scope=scope)}")
    return client


def person_api(user: User) -> APIClient:
    """An API client carrying the session of ``verified_client`` (password + second factor)."""
    session = verified_client(user)
    client = APIClient()
    client.cookies = session.cookies
    return client


def api_for(user: User) -> APIClient:
    """Vendors call as their systems do (token); everybody else from the browser (session)."""
    if user.kind == OrganizationKind.VENDOR:
        return token_client(user)
    return person_api(user)
