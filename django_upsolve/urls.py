"""Mount with ``path("upsolve/", include("django_upsolve.urls"))``.

The browser refresh script (``django_upsolve/upsolve.js``) finds the token
endpoint, ``django_upsolve:token``, through the iframe tags.
"""

from django.urls import path

from . import views

app_name = "django_upsolve"

urlpatterns = [
    path("token/", views.token, name="token"),
]
