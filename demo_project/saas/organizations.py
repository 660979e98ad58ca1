"""Which organization a request is about: the one its user switched to, else their first.

A user may belong to several organizations. The navbar's switch stores the chosen one's
slug in the session; the pages and the Upsolve adapter read it back through
:func:`active_membership`, so both always agree on the organization a page shows.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from .models import Membership

#: The session key holding the slug of the organization the user switched to.
SESSION_KEY = "organization"


def memberships_of(user: AbstractBaseUser | AnonymousUser) -> list[Membership]:
    """The user's memberships, organizations loaded, in the order joined."""
    if not user.is_authenticated:
        return []
    return list(Membership.objects.select_related("organization").filter(user=user))


def active_membership(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
    """The membership the session names, else the first; ``None`` for no memberships.

    A slug the user is no longer a member of falls back to the first, as no switch does.
    """
    session = getattr(request, "session", None)
    chosen = session.get(SESSION_KEY) if session is not None else None
    for membership in memberships:
        if membership.organization.slug == chosen:
            return membership
    return memberships[0] if memberships else None


def switch(request: HttpRequest, slug: str) -> Membership | None:
    """Make ``slug`` the request's organization from now on, if its user is a member."""
    for membership in memberships_of(request.user):
        if membership.organization.slug == slug:
            request.session[SESSION_KEY] = slug
            return membership
    return None
