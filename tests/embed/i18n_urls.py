"""The token endpoint under language prefixes (``/de/upsolve/token/``), for tests marked
``urls("tests.embed.i18n_urls")``."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path

urlpatterns = i18n_patterns(path("upsolve/", include("django_upsolve.urls")))
