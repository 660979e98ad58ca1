"""Every scripted row of FAULTS.md, over a real socket: at the client, then through a login.

Each case is what Upsolve answers to ``user-token``. At the client level the case pins the
typed error (or success), how many requests went out under the login policy and what the
breaker counted. Through a login it pins the rest of the table: the login is the usual
redirect, the failure is logged and recorded on the profile, the previous valid token is
kept and no row is left half-written.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from django_upsolve import breaker
from django_upsolve import exceptions as exc
from django_upsolve.client import CallPolicy, get_client
from django_upsolve.models import UpsolveProfile, UpsolveTenant
from tests.reliability.conftest import (
    assert_failure_kept_token,
    assert_rows_whole,
    assert_secret_free,
    breaker_failures,
    log_in,
)
from tests.reliability.faultserver import (
    HTML_502,
    Action,
    Close,
    Respond,
    Token,
    make_token,
    ok,
)

pytestmark = pytest.mark.django_db

USER = "8a2f6c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
ORG = "0d4b9b52-1d3c-4c8e-9a51-2f7f3b2d9c11"
ERROR = {"status": "error", "message": "Something went wrong"}
NAMED_FIELDS = {
    "status": "error",
    "errors": [{"field": "userId", "message": "value 'Ada Private Lovelace' is not a UUID"}],
}


def http_date(seconds_ahead: float) -> str:
    return email.utils.format_datetime(
        datetime.now(UTC) + timedelta(seconds=seconds_ahead), usegmt=True
    )


def token_answer(token: str) -> Respond:
    return Respond(200, ok({"token": token}))


def too_many(retry_after: str | None) -> Respond:
    return Respond(429, ERROR, {"Retry-After": retry_after} if retry_after is not None else {})


@dataclass
class TooManyUntil(Action):
    """A 429 whose ``Retry-After`` is an HTTP date ``seconds`` after it is served."""

    seconds: float

    def serve(self, handler, request) -> None:
        too_many(http_date(self.seconds)).serve(handler, request)


@dataclass(frozen=True)
class Case:
    """Upsolve's answers to ``user-token`` and what one call under the login policy does."""

    answers: tuple[Action, ...]
    error: type[exc.UpsolveError] | None  # None: a token is issued in the end
    requests: int
    failures: int = 0  # the breaker's count of consecutive failures afterwards
    status: int | None = None  # the error's HTTP status (None: no answer, or a bad token)
    open_for: float | None = None  # the breaker is open for about this long afterwards
    lifetime: float = 3600  # the expiry of a successful token, seconds after receipt


