"""Re-authentication for acts with legal weight (submitting, confirming, disputing, ruling),
and the unlocking of the signer's organisation key for acts that sign the statement PDF.

A statement sign-off stands in for a signature and a seal, so the person must prove again who
they are at the moment of signing: a current TOTP code from one of their confirmed devices, or
their password. The check runs *before* the service's transaction, on purpose: the failed
attempt is audited and the device's throttling counter advances even though the action itself
is refused, so guessing codes through a sign-off endpoint is as slow as at login.

Proving who one is is not enough to sign for an organisation: a sign-off that signs the PDF
(the vendor's submission, a confirmation, the auditor's ruling for the vendor) also needs the
passphrase of the signer's *organisation's* signing key (``signing_key_open``). The key opens in
memory for that one request; the passphrase is never stored, logged, audited or queued (it
travels as ``govcloud.pdf.signing.SigningSecret``, which never prints). A user account alone —
say one that someone else created in that organisation — cannot produce its signature. A wrong
passphrase is audited like a failed re-authentication and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from django_otp.plugins.otp_totp.models import TOTPDevice
from pyhanko.sign.signers import Signer

from billing.models import ReauthMethod
from govcloud.attempts import ProofLocked, require_not_locked
from govcloud.audit import audit_log
from govcloud.exceptions import ApplicationError
from govcloud.models import User
from govcloud.pdf.signing import (
    SigningError,
    SigningKeyMissing,
    SigningSecret,
    WrongSigningSecret,
    party_key,
    party_signer,
)

__all__ = [
    "OpenedKey",
    "ProofLocked",
    "Reauth",
    "ReauthFailed",
    "SigningKeyRefused",
    "SigningKeyUnavailable",
    "SigningSecret",
    "reauth_verify",
    "signing_key_open",
]


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
    """Return the method used, or raise ReauthFailed ("身份验证失败") after auditing.

    Counted and locked like login (``govcloud.attempts``): after ``AXES_FAILURE_LIMIT``
    failures within the cool-off the user's re-authentication answers 429 (``ProofLocked``),
    even with the right password, until the cool-off has passed; a success resets the count.
    """
    if isinstance(actor, User):
        require_not_locked(actor, "reauth")
    if (
        isinstance(actor, User)
        and actor.is_active
        and isinstance(reauth, Reauth)
        and reauth.method in ReauthMethod.values
        and _verified(actor, reauth)
    ):
        with transaction.atomic():
            audit_log(
                actor=actor,
                action="statement.reauth_verified",
                after={"for": action, "method": reauth.method},
            )
        return reauth.method
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="statement.reauth_failed",
            after={"for": action, "method": getattr(reauth, "method", None)},
        )
    raise ReauthFailed(_("身份验证失败"))


# ------------------------------------------------------------------------ the signing key


class SigningKeyRefused(ApplicationError):
    """The passphrase does not open the organisation's signing key; nothing was changed."""

    status_code = 403


class SigningKeyUnavailable(ApplicationError):
    """No signing key is installed for the organisation (or it cannot be used)."""

    status_code = 409


@dataclass(frozen=True, repr=False)
class OpenedKey:
    """An organisation's signing key, opened in memory for one sign-off."""

    key: str
    organization_id: int
    signer: Signer

    def __repr__(self) -> str:
        return f"OpenedKey(key={self.key!r})"


@sensitive_variables("secret")
def signing_key_open(*, actor: User, secret: SigningSecret | str | None, action: str) -> OpenedKey:
    """Open the signing key of ``actor``'s organisation with what the signer typed.

    Raises ``SigningKeyRefused`` (403, audited as ``statement.signing_key_refused`` — without
    the passphrase) or ``SigningKeyUnavailable`` (409: no key installed). Call before the
    service's transaction, after ``reauth_verify``, so the refusal's audit row stays.
    """
    if not isinstance(secret, SigningSecret):
        secret = SigningSecret(secret)
    organization_id = actor.organization_id
    if organization_id is None:
        raise SigningKeyUnavailable(_("您的账号不属于任何单位，不能签名。"))
    key = party_key(organization_id)
    try:
        signer = party_signer(key).open(secret)
    except WrongSigningSecret:
        with transaction.atomic():
            audit_log(
                actor=actor,
                action="statement.signing_key_refused",
                after={"for": action, "key": key, "given": bool(secret)},
            )
        raise SigningKeyRefused(
            _("签名密钥口令错误：请输入本单位签名密钥的口令。"),
            extra={"field": "signing_passphrase"},
        ) from None
    except SigningKeyMissing:
        raise SigningKeyUnavailable(
            _("本单位的签名密钥尚未安装，暂不能签认；请联系本单位的证书管理员。")
        ) from None
    except SigningError:
        raise SigningKeyUnavailable(_("本单位的签名密钥无法使用，暂不能签认。")) from None
    return OpenedKey(key=key, organization_id=organization_id, signer=signer)
