"""The responses fixture and context manager that route requests calls to the sandbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from django_upsolve.sandbox.emulator import Emulator
from django_upsolve.sandbox.testing import SandboxCall, SandboxHandle, sandbox_responses
from tests.concurrency import in_threads
from tests.helpers import API_KEY

from .helpers import AUTH, PROJECT_ID, ROLE_ID

API_URL = "https://api.upsolve.test/v1/api/projects"


def post(path: str, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(f"{API_URL}/{path}", json=body, headers=headers or AUTH, timeout=5)


def test_requests_reach_the_emulator_and_are_recorded(upsolve_sandbox: SandboxHandle) -> None:
    answer = post("register-organization", {"projectId": PROJECT_ID, "name": "Acme"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    org_id = answer.json()["data"]["projectOrganizationId"]
    assert [str(org.pk) for org in upsolve_sandbox.organizations()] == [org_id]
    [recorded] = upsolve_sandbox.calls
    assert recorded.path == "register-organization"
    assert recorded.json_body == {"projectId": PROJECT_ID, "name": "Acme"}
    assert recorded.status == 200
    assert recorded.headers["authorization"] == "Bearer [redacted]"
    assert recorded.headers["Content-Type"] == "application/json"
    assert API_KEY not in repr(upsolve_sandbox.calls)


def test_calls_to_and_count_filter_by_endpoint(upsolve_sandbox: SandboxHandle) -> None:
    post("register-organization", {"projectId": PROJECT_ID, "name": "Acme", "externalId": "a"})
    user_body = {
        "projectId": PROJECT_ID,
        "projectOrganizationId": "a",
        "userRoleId": ROLE_ID,
        "name": "Grace",
        "properties": {},
    }
    user_id = post("register-user", user_body).json()["data"]["userId"]
    post("user-token", {"userId": user_id})
    post("user-token", {"userId": str(uuid.uuid4())})
    assert upsolve_sandbox.count("user-token") == 2
    assert [call.status for call in upsolve_sandbox.calls_to("user-token")] == [200, 404]
    assert upsolve_sandbox.count("register-user") == 1
    assert upsolve_sandbox.count("register-organization") == 1
    assert [str(user.pk) for user in upsolve_sandbox.users()] == [user_id]
    assert [call.path for call in upsolve_sandbox.calls] == [
        "register-organization",
        "register-user",
        "user-token",
        "user-token",
    ]


def test_fail_next_reaches_requests(upsolve_sandbox: SandboxHandle) -> None:
    upsolve_sandbox.fail_next(502, "<html>Bad gateway</html>", {"Content-Type": "text/html"})
    answer = post("user-token", {"userId": str(uuid.uuid4())})
    assert (answer.status_code, answer.text) == (502, "<html>Bad gateway</html>")
    assert answer.headers["Content-Type"] == "text/html"
    assert upsolve_sandbox.calls[0].status == 502


def test_the_answers_match_the_emulator_for_errors(upsolve_sandbox: SandboxHandle) -> None:
    wrong = post("user-token", {"userId": "x"}, {"Authorization": "Bearer nope"})
    assert (wrong.status_code, wrong.json()["message"]) == (401, "Invalid API key")
    unknown = post("register-tenant", {})
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"status": "error", "message": "Not found"},
    )
    text = requests.post(f"{API_URL}/user-token", data="not json", headers=AUTH, timeout=5)
    assert text.status_code == 400
    assert upsolve_sandbox.calls[-1].json_body is None


def test_the_query_string_is_not_part_of_the_path(upsolve_sandbox: SandboxHandle) -> None:
    answer = requests.post(
        f"{API_URL}/register-organization?trace=1",
        json={"projectId": PROJECT_ID, "name": "Acme"},
        headers=AUTH,
        timeout=5,
    )
    assert answer.status_code == 200
    assert upsolve_sandbox.calls[0].path == "register-organization"


@pytest.mark.parametrize(
    "send",
    [
        lambda: requests.get(f"{API_URL}/user-token", timeout=5),
        lambda: requests.post("https://api.upsolve.ai/v1/api/projects/user-token", timeout=5),
        lambda: requests.post("https://api.upsolve.test/v1/api/projectsX/user-token", timeout=5),
    ],
)
def test_other_requests_are_refused(
    upsolve_sandbox: SandboxHandle, send: Callable[[], requests.Response]
) -> None:
    with pytest.raises(requests.ConnectionError):
        send()
    assert upsolve_sandbox.calls == []


def test_the_context_manager_reads_api_url_from_settings(db: None, set_upsolve: Any) -> None:
    set_upsolve(API_URL="http://127.0.0.1:8000/sandbox/api/")
    with sandbox_responses() as sandbox:
        assert sandbox.api_url == "http://127.0.0.1:8000/sandbox/api"
        answer = requests.post(
            "http://127.0.0.1:8000/sandbox/api/register-organization",
            json={"projectId": PROJECT_ID, "name": "Acme"},
            headers=AUTH,
            timeout=5,
        )
    assert answer.status_code == 200
    assert sandbox.count("register-organization") == 1


def test_the_context_manager_takes_an_emulator_and_a_url(db: None) -> None:
    emulator = Emulator()
    emulator.fail_next(503)
    with sandbox_responses(emulator, api_url="https://elsewhere.test/api") as sandbox:
        answer = requests.post("https://elsewhere.test/api/user-token", json={}, timeout=5)
    assert sandbox.emulator is emulator
    assert answer.status_code == 503
    assert sandbox.calls == [SandboxCall("user-token", sandbox.calls[0].headers, {}, 503)]


def test_the_mock_is_removed_afterwards(db: None) -> None:
    with sandbox_responses():
        pass
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{API_URL}/user-token", json={}, timeout=0.5)


@pytest.mark.usefixtures("transactional_db")
def test_threads_share_the_sandbox_under_transactional_db(
    upsolve_sandbox: SandboxHandle,
) -> None:
    post("register-organization", {"projectId": PROJECT_ID, "name": "Acme", "externalId": "a"})
    body = {
        "projectId": PROJECT_ID,
        "projectOrganizationId": "a",
        "userRoleId": ROLE_ID,
        "name": "Thread",
        "properties": {},
    }
    statuses = in_threads(6, lambda _: post("register-user", body).status_code)
    assert statuses == [200] * 6
    assert upsolve_sandbox.users().count() == 6
    assert upsolve_sandbox.count("register-user") == 6


@pytest.mark.usefixtures("transactional_db")
def test_racing_registrations_of_one_organization_create_it_once(
    upsolve_sandbox: SandboxHandle,
) -> None:
    body = {"projectId": PROJECT_ID, "name": "Acme", "externalId": "acme"}
    answers = in_threads(8, lambda _: post("register-organization", body))
    assert sorted(answer.status_code for answer in answers) == [200] + [409] * 7
    [org] = upsolve_sandbox.organizations()
    assert {answer.json()["data"]["projectOrganizationId"] for answer in answers} == {str(org.pk)}


@pytest.mark.usefixtures("transactional_db")
def test_racing_registrations_of_one_user_create_it_once(upsolve_sandbox: SandboxHandle) -> None:
    post("register-organization", {"projectId": PROJECT_ID, "name": "Acme", "externalId": "a"})
    user_id = str(uuid.uuid4())
    body = {
        "projectId": PROJECT_ID,
        "projectOrganizationId": "a",
        "userRoleId": ROLE_ID,
        "name": "Grace",
        "properties": {},
        "userId": user_id,
    }
    answers = in_threads(8, lambda _: post("register-user", body))
    assert all(answer.status_code == 200 for answer in answers)
    messages = sorted(answer.json()["data"]["message"] for answer in answers)
    assert messages == ["User registered"] + ["User updated"] * 7
    assert [str(user.pk) for user in upsolve_sandbox.users()] == [user_id]
