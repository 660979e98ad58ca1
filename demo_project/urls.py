"""URLs of the demo: its pages, the Upsolve token endpoint and, in sandbox mode, the sandbox."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from .saas import views

urlpatterns = [
    path("", views.home, name="home"),
    path("analytics/", views.analytics, name="analytics"),
    path("organization/", views.switch_organization, name="switch-organization"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("upsolve/", include("django_upsolve.urls")),
    # Pages without a <link rel="icon"> (the admin's) make browsers ask for this one.
    path("favicon.ico", RedirectView.as_view(url=static("saas/favicon.svg"))),
]

if settings.DEMO_SANDBOX:
    urlpatterns.append(path("sandbox/", include("django_upsolve.sandbox.urls")))
