"""TOTP enrolment and verification (django-otp), shared by the portal and the admin."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from govcloud.attempts import require_not_locked
from govcloud.audit import audit_log
from govcloud.models import User


def confirmed_devices(user: User) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True))


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled, created on first visit of the setup page."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=False)
    return device


def secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode("ascii")


def qr_data_uri(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@transaction.atomic
def verify(request, token: str) -> bool:
    """Check the token against the user's confirmed devices and mark the session verified.

    Raises ``ProofLocked`` while too many codes failed (``govcloud.attempts``), before looking
    at the token: the right code is refused too until the cool-off has passed.
    """
    require_not_locked(request.user, "2fa")
    for device in confirmed_devices(request.user):
        if device.verify_token(token):
            otp_login(request, device)
            audit_log(actor=request.user, action="auth.2fa_verified", obj=request.user)
            return True
    audit_log(actor=request.user, action="auth.2fa_failed", obj=request.user)
    return False


@transaction.atomic
def confirm_enrolment(request, token: str) -> bool:
    require_not_locked(request.user, "2fa")
    device = pending_device(request.user)
    if not device.verify_token(token):
        audit_log(actor=request.user, action="auth.2fa_failed", obj=request.user)
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    audit_log(actor=request.user, action="auth.2fa_enrolled", obj=request.user)
    return True
