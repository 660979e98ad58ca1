"""The profiles list (tokens masked, state badges, actions, searched by the user model's own
fields) and the opt-in user inline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from ..conf import upsolve_settings
from ..models import UpsolveProfile, UpsolveTenant
from . import display
from .actions import clear_tokens, refresh_tokens, reregister
from .base import ErrorColumns, UpsolveModelAdmin, moment_column
from .filters import ProfileStateFilter, TenantFilter, TokenStateFilter

if TYPE_CHECKING:
    _StackedInline = admin.StackedInline[UpsolveProfile, Any]
else:
    _StackedInline = admin.StackedInline


def user_search_fields(user_model: type[Model], prefix: str = "user__") -> list[str]:
    """Search fields for ``user_model``: its ``USERNAME_FIELD`` and its e-mail field, if any.

    Read from the model when asked (never at import), so custom user models (e-mail
    login, no ``username`` or no ``email`` field) work.
    """
    names = [str(getattr(user_model, "USERNAME_FIELD", "username"))]
    get_email_field_name = getattr(user_model, "get_email_field_name", None)
    if callable(get_email_field_name):
        names.append(str(get_email_field_name()))
    fields = []
    for name in dict.fromkeys(names):
        try:
            user_model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        fields.append(prefix + name)
    return fields


class ProfileColumns(ErrorColumns):
    """Columns shared by the profiles list and the user inline. Needs ``admin_site``."""

    admin_site: admin.AdminSite

    @admin.display(description=_("tenant"), ordering="tenant__name")
    def tenant_link(self, obj: UpsolveProfile) -> SafeString | str:
        if obj.tenant is None:
            return display.EMPTY
        url = display.admin_url(self.admin_site, UpsolveTenant, "change", obj.tenant.pk)
        return display.link(url, obj.tenant)

    @admin.display(description=_("role"), ordering="role_id")
    def role(self, obj: UpsolveProfile) -> SafeString | str:
        return display.short_uuid(obj.role_id)

    @admin.display(description=_("registered"), ordering="registered_at")
    def registration(self, obj: UpsolveProfile) -> SafeString:
        return display.registration_badge(obj.registered_at, obj.last_error)

    @admin.display(description=_("token"), ordering="token_expires_at")
    def token_state(self, obj: UpsolveProfile) -> SafeString:
        return display.token_badge(obj, margin=upsolve_settings.REFRESH_MARGIN, now=timezone.now())

    @admin.display(description=_("token (masked)"))
    def masked_token(self, obj: UpsolveProfile) -> SafeString | str:
        masked = display.mask_token(obj.token)
        return format_html("<code>{}</code>", masked) if masked else display.EMPTY


class UpsolveProfileAdmin(ProfileColumns, UpsolveModelAdmin):
    #: Narrow enough for a 1280 px screen beside the admin's sidebar and the filters; the
    #: role, the masked token and when things happened are on the profile's page.
    list_display = ("user_name", "tenant_link", "registration", "token_state", "error")
    list_select_related = ("user", "tenant")
    list_filter = (ProfileStateFilter, TokenStateFilter, ("tenant", TenantFilter))
    search_help_text = _("Search by the user's login name or e-mail address.")
    actions = (refresh_tokens, reregister, clear_tokens)
    fieldsets = (
        (
            None,
            {"fields": ("user", "tenant", "upsolve_user_id", "role_id", "name_sent", "properties")},
        ),
        (
            _("Token"),
            {
                "fields": (
                    "token_state",
                    "masked_token",
                    "token_expires_time",
                    "token_refreshed_time",
                    "last_seen_time",
                    "sync_queued_time",
                )
            },
        ),
        (_("Registration"), {"fields": ("registered_time", "full_error", "last_error_time")}),
        (_("Record"), {"fields": ("created_time", "updated_time")}),
    )
    readonly_fields = flatten_fieldsets(fieldsets)  # every field is Upsolve's record
    token_expires_time = moment_column(UpsolveProfile, "token_expires_at")
    token_refreshed_time = moment_column(UpsolveProfile, "token_refreshed_at")
    last_seen_time = moment_column(UpsolveProfile, "last_seen_at")
    sync_queued_time = moment_column(UpsolveProfile, "sync_queued_at")

    @admin.display(description=_("user"), ordering="user")
    def user_name(self, obj: UpsolveProfile) -> str:
        """The user, as a column that may wrap (Django keeps a foreign key's on one line)."""
        return str(obj.user)

    @admin.display(description=UpsolveProfile._meta.get_field("name").verbose_name)
    def name_sent(self, obj: UpsolveProfile) -> str:
        return obj.name or display.EMPTY

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return user_search_fields(get_user_model())

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # ``?token__startswith=…`` would let a viewer recover a token character by character.
        if lookup.split(LOOKUP_SEP, 1)[0] == "token":
            return False
        return super().lookup_allowed(lookup, value, request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # One profile at a time (as when its user is deleted): no bulk "delete selected".
        return obj is not None and super().has_delete_permission(request, obj)


class UpsolveProfileInline(ProfileColumns, _StackedInline):
    """A user's Upsolve profile, read-only, for the project's own ``UserAdmin``::

        class UserAdmin(auth_admin.UserAdmin):
            inlines = [*auth_admin.UserAdmin.inlines, UpsolveProfileInline]

    or call :func:`django_upsolve.admin.add_profile_inline`. Shown only to
    staff with the view permission on Upsolve profiles.
    """

    model = UpsolveProfile
    fk_name = "user"
    can_delete = False
    extra = 0
    template = "admin/django_upsolve/edit_inline/profile.html"
    empty_value_display = display.EMPTY
    fields = readonly_fields = (
        "profile_link",
        "tenant_link",
        "registration",
        "token_state",
        "masked_token",
        "error",
        "last_error_time",
    )

    @admin.display(description=_("Upsolve profile"))
    def profile_link(self, obj: UpsolveProfile) -> SafeString | str:
        url = display.admin_url(self.admin_site, UpsolveProfile, "change", obj.pk)
        return display.link(url, obj.upsolve_user_id)

    def get_queryset(self, request: HttpRequest) -> QuerySet[UpsolveProfile]:
        return super().get_queryset(request).select_related("tenant", "user")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def add_profile_inline(site: admin.AdminSite | None = None) -> None:
    """Show each user's Upsolve profile on the user admin page registered with ``site``.

    Call it once the user model's admin is registered (e.g. in your ``urls.py``);
    the ``ModelAdmin`` class itself is left untouched. Raises ``NotRegistered``
    when the user model has no admin on ``site``.
    """
    user_admin: Any = (site or admin.site).get_model_admin(get_user_model())
    if UpsolveProfileInline not in user_admin.inlines:
        user_admin.inlines = [*user_admin.inlines, UpsolveProfileInline]
