"""The project's user model, seen from the Upsolve admin: search fields and the opt-in inline."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model


def user_search_fields(user_model: type[Model], prefix: str = "user__") -> list[str]:
    """Search fields for ``user_model``: its ``USERNAME_FIELD`` and its e-mail field, if any.

    Read from the model when asked, so custom user models (e-mail login, no
    ``username`` or no ``email`` field) work.
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


def add_profile_inline(site: AdminSite | None = None) -> None:
    """Show each user's Upsolve profile on the user admin page registered with ``site``.

    Call it once the user model's admin is registered (e.g. in your ``urls.py``);
    the ``ModelAdmin`` class itself is left untouched. Raises ``NotRegistered``
    when the user model has no admin on ``site``.
    """
    from .profiles import UpsolveProfileInline

    user_admin: Any = (site or admin.site).get_model_admin(get_user_model())
    if UpsolveProfileInline not in user_admin.inlines:
        user_admin.inlines = [*user_admin.inlines, UpsolveProfileInline]
