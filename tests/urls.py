"""URLs for the test suite: the admin and the Upsolve sandbox."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("sandbox/", include("django_upsolve.sandbox.urls")),
]
