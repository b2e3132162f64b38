"""Root URLconf: portal under /, REST API under /api/v1/, admin under /admin/."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from govcloud import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/2fa/", views.two_factor_verify, name="two_factor_verify"),
    path("accounts/2fa/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("accounts/invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/terms/", views.contract_terms, name="contract_terms"),
    path("contracts/<int:pk>/activate/", views.contract_activate, name="contract_activate"),
    path("joint/", include("govcloud.joint_urls")),
    path("", include("requests_app.urls")),
    path("sla/", include("sla.urls")),
    path("billing/", include("billing.urls")),
    path("pdf/", include("govcloud.pdf.urls")),
    path("api/v1/", include("govcloud.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
