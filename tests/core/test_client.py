"""The API client: request shape per the contract, typed results, typed errors."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from django_upsolve import exceptions as exc
from django_upsolve.budget import CallPolicy
from django_upsolve.client import (
    USER_AGENT,
    IssuedToken,
    RegisteredOrganization,
    RegisteredUser,
    UpsolveClient,
    client_options,
    get_client,
)
from django_upsolve.conf import upsolve_settings
from django_upsolve.payloads import OrganizationFields, UserFields
from tests.helpers import make_jwt, override_upsolve

API = "https://api.upsolve.test/v1/api/projects"
KEY = "up_admin_test_0123456789abcdef"
PROJECT = "1f0c6a34-54d4-4b57-9d0a-7c1c8a3a9e10"
ROLE = "5b1ad0a2-7d8e-4a43-9f39-3b7fd1f4f6c2"
ORG = "0d4b9b52-1d3c-4c8e-9a51-2f7f3b2d9c11"
USER = "8a2f6c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

pytestmark = pytest.mark.django_db  # the breaker and locks use the cache only, but be explicit


def ok(data: dict[str, object]) -> dict[str, object]:
    return {"status": "success", "data": data}


def fast() -> CallPolicy:
    """One retry, a short deadline, so retry tests stay quick."""
    return CallPolicy.within(5, max_retries=1)


def acme() -> OrganizationFields:
    return OrganizationFields.build(name="Acme", external_id="acme")


def user_fields() -> UserFields:
    return UserFields.build(role_id=ROLE, name="A")


@pytest.fixture
def client() -> UpsolveClient:
    return UpsolveClient.from_settings()


def assert_contract_request(request: requests.PreparedRequest, call: str) -> dict[str, object]:
    assert request.method == "POST"
    assert request.url == f"{API}/{call}"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == USER_AGENT
    assert KEY not in (request.url or "")
    body = json.loads(request.body or b"")
    assert "apiKey" not in body
    return body


def test_register_organization_sends_contract_body(client, http):
    http.post(
        f"{API}/register-organization",
        json=ok({"projectOrganizationId": ORG.upper(), "externalId": "acme"}),
    )
    fields = OrganizationFields.build(
        name="  Acme\nCorp ", external_id="acme", properties={"tier": "gold", "seats": 3}
    )
    result = client.register_organization(fields=fields)
    assert result == RegisteredOrganization(organization_id=ORG, external_id="acme")
    body = assert_contract_request(http.calls[0].request, "register-organization")
    assert body == {
        "projectId": PROJECT,
        "name": "Acme Corp",
        "externalId": "acme",
        "properties": {"tier": "gold", "seats": 3},
    }


def test_register_user_sends_contract_body(client, http):
    http.post(f"{API}/register-user", json=ok({"message": "User registered", "userId": USER}))
    result = client.register_user(
        organization_id=ORG.upper(),
        user_id=uuid.UUID(USER),
        fields=UserFields.build(
            role_id=ROLE, name="Ada Lovelace", properties={"organization_id": "acme"}
        ),
    )
    assert result == RegisteredUser(user_id=USER)
    body = assert_contract_request(http.calls[0].request, "register-user")
    assert body == {
        "projectId": PROJECT,
        "projectOrganizationId": ORG,
        "userId": USER,
        "userRoleId": ROLE,
        "name": "Ada Lovelace",
        "properties": {"organization_id": "acme"},
    }
    for field in ("projectId", "projectOrganizationId", "userId", "userRoleId"):
        assert uuid.UUID(body[field]).hex == body[field].replace("-", "")


def test_user_token_returns_token_and_expiry_from_exp(client, http):
    token = make_jwt(1800)
    http.post(f"{API}/user-token", json=ok({"token": token}))
    before = timezone.now()
    result = client.user_token(user_id=USER, expiration=3600)
    assert isinstance(result, IssuedToken)
    assert result.token == token
    # The JWT's own lifetime (30 min) wins over the 1 h we asked for.
    assert before + timedelta(seconds=1799) <= result.expires_at
    assert result.expires_at <= timezone.now() + timedelta(seconds=1800)
    body = assert_contract_request(http.calls[0].request, "user-token")
    assert body == {"userId": USER, "expiration": 3600}
    assert token not in repr(result)


def test_token_without_exp_falls_back_to_requested_lifetime(client, http, caplog):
    import jwt

    token = jwt.encode({"sub": USER}, "x" * 32, algorithm="HS256")
    http.post(f"{API}/user-token", json=ok({"token": token}))
    result = client.user_token(user_id=USER, expiration=600)
    assert abs((result.expires_at - timezone.now()).total_seconds() - 600) < 5
    assert "no readable 'exp'" in caplog.text


def test_token_living_longer_than_requested_is_capped(client, http):
    http.post(f"{API}/user-token", json=ok({"token": make_jwt(86400)}))
    result = client.user_token(user_id=USER, expiration=600)
    assert (result.expires_at - timezone.now()).total_seconds() <= 600


def test_expired_token_is_asked_for_once_more(client, http):
    http.post(f"{API}/user-token", json=ok({"token": make_jwt(60, iat=0)}))
    http.post(f"{API}/user-token", json=ok({"token": make_jwt(3600)}))
    result = client.user_token(user_id=USER, expiration=3600)
    assert result.expires_at > timezone.now() + timedelta(minutes=59)
    assert len(http.calls) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, exc.UpsolveAuthError),
        (403, exc.UpsolvePermissionError),
        (404, exc.UpsolveNotFound),
        (400, exc.UpsolveValidationError),
        (422, exc.UpsolveValidationError),
    ],
)
def test_client_errors_are_typed_and_not_retried(client, http, status, error):
    http.post(f"{API}/user-token", status=status, json={"status": "error", "message": "no"})
    with pytest.raises(error) as caught:
        client.user_token(user_id=USER, expiration=3600, policy=fast())
    assert caught.value.status_code == status
    assert caught.value.call == "user-token"
    assert f"HTTP {status}" in str(caught.value)
    assert len(http.calls) == 1


def test_validation_error_names_fields_only(client, http):
    http.post(
        f"{API}/register-user",
        status=422,
        json={"errors": [{"field": "userRoleId", "message": "bad value 'secret-ish'"}]},
    )
    with pytest.raises(exc.UpsolveValidationError) as caught:
        client.register_user(organization_id=ORG, user_id=USER, fields=user_fields())
    assert "userRoleId" in str(caught.value)
    assert "secret-ish" not in str(caught.value)


def test_html_502_is_unavailable_with_short_excerpt_and_one_retry(client, http):
    page = "<html><body><h1>502 Bad Gateway</h1>" + "x" * 5000 + "</body></html>"
    http.post(f"{API}/user-token", status=502, body=page, content_type="text/html")
    with pytest.raises(exc.UpsolveUnavailable) as caught:
        client.user_token(user_id=USER, expiration=3600, policy=fast())
    assert caught.value.status_code == 502
    assert "502 Bad Gateway" in caught.value.body_excerpt
    assert len(caught.value.body_excerpt) <= 200
    assert len(http.calls) == 2


def test_retry_succeeds_after_a_5xx(client, http):
    http.post(f"{API}/user-token", status=503, body="busy")
    http.post(f"{API}/user-token", json=ok({"token": make_jwt()}))
    assert client.user_token(user_id=USER, expiration=3600, policy=fast()).token
    assert len(http.calls) == 2


def test_html_200_is_bad_response_without_retry(client, http):
    http.post(f"{API}/user-token", body="<html>login</html>", content_type="text/html")
    with pytest.raises(exc.UpsolveBadResponse):
        client.user_token(user_id=USER, expiration=3600, policy=fast())
    assert len(http.calls) == 1


@pytest.mark.parametrize("status", [200, 409])
def test_an_organization_id_that_is_no_uuid_is_a_bad_response(client, http, status):
    answer = {"projectOrganizationId": "org_123", "externalId": "acme"}
    http.post(f"{API}/register-organization", status=status, json=ok(answer))
    fields = OrganizationFields.build(name="Acme", external_id="acme")
    with pytest.raises(exc.UpsolveBadResponse, match="projectOrganizationId is not a UUID"):
        client.register_organization(fields=fields, policy=fast())


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"token": None},
        {"token": ""},
        {"token": 42},
        {"token": "not a jwt"},
        {"token": 'eyJ"<>&.x.y'},
    ],
)
def test_missing_or_malformed_token_is_bad_response(client, http, data):
    http.post(f"{API}/user-token", json=ok(data))
    with pytest.raises(exc.UpsolveBadResponse):
        client.user_token(user_id=USER, expiration=3600, policy=fast())


def test_connection_refused_is_typed_and_still_a_requests_error(client, http):
    http.post(f"{API}/user-token", body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(exc.UpsolveConnectionError) as caught:
        client.user_token(user_id=USER, expiration=3600, policy=fast())
    assert isinstance(caught.value, requests.exceptions.ConnectionError)
    assert isinstance(caught.value.__cause__, requests.exceptions.ConnectionError)
    assert len(http.calls) == 2  # one retry


def test_timeout_is_typed_and_still_a_requests_timeout(client, http):
    http.post(f"{API}/user-token", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(exc.UpsolveTimeout) as caught:
        client.user_token(user_id=USER, expiration=3600, policy=fast())
    assert isinstance(caught.value, requests.exceptions.Timeout)


def test_tls_failure_is_not_retried(client, http):
    http.post(f"{API}/user-token", body=requests.exceptions.SSLError("bad certificate"))
    with pytest.raises(exc.UpsolveTLSError):
        client.user_token(user_id=USER, expiration=3600, policy=fast())
    assert len(http.calls) == 1


def test_redirect_is_not_followed(client, http):
    http.post(f"{API}/user-token", status=302, headers={"Location": "https://evil.test/"})
    with pytest.raises(exc.UpsolveBadResponse) as caught:
        client.user_token(user_id=USER, expiration=3600, policy=fast())
    assert caught.value.status_code == 302
    assert len(http.calls) == 1


def test_conflict_naming_the_organization_counts_as_registered(client, http):
    http.post(
        f"{API}/register-organization",
        status=409,
        json={"status": "error", "data": {"projectOrganizationId": ORG, "externalId": "acme"}},
    )
    result = client.register_organization(fields=acme())
    assert result.already_registered
    assert result.organization_id == ORG


def test_conflict_without_the_object_is_an_error(client, http):
    http.post(f"{API}/register-organization", status=409, json={"message": "conflict"})
    with pytest.raises(exc.UpsolveConflict):
        client.register_organization(fields=acme())


def test_error_text_never_contains_the_key_even_if_echoed(client, http):
    http.post(f"{API}/user-token", status=500, body=f"upstream said Bearer {KEY} was used")
    with pytest.raises(exc.UpsolveUnavailable) as caught:
        client.user_token(user_id=USER, expiration=3600, policy=fast())
    for text in (str(caught.value), repr(caught.value), caught.value.body_excerpt):
        assert KEY not in text
    assert KEY not in repr(client)


def test_invalid_input_is_refused_before_any_request(client, http):
    with pytest.raises(exc.UpsolveInvalidRequest):
        client.register_user(organization_id=ORG, user_id="42", fields=user_fields())
    with pytest.raises(exc.UpsolveInvalidRequest):
        client.register_user(organization_id="acme", user_id=USER, fields=user_fields())
    assert len(http.calls) == 0


def test_get_client_reuses_one_session_per_thread_and_follows_settings():
    first = get_client()
    assert get_client() is first
    with override_upsolve(API_URL="https://other.test/v1"):
        other = get_client()
        assert other is not first
        assert other.api_url == "https://other.test/v1"


def test_client_options_come_from_settings_and_hide_the_key():
    options = client_options()
    assert (options.api_key, options.project_id, options.api_url) == (KEY, PROJECT, API)
    assert options.timeout == upsolve_settings.TIMEOUT
    assert options.max_response_bytes == upsolve_settings.MAX_RESPONSE_BYTES
    assert KEY not in repr(options)
    client = UpsolveClient.from_settings()
    assert (client.project_id, client.api_url, client.timeout) == (PROJECT, API, options.timeout)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("API_KEY", "up_admin_rotated_key"),
        ("PROJECT_ID", "2f0c6a34-54d4-4b57-9d0a-7c1c8a3a9e10"),
        ("TIMEOUT", (1.0, 2.0)),
        ("MAX_RESPONSE_BYTES", 1024),
    ],
)
def test_get_client_builds_a_new_client_when_any_option_changes(http, name, value):
    first = get_client()
    with override_upsolve(**{name: value}):
        other = get_client()
        assert other is not first
        assert get_client() is other
        assert getattr(client_options(), name.lower()) == value
        http.post(f"{API}/user-token", json=ok({"token": make_jwt()}))
        other.user_token(user_id=USER, expiration=3600, policy=fast())
        assert (
            http.calls[-1].request.headers["Authorization"] == f"Bearer {client_options().api_key}"
        )
    assert get_client() is not other  # back to the first settings: a client for them


def test_each_request_has_connect_and_read_timeouts(client, http):
    seen: list[object] = []

    def record(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        seen.append(request.req_kwargs["timeout"])  # type: ignore[attr-defined]
        return 200, {}, json.dumps(ok({"token": make_jwt()}))

    http.add_callback(responses.POST, f"{API}/user-token", callback=record)
    client.user_token(user_id=USER, expiration=3600, policy=CallPolicy.login())
    (timeout,) = seen
    connect, read = timeout  # type: ignore[misc]
    assert 0 < connect <= upsolve_settings.TIMEOUT[0]
    assert 0 < read <= upsolve_settings.LOGIN_DEADLINE


def test_a_deadline_spent_before_the_call_sends_nothing_and_spares_the_breaker(client, http):
    from django_upsolve import breaker

    spent = CallPolicy.within(0, max_retries=1)
    for _ in range(upsolve_settings.BREAKER_THRESHOLD + 1):
        with pytest.raises(exc.UpsolveTimeout):
            client.user_token(user_id=USER, expiration=3600, policy=spent)
    assert len(http.calls) == 0
    assert breaker.status().state == "closed"
    assert breaker.status().failures == 0


def test_breaker_opening_between_attempts_keeps_the_real_error(client, http, set_upsolve):
    set_upsolve(BREAKER_THRESHOLD=1)
    http.post(f"{API}/user-token", status=503, body="<html>down</html>")
    with pytest.raises(exc.UpsolveUnavailable) as caught:
        client.user_token(user_id=USER, expiration=3600, policy=fast())
    assert type(caught.value) is exc.UpsolveUnavailable
    assert caught.value.status_code == 503
    assert len(http.calls) == 1  # the retry was skipped: the breaker opened
