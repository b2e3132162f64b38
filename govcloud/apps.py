"""The core app's configuration, and Chinese names for the third-party apps the admin shows.

django-axes (sign-in lockouts) and django-otp (authenticator devices) have no Chinese, and
django-otp marks none of its strings for translation. Their app configs are replaced by the
subclasses below (``INSTALLED_APPS``), which give the apps, models and fields Chinese names
and the objects Chinese descriptions. Only what the pages show is set: the migration state
reads a model's declared options and a field's declared ``verbose_name``, so nothing here
changes a migration.
"""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as OtpTotpAppConfig


class GovcloudConfig(AppConfig):
    name = "govcloud"
    verbose_name = _("单位、用户与合同")

    def ready(self) -> None:
        from govcloud import calendar, checks, signals  # noqa: F401  (checks: govcloud.W001)
        from govcloud.demo import DemoPart, register_demo_part

        # Only installs the provider; the database is read when a year is first needed.
        calendar.install()
        register_demo_part(DemoPart(5, "platform", "govcloud.demo.demo_platform"))


def _name(model, singular, plural=None, **fields) -> None:
    """Chinese display names of a third-party model and of its fields."""
    model._meta.verbose_name = singular
    model._meta.verbose_name_plural = plural or singular
    for field_name, label in fields.items():
        model._meta.get_field(field_name).verbose_name = label


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


#: The fields every axes record has (AccessBase).
_AXES_COMMON = {
    "user_agent": _("浏览器标识"),
    "ip_address": _("IP 地址"),
    "username": _("用户名"),
    "http_accept": _("HTTP Accept 请求头"),
    "path_info": _("请求路径"),
    "attempt_time": _("时间"),
}


class AxesConfig(AxesAppConfig):
    """django-axes: failed sign-ins, lockouts and the sign-in log, in Chinese."""

    verbose_name = _("登录安全")

    def ready(self) -> None:
        super().ready()
        from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog, AccessLog

        _name(
            AccessAttempt,
            _("登录锁定记录"),
            get_data=_("GET 参数"),
            post_data=_("POST 参数"),
            failures_since_start=_("连续失败次数"),
            **_AXES_COMMON,
        )
        _name(AccessFailureLog, _("登录失败记录"), locked_out=_("已锁定"), **_AXES_COMMON)
        _name(AccessLog, _("登录记录"), logout_time=_("退出时间"), **_AXES_COMMON)
        _name(
            AccessAttemptExpiration,
            _("锁定到期时间"),
            access_attempt=_("登录锁定记录"),
            expires_at=_("到期时间"),
        )
        AccessAttempt.__str__ = lambda self: str(
            _("%(user)s 的登录失败（%(at)s 起）")
            % {"user": self.username or "—", "at": _local(self.attempt_time)}
        )
        AccessFailureLog.__str__ = lambda self: str(
            _("%(user)s 于 %(at)s 登录失败（%(ip)s）%(locked)s")
            % {
                "user": self.username or "—",
                "at": _local(self.attempt_time),
                "ip": self.ip_address or "—",
                "locked": _("，已锁定") if self.locked_out else "",
            }
        )
        AccessLog.__str__ = lambda self: str(
            _("%(user)s 于 %(at)s 登录")
            % {"user": self.username or "—", "at": _local(self.attempt_time)}
        )


class OtpTotpConfig(OtpTotpAppConfig):
    """django-otp's authenticator (TOTP) devices, in Chinese."""

    verbose_name = _("动态验证码")

    def ready(self) -> None:
        super().ready()
        from django_otp.plugins.otp_totp.models import TOTPDevice

        _name(
            TOTPDevice,
            _("动态验证码设备"),
            user=_("用户"),
            name=_("设备名称"),
            confirmed=_("已确认"),
            key=_("密钥"),
            step=_("时间步长（秒）"),
            t0=_("起始时间（Unix 时间）"),
            digits=_("验证码位数"),
            tolerance=_("容许偏差（步）"),
            drift=_("时钟漂移（步）"),
            last_t=_("最近验证的时间步"),
            throttling_failure_timestamp=_("最近失败时间"),
            throttling_failure_count=_("连续失败次数"),
            created_at=_("创建时间"),
            last_used_at=_("最近使用时间"),
        )
        TOTPDevice.__str__ = lambda self: str(
            _("%(user)s 的动态验证码设备“%(name)s”") % {"user": self.user, "name": self.name}
        )
