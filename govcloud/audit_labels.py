"""Chinese labels of the audit trail's action codes and object types.

The codes (``statement.escalate``, ``govcloud.user``) stay the data: they are what the hash
chain covers, what searches and the 2FA throttle match on. People read the labels. Each app
registers the labels of the codes it writes (govcloud's are below; the others' in their
``admin`` modules, loaded with the admin); ``tests/govcloud/test_admin_chinese.py`` finds every
code the code base writes and fails on one without a label.

Codes written by the admin's own saves (``<model>.admin_create`` …) are labelled from the
model's verbose name, so a newly registered model needs nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.apps import apps
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

_ACTION_LABELS: dict[str, str | Promise] = {}

#: The admin's generic saves: ``<model_name>.admin_<verb>``.
ADMIN_VERBS: dict[str, str | Promise] = {
    "admin_create": _("后台新增"),
    "admin_change": _("后台修改"),
    "admin_delete": _("后台删除"),
}


def register_action_labels(labels: Mapping[str, str | Promise]) -> None:
    """Add the labels of an app's action codes (a code registered twice keeps the last)."""
    _ACTION_LABELS.update(labels)


def action_labels() -> dict[str, str | Promise]:
    """Every registered code and its label (a copy)."""
    return dict(_ACTION_LABELS)


def _model_named(model_name: str):
    for model in apps.get_models():
        if model._meta.model_name == model_name:
            return model
    return None


def action_label(code: str) -> str:
    """The Chinese label of an action code; the code itself when nobody labelled it."""
    if code in _ACTION_LABELS:
        return str(_ACTION_LABELS[code])
    subject, _dot, verb = code.partition(".")
    if verb in ADMIN_VERBS:
        model = _model_named(subject)
        if model is not None:
            return f"{ADMIN_VERBS[verb]}：{model._meta.verbose_name}"
    return code


def object_type_label(object_type: str) -> str:
    """``govcloud.user`` → 用户 (the model's verbose name); the code itself when unknown."""
    if not object_type:
        return ""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name)


register_action_labels(
    {
        # sign-in and accounts
        "auth.login": _("登录"),
        "auth.logout": _("退出登录"),
        "auth.login_failed": _("登录失败"),
        "auth.password_changed": _("修改密码"),
        "auth.2fa_enrolled": _("绑定动态验证码"),
        "auth.2fa_verified": _("动态验证码验证通过"),
        "auth.2fa_failed": _("动态验证码验证失败"),
        "auth.unlock": _("解除登录锁定"),
        "user.admin_password_reset": _("后台重置用户密码"),
        "api_token.create": _("签发 API 令牌"),
        "api_token.revoke": _("吊销 API 令牌"),
        "invitation.create": _("发出用户管理员邀请"),
        "invitation.resend": _("重新发送邀请"),
        "invitation.revoke": _("撤销邀请"),
        "invitation.accept": _("接受邀请"),
        "invitation.password_set": _("受邀用户设置密码"),
        # the admin site and the audit trail
        "admin.forbidden_attempt": _("越权操作被拒绝"),
        "audit.verify": _("审计日志校验"),
        # the working-day calendar
        "calendar_year.create": _("新建年度节假日安排"),
        "calendar_year.update": _("修改年度节假日安排"),
        "calendar_year.delete": _("删除年度节假日安排"),
        "calendar_year.load_from_package": _("从 chinesecalendar 载入节假日安排"),
        "calendar_day.create": _("新增节假日或调休日"),
        "calendar_day.update": _("修改节假日或调休日"),
        "calendar_day.remove": _("删除节假日或调休日"),
        # contracts and their lifecycle
        "contract.create": _("新建合同"),
        "contract.update": _("修改合同"),
        "contract.activate": _("合同生效"),
        "contract.state": _("合同状态变化"),
        "contract.expiry_warning": _("合同到期提醒"),
        # joint confirmations (会签)
        "joint.open": _("发起会签"),
        "joint.confirm": _("会签确认"),
        "joint.object": _("会签提出异议"),
        "joint.restart": _("重新发起会签"),
    }
)
