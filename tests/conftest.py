"""Fixtures shared by the whole suite."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import responses
from django.conf import settings
from django.core.cache import caches

from django_upsolve import breaker

pytest_plugins = ["django_upsolve.sandbox.pytest_plugin"]

# The custom-user suite needs its own settings; tests/core/test_custom_user_model.py runs it.
collect_ignore = [] if "custom_user" in settings.AUTH_USER_MODEL else ["custom_user"]

SIGNING_KEY = "tests-signing-key-0123456789abcdef0123"


def make_jwt(lifetime: int = 3600, *, iat: float | None = None, **claims: Any) -> str:
    """A signed JWT like Upsolve's, with ``iat`` and ``exp`` set from ``lifetime``."""
    issued = int(time.time() if iat is None else iat)
    payload = {"iat": issued, "exp": issued + lifetime, **claims}
    return jwt.encode(payload, SIGNING_KEY, algorithm="HS256")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty cache, so breaker and lock state never leak."""
    caches["default"].clear()
    yield
    breaker.reset()


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    """Every HTTP request must be mocked; unmocked ones fail the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
