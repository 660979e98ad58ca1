"""Users with and without a stored token, for the embed tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from django_upsolve.models import UpsolveProfile, UpsolveTenant
from tests.conftest import make_jwt

MakeUser = Callable[..., Any]


@pytest.fixture
def make_user(db: None) -> MakeUser:
    """A user whose profile holds a token valid for ``lifetime`` seconds (none if ``None``)."""

    def make(username: str = "ada", lifetime: int | None = 3600) -> Any:
        user = get_user_model().objects.create_user(username, password="pw")
        if lifetime is not None:
            tenant, _ = UpsolveTenant.objects.get_or_create(external_id=f"user-{user.pk}")
            UpsolveProfile.objects.create(
                user=user,
                tenant=tenant,
                registered_at=timezone.now(),
                token=make_jwt(lifetime, sub=username),
                token_expires_at=timezone.now() + timedelta(seconds=lifetime),
                token_refreshed_at=timezone.now(),
            )
        return user

    return make
