"""An admin site with the user admin and the inline, but neither Upsolve model admin."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.urls import path

from django_upsolve.admin import UpsolveProfileAdmin, UpsolveProfileInline
from django_upsolve.models import UpsolveProfile


class UserWithProfileAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, UpsolveProfileInline]


users_only = admin.AdminSite(name="users_only")
users_only.register(get_user_model(), UserWithProfileAdmin)

profiles_only = admin.AdminSite(name="profiles_only")
profiles_only.register(UpsolveProfile, UpsolveProfileAdmin)

urlpatterns = [path("users/", users_only.urls), path("profiles/", profiles_only.urls)]
