"""The tenants list: registration state and per-tenant user counts, from annotations."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from ..conf import upsolve_settings
from ..models import UpsolveProfile, UpsolveTenant
from . import display
from .base import UpsolveModelAdmin
from .filters import TenantStateFilter

#: Users listed on a tenant's page; the others are one click away in the profiles list.
USERS_SHOWN = 20


class UpsolveTenantAdmin(UpsolveModelAdmin):
    """Tenants are never deleted here: a new registration would duplicate the Upsolve
    organization, and the tenant's profiles protect it anyway."""

    #: Narrow enough for a 1280 px screen beside the admin's sidebar and the filters; the
    #: Upsolve id and the latest token refresh are on the tenant's page.
    list_display = ("name", "external_id", "users", "valid_tokens", "registration", "error")
    list_filter = (TenantStateFilter,)
    search_fields = ("name", "external_id")
    search_help_text = _("Search by name or external id.")
    fieldsets = (
        (None, {"fields": ("name", "external_id", "upsolve_id", "properties")}),
        (_("Registration"), {"fields": ("registered_time", "full_error", "last_error_time")}),
        (_("Users"), {"fields": ("users", "valid_tokens", "last_token_refresh", "user_list")}),
        (_("Record"), {"fields": ("created_time", "updated_time")}),
    )
    readonly_fields = (
        "name",
        "external_id",
        "upsolve_id",
        "properties",
        "registered_time",
        "full_error",
        "last_error_time",
        "users",
        "valid_tokens",
        "last_token_refresh",
        "user_list",
        "created_time",
        "updated_time",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[UpsolveTenant]:
        return UpsolveTenant.objects.with_user_counts()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """The tenant's users are listed only to staff who may view profiles here."""
        fieldsets = super().get_fieldsets(request, obj)
        if self._may_view_profiles(request):
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "user_list"]})
            for name, options in fieldsets
        ]

    def _may_view_profiles(self, request: HttpRequest) -> bool:
        try:
            profiles = self.admin_site.get_model_admin(UpsolveProfile)
        except NotRegistered:
            return False
        return profiles.has_view_permission(request)

    def _profiles_url(self, tenant: UpsolveTenant) -> str | None:
        url = display.admin_url(self.admin_site, UpsolveProfile, "changelist")
        return f"{url}?tenant__id__exact={tenant.pk}" if url else None

    @admin.display(description=_("users"), ordering="user_count")
    def users(self, obj: Any) -> SafeString | str:
        return display.link(self._profiles_url(obj), obj.user_count)

    @admin.display(description=_("valid tokens"), ordering="valid_token_count")
    def valid_tokens(self, obj: Any) -> int:
        count: int = obj.valid_token_count
        return count

    @admin.display(description=_("last token refresh"), ordering="last_token_refresh")
    def last_token_refresh(self, obj: Any) -> str:
        return display.when(obj.last_token_refresh)

    @admin.display(description=_("registered"), ordering="registered_at")
    def registration(self, obj: UpsolveTenant) -> SafeString:
        return display.registration_badge(obj.registered_at, obj.last_error)

    @admin.display(description=_("latest users"))
    def user_list(self, obj: Any) -> SafeString:
        """The tenant's latest users (bounded) and a link to all of them."""
        now, margin = timezone.now(), upsolve_settings.REFRESH_MARGIN
        rows = [
            {
                "profile": profile,
                "url": display.admin_url(self.admin_site, UpsolveProfile, "change", profile.pk),
                "registration": display.registration_badge(
                    profile.registered_at, profile.last_error
                ),
                "token": display.token_badge(profile, margin=margin, now=now),
                "error": display.error_label(profile.last_error),
            }
            for profile in obj.profiles.select_related("user").order_by("-pk")[:USERS_SHOWN]
        ]
        return render_to_string(
            "admin/django_upsolve/tenant_users.html",
            {"rows": rows, "total": obj.user_count, "all_url": self._profiles_url(obj)},
        )
