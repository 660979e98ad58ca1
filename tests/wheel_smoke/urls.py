from django.urls import include, path

urlpatterns = [path("sandbox/", include("django_upsolve.sandbox.urls"))]
