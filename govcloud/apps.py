from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovcloudConfig(AppConfig):
    name = "govcloud"
    verbose_name = _("单位、用户与合同")

    def ready(self) -> None:
        from govcloud import calendar, checks, signals  # noqa: F401  (checks: govcloud.W001)
        from govcloud.demo import DemoPart, register_demo_part

        # Only installs the provider; the database is read when a year is first needed.
        calendar.install()
        register_demo_part(DemoPart(5, "platform", "govcloud.demo.demo_platform"))
