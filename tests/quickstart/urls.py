"""The test suite's URLs and a page that frames whatever ``?src=`` names, as a project's
page frames the sandbox."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.html import format_html

from tests.urls import urlpatterns as suite_urlpatterns


def framing_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(format_html('<iframe src="{}"></iframe>', request.GET["src"]))


urlpatterns = [*suite_urlpatterns, path("framing/", framing_page)]
