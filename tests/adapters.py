"""Adapters the tests plug in through ``UPSOLVE["ADAPTER"]``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_upsolve.adapter import Tenant, UpsolveAdapter


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
