"""How the API authenticates an ``ApiToken`` and limits it to its scope.

Kept apart from ``govcloud.api_tokens`` (the services): DRF imports these classes while it
loads its settings, so this module imports nothing that imports DRF back.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission

from govcloud.models import ApiToken, TokenScope, User
from govcloud.selectors import is_business_reader

__all__ = [
    "ApiTokenAuthentication",
    "BusinessReaderPermission",
    "TokenScopePermission",
    "token_hash",
]

#: Refresh ``last_used_at`` at most this often (one write a minute, not one per call).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    """What is stored of a token: the SHA-256 of its secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <secret>`` against ``ApiToken`` (hash, expiry, revocation)."""

    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        token = (
            ApiToken.objects.select_related("user__organization")
            .filter(key_hash=token_hash(key))
            .first()
        )
        now = timezone.now()
        if token is None or not token.is_usable(now):
            raise exceptions.AuthenticationFailed(_("令牌无效、已过期或已吊销。"))
        user = token.user
        if not user.is_active or not user.is_service_account:
            raise exceptions.AuthenticationFailed(_("令牌所属账号不可用。"))
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token


class TokenScopePermission(BasePermission):
    """A read token reads; writing needs a vendor-write token. Sessions are not affected."""

    message = _("该令牌只允许读取。")

    def has_permission(self, request: Any, view: Any) -> bool:
        token = getattr(request, "auth", None)
        if not isinstance(token, ApiToken):
            return True
        return request.method in SAFE_METHODS or token.scope == TokenScope.VENDOR_WRITE


class BusinessReaderPermission(BasePermission):
    """The API is contract business: administrators (三员分立), a party's user administrator
    and the platform operator do not use it (``/api/v1/me/`` aside, which opts out)."""

    message = _("管理员账号不办理合同业务（三员分立）。")

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return not (user and user.is_authenticated) or is_business_reader(user)