CASES: dict[str, Case] = {
    # 5xx with an HTML body: unavailable, one retry, counts for the breaker.
    "502 html": Case((Respond(502, HTML_502),) * 2, exc.UpsolveUnavailable, 2, 2, 502),
    "503 html": Case((Respond(503, HTML_502),) * 2, exc.UpsolveUnavailable, 2, 2, 503),
    "504 html": Case((Respond(504, HTML_502),) * 2, exc.UpsolveUnavailable, 2, 2, 504),
    "502 then success": Case((Respond(502, HTML_502),), None, 2),
    "connection dropped": Case((Close(), Close()), exc.UpsolveConnectionError, 2, 2),
    # 200 that is not the documented JSON: bad response, no retry.
    "200 html": Case(
        (Respond(200, "<html><body>Welcome!</body></html>"),), exc.UpsolveBadResponse, 1, 1, 200
    ),
    "200 binary": Case(
        (Respond(200, b"\x89PNG\r\n\x1a\n\xff\x00"),), exc.UpsolveBadResponse, 1, 1, 200
    ),
    "200 json array": Case((Respond(200, b'["success"]'),), exc.UpsolveBadResponse, 1, 1, 200),
    "200 status error": Case(
        (Respond(200, {"status": "error", "data": {}}),), exc.UpsolveBadResponse, 1, 1, 200
    ),
    # JSON without a usable token: bad response (Upsolve answered, so the breaker is fine).
    "no data.token": Case((Respond(200, ok({})),), exc.UpsolveBadResponse, 1),
    "null token": Case((Respond(200, ok({"token": None})),), exc.UpsolveBadResponse, 1),
    "empty token": Case((token_answer(""),), exc.UpsolveBadResponse, 1),
    "number token": Case((Respond(200, ok({"token": 12345})),), exc.UpsolveBadResponse, 1),
    "list token": Case((Respond(200, ok({"token": ["eyJ"]})),), exc.UpsolveBadResponse, 1),
    # Tokens that are not JWTs, or hold characters that would need escaping: refused.
    "opaque token": Case((token_answer("0123456789abcdef0123"),), exc.UpsolveBadResponse, 1),
    "token with markup": Case(
        (token_answer('eyJhbGciOiJIUzI1NiJ9.eyJ"<>&x.c2ln'),), exc.UpsolveBadResponse, 1
    ),
    "token with a space": Case(
        (token_answer(make_token().replace(".", ". ", 1)),), exc.UpsolveBadResponse, 1
    ),
    "token with a newline": Case((token_answer(make_token() + "\n"),), exc.UpsolveBadResponse, 1),
    # exp missing or unreadable: the requested lifetime, counted from receipt.
    "exp missing": Case((Token(drop=("exp",)),), None, 1),
    "exp unreadable": Case((Token(claims={"exp": "tomorrow"}),), None, 1),
    "exp and iat missing": Case((Token(drop=("exp", "iat")),), None, 1),
    # exp past (no iat to measure skew by): ask once more; far future: capped.
    "exp past once": Case((Token(skew=-7200, drop=("iat",)),), None, 2),
    "exp past twice": Case((Token(skew=-7200, drop=("iat",)),) * 2, exc.UpsolveBadResponse, 2),
    "exp far future": Case((Token(10 * 365 * 86400),), None, 1),
    # Clock skew, small or large: the lifetime exp - iat counts from receipt.
    "upsolve's clock 2 h behind": Case((Token(skew=-7200),), None, 1),
    "upsolve's clock 50 min behind": Case((Token(skew=-3000),), None, 1),
    "upsolve's clock 2 h ahead": Case((Token(skew=7200),), None, 1),
    "our clock 5 min ahead": Case((Token(skew=-300),), None, 1),
    "our clock 5 min behind": Case((Token(skew=300),), None, 1),
    "short token, our clock 5 min ahead": Case((Token(240, skew=-300),), None, 1, lifetime=240),
    # Client errors: typed, never retried.
    "401": Case((Respond(401, ERROR),), exc.UpsolveAuthError, 1, 1, 401),
    "403": Case((Respond(403, ERROR),), exc.UpsolvePermissionError, 1, 1, 403),
    "404": Case((Respond(404, ERROR),), exc.UpsolveNotFound, 1, 0, 404),
    "400": Case((Respond(400, NAMED_FIELDS),), exc.UpsolveValidationError, 1, 0, 400),
    "422": Case((Respond(422, NAMED_FIELDS),), exc.UpsolveValidationError, 1, 0, 422),
    "422 naming odd fields": Case(
        (Respond(422, {"errors": [{"field": "user\x00Id\r\n"}, {"field": "\x07"}]}),),
        exc.UpsolveValidationError,
        1,
        0,
        422,
    ),
    # 429: a short Retry-After is waited for once; a long one opens the breaker that long
    # (capped); a bad one is ignored (a normal retry) and never hides the status.
    "429 retry-after 0.2": Case((too_many("0.2"),), None, 2),
    "429 retry-after 120": Case((too_many("120"),), exc.UpsolveRateLimited, 1, 1, 429, 120),
    "429 retry-after date": Case((TooManyUntil(90),), exc.UpsolveRateLimited, 1, 1, 429, 90),
    "429 retry-after huge": Case((too_many("99999999"),), exc.UpsolveRateLimited, 1, 1, 429, 300),
    **{
        f"429 retry-after {value!r}": Case(
            (too_many(value), too_many(value)), exc.UpsolveRateLimited, 2, 2, 429
        )
        for value in ("inf", "nan", "-5", "1e400", "soon", "", None)
    },
}


def call_user_token():
    return get_client().user_token(user_id=USER, expiration=3600, policy=CallPolicy.login())


