"""Fixtures for the sandbox tests: a fresh emulator and helpers to call it (constants in
:mod:`tests.sandbox.helpers`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings

from django_upsolve.sandbox.emulator import Emulator, EmulatorResponse
from tests.sandbox.helpers import AUTH, PROJECT_ID, ROLE_ID, Call, Clock

# The demo's suite needs the demo's settings; tests/sandbox/test_demo.py runs it.
collect_ignore = [] if "demo_project.saas" in settings.INSTALLED_APPS else ["demo"]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(db: None, clock: Clock) -> Emulator:
    return Emulator(clock=clock)


@pytest.fixture
def call(emulator: Emulator) -> Call:
    """``call(path, body)``: one authorised JSON request to the emulator, from this process
    (so ``UPSOLVE["API_KEY"]`` is accepted, as by the ``upsolve_sandbox`` fixture)."""

    def call(path: str, body: Any, headers: dict[str, str] | None = None) -> EmulatorResponse:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return emulator.handle(path, AUTH if headers is None else headers, raw, in_process=True)

    return call


@pytest.fixture
def register_org(call: Call) -> Callable[..., str]:
    """Register an organization and return its Upsolve id."""

    def register(name: str = "Acme", external_id: str | None = "acme", **extra: Any) -> str:
        body = {"projectId": PROJECT_ID, "name": name, **extra}
        if external_id is not None:
            body["externalId"] = external_id
        answer = call("/register-organization", body)
        assert answer.status == 200, answer.body
        return str(answer.json()["data"]["projectOrganizationId"])

    return register


@pytest.fixture
def register_user(call: Call, register_org: Callable[..., str]) -> Callable[..., str]:
    """Register a user (in a fresh organization unless one is given) and return its id."""

    def register(organization: str | None = None, **extra: Any) -> str:
        body = {
            "projectId": PROJECT_ID,
            "projectOrganizationId": organization or register_org(external_id=str(uuid.uuid4())),
            "userRoleId": ROLE_ID,
            "name": "Ada Lovelace",
            "properties": {"organization_id": "acme", "seats": 3},
            **extra,
        }
        answer = call("/register-user", body)
        assert answer.status == 200, answer.body
        return str(answer.json()["data"]["userId"])

    return register
