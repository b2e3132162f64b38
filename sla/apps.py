from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("服务水平与考核")

    def ready(self) -> None:
        from govcloud.demo import DemoPart, register_demo_part
        from govcloud.signals import calendar_changed
        from sla import receivers
        from sla.home import register_home

        register_home()
        receivers.register()
        calendar_changed.connect(_recompute_on_calendar_change, dispatch_uid="sla_recompute")
        register_demo_part(DemoPart(40, "sla", "sla.demo.demo_sla"))


def _recompute_on_calendar_change(sender, year: int, **kwargs) -> None:
    """SLA due dates computed on a missing year (provisional) move when the year is loaded."""
    # Imported when a calendar year changes, not at start-up.
    from sla.services.clocks import sla_recompute_provisional

    sla_recompute_provisional(year=year)
