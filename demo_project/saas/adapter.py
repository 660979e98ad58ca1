"""How the demo maps its users to Upsolve tenants: one tenant per ``Organization``.

A user in several organizations is one Upsolve user in each (django-upsolve keeps one
profile, token and Upsolve user id per membership); a page embeds the token of the
organization the user switched to in the navbar.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from django_upsolve.adapter import Tenant, UpsolveAdapter

from .models import Organization
from .organizations import active_membership, memberships_of


def tenant_of(organization: Organization) -> Tenant:
    """The organization as Upsolve sees it: its slug is the tenant's external id."""
    return Tenant(
        external_id=organization.slug,
        name=organization.name,
        properties={"plan": organization.plan},
    )


class OrganizationAdapter(UpsolveAdapter):
    """Members of one organization share its tenant; users without one get no dashboard."""

    def get_tenants(self, user: AbstractBaseUser) -> Sequence[Tenant]:
        return [tenant_of(membership.organization) for membership in memberships_of(user)]

    def get_active_tenant(self, request: HttpRequest, user: AbstractBaseUser) -> Tenant | None:
        active = active_membership(request, memberships_of(user))
        return tenant_of(active.organization) if active is not None else None

    def get_user_properties(self, user: AbstractBaseUser, tenant: Tenant) -> Mapping[str, Any]:
        # Upsolve's row-level security rules read these as {{user.organization_id}}, ...
        return {"organization_id": tenant.external_id, "plan": tenant.properties["plan"]}
