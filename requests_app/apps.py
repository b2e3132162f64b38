from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = _("资源申请工单")

    def ready(self) -> None:
        from sla.signals import calendar_changed

        calendar_changed.connect(_recompute_on_calendar_change, dispatch_uid="requests_recompute")

        from govcloud import home
        from requests_app.home import ticket_cards
        from requests_app.navigation import register_navigation

        register_navigation()
        home.register(ticket_cards)


def _recompute_on_calendar_change(sender, year: int, **kwargs) -> None:
    from requests_app.tasks import recompute_clocks

    try:
        recompute_clocks.delay(year)
    except Exception:  # broker down: recompute here rather than leave clocks stale
        from requests_app.services import request_recompute_clocks

        request_recompute_clocks(year=year)
