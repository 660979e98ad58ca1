"""The package's own UpsolveClient against the sandbox: both sides of the contract agree."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from django_upsolve.budget import CallPolicy
from django_upsolve.client import UpsolveClient
from django_upsolve.exceptions import UpsolveAuthError, UpsolveNotFound, UpsolveValidationError
from django_upsolve.payloads import OrganizationFields, UserFields
from django_upsolve.sandbox.testing import SandboxHandle
from django_upsolve.tokens import is_jwt_shaped

from .helpers import ROLE_ID


@pytest.fixture
def client() -> UpsolveClient:
    return UpsolveClient.from_settings()


def test_registration_and_token_round_trip(
    client: UpsolveClient, upsolve_sandbox: SandboxHandle
) -> None:
    acme = OrganizationFields.build(name="Acme", external_id="acme", properties={"plan": "pro"})
    org = client.register_organization(fields=acme)
    again = client.register_organization(fields=acme)
    assert not org.already_registered
    assert again.already_registered
    assert again.organization_id == org.organization_id
    assert [str(o.pk) for o in upsolve_sandbox.organizations()] == [org.organization_id]

    user_id = str(uuid.uuid4())
    grace = UserFields.build(role_id=ROLE_ID, name="Grace")
    user = client.register_user(organization_id=org.organization_id, user_id=user_id, fields=grace)
    assert user.user_id == user_id

    issued = client.user_token(user_id=user_id, expiration=900)
    assert is_jwt_shaped(issued.token)
    assert issued.expires_at - issued.received_at == timedelta(seconds=900)
    assert issued.expires_at > timezone.now()
    claims = upsolve_sandbox.emulator.decode_token(issued.token)
    assert (claims["sub"], claims["externalId"]) == (user_id, "acme")
    assert upsolve_sandbox.count("user-token") == 1


def test_the_clients_error_types_match_the_sandboxs_answers(
    client: UpsolveClient, upsolve_sandbox: SandboxHandle, settings: Any
) -> None:
    policy = CallPolicy.within(5, max_retries=0)
    acme = OrganizationFields.build(name="Acme", external_id="acme")
    with pytest.raises(UpsolveNotFound):
        client.user_token(user_id=str(uuid.uuid4()), expiration=60, policy=policy)
    upsolve_sandbox.fail_next(
        422, {"status": "error", "errors": [{"field": "name", "message": ""}]}
    )
    with pytest.raises(UpsolveValidationError, match="fields: name"):
        client.register_organization(fields=acme, policy=policy)
    settings.UPSOLVE_SANDBOX = {"API_KEY": "up_admin_another_key"}
    with pytest.raises(UpsolveAuthError):
        client.register_organization(fields=acme, policy=policy)
    assert [call.status for call in upsolve_sandbox.calls] == [404, 422, 401]
