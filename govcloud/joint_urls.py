"""Portal routes of joint confirmations; included under ``joint/`` by ``govcloud.urls``."""

from django.urls import path

from govcloud import joint_views

urlpatterns = [
    path("", joint_views.joint_list, name="joint_list"),
    path("<int:pk>/", joint_views.joint_detail, name="joint_detail"),
    path("<int:pk>/decide/", joint_views.joint_decide, name="joint_decide"),
]
