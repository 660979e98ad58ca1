"""Memberships: a user in one tenant, as the adapter sees them; Upsolve's unit of a user.

Upsolve puts each project user in exactly one organization, so a person in several tenants
is one Upsolve user per membership. The adapter lists a user's tenants and picks the one a
request is about; each operation asks it once and passes the :class:`Membership` down.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from . import payloads
from .adapter import Tenant, UpsolveAdapter, get_adapter
from .conf import upsolve_settings
from .exceptions import UpsolveInvalidRequest
from .models import UpsolveProfile, UpsolveTenant

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Membership:
    """A user in one of their tenants, with the adapter that said so.

    The tenant's external id was checked when the adapter listed it (:func:`listed_tenants`).
    The user's name, role and properties are asked only when a registration is compared or
    sent, and then once. They are checked when first read, and a value the adapter got wrong
    is logged and recorded on the profile by the sync like any other failure.
    """

    user: AbstractBaseUser
    tenant: Tenant
    adapter: UpsolveAdapter

    @property
    def external_id(self) -> str:
        """The tenant's own id: with the user, it names the membership."""
        return self.tenant.external_id

    @cached_property
    def organization_fields(self) -> payloads.OrganizationFields:
        """The tenant as Upsolve is told it."""
        tenant = self.tenant
        return payloads.OrganizationFields.build(
            external_id=tenant.external_id, name=tenant.name, properties=tenant.properties
        )

    @cached_property
    def user_fields(self) -> payloads.UserFields:
        """The name, role and properties the adapter wants Upsolve to know the member by."""
        user, adapter, tenant = self.user, self.adapter, self.tenant
        return payloads.UserFields.build(
            name=adapter.get_user_name(user),
            role_id=adapter.role_id_in(user, tenant),
            properties=adapter.get_user_properties(user, tenant),
        )


def memberships_of(user: AbstractBaseUser) -> list[Membership]:
    """Every membership of ``user`` the adapter lists; none when it leaves the user out.

    A tenant listed twice counts once, as first listed: :func:`membership_of` answers that
    one too, so a login and a page never register the member with different values.
    """
    adapter = get_adapter()
    if not is_eligible(adapter, user):
        return []
    memberships: dict[str, Membership] = {}
    for tenant in listed_tenants(adapter, user):
        memberships.setdefault(tenant.external_id, Membership(user, tenant, adapter))
    return list(memberships.values())


def is_eligible(adapter: UpsolveAdapter, user: AbstractBaseUser) -> bool:
    """``adapter.is_eligible(user)``; an async hook's answer (always truthy) counts as ``False``."""
    return bool(hook_answer("is_eligible", adapter.is_eligible(user), user))


def hook_answer(hook: str, answer: T, user: AbstractBaseUser) -> T | None:
    """``answer``, or ``None`` (with a WARNING) for the awaitable an ``async def`` hook returns:
    hooks are called from sync code, so it would never run (and a coroutine is truthy)."""
    if not inspect.isawaitable(answer):
        return answer
    if inspect.iscoroutine(answer):
        answer.close()  # never awaited, by design: no RuntimeWarning
    logger.warning(
        "The Upsolve adapter's %s is async; hooks are plain methods, called from sync code. "
        "User pk=%s gets no token until it is a plain def.",
        hook,
        user.pk,
    )
    return None


def listed_tenants(adapter: UpsolveAdapter, user: AbstractBaseUser) -> list[Tenant]:
    """The tenants ``adapter`` lists for ``user``, without those whose ``external_id`` is no
    usable id (logged): it names the membership in every query, lock and call, so such a
    tenant (a primary key passed as an int, say) is left out, not failed on everywhere."""
    tenants = []
    for tenant in hook_answer("get_tenants", adapter.get_tenants(user), user) or ():
        try:
            payloads.external_id_text(getattr(tenant, "external_id", None))
        except UpsolveInvalidRequest as err:
            logger.warning(
                "The Upsolve adapter listed a tenant with an invalid external_id for user "
                "pk=%s, left out: %s",
                user.pk,
                err,
            )
        else:
            tenants.append(tenant)
    return tenants


def membership_of(
    user: AbstractBaseUser,
    *,
    request: HttpRequest | None = None,
    tenant: str | None = None,
) -> Membership | None:
    """One membership of ``user``, or ``None`` when the adapter does not list it.

    ``tenant`` (an external id) names it; otherwise ``request`` decides, through the
    adapter's ``get_active_tenant``; otherwise it is the first listed. A tenant the adapter
    no longer lists is never answered, so its token is never served again.
    """
    adapter = get_adapter()
    if not is_eligible(adapter, user):
        return None
    listed = listed_tenants(adapter, user)
    if tenant is None and request is not None and _picks_active(adapter):
        active = hook_answer("get_active_tenant", adapter.get_active_tenant(request, user), user)
        tenant = getattr(active, "external_id", None)
        if not isinstance(tenant, str):
            if active is not None:
                logger.warning(
                    "The Upsolve adapter's get_active_tenant answered a %s for user pk=%s, not "
                    "one of the Tenants get_tenants lists: no token for this request.",
                    type(active).__name__,
                    user.pk,
                )
            return None
    for candidate in listed:
        if tenant is None or candidate.external_id == tenant:
            return Membership(user, candidate, adapter)
    return None


def _picks_active(adapter: UpsolveAdapter) -> bool:
    """Whether the adapter overrides ``get_active_tenant`` (the default is the first listed,
    which costs asking for the list twice)."""
    return type(adapter).get_active_tenant is not UpsolveAdapter.get_active_tenant


def login_memberships(user: AbstractBaseUser, request: HttpRequest | None) -> list[Membership]:
    """The memberships a login syncs: the active one first, then the next ones listed, at
    most ``LOGIN_MEMBERSHIPS`` in all."""
    listed = memberships_of(user)
    active = membership_of(user, request=request) if request is not None else None
    if active is not None:
        listed = [active] + [m for m in listed if m.external_id != active.external_id]
    return listed[: upsolve_settings.LOGIN_MEMBERSHIPS]


def membership_profile(membership: Membership) -> UpsolveProfile:
    """The membership's profile row (and its tenant's), created unregistered if new."""
    fields = membership.organization_fields
    tenant, _ = UpsolveTenant.objects.get_or_create(
        external_id=fields.external_id,
        defaults={"name": fields.name, "properties": fields.properties},
    )
    # get_or_create reads again when a concurrent caller inserted the row first.
    profile, _ = UpsolveProfile.objects.get_or_create(user_id=membership.user.pk, tenant=tenant)
    return profile
