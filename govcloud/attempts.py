"""Throttling of the identity proofs that follow login: the second factor and re-authentication.

Login itself is counted by django-axes. After it, two more proofs can be guessed: the TOTP code
of the second factor, and the password or code typed again at a sign-off (``billing`` re-
authentication). Each is counted the same way as login — ``AXES_FAILURE_LIMIT`` failures within
``AXES_COOLOFF_TIME`` lock that proof *for that user* until the cool-off has passed since the
failure that reached the limit; a success resets the count. While locked even the right answer
is refused (429), so the endpoint stops being an oracle.

The count is read from the audit trail, where every failure and success is recorded anyway: it
holds across processes and workers without a shared cache, and the lock is as traceable as the
attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.dates import BUSINESS_TZ
from govcloud.exceptions import ApplicationError
from govcloud.models import AuditEvent, User

__all__ = ["PROOFS", "Proof", "ProofLocked", "locked_until", "require_not_locked"]


@dataclass(frozen=True)
class Proof:
    failed: str  # audit action of a failure
    succeeded: tuple[str, ...]  # audit actions that reset the count
    label: str


PROOFS = {
    "2fa": Proof("auth.2fa_failed", ("auth.2fa_verified", "auth.2fa_enrolled"), "动态验证码"),
    "reauth": Proof("statement.reauth_failed", ("statement.reauth_verified",), "签认身份验证"),
}


class ProofLocked(ApplicationError):
    """Too many failed proofs: refused until the cool-off has passed (even the right one)."""

    status_code = 429


def _limit() -> int:
    return int(settings.AXES_FAILURE_LIMIT)


def locked_until(user: User, kind: str, *, now: datetime | None = None) -> datetime | None:
    """When ``user`` may try ``kind`` again, or None when not locked."""
    proof = PROOFS[kind]
    now = now or timezone.now()
    since = now - settings.AXES_COOLOFF_TIME
    events = AuditEvent.objects.filter(actor_id=user.pk, at__gt=since)
    last_ok = events.filter(action__in=proof.succeeded).aggregate(at=Max("at"))["at"]
    failures = events.filter(action=proof.failed)
    if last_ok is not None:
        failures = failures.filter(at__gt=last_ok)
    recent = list(failures.order_by("-at").values_list("at", flat=True)[: _limit()])
    if len(recent) < _limit():
        return None
    return recent[-1] + settings.AXES_COOLOFF_TIME


def require_not_locked(user: User, kind: str) -> None:
    """Raise ``ProofLocked`` (429) while ``user``'s ``kind`` proof is locked."""
    until = locked_until(user, kind)
    if until is not None:
        raise ProofLocked(
            _("%(what)s连续失败次数过多，已暂停，请于 %(t)s 后再试。")
            % {"what": PROOFS[kind].label, "t": until.astimezone(BUSINESS_TZ).strftime("%H:%M")},
            extra={"retry_after": max(1, int((until - timezone.now()).total_seconds()))},
        )
