"""What the Upsolve admins share: no add, a read-only change form, the breaker on the lists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
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


class ErrorColumns:
    """The last error recorded on a tenant or profile, redacted."""

    @admin.display(description=_("last error"))
    def error(self, obj: RegistrationRecord) -> SafeString | str:
        return display.error_label(obj.last_error)

    @admin.display(description=_("last error"))
    def full_error(self, obj: RegistrationRecord) -> str:
        return redact(obj.last_error)


class UpsolveModelAdmin(ErrorColumns, _ModelAdmin):
    """Rows mirror what Upsolve was sent and answered, so they are never added or edited here.

    The change permission gates the actions (which go through the services);
    the change form is always the read-only view.
    """

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
