"""URLs for the test suite: the admin, the auth views and the Upsolve sandbox."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("sandbox/", include("django_upsolve.sandbox.urls")),
]
