"""Core signals: the login audit receivers, and `calendar_changed` for the apps above."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import Signal, receiver

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


#: Sent after the transaction that changed a year's official schedule (loaded, entered, edited
#: or deleted) has committed: ``calendar_changed(sender=CalendarYear, year=int)``. Higher apps
#: connect to it to recompute what depends on that year, typically provisional deadlines. It may
#: be sent more than once for one change and must be handled idempotently.
calendar_changed = Signal()
