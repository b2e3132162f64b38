"""Sign-ins, sign-outs and failed attempts go to the audit trail (等保: 登录审计)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from govcloud.audit import audit_log


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_log(actor=user, action="auth.login", obj=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_log(actor=user, action="auth.logout", obj=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    audit_log(actor=f"匿名（{username}）", action="auth.login_failed", after={"username": username})
