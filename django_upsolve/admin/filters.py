"""List filters: registration state, token state and a tenant filter that stays small."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.fields.related import RelatedField
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..conf import upsolve_settings
from ..models import TokenState, UpsolveProfileQuerySet, UpsolveTenant

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices

Choices = list[tuple[str, Any]]


class _ChoiceFilter(admin.SimpleListFilter):
    """A filter whose choices map to queryset methods; unknown values show the admin's error."""

    #: (value, label, name of the queryset method that filters for it)
    options: tuple[tuple[str, Any, str], ...] = ()

    def lookups(self, request: HttpRequest, model_admin: Any) -> Choices:
        return [(value, label) for value, label, _method in self.options]

    def value(self) -> str | None:
        value = super().value()
        if value is not None and value not in {option[0] for option in self.options}:
            raise IncorrectLookupParameters(f"Unknown {self.parameter_name} value.")
        return value

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        value = self.value()
        for option, _label, method in self.options:
            if option == value:
                return self.apply(queryset, method, value)
        return queryset

    def apply(self, queryset: QuerySet[Any], method: str, value: str) -> QuerySet[Any]:
        filtered: QuerySet[Any] = getattr(queryset, method)()
        return filtered


class ProfileStateFilter(_ChoiceFilter):
    title = _("registration")
    parameter_name = "state"
    options = (
        ("registered", _("registered"), "registered"),
        ("not_registered", _("not registered yet"), "not_registered"),
        ("failing", _("failing (last error recorded)"), "failing"),
    )


class TenantStateFilter(_ChoiceFilter):
    title = _("registration")
    parameter_name = "state"
    options = (
        *ProfileStateFilter.options,
        ("users_failing", _("with failing users"), "with_failing_users"),
    )


class TokenStateFilter(_ChoiceFilter):
    title = _("token")
    parameter_name = "token"
    options = (
        (TokenState.VALID.value, _("valid"), "in_token_state"),
        (TokenState.EXPIRING.value, _("expiring (within the refresh margin)"), "in_token_state"),
        (TokenState.EXPIRED.value, _("expired"), "in_token_state"),
        (TokenState.NONE.value, _("none"), "in_token_state"),
    )

    def apply(self, queryset: QuerySet[Any], method: str, value: str) -> QuerySet[Any]:
        assert isinstance(queryset, UpsolveProfileQuerySet)
        return queryset.in_token_state(TokenState(value), margin=upsolve_settings.REFRESH_MARGIN)


class TenantFilter(admin.RelatedFieldListFilter):
    """The profiles' tenant filter, bounded: beyond ``max_choices`` tenants it lists only the
    selected one and links to the tenants list, where each tenant links to its profiles."""

    max_choices = 30

    def field_choices(
        self, field: RelatedField[Any, Any], request: HttpRequest, model_admin: Any
    ) -> Choices:
        ordering = self.field_admin_ordering(field, request, model_admin) or ("name", "pk")
        tenants = UpsolveTenant.objects.order_by(*ordering).values_list("pk", "name")
        first = list(tenants[: self.max_choices + 1])
        self.truncated = len(first) > self.max_choices
        if self.truncated:
            first = list(
                tenants.filter(pk__in=[self._pk(value) for value in self.lookup_val or ()])
            )
        return [(str(pk), name) for pk, name in first]

    @staticmethod
    def _pk(value: str) -> Any:
        try:
            return UpsolveTenant._meta.pk.to_python(value)
        except ValidationError as err:
            raise IncorrectLookupParameters("Unknown tenant.") from err

    def choices(self, changelist: ChangeList) -> Iterator[_ListFilterChoices]:
        yield from super().choices(changelist)
        if self.truncated:
            site = changelist.model_admin.admin_site.name
            yield {
                "selected": False,
                "query_string": reverse(f"{site}:django_upsolve_upsolvetenant_changelist"),
                "display": _("Other tenants: pick one on the tenants list…"),
            }
