"""A token's real lifetime: short tokens are used, and clock skew does not shorten them.

The refresh margin is cut to half the lifetime of a token that lives less than twice
the margin (one WARNING per process). Expiry is the token's own ``exp - iat`` counted
from its receipt, whatever the gap between Upsolve's clock and ours (a WARNING, at
most once an hour, when it is large).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from django_upsolve import tokens
from django_upsolve.client import UpsolveClient
from tests.helpers import SIGNING_KEY, make_jwt

RECEIVED = datetime(2030, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)
NOW = RECEIVED.timestamp()
DEFAULT_MARGIN = 300
API = "https://api.upsolve.test/v1/api/projects"
USER = "8a2f6c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture(autouse=True)
def _warnings_not_yet_given(monkeypatch):
    """Each test starts as a fresh process would: no once-only warning given yet."""
    monkeypatch.setattr(tokens, "_logged", {})


def warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "django_upsolve.tokens" and r.levelno == logging.WARNING
    ]


def token(**claims: float) -> str:
    return jwt.encode(claims, SIGNING_KEY, algorithm="HS256")


# Tokens shorter than the margin -----------------------------------------------------------


@pytest.mark.parametrize("lifetime", [120, 299])
def test_a_token_shorter_than_the_margin_is_fresh_right_after_issue(lifetime):
    expires_at = tokens.expiry_of(make_jwt(lifetime, iat=NOW), requested=3600, received_at=RECEIVED)
    assert expires_at == RECEIVED + timedelta(seconds=lifetime)
    assert tokens.is_fresh(expires_at, DEFAULT_MARGIN, now=RECEIVED, received_at=RECEIVED)
    # Without its lifetime, the margin alone finds it stale at once: the bug this fixes.
    assert not tokens.is_fresh(expires_at, DEFAULT_MARGIN, now=RECEIVED)


@pytest.mark.parametrize("lifetime", [120, 299])
def test_a_short_token_goes_stale_halfway_through_its_life(lifetime):
    expires_at = RECEIVED + timedelta(seconds=lifetime)
    half = timedelta(seconds=lifetime / 2)
    fresh = {"now": RECEIVED + half - timedelta(seconds=1), "received_at": RECEIVED}
    stale = {"now": RECEIVED + half, "received_at": RECEIVED}
    assert tokens.is_fresh(expires_at, DEFAULT_MARGIN, **fresh)
    assert not tokens.is_fresh(expires_at, DEFAULT_MARGIN, **stale)


@pytest.mark.parametrize(
    ("lifetime", "margin", "effective"),
    [
        (3600, 300, 300),  # the usual case: the margin as set
        (600, 300, 300),  # exactly twice the margin: still as set
        (599, 300, 299.5),
        (120, 300, 60),
        (10, 0, 0),
        (0, 300, 0),
        (-5, 300, 0),
    ],
)
def test_the_margin_is_at_most_half_the_lifetime(lifetime, margin, effective):
    assert tokens.effective_margin(lifetime, margin) == effective


def test_cutting_the_margin_warns_once_per_process(caplog):
    for lifetime in (120, 299, 120, 60):
        for _ in range(10):
            tokens.effective_margin(lifetime, DEFAULT_MARGIN)
    assert warnings(caplog) == [
        "Upsolve tokens live 120 s, less than twice UPSOLVE['REFRESH_MARGIN'] (300 s): "
        "refreshing them 60 s before they expire instead. Lower REFRESH_MARGIN or raise "
        "TOKEN_EXPIRATION."
    ]


def test_an_uncut_margin_says_nothing(caplog):
    tokens.effective_margin(3600, DEFAULT_MARGIN)
    assert tokens.is_fresh(RECEIVED + timedelta(hours=1), 300, now=RECEIVED, received_at=RECEIVED)
    assert warnings(caplog) == []


# Clock skew ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "skew",
    [
        pytest.param(2 * 3600, id="upsolve-2h-ahead"),
        pytest.param(-2 * 3600, id="upsolve-2h-behind"),
        pytest.param(-50 * 60, id="upsolve-50min-behind"),
        pytest.param(50 * 60, id="upsolve-50min-ahead"),
    ],
)
def test_expiry_is_the_tokens_lifetime_from_receipt_whatever_the_skew(skew, caplog):
    issued = NOW + skew
    expires_at = tokens.expiry_of(
        token(iat=issued, exp=issued + 3600), requested=3600, received_at=RECEIVED
    )
    assert expires_at == RECEIVED + timedelta(hours=1)
    assert tokens.is_fresh(expires_at, DEFAULT_MARGIN, now=RECEIVED, received_at=RECEIVED)
    [warning] = warnings(caplog)
    direction = "behind" if skew < 0 else "ahead of"
    assert warning.startswith(f"Upsolve's clock runs {abs(skew)} s {direction} ours")


def test_a_small_skew_is_not_logged(caplog):
    issued = NOW - 240
    expires_at = tokens.expiry_of(
        token(iat=issued, exp=issued + 3600), requested=3600, received_at=RECEIVED
    )
    assert expires_at == RECEIVED + timedelta(hours=1)
    assert warnings(caplog) == []


def test_the_skew_warning_repeats_at_most_once_an_interval(caplog, monkeypatch):
    issued = NOW - 7200
    skewed = token(iat=issued, exp=issued + 3600)
    for _ in range(5):
        tokens.expiry_of(skewed, requested=3600, received_at=RECEIVED)
    assert len(warnings(caplog)) == 1
    # An interval later (as if it had gone by), once more.
    tokens._logged["skew"] -= tokens.SKEW_LOG_INTERVAL
    tokens.expiry_of(skewed, requested=3600, received_at=RECEIVED)
    assert len(warnings(caplog)) == 2


def test_without_iat_exp_is_read_by_our_clock():
    expires_at = tokens.expiry_of(token(exp=NOW + 600), requested=3600, received_at=RECEIVED)
    assert expires_at == RECEIVED + timedelta(seconds=600)


def test_without_iat_a_past_exp_is_expired():
    with pytest.raises(tokens.TokenExpired):
        tokens.expiry_of(token(exp=NOW - 60), requested=3600, received_at=RECEIVED)


def test_an_iat_days_away_is_no_skew_but_a_stale_token():
    issued = NOW - 3 * 86400
    with pytest.raises(tokens.TokenExpired):
        tokens.expiry_of(token(iat=issued, exp=issued + 3600), requested=3600, received_at=RECEIVED)


def test_the_lifetime_is_still_capped_at_the_requested_one():
    issued = NOW - 7200
    expires_at = tokens.expiry_of(
        token(iat=issued, exp=issued + 86400), requested=600, received_at=RECEIVED
    )
    assert expires_at == RECEIVED + timedelta(seconds=600)


def test_a_token_expiring_before_its_issue_is_expired():
    with pytest.raises(tokens.TokenExpired):
        tokens.expiry_of(token(iat=NOW, exp=NOW - 1), requested=3600, received_at=RECEIVED)


@pytest.mark.django_db
@pytest.mark.parametrize("skew", [-2 * 3600, -50 * 60])
def test_the_client_keeps_a_skewed_token_for_its_whole_life(http, skew):
    """Through the client: a token from a clock 2 h (50 min) behind lives its full hour."""
    issued = datetime.now(UTC).timestamp() + skew
    skewed = token(iat=issued, exp=issued + 3600)
    http.post(f"{API}/user-token", json={"status": "success", "data": {"token": skewed}})
    result = UpsolveClient.from_settings().user_token(user_id=USER, expiration=3600)
    assert result.token == skewed
    assert result.expires_at - result.received_at == timedelta(hours=1)
    assert len(http.calls) == 1
