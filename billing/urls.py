"""Portal URLs of billing (included under ``/billing/``)."""

from django.urls import path

from billing import lifecycle_views, views

urlpatterns = [
    path("statements/", views.statement_list, name="statement_list"),
    path("statements/generate/", views.statement_generate, name="statement_generate"),
    path("statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("statements/<int:pk>/pdf/", views.statement_pdf, name="statement_pdf"),
    path(
        "statements/<int:pk>/diff/<int:other_pk>/",
        views.statement_diff,
        name="statement_diff",
    ),
    path("statements/<int:pk>/submit/", views.statement_submit, name="statement_submit"),
    path("statements/<int:pk>/confirm/", views.statement_confirm, name="statement_confirm"),
    path("statements/<int:pk>/dispute/", views.statement_dispute, name="statement_dispute"),
    path("statements/<int:pk>/comment/", views.statement_comment, name="statement_comment"),
    path("statements/<int:pk>/decide/", views.statement_decide, name="statement_decide"),
    path(
        "statements/<int:pk>/regenerate/",
        views.statement_regenerate,
        name="statement_regenerate",
    ),
    path("statements/<int:pk>/supersede/", views.statement_supersede, name="statement_supersede"),
    path("bills/", views.bill_list, name="bill_list"),
    path("bills/<int:pk>/", views.bill_detail, name="bill_detail"),
    path("bills/<int:pk>/pdf/", views.bill_pdf, name="bill_pdf"),
    path("contracts/<int:pk>/dashboard/", views.contract_dashboard, name="contract_dashboard"),
    path(
        "contracts/<int:pk>/deductions/",
        views.contract_deduction_create,
        name="contract_deduction_create",
    ),
    path(
        "contracts/<int:pk>/payments/",
        views.contract_payment_record,
        name="contract_payment_record",
    ),
    path(
        "contracts/<int:pk>/invoices/",
        views.contract_invoice_register,
        name="contract_invoice_register",
    ),
    path(
        "contracts/<int:pk>/funds-arrivals/",
        views.contract_funds_arrival,
        name="contract_funds_arrival",
    ),
    path("invoices/<int:pk>/<str:action>/", views.invoice_action, name="invoice_action"),
    path(
        "deductions/<int:pk>/notice.pdf",
        views.deduction_notice_pdf,
        name="deduction_notice_pdf",
    ),
    path(
        "deductions/<int:pk>/<str:action>/",
        views.deduction_action,
        name="deduction_action",
    ),
    path(
        "contracts/<int:pk>/test-periods/",
        views.contract_test_periods,
        name="contract_test_periods",
    ),
    path(
        "test-periods/<int:pk>/end-early/",
        views.end_test_period_early,
        name="test_period_end_early",
    ),
    path("test-periods/<int:pk>/extend/", views.extend_test_period, name="test_period_extend"),
    path("contracts/<int:pk>/cutover/", lifecycle_views.contract_cutover, name="contract_cutover"),
    path(
        "contracts/<int:pk>/terminate/",
        lifecycle_views.contract_terminate,
        name="contract_terminate",
    ),
    path(
        "contracts/<int:pk>/inventory-corrections/",
        views.contract_inventory_corrections,
        name="contract_inventory_corrections",
    ),
    path(
        "resources/<int:pk>/inventory-corrections/new/",
        views.inventory_correction_create,
        name="inventory_correction_create",
    ),
    path(
        "inventory-corrections/<int:pk>/",
        views.inventory_correction_detail,
        name="inventory_correction_detail",
    ),
    path(
        "inventory-corrections/<int:pk>/withdraw/",
        views.inventory_correction_withdraw,
        name="inventory_correction_withdraw",
    ),
    path(
        "inventory-corrections/<int:pk>/evidence/<int:file_pk>/",
        views.inventory_correction_evidence,
        name="inventory_correction_evidence",
    ),
]
