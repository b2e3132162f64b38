from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("计费与结算")

    def ready(self) -> None:
        from billing.home import register_home
        from billing.reports import receivers  # noqa: F401  (PDF signing and e-mail receivers)
        from billing.reports.lookup import issued_document_for_user
        from billing.services.corrections import on_correction_confirmed, on_correction_objected
        from billing.services.settlement import (
            on_acknowledgement_confirmed,
            on_acknowledgement_objected,
        )
        from govcloud.demo import DemoPart, register_demo_part
        from govcloud.joint import joint_confirmed, joint_objected
        from govcloud.pdf.issued import register_issued_lookup

        joint_confirmed.connect(
            on_acknowledgement_confirmed, dispatch_uid="billing_deduction_acknowledged"
        )
        joint_objected.connect(
            on_acknowledgement_objected, dispatch_uid="billing_deduction_objected"
        )
        joint_confirmed.connect(
            on_correction_confirmed, dispatch_uid="billing_inventory_correction_confirmed"
        )
        joint_objected.connect(
            on_correction_objected, dispatch_uid="billing_inventory_correction_objected"
        )
        register_home()
        register_issued_lookup(issued_document_for_user)
        register_demo_part(DemoPart(10, "contracts", "billing.demo.demo_contracts_and_users"))
        register_demo_part(DemoPart(30, "statements", "billing.demo.demo_statements"))
        register_demo_part(DemoPart(35, "settlement", "billing.demo.demo_settlement"))
        register_demo_part(DemoPart(36, "succession", "billing.demo.demo_succession"))
        register_demo_part(DemoPart(37, "living", "billing.demo.demo_living"))
