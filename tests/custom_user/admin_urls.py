"""A project's own admin site with its own user admin, the Upsolve inline added to it."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import path

from django_upsolve.admin import UpsolveProfileAdmin, UpsolveProfileInline, UpsolveTenantAdmin
from django_upsolve.models import UpsolveProfile, UpsolveTenant


class EmailUserAdmin(admin.ModelAdmin):
    search_fields = ("email",)
    inlines = [UpsolveProfileInline]


site = admin.AdminSite(name="ops")
site.register(get_user_model(), EmailUserAdmin)
site.register(UpsolveTenant, UpsolveTenantAdmin)
site.register(UpsolveProfile, UpsolveProfileAdmin)

urlpatterns = [path("ops/", site.urls)]
