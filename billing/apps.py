from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("计费与结算")

    def ready(self) -> None:
        from billing.home import register_home
        from billing.reports import receivers  # noqa: F401  (PDF signing and e-mail receivers)

        register_home()
