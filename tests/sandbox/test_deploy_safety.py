"""A sandbox left on in production: the deploy check, the production key, the storage bounds."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import set_script_prefix

from django_upsolve import breaker
from django_upsolve.budget import CallPolicy
from django_upsolve.client import UpsolveClient
from django_upsolve.exceptions import UpsolveRateLimited, UpsolveValidationError
from django_upsolve.payloads import OrganizationFields, UserFields
from django_upsolve.sandbox import views
from django_upsolve.sandbox.conf import LIMITS
from django_upsolve.sandbox.emulator import FULL_RETRY_AFTER
from django_upsolve.sandbox.keys import points_at_sandbox
from django_upsolve.sandbox.models import SandboxOrganization, SandboxUser
from django_upsolve.sandbox.testing import SandboxHandle
from tests.helpers import API_KEY

from .helpers import AUTH, PROJECT_ID, ROLE_ID, Call

SANDBOX_KEY = "up_admin_local_sandbox_only_0123"
#: UPSOLVE["API_URL"] when the project talks to the sandbox mounted in its own site.
OWN_SANDBOX = "http://testserver/sandbox/api"


def ids(*, deploy: bool = False) -> set[str]:
    return {m.id for m in checks.run_checks(include_deployment_checks=deploy) if m.id}


def sandbox_ids(*, deploy: bool = False) -> set[str]:
    return {i for i in ids(deploy=deploy) if i.startswith("upsolve_sandbox.")}


def post(client: Client, key: str, endpoint: str = "register-organization") -> Any:
    return client.post(
        f"/sandbox/api/{endpoint}",
        data=json.dumps({"projectId": PROJECT_ID, "name": "Acme"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


# check --deploy ----------------------------------------------------------------------


@pytest.mark.django_db
def test_check_deploy_fails_while_the_sandbox_is_installed_without_debug(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(SystemCheckError, match=r"upsolve_sandbox\.E003"):
        call_command("check", deploy=True)


@pytest.mark.django_db
def test_the_deploy_error_names_the_app_and_the_key_rule(settings: Any) -> None:
    settings.DEBUG = False
    [error] = [
        m
        for m in checks.run_checks(include_deployment_checks=True)
        if m.id == "upsolve_sandbox.E003"
    ]
    assert error.level == checks.ERROR
    assert "django_upsolve.sandbox" in error.msg
    assert "ALLOW_PRODUCTION_KEY" in error.hint


@pytest.mark.django_db
def test_no_deploy_error_in_debug_or_without_deploy(settings: Any) -> None:
    settings.DEBUG = True
    assert "upsolve_sandbox.E003" not in ids(deploy=True)
    settings.DEBUG = False
    assert "upsolve_sandbox.E003" not in ids(deploy=False)


# The production key ------------------------------------------------------------------


@pytest.mark.django_db
def test_over_http_the_production_key_is_refused_by_default(client: Client) -> None:
    # The test settings point UPSOLVE["API_URL"] at a real-looking Upsolve, not the sandbox.
    answer = post(client, API_KEY)
    assert answer.status_code == 401
    assert answer.json() == {"status": "error", "message": "Invalid API key"}
    assert not SandboxOrganization.objects.exists()


@pytest.mark.django_db
def test_the_sandboxs_own_key_is_accepted_and_the_production_key_still_refused(
    client: Client, settings: Any
) -> None:
    settings.UPSOLVE_SANDBOX = {"API_KEY": SANDBOX_KEY}
    assert post(client, SANDBOX_KEY).status_code == 200
    assert post(client, API_KEY).status_code == 401
    assert sandbox_ids() == set()


@pytest.mark.django_db
def test_the_production_key_repeated_as_the_sandbox_key_is_refused(
    client: Client, settings: Any
) -> None:
    settings.UPSOLVE_SANDBOX = {"API_KEY": API_KEY}
    assert post(client, API_KEY).status_code == 401
    assert "upsolve_sandbox.E004" in sandbox_ids()
    with pytest.raises(SystemCheckError, match=r"upsolve_sandbox\.E004"):
        call_command("check")


@pytest.mark.django_db
def test_allow_production_key_lifts_the_rule(client: Client, settings: Any) -> None:
    settings.UPSOLVE_SANDBOX = {"ALLOW_PRODUCTION_KEY": True}
    assert post(client, API_KEY).status_code == 200
    settings.UPSOLVE_SANDBOX = {"API_KEY": API_KEY, "ALLOW_PRODUCTION_KEY": True}
    assert post(client, API_KEY).status_code == 200
    assert sandbox_ids() == set()


@pytest.mark.django_db
def test_a_truthy_allow_production_key_that_is_not_true_does_not_count(
    client: Client, settings: Any
) -> None:
    settings.UPSOLVE_SANDBOX = {"ALLOW_PRODUCTION_KEY": "yes"}
    assert post(client, API_KEY).status_code == 401
    assert "upsolve_sandbox.E005" in sandbox_ids()


@pytest.mark.django_db
def test_the_project_key_is_accepted_when_the_project_talks_to_its_sandbox(
    client: Client, set_upsolve: Any, settings: Any
) -> None:
    set_upsolve(API_URL=OWN_SANDBOX)
    assert post(client, API_KEY).status_code == 200
    settings.UPSOLVE_SANDBOX = {"API_KEY": API_KEY}  # as the demo does
    assert post(client, API_KEY).status_code == 200
    assert sandbox_ids() == set()


def test_a_site_mounted_under_a_script_prefix_still_finds_its_sandbox() -> None:
    assert points_at_sandbox("http://testserver/sandbox/api/")
    set_script_prefix("/app/")
    try:
        assert points_at_sandbox("http://testserver/app/sandbox/api")
        assert not points_at_sandbox("http://testserver/other/sandbox/api")
    finally:
        set_script_prefix("/")


@pytest.mark.django_db
def test_another_site_path_is_not_the_sandbox(client: Client, set_upsolve: Any) -> None:
    set_upsolve(API_URL="http://testserver/admin")
    assert post(client, API_KEY).status_code == 401


def test_in_process_the_project_key_is_accepted(upsolve_sandbox: SandboxHandle) -> None:
    client = UpsolveClient.from_settings()
    org = client.register_organization(fields=OrganizationFields.build(name="A", external_id="a"))
    assert upsolve_sandbox.count("register-organization") == 1
    assert SandboxOrganization.objects.filter(pk=org.organization_id).exists()


def test_an_emulator_called_directly_is_over_http_unless_told(call: Call, emulator: Any) -> None:
    body = json.dumps({"projectId": PROJECT_ID, "name": "A"}).encode()
    assert emulator.handle("/register-organization", AUTH, body).status == 401
    assert emulator.handle("/register-organization", AUTH, body, in_process=True).status == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values",
    [
        {"API_KEY": 123},
        {"ALLOW_PRODUCTION_KEY": 1},
        {"MAX_USERS": 0},
        {"MAX_ORGANIZATIONS": -5},
        {"MAX_PROPERTIES_BYTES": 1.5},
        {"MAX_USERS": True},
    ],
)
def test_malformed_key_and_bound_settings_are_check_errors(
    settings: Any, values: dict[str, Any]
) -> None:
    settings.UPSOLVE_SANDBOX = values
    found = [m for m in checks.run_checks() if m.id == "upsolve_sandbox.E005"]
    assert len(found) == 1
    assert repr(next(iter(values))) in found[0].msg


# The bounds --------------------------------------------------------------------------


def org_body(n: int, **extra: Any) -> dict[str, Any]:
    return {"projectId": PROJECT_ID, "name": f"Org {n}", "externalId": f"org-{n}", **extra}


def user_body(org: str, user_id: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {
        "projectId": PROJECT_ID,
        "projectOrganizationId": org,
        "userRoleId": ROLE_ID,
        "name": "Grace",
        "properties": {},
        **extra,
    }
    if user_id:
        body["userId"] = user_id
    return body


def test_the_default_bounds() -> None:
    assert LIMITS == {
        "MAX_ORGANIZATIONS": 10_000,
        "MAX_USERS": 10_000,
        "MAX_PROPERTIES_BYTES": 16 * 1024,
    }


def test_one_organization_over_the_bound_is_a_429(call: Call, settings: Any) -> None:
    settings.UPSOLVE_SANDBOX = {"MAX_ORGANIZATIONS": 2}
    assert [call("/register-organization", org_body(n)).status for n in (1, 2)] == [200, 200]
    full = call("/register-organization", org_body(3))
    assert full.status == 429
    assert full.headers["Retry-After"] == str(FULL_RETRY_AFTER) == "60"
    assert full.json() == {
        "status": "error",
        "message": "The sandbox holds its maximum of 2 organizations.",
    }
    assert SandboxOrganization.objects.count() == 2
    # Registering an existing organization again still names it.
    again = call("/register-organization", org_body(1))
    assert again.status == 409
    assert again.json()["data"]["externalId"] == "org-1"


def test_one_user_over_the_bound_is_a_429_but_updates_go_on(call: Call, settings: Any) -> None:
    settings.UPSOLVE_SANDBOX = {"MAX_USERS": 1}
    call("/register-organization", org_body(1))
    grace = str(uuid.uuid4())
    assert call("/register-user", user_body("org-1", grace)).status == 200
    assert call("/register-user", user_body("org-1")).status == 429
    assert call("/register-user", user_body("org-1", str(uuid.uuid4()))).status == 429
    updated = call("/register-user", user_body("org-1", grace, name="Grace H."))
    assert updated.json()["data"] == {"message": "User updated", "userId": grace}
    assert SandboxUser.objects.count() == 1


@pytest.mark.parametrize("path", ["/register-organization", "/register-user"])
def test_properties_over_the_size_are_a_422(call: Call, settings: Any, path: str) -> None:
    settings.UPSOLVE_SANDBOX = {"MAX_PROPERTIES_BYTES": 30}
    call("/register-organization", org_body(0))
    at_limit = {"k": "é" * 11}  # {"k":"ééééééééééé"} is 30 bytes of UTF-8
    over = {"k": "é" * 11 + "x"}
    make = (
        org_body if path == "/register-organization" else (lambda n, **e: user_body("org-0", **e))
    )
    assert call(path, make(1, properties=at_limit)).status == 200
    answer = call(path, make(2, properties=over))
    assert answer.status == 422
    assert answer.json()["errors"] == [
        {"field": "properties", "message": "must be at most 30 bytes as JSON"}
    ]


def test_by_default_200_kb_of_properties_are_refused(call: Call) -> None:
    answer = call("/register-organization", org_body(1, properties={"blob": "x" * 200_000}))
    assert answer.status == 422
    assert not SandboxOrganization.objects.exists()


def test_the_client_names_big_properties_and_does_not_retry_a_full_sandbox(
    upsolve_sandbox: SandboxHandle, settings: Any
) -> None:
    settings.UPSOLVE_SANDBOX = {"MAX_ORGANIZATIONS": 1, "MAX_PROPERTIES_BYTES": 64}
    client = UpsolveClient.from_settings()
    policy = CallPolicy.within(5, max_retries=3)
    org = client.register_organization(fields=OrganizationFields.build(name="A", external_id="a"))
    fields = UserFields.build(role_id=ROLE_ID, name="G", properties={"blob": "x" * 100})
    with pytest.raises(UpsolveValidationError, match=r"fields: properties"):
        client.register_user(
            organization_id=org.organization_id,
            user_id=str(uuid.uuid4()),
            fields=fields,
            policy=policy,
        )
    assert upsolve_sandbox.count("register-user") == 1
    assert breaker.status().state == "closed"  # a validation answer says Upsolve is up

    with pytest.raises(UpsolveRateLimited) as full:
        client.register_organization(
            fields=OrganizationFields.build(name="B", external_id="b"), policy=policy
        )
    assert full.value.retry_after == FULL_RETRY_AFTER
    assert "maximum of 1 organizations" in str(full.value)
    assert upsolve_sandbox.count("register-organization") == 2  # not retried
    # Calls pause for the Retry-After: nothing hammers a full sandbox.
    assert breaker.status().state == "open"


@pytest.mark.django_db
def test_the_bounds_hold_over_http(client: Client, settings: Any, set_upsolve: Any) -> None:
    set_upsolve(API_URL=OWN_SANDBOX)
    settings.UPSOLVE_SANDBOX = {"MAX_ORGANIZATIONS": 1}
    assert post(client, API_KEY).status_code == 200
    full = post(client, API_KEY)
    assert (full.status_code, full["Retry-After"]) == (429, "60")
    views.emulator.clear_faults()
