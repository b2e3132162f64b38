"""Re-authentication for acts with legal weight (submitting, confirming, disputing, ruling).

A statement sign-off stands in for a signature and a seal, so the person must prove again who
they are at the moment of signing: a current TOTP code from one of their confirmed devices, or
their password. The check runs *before* the service's transaction, on purpose: the failed
attempt is audited and the device's throttling counter advances even though the action itself
is refused, so guessing codes through a sign-off endpoint is as slow as at login.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing.models import ReauthMethod
from govcloud.audit import audit_log
from govcloud.exceptions import ApplicationError
from govcloud.models import User

__all__ = ["Reauth", "ReauthFailed", "reauth_verify"]


class ReauthFailed(ApplicationError):
    """The code or password was wrong; nothing was changed."""

    status_code = 403


@dataclass(frozen=True)
class Reauth:
    """What the user typed to confirm who they are: ``method`` "totp" or "password"."""

    method: str
    value: str

    def __repr__(self) -> str:  # never leak the secret into logs or tracebacks
        return f"Reauth(method={self.method!r}, value='***')"


def _verified(actor: User, reauth: Reauth) -> bool:
    value = (reauth.value or "").strip()
    if not value:
        return False
    if reauth.method == ReauthMethod.TOTP:
        return any(
            device.verify_token(value)
            for device in TOTPDevice.objects.filter(user=actor, confirmed=True)
        )
    if reauth.method == ReauthMethod.PASSWORD:
        return actor.check_password(reauth.value)
    return False


def reauth_verify(*, actor: User, reauth: Reauth | None, action: str) -> str:
    """Return the method used, or raise ReauthFailed ("身份验证失败") after auditing."""
    if (
        isinstance(actor, User)
        and actor.is_active
        and isinstance(reauth, Reauth)
        and reauth.method in ReauthMethod.values
        and _verified(actor, reauth)
    ):
        return reauth.method
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="statement.reauth_failed",
            after={"for": action, "method": getattr(reauth, "method", None)},
        )
    raise ReauthFailed(_("身份验证失败"))
