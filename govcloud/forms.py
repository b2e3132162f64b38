"""Portal forms of the core app."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def failures_across_addresses(username: str) -> int:
    """Failed sign-ins for ``username`` from every address within the cool-off window."""
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(username=username, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return total or 0


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确。连续失败 5 次将锁定账号 30 分钟。"),
        "inactive": _("该账号已停用，请联系本单位管理员。"),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"class": "form-control", "autofocus": True})
        self.fields["password"].widget.attrs.update({"class": "form-control"})

    def clean(self):
        # Lockouts are per username and address (a stranger elsewhere cannot lock anyone out);
        # this cap stops a spread-out guessing of one account. It is checked before the password
        # so that it is never extended by the refused tries: it ends 30 minutes after the last
        # counted failure.
        username = self.cleaned_data.get("username")
        if username and failures_across_addresses(username) >= settings.AXES_USERNAME_CAP:
            raise forms.ValidationError(
                _("该账号短时间内在多处登录失败次数过多，已暂时锁定 30 分钟。"),
                code="username_capped",
            )
        return super().clean()


class InvitationPasswordForm(SetPasswordForm):
    """The invited user administrator chooses a password (validated like any other)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.update({"class": "form-control"})


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("动态验证码"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-lg text-center",
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
                "autofocus": True,
            }
        ),
        help_text=_("打开身份验证器应用，输入当前显示的 6 位数字。"),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip()
        if not token.isdigit():
            raise forms.ValidationError(_("验证码应为 6 位数字。"))
        return token
