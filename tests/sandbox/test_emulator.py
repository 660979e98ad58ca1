"""The emulator against the API contract (docs/contract.rst), transport aside."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from django_upsolve.sandbox.emulator import (
    DEFAULT_EXPIRATION,
    MAX_EXPIRATION,
    Emulator,
    signing_key,
)
from django_upsolve.sandbox.models import SandboxOrganization, SandboxUser
from tests.helpers import API_KEY

from .helpers import AUTH, PROJECT_ID, ROLE_ID, Call, Clock

OTHER_PROJECT = "0e5a3d8c-2b7f-4c1e-9a6d-5f4e3c2b1a00"
SECRET_VALUE = "s3cr3t-v4lue"
#: Any text the contract allows: no NUL, no lone surrogates (not valid UTF-8).
TEXT = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])


def _errors(answer: Any) -> list[dict[str, str]]:
    assert answer.status == 422, answer.body
    body = answer.json()
    assert body["status"] == "error"
    assert body["message"] == "Validation failed"
    return list(body["errors"])


def _user_body(organization: str, **extra: Any) -> dict[str, Any]:
    return {
        "projectId": PROJECT_ID,
        "projectOrganizationId": organization,
        "userRoleId": ROLE_ID,
        "name": "Ada Lovelace",
        "properties": {},
        **extra,
    }


# Authentication and transport ---------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Authorization": "Bearer up_admin_wrong", "Content-Type": "application/json"},
        {"Authorization": f"Basic {API_KEY}", "Content-Type": "application/json"},
        {"Authorization": API_KEY, "Content-Type": "application/json"},
        {"Authorization": "Bearer", "Content-Type": "application/json"},
        {"Authorization": "Bearer up_admin_tëst", "Content-Type": "application/json"},
    ],
)
def test_a_missing_or_wrong_key_is_401(call: Call, headers: dict[str, str]) -> None:
    answer = call("/register-organization", {"projectId": PROJECT_ID, "name": "A"}, headers)
    assert answer.status == 401
    assert answer.json() == {"status": "error", "message": "Invalid API key"}
    assert answer.headers["Content-Type"] == "application/json"
    assert not SandboxOrganization.objects.exists()


def test_a_key_in_the_body_is_not_accepted(call: Call) -> None:
    body = {"apiKey": API_KEY, "projectId": PROJECT_ID, "name": "A"}
    answer = call("/register-organization", body, {"Content-Type": "application/json"})
    assert answer.status == 401
    assert API_KEY.encode() not in answer.body


def test_the_scheme_and_header_names_are_case_insensitive(call: Call) -> None:
    headers = {"authorization": f"bearer {API_KEY}", "content-type": "Application/JSON"}
    answer = call("/register-organization", {"projectId": PROJECT_ID, "name": "A"}, headers)
    assert answer.status == 200


def test_the_sandbox_key_setting_wins_over_upsolve_api_key(call: Call, settings: Any) -> None:
    settings.UPSOLVE_SANDBOX = {"API_KEY": "up_admin_sandbox_only"}
    body = {"projectId": PROJECT_ID, "name": "A"}
    assert call("/register-organization", body).status == 401
    headers = {"Authorization": "Bearer up_admin_sandbox_only", "Content-Type": "application/json"}
    assert call("/register-organization", body, headers).status == 200


def test_without_a_configured_key_nothing_is_accepted(call: Call, set_upsolve: Any) -> None:
    set_upsolve(API_KEY="")
    headers = {"Authorization": "Bearer ", "Content-Type": "application/json"}
    answer = call("/register-organization", {"projectId": PROJECT_ID, "name": "A"}, headers)
    assert answer.status == 401


@pytest.mark.parametrize("path", ["/register-users", "/", "", "/v1/register-user", "/USER-TOKEN"])
def test_an_unknown_path_is_404_even_without_a_key(emulator: Emulator, path: str) -> None:
    answer = emulator.handle(path, {}, b"{}")
    assert answer.status == 404
    assert answer.json() == {"status": "error", "message": "Not found"}


@pytest.mark.parametrize("path", ["register-organization", "/register-organization/"])
def test_leading_and_trailing_slashes_do_not_matter(call: Call, path: str) -> None:
    assert call(path, {"projectId": PROJECT_ID, "name": "A"}).status == 200


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_declared_json_is_400(
    emulator: Emulator, content_type: str | None
) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    if content_type:
        headers["Content-Type"] = content_type
    answer = emulator.handle("/register-organization", headers, b'{"name": "A"}', in_process=True)
    assert answer.status == 400
    assert answer.json() == {"status": "error", "message": "Content-Type must be application/json"}


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"[]", b'"text"', b"null", b"\xff\xfe", b'{"a": NaN}', b"[" * 100_000]
)
def test_a_body_that_is_not_a_json_object_is_400(call: Call, raw: bytes) -> None:
    answer = call("/register-organization", raw)
    assert answer.status == 400
    assert answer.json() == {"status": "error", "message": "Request body must be a JSON object"}


def test_a_charset_parameter_is_accepted(call: Call) -> None:
    headers = {**AUTH, "Content-Type": "application/json; charset=utf-8"}
    assert (
        call("/register-organization", {"projectId": PROJECT_ID, "name": "A"}, headers).status
        == 200
    )


def test_an_unexpected_failure_is_a_json_500(
    call: Call, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(**kwargs: Any) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(SandboxOrganization.objects, "create", boom)
    answer = call("/register-organization", {"projectId": PROJECT_ID, "name": "A"})
    assert answer.status == 500
    assert answer.json() == {"status": "error", "message": "Internal server error"}
    assert b"database on fire" not in answer.body
    assert "The Upsolve sandbox failed to answer /register-organization." in caplog.text


# Validation -------------------------------------------------------------------


def test_missing_required_fields_are_all_named(call: Call) -> None:
    assert _errors(call("/register-organization", {})) == [
        {"field": "projectId", "message": "is required"},
        {"field": "name", "message": "is required"},
    ]
    assert _errors(call("/register-user", {})) == [
        {"field": "projectId", "message": "is required"},
        {"field": "projectOrganizationId", "message": "is required"},
        {"field": "userRoleId", "message": "is required"},
        {"field": "name", "message": "is required"},
        {"field": "properties", "message": "is required"},
    ]
    assert _errors(call("/user-token", {})) == [{"field": "userId", "message": "is required"}]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("projectId", SECRET_VALUE, "must be a UUID"),
        ("projectId", 12345, "must be a UUID"),
        ("projectId", PROJECT_ID.replace("-", ""), "must be a UUID"),
        ("projectId", "{" + PROJECT_ID + "}", "must be a UUID"),
        ("projectId", PROJECT_ID + "\n", "must be a UUID"),
        ("name", "", "must be a non-empty string"),
        ("name", ["A"], "must be a non-empty string"),
        ("name", SECRET_VALUE * 100, "must be at most 255 characters"),
        ("name", SECRET_VALUE + "\x00", "must not contain NUL characters"),
        ("externalId", "", "must be a non-empty string"),
        ("externalId", 42, "must be a non-empty string"),
        ("properties", [SECRET_VALUE], "must be an object"),
        ("properties", {"plan": {"nested": SECRET_VALUE}}, "values must be strings or numbers"),
        ("properties", {"plan": [SECRET_VALUE]}, "values must be strings or numbers"),
        ("properties", {"plan": True}, "values must be strings or numbers"),
        ("properties", {"plan": SECRET_VALUE + "\x00"}, "must not contain NUL characters"),
        ("properties", {"pl\x00an": SECRET_VALUE}, "must not contain NUL characters"),
    ],
)
def test_register_organization_errors_name_the_field_not_the_value(
    call: Call, field: str, value: Any, message: str
) -> None:
    body = {"projectId": PROJECT_ID, "name": "Acme", field: value}
    answer = call("/register-organization", body)
    assert _errors(answer) == [{"field": field, "message": message}]
    assert SECRET_VALUE.encode() not in answer.body
    assert not SandboxOrganization.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("projectOrganizationId", "", "must be a non-empty string"),
        ("projectOrganizationId", 7, "must be a non-empty string"),
        ("userRoleId", SECRET_VALUE, "must be a UUID"),
        ("userId", SECRET_VALUE, "must be a UUID"),
        ("userId", 17, "must be a UUID"),
        ("properties", SECRET_VALUE, "must be an object"),
        ("properties", {"seats": None}, "values must be strings or numbers"),
    ],
)
def test_register_user_errors_name_the_field_not_the_value(
    call: Call, register_org: Callable[..., str], field: str, value: Any, message: str
) -> None:
    answer = call("/register-user", _user_body(register_org(), **{field: value}))
    assert _errors(answer) == [{"field": field, "message": message}]
    assert SECRET_VALUE.encode() not in answer.body
    assert not SandboxUser.objects.exists()


def test_a_null_optional_field_counts_as_absent(call: Call) -> None:
    body = {"projectId": PROJECT_ID, "name": "Acme", "externalId": None, "properties": None}
    answer = call("/register-organization", body)
    assert answer.status == 200
    assert answer.json()["data"]["externalId"] is None


def test_a_name_of_255_characters_is_accepted(call: Call) -> None:
    answer = call("/register-organization", {"projectId": PROJECT_ID, "name": "n" * 255})
    assert answer.status == 200
    assert SandboxOrganization.objects.get().name == "n" * 255


@pytest.mark.parametrize("project", [OTHER_PROJECT, PROJECT_ID.upper()])
def test_project_id_must_be_the_configured_project(call: Call, project: str) -> None:
    answer = call("/register-organization", {"projectId": project, "name": "A"})
    if project == OTHER_PROJECT:
        assert answer.status == 404
        assert answer.json() == {"status": "error", "message": "Project not found"}
    else:  # the same UUID in upper case is the same project
        assert answer.status == 200


@pytest.mark.parametrize("configured", ["", "not-a-uuid"])
def test_no_project_is_found_when_none_is_configured(
    call: Call, set_upsolve: Any, configured: str
) -> None:
    set_upsolve(PROJECT_ID=configured)
    answer = call("/register-organization", {"projectId": PROJECT_ID, "name": "A"})
    assert answer.status == 404
    assert answer.json()["message"] == "Project not found"


# /register-organization ----------------------------------------------------------


def test_register_organization_creates_it(call: Call) -> None:
    body = {
        "projectId": PROJECT_ID,
        "name": "Acme Ltd",
        "externalId": "acme",
        "properties": {"plan": "pro", "seats": 12, "ratio": 0.5},
    }
    answer = call("/register-organization", body)
    assert answer.status == 200
    org = SandboxOrganization.objects.get()
    assert answer.json() == {
        "status": "success",
        "data": {"projectOrganizationId": str(org.pk), "externalId": "acme"},
    }
    assert org.pk.version == 4
    assert (str(org.project_id), org.name, org.external_id) == (PROJECT_ID, "Acme Ltd", "acme")
    assert org.properties == {"plan": "pro", "seats": 12, "ratio": 0.5}


def test_organizations_without_external_id_never_conflict(call: Call) -> None:
    first = call("/register-organization", {"projectId": PROJECT_ID, "name": "A"})
    second = call("/register-organization", {"projectId": PROJECT_ID, "name": "A"})
    assert first.status == second.status == 200
    assert first.json()["data"]["externalId"] is None
    assert SandboxOrganization.objects.count() == 2


def test_a_duplicate_external_id_is_a_409_naming_the_existing_organization(
    call: Call, register_org: Callable[..., str]
) -> None:
    existing = register_org(name="Acme", external_id="acme")
    answer = call(
        "/register-organization", {"projectId": PROJECT_ID, "name": "Other", "externalId": "acme"}
    )
    assert answer.status == 409
    assert answer.json() == {
        "status": "error",
        "message": "Organization already registered",
        "data": {"projectOrganizationId": existing, "externalId": "acme"},
    }
    assert SandboxOrganization.objects.get().name == "Acme"


def test_the_same_external_id_may_exist_in_two_projects(
    call: Call, register_org: Callable[..., str], set_upsolve: Any
) -> None:
    register_org(external_id="acme")
    set_upsolve(PROJECT_ID=OTHER_PROJECT)
    body = {"projectId": OTHER_PROJECT, "name": "Acme", "externalId": "acme"}
    assert call("/register-organization", body).status == 200
    assert SandboxOrganization.objects.filter(external_id="acme").count() == 2


# /register-user ----------------------------------------------------------------


def test_register_user_uses_the_given_user_id(call: Call, register_org: Callable[..., str]) -> None:
    org = register_org()
    user_id = str(uuid.uuid4())
    props = {"organization_id": "acme", "seats": 3}
    answer = call("/register-user", _user_body(org, userId=user_id, properties=props))
    assert answer.status == 200
    assert answer.json() == {
        "status": "success",
        "data": {"message": "User registered", "userId": user_id},
    }
    user = SandboxUser.objects.get()
    assert (str(user.pk), str(user.organization_id), str(user.role_id)) == (user_id, org, ROLE_ID)
    assert (user.name, user.properties, str(user.project_id)) == ("Ada Lovelace", props, PROJECT_ID)


def test_register_user_without_user_id_makes_one(
    call: Call, register_org: Callable[..., str]
) -> None:
    answer = call("/register-user", _user_body(register_org()))
    assert answer.status == 200
    user_id = uuid.UUID(answer.json()["data"]["userId"])
    assert user_id.version == 4
    assert SandboxUser.objects.get().pk == user_id


def test_register_user_accepts_the_external_id_as_organization(
    call: Call, register_org: Callable[..., str]
) -> None:
    org = register_org(external_id="tenant-42")
    assert call("/register-user", _user_body("tenant-42")).status == 200
    assert str(SandboxUser.objects.get().organization_id) == org


def test_an_external_id_shaped_like_a_uuid_is_resolved_too(
    call: Call, register_org: Callable[..., str]
) -> None:
    external_id = str(uuid.uuid4())
    org = register_org(external_id=external_id)
    assert call("/register-user", _user_body(external_id)).status == 200
    assert str(SandboxUser.objects.get().organization_id) == org


def test_an_organization_id_wins_over_an_equal_external_id(
    call: Call, register_org: Callable[..., str]
) -> None:
    first = register_org(external_id="first")
    register_org(external_id=first)  # a second organization whose externalId is first's id
    assert call("/register-user", _user_body(first)).status == 200
    assert str(SandboxUser.objects.get().organization_id) == first


@pytest.mark.parametrize("reference", [str(uuid.uuid4()), "no-such-tenant"])
def test_an_unknown_organization_is_404(
    call: Call, register_org: Callable[..., str], reference: str
) -> None:
    register_org()
    answer = call("/register-user", _user_body(reference))
    assert answer.status == 404
    assert answer.json() == {"status": "error", "message": "Organization not found"}


def test_an_organization_of_another_project_is_not_found(
    call: Call, register_org: Callable[..., str], set_upsolve: Any
) -> None:
    set_upsolve(PROJECT_ID=OTHER_PROJECT)
    body = {"projectId": OTHER_PROJECT, "name": "Elsewhere", "externalId": "elsewhere"}
    other = call("/register-organization", body).json()["data"]["projectOrganizationId"]
    set_upsolve(PROJECT_ID=PROJECT_ID)
    assert call("/register-user", _user_body(other)).status == 404
    assert call("/register-user", _user_body("elsewhere")).status == 404


def test_registering_a_user_again_updates_it(call: Call, register_org: Callable[..., str]) -> None:
    first_org, second_org = register_org(external_id="one"), register_org(external_id="two")
    user_id = str(uuid.uuid4())
    call("/register-user", _user_body(first_org, userId=user_id, properties={"a": "1"}))
    created_at = SandboxUser.objects.get().created_at
    new_role = str(uuid.uuid4())
    answer = call(
        "/register-user",
        _user_body("two", userId=user_id, userRoleId=new_role, name="Ada K.", properties={"b": 2}),
    )
    assert answer.status == 200
    assert answer.json()["data"] == {"message": "User updated", "userId": user_id}
    user = SandboxUser.objects.get()
    assert (str(user.organization_id), str(user.role_id)) == (second_org, new_role)
    assert (user.name, user.properties) == ("Ada K.", {"b": 2})
    assert user.created_at == created_at
    assert user.updated_at >= created_at


def test_a_user_id_taken_in_another_project_is_a_409(
    call: Call, register_org: Callable[..., str], set_upsolve: Any
) -> None:
    user_id = str(uuid.uuid4())
    call("/register-user", _user_body(register_org(), userId=user_id))
    set_upsolve(PROJECT_ID=OTHER_PROJECT)
    call("/register-organization", {"projectId": OTHER_PROJECT, "name": "B", "externalId": "b"})
    answer = call("/register-user", _user_body("b", projectId=OTHER_PROJECT, userId=user_id))
    assert answer.status == 409
    assert answer.json() == {
        "status": "error",
        "message": "User already registered in another project",
    }
    assert str(SandboxUser.objects.get().project_id) == PROJECT_ID


# /user-token -------------------------------------------------------------------------


def _token(call: Call, **body: Any) -> str:
    answer = call("/user-token", body)
    assert answer.status == 200, answer.body
    data = answer.json()
    assert data["status"] == "success"
    assert set(data["data"]) == {"token"}
    return str(data["data"]["token"])


def test_a_token_for_an_unknown_user_is_404(call: Call) -> None:
    answer = call("/user-token", {"userId": str(uuid.uuid4())})
    assert answer.status == 404
    assert answer.json() == {"status": "error", "message": "User not found"}


def test_a_token_for_a_user_of_another_project_is_404(
    call: Call, register_user: Callable[..., str], set_upsolve: Any
) -> None:
    user_id = register_user()
    set_upsolve(PROJECT_ID=OTHER_PROJECT)
    assert call("/user-token", {"userId": user_id}).status == 404


def test_the_token_is_an_hs256_jwt_with_the_documented_claims(
    call: Call, register_org: Callable[..., str], clock: Clock
) -> None:
    org = register_org(name="Acme Ltd", external_id="acme")
    user_id = str(uuid.uuid4())
    props = {"organization_id": "acme", "seats": 3}
    call("/register-user", _user_body(org, userId=user_id, properties=props))
    token = _token(call, userId=user_id, expiration="15m")
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, signing_key(), algorithms=["HS256"], options={"verify_exp": False})
    now = int(clock.now)
    assert claims == {
        "iat": now,
        "exp": now + 900,
        "sub": user_id,
        "projectId": PROJECT_ID,
        "organizationId": org,
        "externalId": "acme",
        "organizationName": "Acme Ltd",
        "userName": "Ada Lovelace",
        "roleId": ROLE_ID,
        "properties": props,
    }


def test_the_organization_id_may_be_given_when_it_is_the_users(
    call: Call, register_org: Callable[..., str], register_user: Callable[..., str]
) -> None:
    org = register_org()
    user_id = register_user(org)
    assert _token(call, userId=user_id, organizationId=org)
    answer = call("/user-token", {"userId": user_id, "organizationId": str(uuid.uuid4())})
    assert answer.status == 403
    assert answer.json() == {"status": "error", "message": "Organization does not match user"}
    assert _errors(call("/user-token", {"userId": user_id, "organizationId": "acme"})) == [
        {"field": "organizationId", "message": "must be a UUID"}
    ]


@pytest.mark.parametrize(
    ("expiration", "seconds"),
    [
        (None, DEFAULT_EXPIRATION),
        (1, 1),
        (60, 60),
        ("30s", 30),
        ("15m", 900),
        ("1h", 3600),
        ("1d", 86400),
        ("7d", MAX_EXPIRATION),
        (MAX_EXPIRATION, MAX_EXPIRATION),
    ],
)
def test_expiration_formats(
    call: Call, register_user: Callable[..., str], expiration: Any, seconds: int
) -> None:
    body: dict[str, Any] = {"userId": register_user()}
    if expiration is not None:
        body["expiration"] = expiration
    claims = jwt.decode(
        _token(call, **body), signing_key(), algorithms=["HS256"], options={"verify_exp": False}
    )
    assert claims["exp"] - claims["iat"] == seconds


@pytest.mark.parametrize(
    "expiration",
    [
        0,
        -1,
        MAX_EXPIRATION + 1,
        "8d",
        "0s",
        "1H",
        "1 h",
        "3600",
        "1.5h",
        "1w",
        "",
        3600.0,
        1.5,
        True,
        [],
        {},
        "-1h",
        "１h",
    ],
)
def test_invalid_expirations_are_422(
    call: Call, register_user: Callable[..., str], expiration: Any
) -> None:
    answer = call("/user-token", {"userId": register_user(), "expiration": expiration})
    [error] = _errors(answer)
    assert error["field"] == "expiration"
    assert "at most 7 days" in error["message"]


# Tokens ------------------------------------------------------------------------------


def test_decode_token_verifies_and_returns_the_claims(
    call: Call, emulator: Emulator, register_user: Callable[..., str]
) -> None:
    user_id = register_user()
    claims = emulator.decode_token(_token(call, userId=user_id))
    assert claims["sub"] == user_id
    assert claims["userName"] == "Ada Lovelace"


def test_decode_token_rejects_an_expired_token_by_the_emulator_clock(
    call: Call, emulator: Emulator, register_user: Callable[..., str], clock: Clock
) -> None:
    token = _token(call, userId=register_user(), expiration=60)
    clock.now += 59
    assert emulator.decode_token(token)["exp"] == int(clock.now) + 1
    clock.now += 1
    with pytest.raises(jwt.ExpiredSignatureError):
        emulator.decode_token(token)


def _tampered(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_decode_token_rejects_forged_tokens(
    call: Call, emulator: Emulator, register_user: Callable[..., str], clock: Clock
) -> None:
    token = _token(call, userId=register_user())
    claims = emulator.decode_token(token)
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    other_key = jwt.encode(claims, "another-key-of-at-least-thirty-two-bytes!", algorithm="HS256")
    hs512 = jwt.encode(claims, signing_key(), algorithm="HS512")
    forged = [_tampered(token, userName="Mallory"), unsigned, other_key, hs512, "", "a.b.c"]
    for bad in [*forged, token[:-2]]:
        with pytest.raises(jwt.InvalidTokenError) as caught:
            emulator.decode_token(bad)
        assert not isinstance(caught.value, jwt.ExpiredSignatureError)


@pytest.mark.parametrize(
    "claims",
    [
        {"iat": 1_800_000_000, "sub": "x"},
        {"exp": 1_900_000_000, "sub": "x"},
        {"iat": 1_800_000_000, "exp": 1_900_000_000},
        {"iat": 1_800_000_000, "exp": "1900000000", "sub": "x"},
        {"iat": True, "exp": 1_900_000_000, "sub": "x"},
    ],
)
def test_decode_token_requires_integer_timing_claims(
    emulator: Emulator, claims: dict[str, Any]
) -> None:
    token = jwt.encode(claims, signing_key(), algorithm="HS256")
    with pytest.raises(jwt.InvalidTokenError):
        emulator.decode_token(token)


def test_the_signing_key_setting_is_used(
    call: Call, emulator: Emulator, register_user: Callable[..., str], settings: Any
) -> None:
    derived = signing_key()
    key = "a-sandbox-signing-key-that-is-long-enough"
    settings.UPSOLVE_SANDBOX = {"SIGNING_KEY": key}
    token = _token(call, userId=register_user())
    assert jwt.decode(token, key, algorithms=["HS256"])["sub"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, derived, algorithms=["HS256"])


def test_the_default_signing_key_follows_secret_key(
    call: Call, emulator: Emulator, register_user: Callable[..., str], settings: Any
) -> None:
    token = _token(call, userId=register_user())
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(jwt.InvalidSignatureError):
        emulator.decode_token(token)


def test_a_malformed_sandbox_setting_is_improperly_configured(settings: Any) -> None:
    settings.UPSOLVE_SANDBOX = ["API_KEY"]
    with pytest.raises(ImproperlyConfigured, match="UPSOLVE_SANDBOX must be a dict"):
        signing_key()


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(TEXT, min_size=1, max_size=255),
    properties=st.dictionaries(
        st.text(TEXT, max_size=20),
        st.one_of(st.text(TEXT), st.integers(-(2**53), 2**53), st.floats(-1e12, 1e12)),
        max_size=5,
    ),
)
def test_unicode_names_and_properties_round_trip_into_the_token(
    call: Call,
    emulator: Emulator,
    register_org: Callable[..., str],
    name: str,
    properties: dict[str, Any],
) -> None:
    org = SandboxOrganization.objects.filter(external_id="unicode").first()
    org_id = str(org.pk) if org else register_org(external_id="unicode")
    answer = call("/register-user", _user_body(org_id, name=name, properties=properties))
    assert answer.status == 200, answer.body
    user_id = answer.json()["data"]["userId"]
    claims = emulator.decode_token(_token(call, userId=user_id))
    assert (claims["userName"], claims["properties"]) == (name, properties)


# Fault injection ---------------------------------------------------------------------


def test_fail_next_answers_the_next_request_whatever_it_is(call: Call, emulator: Emulator) -> None:
    emulator.fail_next(502, "<html>Bad gateway</html>")
    answer = emulator.handle("/no-such-path", {}, b"")
    assert (answer.status, answer.body) == (502, b"<html>Bad gateway</html>")
    assert answer.headers == {"Content-Type": "text/plain; charset=utf-8"}
    assert call("/register-organization", {"projectId": PROJECT_ID, "name": "A"}).status == 200


def test_faults_are_served_in_order_and_repeat_times(call: Call, emulator: Emulator) -> None:
    emulator.fail_next(503, times=2)
    emulator.fail_next(
        429, {"status": "error", "message": "Too many requests"}, headers={"Retry-After": "1"}
    )
    body = {"projectId": PROJECT_ID, "name": "A"}
    answers = [call("/register-organization", body) for _ in range(4)]
    assert [a.status for a in answers] == [503, 503, 429, 200]
    assert answers[0].body == b""
    assert answers[2].json() == {"status": "error", "message": "Too many requests"}
    assert answers[2].headers["Retry-After"] == "1"
    assert answers[2].headers["Content-Type"] == "application/json"
    assert SandboxOrganization.objects.count() == 1


def test_fault_headers_replace_the_default_content_type(emulator: Emulator) -> None:
    emulator.fail_next(200, b"<!doctype html>", headers={"content-type": "text/html"})
    answer = emulator.handle("/user-token", {}, b"")
    assert answer.headers == {"content-type": "text/html"}


def test_clear_faults_drops_the_queue(call: Call, emulator: Emulator) -> None:
    emulator.fail_next(500, times=3)
    emulator.clear_faults()
    assert call("/register-organization", {"projectId": PROJECT_ID, "name": "A"}).status == 200


@pytest.mark.parametrize(("status", "times"), [(99, 1), (600, 1), (500, 0)])
def test_fail_next_refuses_nonsense(emulator: Emulator, status: int, times: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        emulator.fail_next(status, times=times)


def test_each_fault_is_served_once_across_threads(emulator: Emulator) -> None:
    emulator.fail_next(503, times=200)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            status = emulator.handle("/nowhere", {}, b"").status
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(503) == 200
    assert statuses.count(404) == 50
