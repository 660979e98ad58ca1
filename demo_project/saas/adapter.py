"""How the demo maps its users to Upsolve tenants: one tenant per ``Organization``."""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from django_upsolve.adapter import Tenant, UpsolveAdapter

from .models import Profile


class OrganizationAdapter(UpsolveAdapter):
    """Members of one organization share its tenant; users without one get no dashboard."""

    def get_tenant(self, user: AbstractBaseUser) -> Tenant | None:
        profile = Profile.objects.select_related("organization").filter(user=user).first()
        if profile is None:
            return None
        org = profile.organization
        return Tenant(external_id=org.slug, name=org.name, properties={"plan": org.plan})

    def get_user_properties(self, user: AbstractBaseUser, tenant: Tenant) -> Mapping[str, Any]:
        # Upsolve's row-level security rules read these as {{user.organization_id}}, ...
        return {"organization_id": tenant.external_id, "plan": tenant.properties["plan"]}
