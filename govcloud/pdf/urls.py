"""Portal pages of the PDF toolkit (mounted under /pdf/)."""

from django.urls import path

from govcloud.pdf import views

urlpatterns = [
    path("verify/", views.pdf_verify, name="pdf_verify"),
]
