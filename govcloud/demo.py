"""Demo data: departments with realistic names and one user per role per organisation.

Everything here is idempotent so ``make demo`` can be run again on the same database.
The TOTP secrets are derived from the username so that they are stable across runs; they
are for the demo only (production users enrol their own authenticator).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from govcloud.models import Organization, OrganizationKind, Role, User
from govcloud.reference import BT_BUREAU, JZ_BUREAU, load_reference_contracts

DEMO_PASSWORD = "Demo-2026-gov"  # noqa: S105  (printed for the demo, documented in README)

DEPARTMENTS = {
    BT_BUREAU: [
        ("包头市教育局", "市教育局", "bt_edu"),
        ("包头市卫生健康委员会", "市卫健委", "bt_health"),
        ("包头市公安局", "市公安局", "bt_police"),
        ("包头市人力资源和社会保障局", "市人社局", "bt_hrss"),
    ],
    JZ_BUREAU: [
        ("焦作市自然资源和规划局", "市自然资源局", "jz_land"),
        ("焦作市医疗保障局", "市医保局", "jz_medins"),
        ("焦作市住房和城乡建设局", "市住建局", "jz_housing"),
    ],
}

PARTY_USERS = [
    # (organisation name, username, full name, role)
    (BT_BUREAU, "bt_bureau", "包头数据局审核员", Role.STAFF),
    (BT_BUREAU, "bt_secadmin", "包头安全管理员", Role.SECURITY_ADMIN),
    (BT_BUREAU, "bt_auditadmin", "包头审计管理员", Role.AUDIT_ADMIN),
    (BT_BUREAU, "bt_sysadmin", "包头系统管理员", Role.SYSTEM_ADMIN),
    ("中国电信股份有限公司包头分公司", "bt_vendor", "包头电信交付工程师", Role.STAFF),
    ("包头市本级政务云服务项目第三方监理单位", "bt_supervisor", "项目监理工程师", Role.STAFF),
    ("包头市本级政务云服务项目第三方审计单位", "bt_auditor", "项目审计师", Role.STAFF),
    (JZ_BUREAU, "jz_bureau", "焦作政务局审核员", Role.STAFF),
    (JZ_BUREAU, "jz_secadmin", "焦作安全管理员", Role.SECURITY_ADMIN),
    (JZ_BUREAU, "jz_auditadmin", "焦作审计管理员", Role.AUDIT_ADMIN),
    (JZ_BUREAU, "jz_sysadmin", "焦作系统管理员", Role.SYSTEM_ADMIN),
    ("浪潮云信息技术股份公司", "jz_vendor", "浪潮云交付工程师", Role.STAFF),
    ("焦作国资数字产业投资发展有限公司", "jz_vendor2", "焦作国资数产运维工程师", Role.STAFF),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    organization: str
    role: str
    totp_secret: str | None


def demo_totp_key(username: str) -> str:
    """A stable 20-byte hex key per demo user."""
    return hashlib.sha256(f"govcloud-demo-totp:{username}".encode()).hexdigest()[:40]


def _user(username: str, full_name: str, org: Organization, role: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, full_name=full_name, organization=org, role=role)
        user.email = f"{username}@demo.govcloud.local"
        user.set_password(DEMO_PASSWORD)
        user.full_clean()
        user.save()
    if user.requires_two_factor:
        key = demo_totp_key(username)
        TOTPDevice.objects.update_or_create(
            user=user, name="演示身份验证器", defaults={"key": key, "confirmed": True}
        )
    return user


@transaction.atomic
def seed_core() -> list[DemoLogin]:
    load_reference_contracts(actor="seed_demo")
    logins: list[DemoLogin] = []
    for org_name, username, full_name, role in PARTY_USERS:
        org = Organization.objects.get(name=org_name)
        if not org.email:
            org.email = f"{username}-org@demo.govcloud.local"
            org.save(update_fields=["email"])
        user = _user(username, full_name, org, role)
        logins.append(_login(user))
    for bureau_name, departments in DEPARTMENTS.items():
        bureau = Organization.objects.get(name=bureau_name)
        for name, short, username in departments:
            dept, _created = Organization.objects.get_or_create(
                name=name,
                defaults={
                    "short_name": short,
                    "kind": OrganizationKind.DEPARTMENT,
                    "parent": bureau,
                    "email": f"{username}-org@demo.govcloud.local",
                },
            )
            user = _user(username, f"{short}信息科", dept, Role.STAFF)
            logins.append(_login(user))
    return logins


def _login(user: User) -> DemoLogin:
    secret = None
    if user.requires_two_factor:
        import base64

        secret = base64.b32encode(bytes.fromhex(demo_totp_key(user.username))).decode()
    return DemoLogin(
        username=user.username,
        organization=user.organization.name if user.organization else "",
        role=user.get_role_display(),
        totp_secret=secret,
    )
