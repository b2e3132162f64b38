"""Portal URLs of tickets, queues and the resource inventory (included at the site root)."""

from django.urls import path

from requests_app import views

urlpatterns = [
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_create, name="request_create"),
    path("requests/estimate/", views.request_estimate, name="request_estimate"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/edit/", views.request_edit, name="request_edit"),
    path(
        "requests/<int:pk>/attachments/<int:att_pk>/",
        views.request_attachment,
        name="request_attachment",
    ),
    path("requests/<int:pk>/submit/", views.request_submit, name="request_submit"),
    path("requests/<int:pk>/cancel/", views.request_cancel, name="request_cancel"),
    path("requests/<int:pk>/approve/", views.request_approve, name="request_approve"),
    path("requests/<int:pk>/return/", views.request_return, name="request_return"),
    path("requests/<int:pk>/reject/", views.request_reject, name="request_reject"),
    path("requests/<int:pk>/extension/", views.request_extension, name="request_extension"),
    path(
        "requests/<int:pk>/extensions/<int:ext_pk>/decide/",
        views.request_extension_decide,
        name="request_extension_decide",
    ),
    path("requests/<int:pk>/deliver/", views.request_deliver, name="request_deliver"),
    path("requests/<int:pk>/exempt/", views.request_exempt, name="request_exempt"),
    path(
        "requests/<int:pk>/delivery-claim/revise/",
        views.request_delivery_claim_revise,
        name="request_delivery_claim_revise",
    ),
    path("requests/<int:pk>/receipt/", views.request_receipt_confirm, name="request_receipt"),
    path(
        "requests/<int:pk>/receipt/problem/",
        views.request_receipt_problem,
        name="request_receipt_problem",
    ),
    path("reviews/", views.review_queue, name="review_queue"),
    path("deliveries/", views.delivery_queue, name="delivery_queue"),
    path("resources/", views.resource_list, name="resource_list"),
    path("resources/<int:pk>/", views.resource_detail, name="resource_detail"),
]
