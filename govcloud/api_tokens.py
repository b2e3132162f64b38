"""API tokens: issued to service accounts by their own organisation's administrator.

A token is named, scoped (read / vendor write) and expiring (90 days by default); only its
SHA-256 is stored, the secret is shown once. Its user is a *service account*
(``User.is_service_account``): a system that calls the API, never a person — so no person
skips the second factor by using a token. Creating and revoking are audited.

Who administers whose tokens is the same rule as who administers whose users
(``govcloud.selectors.users_administered_by``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.api_auth import token_hash
from govcloud.audit import audit_log
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import API_TOKEN_DEFAULT_DAYS, ApiToken, OrganizationKind, TokenScope, User
from govcloud.selectors import users_administered_by

__all__ = [
    "IssuedToken",
    "api_token_create",
    "api_token_revoke",
    "may_administer_tokens_of",
]

TOKEN_PREFIX = "gct_"  # noqa: S105 — a marker that makes leaked tokens easy to scan for


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once; never stored

    def __repr__(self) -> str:
        return f"IssuedToken(token={self.token!r}, secret='***')"


def may_administer_tokens_of(actor: Any, user: User) -> bool:
    """Whoever administers the account's user record (``organizations_administered_by``: the
    bureau's security admin for its bureau and departments, a party's user admin for its own
    organisation) administers its tokens. Nobody for themselves."""
    if not getattr(actor, "is_active", False) or actor.pk == user.pk:
        return False
    return users_administered_by(actor).filter(pk=user.pk).exists()


@transaction.atomic
def api_token_create(
    *,
    actor: User,
    user: User,
    name: str,
    scope: str,
    days: int = API_TOKEN_DEFAULT_DAYS,
) -> IssuedToken:
    """Issue a token for a service account; the secret is returned once."""
    if not may_administer_tokens_of(actor, user):
        raise ActionForbidden(_("只有该账号所属单位的用户管理员可以为其签发令牌。"))
    if not user.is_service_account:
        raise ApplicationError(
            _("API 令牌只能签发给服务账号；个人账号请登录门户并通过双因素认证。"),
            extra={"field": "user"},
        )
    if not user.is_active:
        raise ApplicationError(_("该服务账号已停用。"), extra={"field": "user"})
    if scope not in TokenScope.values:
        raise ApplicationError(_("权限范围无效。"), extra={"field": "scope"})
    if scope == TokenScope.VENDOR_WRITE and user.kind != OrganizationKind.VENDOR:
        raise ApplicationError(_("只有乙方的服务账号可以获得读写令牌。"), extra={"field": "scope"})
    if not 1 <= days <= 366:
        raise ApplicationError(_("有效期须在 1 至 366 天之间。"), extra={"field": "days"})
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("请填写令牌名称。"), extra={"field": "name"})
    if ApiToken.objects.filter(user=user, name=name).exists():
        raise ApplicationError(_("该账号已有同名令牌。"), extra={"field": "name"})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken(
        user=user,
        name=name[:80],
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        key_hash=token_hash(secret),
        scope=scope,
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    token.full_clean()
    token.save()
    audit_log(
        actor=actor,
        action="api_token.create",
        obj=token,
        after={
            "user": user.username,
            "name": token.name,
            "scope": scope,
            "prefix": token.prefix,
            "expires_at": token.expires_at.isoformat(),
        },
    )
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update(of=("self",)).get(pk=token.pk)
    if not may_administer_tokens_of(actor, token.user):
        raise ActionForbidden(_("只有该账号所属单位的用户管理员可以吊销其令牌。"))
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit_log(actor=actor, action="api_token.revoke", obj=token, after={"prefix": token.prefix})
    return token
