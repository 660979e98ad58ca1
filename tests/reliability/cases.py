"""The fault table: what Upsolve may answer to ``user-token``, and what one call makes of it.

Shared by the table's own tests (at the client, then through a login) and the secrets
tests, which replay every row looking for leaks.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django_upsolve import exceptions as exc
from tests.reliability.faultserver import (
    HTML_502,
    Action,
    Close,
    Respond,
    Token,
    make_token,
    ok,
)

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
