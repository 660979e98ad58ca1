"""What the Upsolve admins share: no add, a read-only change form, the breaker on the lists,
moments and empty values shown one way."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Model
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from ..models import RegistrationRecord
from ..redaction import redact
from . import display
from .changelist import KeysFirstChangeList
from .indicator import breaker_indicator

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = admin.ModelAdmin


def moment_column(model: type[Model], field: str) -> Callable[[Any, Any], str]:
    """A read-only column showing ``model.field``, a date and time, as :func:`display.when`.

    Django would show the model field itself in another format on the change pages.
    """

    description = getattr(model._meta.get_field(field), "verbose_name", field)

    @admin.display(description=description, ordering=field)
    def column(model_admin: Any, obj: Any) -> str:
        return display.when(getattr(obj, field))

    return column


class ErrorColumns:
    """The last error recorded on a tenant or profile (redacted) and when."""

    @admin.display(description=_("last error"))
    def error(self, obj: RegistrationRecord) -> SafeString | str:
        return display.error_label(obj.last_error)

    @admin.display(description=_("last error"))
    def full_error(self, obj: RegistrationRecord) -> str:
        return redact(obj.last_error) or display.EMPTY

    registered_time = moment_column(RegistrationRecord, "registered_at")
    last_error_time = moment_column(RegistrationRecord, "last_error_at")
    created_time = moment_column(RegistrationRecord, "created_at")
    updated_time = moment_column(RegistrationRecord, "updated_at")


class UpsolveModelAdmin(ErrorColumns, _ModelAdmin):
    """Rows mirror what Upsolve was sent and answered, so they are never added or edited here.

    The change permission gates the actions (which go through the services);
    the change form is always the read-only view.
    """

    empty_value_display = display.EMPTY

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return KeysFirstChangeList

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        context = {**(extra_context or {}), "upsolve_breaker": breaker_indicator()}
        return super().changelist_view(request, context)  # type: ignore[return-value]
