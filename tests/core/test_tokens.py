"""Reading Upsolve's JWTs: which strings pass as tokens, their claims, expiry and freshness."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from django_upsolve.tokens import (
    MAX_CLOCK_SKEW,
    MAX_TIMESTAMP,
    MAX_TOKEN_LENGTH,
    Claims,
    TokenExpired,
    TokenRejected,
    expiry_of,
    is_fresh,
    is_jwt_shaped,
    read_claims,
)
from tests.helpers import SIGNING_KEY, make_jwt

#: When a token is received in these tests; expiries are counted from here.
RECEIVED = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
T = RECEIVED.timestamp()


def signed(payload: dict[str, object]) -> str:
    """A JWT with exactly ``payload`` (``make_jwt`` always adds ``iat`` and ``exp``)."""
    return jwt.encode(payload, SIGNING_KEY, algorithm="HS256")


def with_raw_payload(raw: bytes) -> str:
    """A JWT-shaped string whose payload segment is ``raw``, base64url-encoded."""
    header, _payload, signature = make_jwt().split(".")
    return f"{header}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{signature}"


def expiry(iat: float | None, exp: float | None, requested: int = 3600) -> datetime:
    payload = {name: value for name, value in (("iat", iat), ("exp", exp)) if value is not None}
    return expiry_of(signed(payload), requested=requested, received_at=RECEIVED)


# Shape --------------------------------------------------------------------------------------


def test_a_signed_jwt_is_shaped_like_one():
    assert is_jwt_shaped(make_jwt())


def test_an_unsigned_jwt_is_shaped_like_one_too():
    header, payload, _signature = make_jwt().split(".")
    assert is_jwt_shaped(f"{header}.{payload}.")


@pytest.mark.parametrize(
    "value",
    [
        None,
        42,
        b"eyJh.eyJi.c2ln",
        "",
        "eyJh.eyJi",  # two segments
        "eyJh.eyJi.c2ln.extra",
        "eyJh.eyJi.c2ln\n",
        "eyJh. eyJi.c2ln",
        'eyJh.eyJ"<>&.c2ln',
        "eyJh.eyJi.c2l=",  # padding is not base64url as JWTs use it
    ],
)
def test_anything_else_is_not(value):
    assert not is_jwt_shaped(value)


def test_the_length_is_bounded():
    header = "eyJhbGciOiJIUzI1NiJ9"
    fits = f"{header}.{'a' * (MAX_TOKEN_LENGTH - len(header) - 2)}."
    assert len(fits) == MAX_TOKEN_LENGTH
    assert is_jwt_shaped(fits)
    assert not is_jwt_shaped(fits + "a")


# Claims -------------------------------------------------------------------------------------


def test_claims_are_read_without_verifying_the_signature():
    header, payload, _signature = make_jwt(600, iat=T).split(".")
    forged = f"{header}.{payload}.c2lnbmVkIGJ5IG5vYm9keQ"
    assert read_claims(forged) == Claims(issued_at=T, expires_at=T + 600)


def test_missing_claims_are_none():
    assert read_claims(signed({"sub": "ada"})) == Claims(issued_at=None, expires_at=None)


@pytest.mark.parametrize(
    "value",
    ["1700000000", True, None, -5, 0, MAX_TIMESTAMP, 1e400, [1700000000], {"t": 1}],
)
def test_claims_that_are_not_times_are_none(value):
    claims = read_claims(signed({"iat": value, "exp": value}))
    assert claims == Claims(issued_at=None, expires_at=None)


def test_a_float_claim_is_read():
    assert read_claims(signed({"exp": T + 0.5})).expires_at == T + 0.5


def test_nan_in_the_payload_is_not_a_time():
    token = with_raw_payload(b'{"exp": NaN, "iat": Infinity}')
    assert read_claims(token) == Claims(issued_at=None, expires_at=None)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not a token", "not a JWT"),
        (with_raw_payload(b"\xff\xfe not json"), "payload"),
        (with_raw_payload(b"[1, 2]"), "payload"),
        (with_raw_payload(b'"exp"'), "payload"),
    ],
    ids=["not a JWT", "not JSON", "a list", "a string"],
)
def test_unreadable_tokens_are_rejected(token, message):
    with pytest.raises(TokenRejected, match=message):
        read_claims(token)


# Expiry -------------------------------------------------------------------------------------


def test_the_lifetime_counts_from_receipt():
    assert expiry(iat=T, exp=T + 600) == RECEIVED + timedelta(seconds=600)


@pytest.mark.parametrize("skew", [-MAX_CLOCK_SKEW, -60, 60, MAX_CLOCK_SKEW, 3 * MAX_CLOCK_SKEW])
def test_clock_skew_does_not_change_the_lifetime(skew):
    # Upsolve's clock runs ``skew`` seconds ahead of ours (behind when negative).
    assert expiry(iat=T + skew, exp=T + skew + 600) == RECEIVED + timedelta(seconds=600)


def test_an_hour_of_skew_keeps_the_tokens_own_lifetime():
    # Issued "an hour ago" by Upsolve's clock and expiring "100 s ago": Upsolve's clock is
    # behind ours, and the token still lives its 3,500 s from receipt.
    assert expiry(iat=T - 3600, exp=T - 100) == RECEIVED + timedelta(seconds=3500)


def test_an_exp_past_without_a_credible_iat_is_expired():
    with pytest.raises(TokenExpired, match="already expired"):
        expiry(iat=T - 3 * 86400, exp=T - MAX_CLOCK_SKEW - 1)


def test_an_exp_before_iat_is_expired():
    with pytest.raises(TokenExpired, match="before it was issued"):
        expiry(iat=T + 10, exp=T + 10)


def test_without_iat_exp_counts_by_our_clock():
    assert expiry(iat=None, exp=T + 900) == RECEIVED + timedelta(seconds=900)
    with pytest.raises(TokenExpired):
        expiry(iat=None, exp=T - 1)


def test_without_exp_the_requested_lifetime_is_assumed_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="django_upsolve.tokens"):
        expires = expiry(iat=T, exp=None, requested=1200)
    assert expires == RECEIVED + timedelta(seconds=1200)
    assert "no readable 'exp'" in caplog.text


def test_a_lifetime_longer_than_requested_is_capped_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="django_upsolve.tokens"):
        expires = expiry(iat=T, exp=T + 86400, requested=3600)
    assert expires == RECEIVED + timedelta(seconds=3600)
    assert "lives longer than requested" in caplog.text


def test_an_expected_lifetime_logs_nothing(caplog):
    with caplog.at_level(logging.DEBUG, logger="django_upsolve.tokens"):
        expiry(iat=T, exp=T + 3600, requested=3600)
    assert [r for r in caplog.records if r.name == "django_upsolve.tokens"] == []


def test_expiry_refuses_what_is_not_a_jwt():
    with pytest.raises(TokenRejected):
        expiry_of("0123456789abcdef", requested=3600, received_at=RECEIVED)


# Freshness ----------------------------------------------------------------------------------


def test_fresh_means_valid_for_more_than_the_margin():
    expires = RECEIVED + timedelta(seconds=300)
    assert is_fresh(expires, 299, now=RECEIVED)
    assert not is_fresh(expires, 300, now=RECEIVED)
    assert not is_fresh(expires, 0, now=expires)
    assert not is_fresh(expires, 0, now=expires + timedelta(seconds=1))


def test_no_expiry_is_never_fresh():
    assert not is_fresh(None, 0, now=RECEIVED)


def test_freshness_defaults_to_the_current_time():
    soon = datetime.now(UTC) + timedelta(seconds=60)
    assert is_fresh(soon, 30)
    assert not is_fresh(soon, 90)