@pytest.mark.parametrize("name", CASES)
def test_client(server, name):
    case = CASES[name]
    server.script(*case.answers, call="user-token")
    started = timezone.now()
    if case.error is None:
        issued = call_user_token()
        assert issued.token == server.tokens[-1]
        assert issued.expires_at - started == pytest.approx(
            timedelta(seconds=case.lifetime), abs=timedelta(seconds=5)
        )
    else:
        with pytest.raises(case.error) as raised:
            call_user_token()
        error = raised.value
        assert type(error) is case.error
        assert error.status_code == case.status
        assert len(error.body_excerpt) <= 200
        assert not isinstance(error.__context__, json.JSONDecodeError)
        assert_secret_free(f"{error} {error!r}")
    assert server.count("user-token") == case.requests
    assert breaker_failures() == case.failures
    current = breaker.status()
    if case.open_for is None:
        assert current.state == "closed"
    else:
        assert current.state == "open"
        assert current.open_until - time.time() == pytest.approx(case.open_for, abs=5)


def test_5xx_excerpt_is_short_and_names_the_page(server):
    server.script(Respond(502, HTML_502), Respond(502, HTML_502))
    with pytest.raises(exc.UpsolveUnavailable) as raised:
        call_user_token()
    assert len(HTML_502) > 1000
    assert "502 Bad Gateway" in raised.value.body_excerpt
    assert len(raised.value.body_excerpt) <= 200
    assert "HTTP 502" in str(raised.value)


def test_validation_errors_name_fields_never_values(server, logs):
    server.script(Respond(422, NAMED_FIELDS), call="user-token")
    with pytest.raises(exc.UpsolveValidationError) as raised:
        call_user_token()
    assert "userId" in str(raised.value)
    assert "Ada Private Lovelace" not in str(raised.value)
    assert "Ada Private Lovelace" not in logs.text


def test_missing_exp_is_logged_as_a_warning(server, logs):
    server.script(Token(drop=("exp",)), call="user-token")
    call_user_token()
    assert any("no readable 'exp'" in m for m in logs.messages("django_upsolve", logging.WARNING))


def test_background_policy_retries_more(server):
    server.always(Respond(503, HTML_502))
    with pytest.raises(exc.UpsolveUnavailable):
        get_client().user_token(
            user_id=USER, expiration=3600, policy=CallPolicy.within(20, max_retries=3)
        )
    assert server.count("user-token") == 4


# Registration answers ---------------------------------------------------------------------


def test_409_naming_the_organization_counts_as_registered(server):
    answer = {"status": "error", "data": {"projectOrganizationId": ORG, "externalId": "acme"}}
    server.script(Respond(409, answer))
    result = get_client().register_organization(
        name="Acme", external_id="acme", policy=CallPolicy.login()
    )
    assert (result.organization_id, result.already_registered) == (ORG, True)
    assert server.count() == 1 and breaker_failures() == 0


def test_409_naming_the_user_counts_as_registered(server):
    server.script(Respond(409, {"status": "error", "data": {"userId": USER}}))
    result = get_client().register_user(
        organization_id=ORG,
        user_id=USER,
        role_id=ORG,
        name="Ada",
        properties={},
        policy=CallPolicy.login(),
    )
    assert (result.user_id, result.already_registered) == (USER, True)


def test_409_without_the_object_is_a_conflict(server):
    server.script(Respond(409, ERROR))
    with pytest.raises(exc.UpsolveConflict):
        get_client().register_organization(name="Acme", external_id="acme")
    assert server.count() == 1


# Through a real login -----------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_login(client, server, logs, ada, name):
    case = CASES[name]
    before = UpsolveProfile.objects.get(user=ada)
    rows = UpsolveTenant.objects.count(), UpsolveProfile.objects.count()
    calls = server.count()
    server.script(*case.answers, call="user-token")
    if name == "404":
        # Upsolve forgot the user: it is registered once more and asked once more.
        expected_calls = ["user-token", "register-user", "user-token"]
    else:
        expected_calls = ["user-token"] * case.requests

    log_in(client, "ada")

    after = UpsolveProfile.objects.get(user=ada)
    assert server.calls()[calls:] == expected_calls
    assert (UpsolveTenant.objects.count(), UpsolveProfile.objects.count()) == rows
    if name != "404":
        assert after.registered_at == before.registered_at
    assert_rows_whole()
    failures = logs.messages("django_upsolve", logging.WARNING)
    if case.error is None or case.error is exc.UpsolveNotFound:
        assert after.token != before.token
        assert after.token_refreshed_at > before.token_refreshed_at
        assert after.last_error == "" and after.last_error_at is None
        assert not any("sync failed" in m for m in failures)
    else:
        assert (after.token, after.token_expires_at) == (before.token, before.token_expires_at)
        assert_failure_kept_token(ada, before, logs)
