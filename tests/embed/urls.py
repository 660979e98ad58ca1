"""The test suite's URLs plus the token endpoint and a dashboard page, for tests marked
``urls("tests.embed.urls")``."""

from django.http import HttpRequest, HttpResponse
from django.template import RequestContext, Template
from django.urls import include, path

from tests.urls import urlpatterns as base_urlpatterns

DASHBOARD = Template('{% load upsolve %}{% upsolve_dashboard "d" %}')


def dashboard(request: HttpRequest) -> HttpResponse:
    return HttpResponse(DASHBOARD.render(RequestContext(request)))


urlpatterns = [
    *base_urlpatterns,
    path("upsolve/", include("django_upsolve.urls")),
    path("embed/dashboard/", dashboard),
]
