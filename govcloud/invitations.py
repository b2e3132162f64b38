"""Inviting a party's user administrator (vendor, supervisor, auditor), and accepting.

The platform operator, or a bureau's security administrator for a party on one of the bureau's
contracts, invites the party's first user administrator once. The invitation creates an inactive
user with no usable password and e-mails a one-time link (valid ``INVITATION_DAYS`` days; only
the SHA-256 of its token is stored). The invited person opens the link, sets a password and
enrols an authenticator (TOTP); only then is the user active. From then on the party administers
its own users: the inviter may re-send or revoke a *pending* invitation, never touch the user.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.audit import audit_log
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import Invitation, InvitationStatus, Organization, Role, User
from govcloud.outbox import outbox_enqueue
from govcloud.selectors import organizations_invitable_by

INVITATION_DAYS = 7


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_url(token: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("invitation_accept", args=[token])


def _snapshot(invitation: Invitation) -> dict[str, object]:
    return {
        "organization": invitation.organization_id,
        "username": invitation.username,
        "email": invitation.email,
        "status": invitation.status,
        "expires_at": invitation.expires_at,
        "sent_count": invitation.sent_count,
    }


def _new_token(invitation: Invitation) -> str:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _hash(token)
    invitation.expires_at = timezone.now() + timedelta(days=INVITATION_DAYS)
    return token


def _send(invitation: Invitation, token: str) -> None:
    outbox_enqueue(
        key=f"invitation:{invitation.pk}:{invitation.sent_count}",
        recipients=[invitation.email],
        subject=_("政务云服务管理平台：%(org)s 用户管理员邀请") % {"org": invitation.organization},
        body=_(
            "%(name)s，您好：\n\n"
            "您被邀请担任 %(org)s 在政务云服务管理平台的用户管理员（用户名：%(username)s）。\n"
            "请在 %(expires)s 之前打开以下链接，设置密码并绑定身份验证器：\n\n%(url)s\n\n"
            "该链接只能使用一次。如非本人操作，请忽略本邮件。"
        )
        % {
            "name": invitation.full_name or invitation.username,
            "org": invitation.organization,
            "username": invitation.username,
            "expires": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d %H:%M"),
            "url": invitation_url(token),
        },
    )


def _require_inviter(actor: User, organization: Organization) -> None:
    if not organizations_invitable_by(actor).filter(pk=organization.pk).exists():
        raise ActionForbidden(_("您不能为该单位邀请用户管理员。"))


def invitation_problems(*, organization: Organization, username: str) -> list[str]:
    """Why an invitation of ``username`` for ``organization`` cannot be issued (none: it can)."""
    problems = []
    if User.objects.filter(
        organization=organization, role=Role.USER_ADMIN, is_active=True
    ).exists():
        problems.append(_("该单位已有用户管理员，由其自行管理本单位用户。"))
    if Invitation.objects.filter(
        organization=organization, status=InvitationStatus.PENDING
    ).exists():
        problems.append(_("该单位已有待接受的邀请，可重新发送或撤销。"))
    if User.objects.filter(username__iexact=username).exists():
        problems.append(_("用户名已被使用。"))
    return problems


@transaction.atomic
def invitation_create(
    *, actor: User, organization: Organization, username: str, email: str, full_name: str = ""
) -> tuple[Invitation, str]:
    """Invite the organisation's user administrator; returns the invitation and the token."""
    _require_inviter(actor, organization)
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    problems = invitation_problems(organization=organization, username=username)
    if problems:
        raise ApplicationError(problems[0], {"errors": problems})
    user = User(
        username=username,
        email=email,
        full_name=full_name,
        organization=organization,
        role=Role.USER_ADMIN,
        is_active=False,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    invitation = Invitation(
        organization=organization,
        user=user,
        username=username,
        email=email,
        full_name=full_name,
        invited_by=actor,
        invited_by_organization_id=actor.organization_id,
    )
    token = _new_token(invitation)
    invitation.full_clean()
    invitation.save()
    _send(invitation, token)
    audit_log(actor=actor, action="invitation.create", obj=invitation, after=_snapshot(invitation))
    return invitation, token


def _pending_for_update(invitation: Invitation) -> Invitation:
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.status != InvitationStatus.PENDING:
        raise ApplicationError(_("只有待接受的邀请可以重新发送或撤销。"))
    return locked


@transaction.atomic
def invitation_resend(*, actor: User, invitation: Invitation) -> tuple[Invitation, str]:
    """A new link (the old one stops working) with a fresh expiry."""
    _require_inviter(actor, invitation.organization)
    invitation = _pending_for_update(invitation)
    before = _snapshot(invitation)
    token = _new_token(invitation)
    invitation.sent_count += 1
    invitation.save(update_fields=["token_hash", "expires_at", "sent_count"])
    _send(invitation, token)
    audit_log(
        actor=actor,
        action="invitation.resend",
        obj=invitation,
        before=before,
        after=_snapshot(invitation),
    )
    return invitation, token


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    """The link stops working; the never-activated user is removed so the name is free again."""
    _require_inviter(actor, invitation.organization)
    invitation = _pending_for_update(invitation)
    before = _snapshot(invitation)
    user = invitation.user
    invitation.status = InvitationStatus.REVOKED
    invitation.revoked_at = timezone.now()
    invitation.token_hash = _hash(secrets.token_urlsafe(32))  # nothing can match it any more
    invitation.user = None
    invitation.save(update_fields=["status", "revoked_at", "token_hash", "user"])
    if user is not None and not user.is_active and user.last_login is None:
        user.delete()
    audit_log(
        actor=actor,
        action="invitation.revoke",
        obj=invitation,
        before=before,
        after=_snapshot(invitation),
    )
    return invitation


def invitation_for_token(token: str) -> Invitation | None:
    """The open (pending, unexpired) invitation of a link, or None."""
    invitation = (
        Invitation.objects.select_related("organization", "user")
        .filter(token_hash=_hash(token), status=InvitationStatus.PENDING)
        .first()
    )
    if invitation is None or not invitation.is_open or invitation.user is None:
        return None
    return invitation


@transaction.atomic
def invitation_set_password(*, invitation: Invitation, password: str) -> Invitation:
    """Step 1 of accepting: the invited person's own password (the user stays inactive)."""
    invitation = _pending_for_update(invitation)
    user = invitation.user
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    invitation.password_set_at = timezone.now()
    invitation.save(update_fields=["password_set_at"])
    audit_log(actor=user, action="invitation.password_set", obj=invitation)
    return invitation


@transaction.atomic
def invitation_complete(*, invitation: Invitation) -> User:
    """Step 2 of accepting, after the authenticator is confirmed: the user becomes active."""
    invitation = _pending_for_update(invitation)
    if invitation.password_set_at is None:
        raise ApplicationError(_("请先设置密码。"))
    user = invitation.user
    user.is_active = True
    user.save(update_fields=["is_active"])
    invitation.status = InvitationStatus.ACCEPTED
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["status", "accepted_at"])
    audit_log(
        actor=user,
        action="invitation.accept",
        obj=invitation,
        after=_snapshot(invitation),
    )
    return user
