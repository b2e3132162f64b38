"""REST API v1 routes; each app contributes its own ``api_urls``."""

from django.urls import include, path

from govcloud import apis

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="api_me"),
    path("contracts/", apis.ContractListApi.as_view(), name="api_contract_list"),
    path("contracts/<int:pk>/", apis.ContractDetailApi.as_view(), name="api_contract_detail"),
    path("contracts/<int:pk>/terms/", apis.ContractTermsApi.as_view(), name="api_contract_terms"),
    path(
        "contracts/<int:pk>/activate/",
        apis.ContractActivateApi.as_view(),
        name="api_contract_activate",
    ),
    path("", include("govcloud.joint_api_urls")),
    path("", include("requests_app.api_urls")),
    path("", include("sla.api_urls")),
    path("", include("billing.api_urls")),
]
