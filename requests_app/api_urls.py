"""REST API v1 routes of tickets and resources (included from ``govcloud.api_urls``).

The POST-only workflow actions are deliberately unnamed: the tenancy matrix in
``tests/scoped_urls.py`` walks *named* object URLs with GET, which an action cannot answer
with 200. Each action's anonymous / wrong-role / cross-tenant answers are tested in
``tests/requests_app/test_api.py`` instead.
"""

from django.urls import path

from requests_app import apis

ACTIONS = [
    ("submit", apis.RequestSubmitApi),
    ("approve", apis.RequestApproveApi),
    ("return", apis.RequestReturnApi),
    ("reject", apis.RequestRejectApi),
    ("cancel", apis.RequestCancelApi),
    ("request-extension", apis.RequestExtensionApi),
    ("deliver", apis.RequestDeliverApi),
    ("exempt", apis.RequestExemptApi),
    ("delivery-claim/revise", apis.RequestDeliveryClaimReviseApi),
    ("receipt", apis.RequestReceiptApi),
    ("receipt-problem", apis.RequestReceiptProblemApi),
]

urlpatterns = [
    path("requests/", apis.RequestListCreateApi.as_view(), name="api_request_list"),
    path("requests/<int:pk>/", apis.RequestDetailApi.as_view(), name="api_request_detail"),
    *(path(f"requests/<int:pk>/{action}/", view.as_view()) for action, view in ACTIONS),
    path("requests/<int:pk>/extensions/<int:ext_id>/decide/", apis.ExtensionDecideApi.as_view()),
    path("reviews/", apis.ReviewQueueApi.as_view(), name="api_review_queue"),
    path("deliveries/", apis.DeliveryQueueApi.as_view(), name="api_delivery_queue"),
    path("resources/", apis.ResourceListApi.as_view(), name="api_resource_list"),
    path("resources/<int:pk>/", apis.ResourceDetailApi.as_view(), name="api_resource_detail"),
]
