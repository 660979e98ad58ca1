"""``UpsolveAdapter``: the per-project decisions, swappable by dotted path (``UPSOLVE["ADAPTER"]``).

Subclass it and override any hook::

    class MyAdapter(UpsolveAdapter):
        def get_tenant(self, user):
            org = user.membership.organization
            return Tenant(external_id=str(org.pk), name=org.name)

The default needs nothing but ``django.contrib.auth``: every user is their own
tenant, so row-level security can never mix two users' data.

A user may belong to several tenants (organizations, workspaces): list them all in
``get_tenants`` and pick the one a request is about in ``get_active_tenant`` (from the
session, the URL or the subdomain). Each membership is its own Upsolve user, with its own
role, properties and token. Adapters written for one tenant per user (``get_tenant``,
``get_role_id(user)``) keep working unchanged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.utils.module_loading import import_string

from .conf import upsolve_settings
from .exceptions import UpsolveImproperlyConfigured


@dataclass(frozen=True)
class Tenant:
    """An organization as Upsolve sees it. ``external_id`` is your own stable id for it."""

    external_id: str
    name: str
    properties: Mapping[str, Any] = field(default_factory=dict)


class UpsolveAdapter:
    """Which users are synced, into which tenant, with which name, role and properties."""

    def is_eligible(self, user: AbstractBaseUser) -> bool:
        """Whether ``user`` gets an Upsolve account and token. Default: active users."""
        return bool(getattr(user, "is_active", True))

    def get_tenant(self, user: AbstractBaseUser) -> Tenant | None:
        """The tenant ``user`` belongs to, or ``None`` to leave the user out.

        Default: a personal tenant per user, keyed by the primary key.
        """
        return Tenant(external_id=f"user-{user.pk}", name=user.get_username())

    def get_tenants(self, user: AbstractBaseUser) -> Sequence[Tenant]:
        """Every tenant ``user`` belongs to, the usual one first. Default: ``get_tenant``."""
        tenant = self.get_tenant(user)
        return [tenant] if tenant is not None else []

    def get_active_tenant(self, request: HttpRequest, user: AbstractBaseUser) -> Tenant | None:
        """The tenant ``request`` is about, one of ``get_tenants(user)``.

        Default: the first listed. Override to read the session, the URL or the subdomain;
        an answer that is not among ``get_tenants`` gets no token.
        """
        tenants = self.get_tenants(user)
        return tenants[0] if tenants else None

    def get_user_name(self, user: AbstractBaseUser) -> str:
        """The name shown in the Upsolve hub. Default: full name, else the username."""
        full_name = getattr(user, "get_full_name", None)
        return (full_name() if callable(full_name) else "") or user.get_username()

    def get_user_properties(self, user: AbstractBaseUser, tenant: Tenant) -> Mapping[str, Any]:
        """The ``{{user.<key>}}`` values row-level security reads. Default: the tenant's id."""
        return {"organization_id": tenant.external_id}

    def get_role_id(self, user: AbstractBaseUser, tenant: Tenant | None = None) -> str:
        """The Upsolve role (UUID) of ``user`` in ``tenant``. Default: ``DEFAULT_ROLE_ID``."""
        return upsolve_settings.DEFAULT_ROLE_ID

    def role_id_in(self, user: AbstractBaseUser, tenant: Tenant) -> str:
        """``get_role_id`` for one membership, whether an override takes the tenant or not."""
        if _takes_tenant(type(self).get_role_id):
            return self.get_role_id(user, tenant)
        return self.get_role_id(user)  # An adapter written for one tenant per user.


@functools.cache
def _takes_tenant(method: Callable[..., object]) -> bool:
    """Whether ``method(self, user, tenant)`` is a valid call."""
    try:
        inspect.signature(method).bind(None, None, None)
    except TypeError:
        return False
    return True


def get_adapter_class() -> type[UpsolveAdapter]:
    """The configured adapter class, checked before anything calls it."""
    path = upsolve_settings.ADAPTER
    try:
        adapter_class = import_string(path)
    except ImportError as err:
        raise UpsolveImproperlyConfigured(
            f"UPSOLVE['ADAPTER'] = {path!r} cannot be imported: {err}"
        ) from err
    except Exception as err:  # Importing runs the module's own code, which may raise anything.
        raise UpsolveImproperlyConfigured(
            f"Importing UPSOLVE['ADAPTER'] = {path!r} raised {type(err).__name__}."
        ) from err
    if not (isinstance(adapter_class, type) and issubclass(adapter_class, UpsolveAdapter)):
        raise UpsolveImproperlyConfigured(
            f"UPSOLVE['ADAPTER'] = {path!r} is not an UpsolveAdapter subclass."
        )
    return adapter_class


def get_adapter() -> UpsolveAdapter:
    """A new instance of the configured adapter (resolved on each call, so tests can swap it)."""
    return get_adapter_class()()
