"""Property-based tests of the JWT reader and the request body builders (hypothesis).

Whatever Upsolve answers, the token reader never crashes: a token is read, or refused with
``TokenRejected``. Whatever a project's adapter returns, the client sends valid UTF-8 JSON
that follows the contract, or refuses before sending with ``UpsolveInvalidRequest``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import decimal
import json
import math
import re
import unicodedata
import uuid
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any, TypeVar

import pytest
import responses
from django.contrib.auth.models import Group
from django.utils.functional import lazy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from django_upsolve import payloads, tokens
from django_upsolve.budget import CallPolicy
from django_upsolve.client import UpsolveClient
from django_upsolve.exceptions import UpsolveInvalidRequest

T = TypeVar("T")
PROJECT = "1f0c6a34-54d4-4b57-9d0a-7c1c8a3a9e10"
ROLE = "5b1ad0a2-7d8e-4a43-9f39-3b7fd1f4f6c2"
API = "https://api.upsolve.test/v1/api/projects"
NOW = datetime.datetime(2030, 1, 1, tzinfo=UTC)
UUID_FORM = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

#: Any text at all, lone surrogates and control characters included.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
#: Numbers JSON and Python can hold, including the awkward ones.
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),
    st.decimals(),
    st.sampled_from([0, -0.0, 2**53, 2**53 - 1, -(2**53), 1e308, 5e-324]),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | numbers.filter(lambda n: not isinstance(n, decimal.Decimal))
    | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=8,
)
#: What an adapter might put in properties: encodable values and values that must be refused.
property_values = st.one_of(
    any_text,
    numbers,
    st.booleans(),
    st.none(),
    st.uuids(),
    st.datetimes(timezones=st.none() | st.timezones()),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.binary(max_size=10),
    st.sets(st.integers(), max_size=3),
    st.lists(st.integers(), max_size=3),
    st.builds(lambda text: lazy(lambda: text, str)(), any_text),
    st.builds(lambda name: Group(name=name), st.text(max_size=10)),
)
property_keys = st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,70}", fullmatch=True), any_text)
properties = st.dictionaries(property_keys, property_values, max_size=60) | st.none()


def refused_or(function: Callable[..., T], *args: Any, **kwargs: Any) -> T | UpsolveInvalidRequest:
    """What ``function`` returns, or the ``UpsolveInvalidRequest`` it raises."""
    try:
        return function(*args, **kwargs)
    except UpsolveInvalidRequest as err:
        return err


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


HEADER = b64(b'{"alg":"HS256","typ":"JWT"}')


# The JWT reader ---------------------------------------------------------------------------


@settings(max_examples=300)
@given(any_text)
@example("eyJhbGciOiJub25lIn0.eyJleHAiOjE5MDAwMDAwMDB9.")
@example('eyJ"<>&.eyJ.x')
@example("a.b.c")
def test_any_text_is_read_or_rejected(text):
    try:
        claims = tokens.read_claims(text)
    except tokens.TokenRejected:
        return
    assert tokens.is_jwt_shaped(text)
    for value in (claims.issued_at, claims.expires_at):
        assert value is None or (math.isfinite(value) and value > 0)


@settings(max_examples=300)
@given(
    st.just(HEADER) | st.from_regex(r"[A-Za-z0-9_\-]{1,40}", fullmatch=True),
    st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
    st.from_regex(r"[A-Za-z0-9_\-]{0,40}", fullmatch=True),
)
def test_any_jwt_shaped_token_is_read_or_rejected(header, payload, signature):
    token = f"{header}.{b64(payload)}.{signature}"
    with contextlib.suppress(tokens.TokenRejected):
        tokens.read_claims(token)


timestamps = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.sampled_from([NOW.timestamp() + d for d in (-7200, -300, -1, 1, 60, 299, 301, 3600)]),
    json_values,
)


@settings(max_examples=300)
@given(
    st.one_of(st.none(), timestamps),
    st.one_of(st.none(), timestamps),
    st.integers(min_value=1, max_value=7 * 86400),
)
@example(iat=NOW.timestamp() - 300, exp=NOW.timestamp() - 60, requested=3600)  # clock ahead
@example(iat=1, exp=10**400, requested=3600)
def test_expiry_is_within_the_requested_lifetime_or_the_token_is_refused(iat, exp, requested):
    claims = {name: value for name, value in (("iat", iat), ("exp", exp)) if value is not None}
    token = f"{HEADER}.{b64(json.dumps(claims).encode())}.c2ln"
    try:
        expires_at = tokens.expiry_of(token, requested=requested, received_at=NOW)
    except tokens.TokenRejected:
        return
    assert NOW < expires_at <= NOW + timedelta(seconds=requested)


@given(any_text)
def test_a_token_that_would_need_escaping_is_never_jwt_shaped(text):
    if tokens.is_jwt_shaped(text):
        assert re.fullmatch(r"[A-Za-z0-9_\-.]+", text)
        assert not set(text) & set("\"'<>& \t\r\n%?#=")


# The body builders ------------------------------------------------------------------------


@settings(max_examples=300)
@given(any_text | st.integers() | st.none())
@example("  Ada\x00 Lovelace\n")
@example("🙂" * 300)
@example("\u202eevil\u202c")
@example("x" * 10_000)
def test_names_are_cleaned_and_capped_or_refused(value):
    name = refused_or(payloads.clean_text, value, field="name")
    if isinstance(name, UpsolveInvalidRequest):
        assert str(name).startswith("name ")
        return
    assert 1 <= len(name) <= payloads.MAX_NAME_LENGTH
    assert name == " ".join(name.split())
    assert not any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in name)
    name.encode("utf-8")  # strict: no lone surrogate gets through


@given(any_text)
def test_a_clean_name_round_trips_unchanged(value):
    clean = " ".join(value.split())[: payloads.MAX_NAME_LENGTH]
    if clean and not any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in clean):
        assert payloads.clean_text(clean, field="name") == clean


@given(any_text | st.integers() | st.none())
@example("acme  corp")
@example(" acme")
@example("x" * 256)
def test_external_ids_are_sent_exactly_or_refused(value):
    try:
        external_id = payloads.external_id_text(value)
    except UpsolveInvalidRequest:
        return
    assert external_id == value  # never cleaned or cut: that could merge two tenants


@settings(max_examples=300)
@given(properties)
@example({"org": 2**53})
@example({"org": 10**5000})
@example({"org": float("nan")})
@example({"org": decimal.Decimal("sNaN")})
@example({"tags": {"a", "b"}})
def test_properties_are_encoded_or_refused(value):
    try:
        encoded = payloads.encode_properties(value)
    except UpsolveInvalidRequest:
        return
    assert len(encoded) <= payloads.MAX_PROPERTIES
    for key, item in encoded.items():
        assert payloads.PROPERTY_KEY.fullmatch(key)
        assert type(item) in (str, int, float) or isinstance(item, int)
        if isinstance(item, str):
            assert len(item) <= payloads.MAX_PROPERTY_VALUE_LENGTH
        elif isinstance(item, int):
            assert abs(item) <= payloads.MAX_SAFE_INTEGER
        else:
            assert math.isfinite(item)
    json.dumps(encoded, allow_nan=False, ensure_ascii=False).encode("utf-8")


# What the client sends --------------------------------------------------------------------


def strict_json(body: bytes) -> object:
    def refuse(constant: str) -> object:
        raise ValueError(constant)

    return json.loads(body.decode("utf-8"), parse_constant=refuse)


@pytest.fixture(scope="module")
def client() -> UpsolveClient:
    return UpsolveClient(
        api_key="up_admin_test_0123456789abcdef",
        project_id=PROJECT,
        api_url=API,
        timeout=(1.0, 1.0),
        max_response_bytes=65536,
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=any_text | st.integers() | st.none(),
    user_properties=properties,
    organization=st.uuids().map(str) | any_text,
)
def test_register_user_sends_the_contract_or_nothing(client, name, user_properties, organization):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        http.post(
            f"{API}/register-user",
            json={"status": "success", "data": {"userId": "8a2f6c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"}},
        )
        result = refused_or(
            lambda: client.register_user(
                organization_id=organization,
                user_id="8a2f6c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
                fields=payloads.UserFields.build(
                    role_id=ROLE, name=name, properties=user_properties
                ),
                policy=CallPolicy.within(5, max_retries=0),
            )
        )
        if isinstance(result, UpsolveInvalidRequest):
            assert len(http.calls) == 0  # refused before anything was sent
            return
        (sent,) = http.calls
    body = strict_json(sent.request.body)
    assert set(body) == {
        "projectId",
        "projectOrganizationId",
        "userId",
        "userRoleId",
        "name",
        "properties",
    }
    for field in ("projectId", "projectOrganizationId", "userId", "userRoleId"):
        assert UUID_FORM.fullmatch(body[field])
    assert 1 <= len(body["name"]) <= payloads.MAX_NAME_LENGTH
    assert body["name"] == payloads.clean_text(name, field="name")
    assert body["properties"] == payloads.encode_properties(user_properties)
    assert uuid.UUID(body["projectOrganizationId"]) == uuid.UUID(organization)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(name=any_text, external_id=any_text, tenant_properties=properties)
def test_register_organization_sends_the_contract_or_nothing(
    client, name, external_id, tenant_properties
):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        http.post(
            f"{API}/register-organization",
            json={"status": "success", "data": {"projectOrganizationId": str(uuid.uuid4())}},
        )
        try:
            fields = payloads.OrganizationFields.build(
                name=name, external_id=external_id, properties=tenant_properties
            )
            client.register_organization(fields=fields, policy=CallPolicy.within(5, max_retries=0))
        except UpsolveInvalidRequest:
            assert len(http.calls) == 0
            return
        (sent,) = http.calls
    body = strict_json(sent.request.body)
    assert body["externalId"] == external_id
    assert body["name"] == payloads.clean_text(name, field="name")
    assert body["projectId"] == PROJECT
