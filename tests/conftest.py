"""Fixtures shared by the whole suite; plain helpers are in :mod:`tests.helpers`."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import responses
from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from django_upsolve import breaker
from django_upsolve import cache as shared
from django_upsolve.models import UpsolveProfile, UpsolveTenant
from django_upsolve.payloads import UserFields
from tests.helpers import PATIENT_CALL_TIMEOUT, make_jwt, make_user, upsolve_with

pytest_plugins = ["django_upsolve.sandbox.pytest_plugin"]

# The custom-user suite needs its own settings; tests/core/test_custom_user_model.py runs it.
collect_ignore = [] if "custom_user" in settings.AUTH_USER_MODEL else ["custom_user"]

#: Seconds before expiry for each token state of ``make_profile`` (the refresh margin is 300 s).
LIFETIMES = {"valid": 3600, "expiring": 120, "expired": -60}

MakeTenant = Callable[..., UpsolveTenant]
MakeProfile = Callable[..., UpsolveProfile]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty cache and ends forgetting the caches' health, so
    breaker, lock and outage state never leak into the next test."""
    caches["default"].clear()
    yield
    breaker.reset()
    shared.reset()


@pytest.fixture
def patient_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache call may take ``PATIENT_CALL_TIMEOUT`` (5 s), not 0.5 s, before the cache counts
    as down.

    For tests of where the state lives, on the suite's real Redis: on a loaded two-core CI
    machine it can miss the 0.5 s budget once in a while, and failing open to this process's
    memory is then right (``tests/reliability/test_sick_cache.py`` shows it) but is not what
    those tests are about.
    """
    monkeypatch.setattr(shared, "CALL_TIMEOUT", PATIENT_CALL_TIMEOUT)


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    """Every HTTP request must be mocked; unmocked ones fail the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def set_upsolve(settings: Any) -> Callable[..., None]:
    """``set_upsolve(KEY=value, ...)``: change some ``UPSOLVE`` keys until the test ends.

    For a block or a whole test function, ``tests.helpers.override_upsolve``.
    """

    def change(**changes: Any) -> None:
        settings.UPSOLVE = upsolve_with(**changes)

    return change


@pytest.fixture
def make_tenant(db: None) -> MakeTenant:
    """``make_tenant(name, registered=True, **fields)``: a tenant, registered unless told not."""
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
    """``make_profile(username, token="valid", ...)``: a user and their profile, the token
    in one of the ``LIFETIMES`` states (none if ``None``), in a fresh tenant unless given."""
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
        values: dict[str, Any] = {
            "user": make_user(username, f"{username}@example.test"),
            "tenant": tenant or make_tenant(),
            "registered_at": timezone.now() if registered else None,
            **fields,
        }
        if token is not None:
            lifetime = LIFETIMES[token]
            values["token"] = make_jwt(lifetime, sub=username)
            values["token_expires_at"] = timezone.now() + timedelta(seconds=lifetime)
            # Issued for an hour: "expiring" is an hour-long token near its end, not a short one.
            values["token_refreshed_at"] = values["token_expires_at"] - timedelta(hours=1)
        return UpsolveProfile.objects.create(**values)

    return make


@pytest.fixture
def make_user_with_token(db: None) -> Callable[..., Any]:
    """A user whose profile holds a token valid for ``lifetime`` seconds, in their own tenant."""

    def make(username: str = "ada", lifetime: int = 3600) -> Any:
        user = make_user(username)
        tenant, _ = UpsolveTenant.objects.get_or_create(external_id=f"user-{user.pk}")
        # Registered with what the default adapter answers, so the token is the member's.
        fields = UserFields.build(
            name=username,
            role_id=settings.UPSOLVE["DEFAULT_ROLE_ID"],
            properties={"organization_id": tenant.external_id},
        )
        UpsolveProfile.objects.create(
            user=user,
            tenant=tenant,
            name=fields.name,
            role_id=fields.role_id,
            properties=fields.properties,
            access_fingerprint=fields.fingerprint,
            registered_at=timezone.now(),
            token=make_jwt(lifetime, sub=username),
            token_expires_at=timezone.now() + timedelta(seconds=lifetime),
            # An hour-long token with ``lifetime`` left, not a token that short.
            token_refreshed_at=timezone.now() + timedelta(seconds=lifetime - 3600),
        )
        return user

    return make
