"""Mount with ``path("sandbox/", include("django_upsolve.sandbox.urls"))``.

Then ``UPSOLVE["API_URL"]`` is ``<site>/sandbox/api`` and both
``UPSOLVE["HUB_URL"]`` and ``UPSOLVE["APPLICATION_HUB_URL"]`` are ``<site>/sandbox``.
"""

from django.urls import path

from . import views

app_name = "upsolve_sandbox"

urlpatterns = [
    path("api/<path:endpoint>", views.api, name="api"),
    path("share/dashboard/<str:dashboard_id>", views.share_dashboard, name="share-dashboard"),
    path(
        "share/application/<str:application_id>",
        views.share_application,
        name="share-application",
    ),
]
