from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = _("资源申请工单")

    def ready(self) -> None:
        from govcloud import home
        from govcloud.demo import DemoPart, register_demo_part
        from govcloud.joint import joint_confirmed, joint_objected
        from govcloud.signals import calendar_changed
        from requests_app.home import ticket_cards
        from requests_app.navigation import register_navigation

        calendar_changed.connect(_recompute_on_calendar_change, dispatch_uid="requests_recompute")
        joint_confirmed.connect(_exemption_confirmed, dispatch_uid="requests_exemption_confirmed")
        joint_confirmed.connect(
            _delivery_time_confirmed, dispatch_uid="requests_delivery_time_confirmed"
        )
        joint_objected.connect(
            _delivery_time_objected, dispatch_uid="requests_delivery_time_objected"
        )
        register_navigation()
        home.register(ticket_cards)
        register_demo_part(DemoPart(20, "tickets", "requests_app.demo.demo_tickets"))


def _recompute_on_calendar_change(sender, year: int, **kwargs) -> None:
    # Imported when a calendar year changes, not at start-up (tasks pull in Celery and services).
    from requests_app.services import request_recompute_clocks
    from requests_app.tasks import recompute_clocks

    try:
        recompute_clocks.delay(year)
    except Exception:  # broker down: recompute here rather than leave clocks stale
        request_recompute_clocks(year=year)


def _exemption_confirmed(sender, confirmation, **kwargs) -> None:
    from requests_app.services import on_exemption_confirmed

    on_exemption_confirmed(sender, confirmation, **kwargs)


def _delivery_time_confirmed(sender, confirmation, **kwargs) -> None:
    from requests_app.services import on_delivery_time_confirmed

    on_delivery_time_confirmed(sender, confirmation, **kwargs)


def _delivery_time_objected(sender, confirmation, **kwargs) -> None:
    from requests_app.services import on_delivery_time_objected

    on_delivery_time_objected(sender, confirmation, **kwargs)
