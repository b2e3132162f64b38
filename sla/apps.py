from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("服务水平与考核")

    def ready(self) -> None:
        from sla import calendar, checks  # noqa: F401  (checks registers sla.W001)
        from sla.home import register_home
        from sla.signals import calendar_changed

        # Only installs the provider; the database is read when a year is first needed.
        calendar.install()
        register_home()
        calendar_changed.connect(_recompute_on_calendar_change, dispatch_uid="sla_recompute")


def _recompute_on_calendar_change(sender, year: int, **kwargs) -> None:
    """SLA due dates computed on a missing year (provisional) move when the year is loaded."""
    from sla.services.clocks import sla_recompute_provisional

    sla_recompute_provisional(year=year)
