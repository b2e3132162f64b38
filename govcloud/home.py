"""What each role can do next: the sections of the portal home page.

Apps register section providers from ``AppConfig.ready``; each provider returns the cards
for a user (or none), computed with a bounded number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext as _

from govcloud.models import OrganizationKind, Role, User


@dataclass
class Action:
    label: str
    url: str
    count: int | None = None
    primary: bool = False


@dataclass
class Card:
    title: str
    text: str
    actions: list[Action] = field(default_factory=list)
    order: int = 100


Provider = Callable[[User], list[Card]]
_providers: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


ROLE_INTROS = {
    OrganizationKind.DEPARTMENT: _(
        "作为使用单位，您可以按合同服务目录申请、变更、释放云资源，查看本单位资源和账单。"
    ),
    OrganizationKind.VENDOR: _(
        "作为乙方（服务商），您负责按时交付已批准的工单、提交月度服务资源统计表和资源调整建议。"
    ),
    OrganizationKind.SUPERVISOR: _("作为监理单位，您复核资源申请、确认月度统计表和服务水平事件。"),
    OrganizationKind.AUDITOR: _(
        "作为审计单位，您可只读查看所参与合同的全部记录，并裁决升级的统计表争议。"
    ),
    OrganizationKind.BUREAU: _(
        "作为甲方，您审核资源申请、审批延期交付、确认月度统计表并维护合同。"
    ),
}

ADMIN_INTROS = {
    Role.SECURITY_ADMIN: _(
        "您是安全管理员：管理用户账号、角色与登录锁定。按三员分立，您不能查看审计日志或维护合同。"
    ),
    Role.AUDIT_ADMIN: _("您是审计管理员：只读查阅审计日志。按三员分立，您不能管理用户或合同。"),
    Role.SYSTEM_ADMIN: _(
        "您是系统管理员：维护单位、合同参数与服务目录。按三员分立，您不能管理用户或查看审计日志。"
    ),
}


def _core_cards(user: User) -> list[Card]:
    cards: list[Card] = []
    if user.role == Role.SECURITY_ADMIN:
        cards.append(
            Card(
                _("用户与角色"),
                _("新增或停用账号、分配角色，解除登录锁定。"),
                [
                    Action(_("管理用户"), reverse("admin:govcloud_user_changelist"), primary=True),
                    Action(_("登录锁定记录"), reverse("admin:axes_accessattempt_changelist")),
                ],
                order=10,
            )
        )
    elif user.role == Role.AUDIT_ADMIN:
        cards.append(
            Card(
                _("审计日志"),
                _("按操作人、单位、操作类型和时间筛选全部操作记录。"),
                [
                    Action(
                        _("查阅审计日志"),
                        reverse("admin:govcloud_auditevent_changelist"),
                        primary=True,
                    )
                ],
                order=10,
            )
        )
    elif user.role == Role.SYSTEM_ADMIN:
        cards.append(
            Card(
                _("合同与服务目录"),
                _("维护合同参数、当事方、付款期次；从 CSV 导入服务目录。"),
                [
                    Action(
                        _("管理合同"), reverse("admin:govcloud_contract_changelist"), primary=True
                    ),
                    Action(_("管理单位"), reverse("admin:govcloud_organization_changelist")),
                    Action(_("服务目录"), reverse("admin:billing_catalogitem_changelist")),
                ],
                order=10,
            )
        )
    else:
        cards.append(
            Card(
                _("合同与服务目录"),
                _("查看您可使用的合同、计费规则和带价格的服务目录。"),
                [Action(_("查看合同"), reverse("contract_list"))],
                order=90,
            )
        )
    return cards


register(_core_cards)


def intro_for(user: User) -> str:
    if user.role in ADMIN_INTROS:
        return ADMIN_INTROS[user.role]
    return ROLE_INTROS.get(user.kind, _("欢迎使用政务云服务管理平台。"))


def cards_for(user: User) -> list[Card]:
    cards: list[Card] = []
    for provider in _providers:
        cards.extend(provider(user))
    return sorted(cards, key=lambda c: c.order)
