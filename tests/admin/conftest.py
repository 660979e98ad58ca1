"""Fixtures for the admin tests: tenants and profiles in every state, and staff clients."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from django_upsolve.models import UpsolveProfile, UpsolveTenant
from tests.conftest import make_jwt

API_KEY = "up_admin_test_0123456789abcdef"
PROFILES = "/admin/django_upsolve/upsolveprofile/"
TENANTS = "/admin/django_upsolve/upsolvetenant/"

#: Seconds before expiry for each token state (the refresh margin is 300 s).
LIFETIMES = {"valid": 3600, "expiring": 120, "expired": -60}

MakeTenant = Callable[..., UpsolveTenant]
MakeProfile = Callable[..., UpsolveProfile]


@pytest.fixture(autouse=True)
def _no_sync_on_login(settings: Any) -> None:
    """Logging staff in must not call Upsolve; the tests that need Upsolve mock it."""
    settings.UPSOLVE = {**settings.UPSOLVE, "SYNC_ON_LOGIN": False}


@pytest.fixture
def make_tenant(db: None) -> MakeTenant:
    counter = iter(range(1, 10**6))

    def make(name: str | None = None, *, registered: bool = True, **fields: Any) -> UpsolveTenant:
        n = next(counter)
        values: dict[str, Any] = {
            "external_id": f"org-{n}",
            "name": name or f"Tenant {n}",
            "upsolve_id": uuid.uuid4() if registered else None,
            "registered_at": timezone.now() if registered else None,
            **fields,
        }
        return UpsolveTenant.objects.create(**values)

    return make


@pytest.fixture
def make_profile(db: None, make_tenant: MakeTenant) -> MakeProfile:
    counter = iter(range(1, 10**6))

    def make(
        username: str | None = None,
        *,
        tenant: UpsolveTenant | None = None,
        token: str | None = "valid",
        registered: bool = True,
        **fields: Any,
    ) -> UpsolveProfile:
        n = next(counter)
        username = username or f"user{n}"
        user = get_user_model().objects.create_user(username, email=f"{username}@example.test")
        values: dict[str, Any] = {
            "user": user,
            "tenant": tenant or make_tenant(),
            "registered_at": timezone.now() if registered else None,
            **fields,
        }
        if token is not None:
            lifetime = LIFETIMES[token]
            values["token"] = make_jwt(lifetime, sub=username)
            values["token_expires_at"] = timezone.now() + timedelta(seconds=lifetime)
            values["token_refreshed_at"] = timezone.now()
        return UpsolveProfile.objects.create(**values)

    return make


@pytest.fixture
def user_admin() -> Iterator[Any]:
    """The project's user admin (contrib.auth's here), restored after the test."""
    model_admin = admin.site.get_model_admin(get_user_model())
    yield model_admin
    vars(model_admin).pop("inlines", None)


@pytest.fixture
def staff_client(db: None) -> Callable[..., Client]:
    """``staff_client("view_upsolveprofile", ...)``: a logged-in staff user with those perms."""

    def make(*codenames: str) -> Client:
        user = get_user_model().objects.create_user("staff", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
        client = Client()
        client.force_login(user)
        return client

    return make


def messages_of(response: Any) -> list[tuple[str, str]]:
    """(level tag, text) of the messages shown on ``response`` (fetched with ``follow=True``)."""
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def post_action(client: Client, action: str, profiles: Any) -> Any:
    """Run a profiles-list action on ``profiles`` and follow the redirect back."""
    return client.post(
        PROFILES,
        {"action": action, "_selected_action": [str(p.pk) for p in profiles]},
        follow=True,
    )
