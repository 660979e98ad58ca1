"""List filters: registration state, token state and a tenant filter that stays small."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import Count, Q, QuerySet
from django.db.models.fields.related import RelatedField
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ..conf import upsolve_settings
from ..models import (
    TokenState,
    UpsolveProfileQuerySet,
    UpsolveTenant,
    UpsolveTenantQuerySet,
    token_state_filter,
)
from .display import admin_url

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices
    from django_stubs_ext import StrOrPromise

Choices = list[tuple[str, Any]]


class _ConditionFilter(admin.SimpleListFilter):
    """A filter whose choices are conditions (``Q``); facet counts are one aggregate scan.

    Unknown values show the admin's "invalid lookup" page instead of being ignored.
    """

    def conditions(self) -> list[tuple[str, StrOrPromise, Q]]:
        """(value, label, condition) of each choice, read once per request."""
        raise NotImplementedError

    @cached_property
    def _conditions(self) -> list[tuple[str, StrOrPromise, Q]]:
        return self.conditions()

    def lookups(self, request: HttpRequest, model_admin: Any) -> Choices:
        return [(value, label) for value, label, _condition in self._conditions]

    def value(self) -> str | None:
        value = super().value()
        if value is not None and value not in {option[0] for option in self._conditions}:
            raise IncorrectLookupParameters(f"Unknown {self.parameter_name} value.")
        return value

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        value = self.value()
        for option, _label, condition in self._conditions:
            if option == value:
                return queryset.filter(condition)
        return queryset

    def get_facet_counts(self, pk_attname: str, filtered_qs: QuerySet[Any]) -> dict[str, Count]:
        return {
            f"{index}__c": Count(pk_attname, filter=condition)
            for index, (_value, _label, condition) in enumerate(self._conditions)
        }


def _registration_conditions(
    querysets: type[UpsolveProfileQuerySet | UpsolveTenantQuerySet],
) -> list[tuple[str, StrOrPromise, Q]]:
    """The registration choices, on the conditions the model's queryset defines."""
    registered = querysets.REGISTERED
    return [
        ("registered", _("registered"), registered),
        ("not_registered", _("not registered yet"), ~registered),
        ("failing", _("failing (last error recorded)"), querysets.FAILING),
    ]


class ProfileStateFilter(_ConditionFilter):
    title = _("registration")
    parameter_name = "state"

    def conditions(self) -> list[tuple[str, StrOrPromise, Q]]:
        return _registration_conditions(UpsolveProfileQuerySet)


class TenantStateFilter(_ConditionFilter):
    title = _("registration")
    parameter_name = "state"

    def conditions(self) -> list[tuple[str, StrOrPromise, Q]]:
        return [
            *_registration_conditions(UpsolveTenantQuerySet),
            (
                "users_failing",
                _("with failing users"),
                UpsolveTenantQuerySet.with_failing_users_condition(),
            ),
        ]


class TokenStateFilter(_ConditionFilter):
    title = _("token")
    parameter_name = "token_state"

    def conditions(self) -> list[tuple[str, StrOrPromise, Q]]:
        now, margin = timezone.now(), upsolve_settings.REFRESH_MARGIN
        labels = {
            TokenState.VALID: _("valid"),
            TokenState.EXPIRING: _("expiring (within the refresh margin)"),
            TokenState.EXPIRED: _("expired"),
            TokenState.NONE: _("none"),
        }
        return [
            (state.value, label, token_state_filter(state, now=now, margin=margin))
            for state, label in labels.items()
        ]


class TenantFilter(admin.RelatedFieldListFilter):
    """The profiles' tenant filter, bounded: beyond ``max_choices`` tenants it lists only the
    selected one and links to the tenants list, where each tenant links to its profiles."""

    max_choices = 30

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only rows kept from before profiles were per membership have none.
        self.empty_value_display = format_html("{}", _("no tenant"))

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

    def has_output(self) -> bool:
        return self.truncated or super().has_output()

    @staticmethod
    def _pk(value: str) -> Any:
        field = UpsolveTenant._meta.pk
        assert field is not None
        try:
            pk = field.to_python(value)
        except ValidationError as err:
            raise IncorrectLookupParameters("Unknown tenant.") from err
        if isinstance(pk, int):  # Beyond the column's range, SQLite raises OverflowError.
            ops = connections[router.db_for_read(UpsolveTenant)].ops
            low, high = ops.integer_field_range(field.get_internal_type())
            if (low is not None and pk < low) or (high is not None and pk > high):
                raise IncorrectLookupParameters("Unknown tenant.")
        return pk

    def choices(self, changelist: ChangeList) -> Iterator[_ListFilterChoices]:
        yield from super().choices(changelist)
        tenants = admin_url(changelist.model_admin.admin_site, UpsolveTenant, "changelist")
        if self.truncated and tenants:
            yield {
                "selected": False,
                "query_string": tenants,
                "display": _("Other tenants: pick one on the tenants list…"),
            }
