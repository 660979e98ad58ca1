"""Users holding a token, for the embed tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from django_upsolve.models import UpsolveProfile, UpsolveTenant
from tests.helpers import make_jwt, make_user

MakeUser = Callable[..., Any]


@pytest.fixture
def make_user_with_token(db: None) -> MakeUser:
    """A user whose profile holds a token valid for ``lifetime`` seconds, in their own tenant."""

    def make(username: str = "ada", lifetime: int = 3600) -> Any:
        user = make_user(username)
        tenant, _ = UpsolveTenant.objects.get_or_create(external_id=f"user-{user.pk}")
        UpsolveProfile.objects.create(
            user=user,
            tenant=tenant,
            registered_at=timezone.now(),
            token=make_jwt(lifetime, sub=username),
            token_expires_at=timezone.now() + timedelta(seconds=lifetime),
            # An hour-long token with ``lifetime`` left, not a token that short.
            token_refreshed_at=timezone.now() + timedelta(seconds=lifetime - 3600),
        )
        return user

    return make
