from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("服务水平与考核")

    def ready(self) -> None:
        from sla import calendar, checks  # noqa: F401  (checks registers sla.W001)

        # Only installs the provider; the database is read when a year is first needed.
        calendar.install()
