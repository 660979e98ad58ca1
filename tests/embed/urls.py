"""The test suite's URLs plus the token endpoint, for tests marked ``urls("tests.embed.urls")``."""

from django.urls import include, path

from tests.urls import urlpatterns as base_urlpatterns

urlpatterns = [
    *base_urlpatterns,
    path("upsolve/", include("django_upsolve.urls")),
]
