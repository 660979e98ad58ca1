"""The bench site: a login, the dashboard page, and django-upsolve's token endpoint where
the app is installed."""

from django.conf import settings
from django.urls import include, path

from pathbench import views

urlpatterns = [
    path("accounts/login/", views.log_in, name="login"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("ping/", views.ping),
]
if settings.APP:
    urlpatterns.append(path("upsolve/", include("django_upsolve.urls")))
