"""The portal's navigation: each entry says who may see it, so menus never show a dead end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from govcloud.models import OrganizationKind, Role
from govcloud.selectors import is_business_reader


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    visible: Callable[[object], bool]
    group: str = "main"


def _kind(*kinds: str) -> Callable[[object], bool]:
    return lambda user: getattr(user, "kind", None) in kinds


def _bureau_role(*roles: str) -> Callable[[object], bool]:
    return lambda user: (
        getattr(user, "kind", None) == OrganizationKind.BUREAU and user.role in roles
    )


_registry: list[NavItem] = [
    NavItem(_("首页"), "home", lambda user: True),
    NavItem(_("合同与服务目录"), "contract_list", is_business_reader),
    NavItem(_("验证签名"), "pdf_verify", is_business_reader),
    NavItem(
        _("用户与角色"),
        "admin:govcloud_user_changelist",
        _bureau_role(Role.SECURITY_ADMIN),
        group="admin",
    ),
    NavItem(
        _("审计日志"),
        "admin:govcloud_auditevent_changelist",
        _bureau_role(Role.AUDIT_ADMIN),
        group="admin",
    ),
    NavItem(
        _("合同与目录管理"),
        "admin:govcloud_contract_changelist",
        _bureau_role(Role.SYSTEM_ADMIN),
        group="admin",
    ),
    NavItem(
        _("本单位用户"),
        "admin:govcloud_user_changelist",
        lambda user: getattr(user, "role", None) == Role.USER_ADMIN,
        group="admin",
    ),
    NavItem(
        _("邀请与法定节假日"),
        "admin:index",
        lambda user: getattr(user, "role", None) == Role.PLATFORM_OPERATOR,
        group="admin",
    ),
    NavItem(_("管理后台"), "admin:index", _bureau_role(Role.STAFF), group="admin"),
]


def register(item: NavItem, *, before: str | None = None) -> None:
    """Apps add their pages here from ``AppConfig.ready``."""
    if any(existing.url_name == item.url_name for existing in _registry):
        return
    if before is not None:
        for index, existing in enumerate(_registry):
            if existing.url_name == before:
                _registry.insert(index, item)
                return
    _registry.append(item)


def nav_for(user: object) -> list[dict[str, str]]:
    items = []
    for item in _registry:
        if not item.visible(user):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": str(item.label), "url": url, "group": item.group})
    return items
