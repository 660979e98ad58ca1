"""Fixtures for the admin tests: staff clients and the project's user admin.

Tenants and profiles in every state come from ``make_tenant`` and ``make_profile``
(``tests/conftest.py``); the pages and helpers from :mod:`tests.admin.helpers`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from tests.helpers import make_user


@pytest.fixture(autouse=True)
def _no_sync_on_login(set_upsolve: Callable[..., None]) -> None:
    """Logging staff in must not call Upsolve; the tests that need Upsolve mock it."""
    set_upsolve(SYNC_ON_LOGIN=False)


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
        user = make_user("staff", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
        client = Client()
        client.force_login(user)
        return client

    return make
