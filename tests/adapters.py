"""Adapters the tests plug in through ``UPSOLVE["ADAPTER"]``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

from django.test import override_settings

from django_upsolve.adapter import Tenant, UpsolveAdapter
from django_upsolve.conf import upsolve_settings


class DomainTenantAdapter(UpsolveAdapter):
    """Users share a tenant by e-mail domain; users without an e-mail are not synced."""

    def get_tenant(self, user: Any) -> Tenant | None:
        email = getattr(user, "email", "") or ""
        if "@" not in email:
            return None
        domain = email.rsplit("@", 1)[1]
        return Tenant(external_id=domain, name=domain.title(), properties={"plan": "pro"})

    def get_user_properties(self, user: Any, tenant: Tenant) -> Mapping[str, Any]:
        return {"organization_id": tenant.external_id, "user_pk": user.pk}


class BrokenAdapter(UpsolveAdapter):
    """An adapter with a bug: every hook a project might get wrong raises."""

    def get_tenant(self, user: Any) -> Tenant | None:
        raise RuntimeError("adapter bug")


class BuggyForBobAdapter(UpsolveAdapter):
    """The default adapter, with a bug that only one user ("bob") meets."""

    def get_user_properties(self, user: Any, tenant: Tenant) -> Mapping[str, Any]:
        if user.get_username() == "bob":
            return {"plan": {}["plan"]}  # KeyError, as a missing key in a project's lookup
        return super().get_user_properties(user, tenant)


class CountingAdapter(UpsolveAdapter):
    """The default adapter, counting its hook calls (class-wide: each operation makes an
    instance). Use it through :func:`counting_adapter`."""

    calls: ClassVar[Counter[str]] = Counter()

    def is_eligible(self, user: Any) -> bool:
        self.calls["is_eligible"] += 1
        return super().is_eligible(user)

    def get_tenant(self, user: Any) -> Tenant | None:
        self.calls["get_tenant"] += 1
        return super().get_tenant(user)

    def get_user_name(self, user: Any) -> str:
        self.calls["get_user_name"] += 1
        return super().get_user_name(user)

    def get_user_properties(self, user: Any, tenant: Tenant) -> Mapping[str, Any]:
        self.calls["get_user_properties"] += 1
        return super().get_user_properties(user, tenant)

    def get_role_id(self, user: Any) -> str:
        self.calls["get_role_id"] += 1
        return super().get_role_id(user)


@contextmanager
def counting_adapter() -> Iterator[Counter[str]]:
    """Plug in ``CountingAdapter``; yields its hook calls, counted from zero."""
    CountingAdapter.calls.clear()
    with override_settings(
        UPSOLVE={**upsolve_settings.raw, "ADAPTER": "tests.adapters.CountingAdapter"}
    ):
        yield CountingAdapter.calls


class TwoOrganizationsAdapter(UpsolveAdapter):
    """Every user belongs to ``acme`` and ``globex``; the session's ``org`` picks the active
    one, and the role differs per organization."""

    ROLES: ClassVar[dict[str, str]] = {
        "acme": "11111111-1111-4111-8111-111111111111",
        "globex": "22222222-2222-4222-8222-222222222222",
    }

    def get_tenants(self, user: Any) -> list[Tenant]:
        return [Tenant(external_id=org, name=org.title()) for org in self.ROLES]

    def get_active_tenant(self, request: Any, user: Any) -> Tenant | None:
        active = request.session.get("org", "acme")
        return next((t for t in self.get_tenants(user) if t.external_id == active), None)

    def get_role_id(self, user: Any, tenant: Tenant | None = None) -> str:
        return self.ROLES[tenant.external_id] if tenant is not None else self.ROLES["acme"]


class OneTenantPerUserAdapter(UpsolveAdapter):
    """An adapter written before memberships: ``get_tenant`` and a one-argument role hook."""

    def get_tenant(self, user: Any) -> Tenant | None:
        return Tenant(external_id="legacy", name="Legacy")

    def get_role_id(self, user: Any) -> str:  # type: ignore[override]
        return "33333333-3333-4333-8333-333333333333"
