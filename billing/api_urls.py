"""REST API v1 routes of statements, bills, catalogs and the test periods of new systems
(included from ``govcloud.api_urls``).

The POST actions are named too, so the tenancy matrix in ``tests/scoped_urls.py`` walks them
(``method="post"``: never 404 in the own tenant, always 404 in the other).
"""

from django.urls import path

from billing import apis, catalog_api, lifecycle_api, settlement_api, system_test_period_api

ACTIONS = [
    ("submit", apis.StatementSubmitApi),
    ("confirm", apis.StatementConfirmApi),
    ("dispute", apis.StatementDisputeApi),
    ("comment", apis.StatementCommentApi),
    ("decide", apis.StatementDecideApi),
    ("supersede", apis.StatementSupersedeApi),
]

urlpatterns = [
    path(
        "contracts/<int:pk>/catalog/",
        catalog_api.ContractCatalogApi.as_view(),
        name="api_contract_catalog",
    ),
    path("statements/", apis.StatementListApi.as_view(), name="api_statement_list"),
    path(
        "statements/generate/",
        apis.StatementGenerateApi.as_view(),
        name="api_statement_generate",
    ),
    path("statements/<int:pk>/", apis.StatementDetailApi.as_view(), name="api_statement_detail"),
    path(
        "statements/<int:pk>/lines/",
        apis.StatementLineListApi.as_view(),
        name="api_statement_lines",
    ),
    *(
        path(f"statements/<int:pk>/{action}/", view.as_view(), name=f"api_statement_{action}")
        for action, view in ACTIONS
    ),
    path("bills/", apis.BillListApi.as_view(), name="api_bill_list"),
    path("bills/<int:pk>/", apis.BillDetailApi.as_view(), name="api_bill_detail"),
    path("bills/<int:pk>/lines/", apis.BillLineListApi.as_view(), name="api_bill_lines"),
    path(
        "contracts/<int:pk>/settlement/",
        settlement_api.ContractSettlementApi.as_view(),
        name="api_contract_settlement",
    ),
    path(
        "contracts/<int:pk>/payments/",
        settlement_api.PaymentRecordApi.as_view(),
        name="api_contract_payments",
    ),
    path(
        "contracts/<int:pk>/deductions/",
        settlement_api.DeductionCreateApi.as_view(),
        name="api_contract_deductions",
    ),
    path(
        "contracts/<int:pk>/invoices/",
        settlement_api.InvoiceRegisterApi.as_view(),
        name="api_contract_invoices",
    ),
    path(
        "contracts/<int:pk>/funds-arrivals/",
        settlement_api.FundsArrivalApi.as_view(),
        name="api_contract_funds_arrivals",
    ),
    path(
        "deductions/<int:pk>/<str:action>/",
        settlement_api.DeductionActionApi.as_view(),
        name="api_deduction_action",
    ),
    path(
        "invoices/<int:pk>/<str:action>/",
        settlement_api.InvoiceActionApi.as_view(),
        name="api_invoice_action",
    ),
    path(
        "contracts/<int:pk>/test-periods/",
        system_test_period_api.ContractSystemTestPeriodListApi.as_view(),
        name="api_contract_test_periods",
    ),
    path(
        "test-periods/<int:pk>/",
        system_test_period_api.SystemTestPeriodDetailApi.as_view(),
        name="api_test_period_detail",
    ),
    path(
        "test-periods/<int:pk>/end-early/",
        system_test_period_api.SystemTestPeriodEndEarlyApi.as_view(),
        name="api_test_period_end_early",
    ),
    path(
        "test-periods/<int:pk>/extend/",
        system_test_period_api.SystemTestPeriodExtendApi.as_view(),
        name="api_test_period_extend",
    ),
    path(
        "contracts/<int:pk>/cutover/",
        lifecycle_api.ContractCutoverApi.as_view(),
        name="api_contract_cutover",
    ),
    path(
        "contracts/<int:pk>/terminate/",
        lifecycle_api.ContractTerminateApi.as_view(),
        name="api_contract_terminate",
    ),
    path(
        "contracts/<int:pk>/inventory-corrections/",
        apis.ContractInventoryCorrectionListApi.as_view(),
        name="api_contract_inventory_corrections",
    ),
    path(
        "inventory-corrections/<int:pk>/",
        apis.InventoryCorrectionDetailApi.as_view(),
        name="api_inventory_correction_detail",
    ),
    path(
        "inventory-corrections/<int:pk>/withdraw/",
        apis.InventoryCorrectionWithdrawApi.as_view(),
        name="api_inventory_correction_withdraw",
    ),
]
