"""The project's user model, seen from the Upsolve admin, read when asked (never at import)."""

from __future__ import annotations

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
