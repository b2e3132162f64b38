"""Demo data: the registry every app adds its part to, and demo users with stable TOTP keys.

``manage.py seed_demo`` runs the registered parts in order; each app registers its own from its
``AppConfig.ready`` (billing: reference contracts, parties and users, then statements;
requests_app: tickets; sla: SLA events), so the core never imports the apps above it.
Everything is idempotent so ``make demo`` can be run again on the same database. The TOTP
secrets are derived from the username so that they are stable across runs; they are for the
demo only (production users enrol their own authenticator).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.module_loading import import_string
from django_otp.plugins.otp_totp.models import TOTPDevice

from govcloud.models import PARTY_KINDS, Organization, OrganizationKind, Role, User

DEMO_PASSWORD = "Demo-2026-gov"  # noqa: S105  (printed for the demo, documented in README)
DEMO_EMAIL_DOMAIN = "demo.govcloud.local"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    organization: str
    role: str
    totp_secret: str | None
    organization_id: int | None = None
    #: Party staff sign statements and rulings with their organisation's key.
    signs: bool = False


def demo_totp_key(username: str) -> str:
    """A stable 20-byte hex key per demo user."""
    return hashlib.sha256(f"govcloud-demo-totp:{username}".encode()).hexdigest()[:40]


def demo_user(username: str, full_name: str, org: Organization, role: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, full_name=full_name, organization=org, role=role)
        user.email = f"{username}@{DEMO_EMAIL_DOMAIN}"
        user.set_password(DEMO_PASSWORD)
        user.full_clean()
        user.save()
    if user.requires_two_factor:
        key = demo_totp_key(username)
        TOTPDevice.objects.update_or_create(
            user=user, name="演示身份验证器", defaults={"key": key, "confirmed": True}
        )
    return user


def demo_login(user: User) -> DemoLogin:
    secret = None
    if user.requires_two_factor:
        secret = base64.b32encode(bytes.fromhex(demo_totp_key(user.username))).decode()
    org = user.organization
    return DemoLogin(
        username=user.username,
        organization=org.name if org else "",
        role=user.get_role_display(),
        totp_secret=secret,
        organization_id=org.pk if org else None,
        signs=org is not None and org.kind in PARTY_KINDS and user.role == Role.STAFF,
    )


def demo_logins() -> list[DemoLogin]:
    """Every demo account, in the order the demo created them."""
    users = User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").select_related(
        "organization"
    )
    return [demo_login(user) for user in users.order_by("pk")]


# --- the registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPart:
    """One app's share of the demo: ``seed`` is a dotted path to a function returning a line to
    print. A path, not the function, so that registering costs no import at start-up."""

    order: int
    name: str
    seed: str

    def run(self) -> str:
        function: Callable[[], str] = import_string(self.seed)
        return function()


_PARTS: dict[str, DemoPart] = {}


def register_demo_part(part: DemoPart) -> None:
    _PARTS[part.name] = part


def demo_parts() -> list[DemoPart]:
    return sorted(_PARTS.values(), key=lambda part: (part.order, part.name))


def refuse_outside_development(what: str) -> None:
    """Demo data, demo codes and development keys never reach a production database.

    Production is ``settings.PRODUCTION`` (a ``SECRET_KEY`` in the environment) or DEBUG off.
    """
    if getattr(settings, "PRODUCTION", False) or not settings.DEBUG:
        raise CommandError(
            f"{what}仅用于开发演示环境：生产模式（已设置 SECRET_KEY 或关闭 DEBUG）下拒绝执行。"
        )


PLATFORM_ORGANIZATION = "政务云服务管理平台运营中心"


def demo_platform() -> str:
    """Demo part (registered by ``GovcloudConfig``): the platform operator's organisation and
    its operator, who keeps the official calendar and invites the parties' user admins."""
    org, _created = Organization.objects.get_or_create(
        name=PLATFORM_ORGANIZATION,
        defaults={
            "short_name": "平台运营中心",
            "kind": OrganizationKind.PLATFORM,
            "email": f"platform-org@{DEMO_EMAIL_DOMAIN}",
        },
    )
    demo_user("platform_ops", "平台运维员", org, Role.PLATFORM_OPERATOR)
    return "平台运营方与平台运维员（platform_ops）已就绪。"
