"""URLs of the background tests' processes."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("upsolve/", include("django_upsolve.urls")),
    path("dashboard/", views.dashboard),
    path("async/dashboard/", views.async_dashboard),
    path("async/render/<slug:template>/", views.async_render),
    path("async/token/", views.async_token),
    path("async/login/", views.async_login),
    path("async/ping/", views.ping),
]
