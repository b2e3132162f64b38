"""API routes of joint confirmations; included by ``govcloud.api_urls``."""

from django.urls import path

from govcloud import joint_api

urlpatterns = [
    path("joint-confirmations/", joint_api.JointListApi.as_view(), name="api_joint_list"),
    path(
        "joint-confirmations/<int:pk>/",
        joint_api.JointDetailApi.as_view(),
        name="api_joint_detail",
    ),
    path(
        "joint-confirmations/<int:pk>/confirm/",
        joint_api.JointConfirmApi.as_view(),
        name="api_joint_confirm",
    ),
    path(
        "joint-confirmations/<int:pk>/object/",
        joint_api.JointObjectApi.as_view(),
        name="api_joint_object",
    ),
]
