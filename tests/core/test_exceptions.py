"""The status table: which error, message and excerpt each HTTP status gives."""

from __future__ import annotations

import email.utils

import pytest

from django_upsolve import exceptions as exc
from django_upsolve.exceptions import STATUS_ERRORS, error_for, parse_retry_after

EXCERPT = "<html>the answer</html>"


def error(status: int, parsed: object = None, headers: dict[str, str] | None = None):
    return error_for("user-token", status, parsed, headers or {}, EXCERPT)


@pytest.mark.parametrize(
    ("status", "kind", "message", "keeps_body"),
    [
        (
            301,
            exc.UpsolveBadResponse,
            "Upsolve answered with a redirect, which is not followed.",
            0,
        ),
        (
            302,
            exc.UpsolveBadResponse,
            "Upsolve answered with a redirect, which is not followed.",
            0,
        ),
        (
            307,
            exc.UpsolveBadResponse,
            "Upsolve answered with a redirect, which is not followed.",
            0,
        ),
        (400, exc.UpsolveValidationError, "Upsolve rejected the request (fields: unknown).", 0),
        (422, exc.UpsolveValidationError, "Upsolve rejected the request (fields: unknown).", 0),
        (401, exc.UpsolveAuthError, "The API key was refused.", 0),
        (403, exc.UpsolvePermissionError, "The API key may not do this.", 0),
        (404, exc.UpsolveNotFound, "Not found.", 1),
        (409, exc.UpsolveConflict, "Conflict.", 1),
        (429, exc.UpsolveRateLimited, "Rate limited by Upsolve.", 1),
        (500, exc.UpsolveUnavailable, "Upsolve is unavailable.", 1),
        (502, exc.UpsolveUnavailable, "Upsolve is unavailable.", 1),
        (503, exc.UpsolveUnavailable, "Upsolve is unavailable.", 1),
        (599, exc.UpsolveUnavailable, "Upsolve is unavailable.", 1),
        (999, exc.UpsolveUnavailable, "Upsolve is unavailable.", 1),
        (100, exc.UpsolveBadResponse, "Unexpected status.", 1),
        (402, exc.UpsolveBadResponse, "Unexpected status.", 1),
        (418, exc.UpsolveBadResponse, "Unexpected status.", 1),
        (499, exc.UpsolveBadResponse, "Unexpected status.", 1),
    ],
)
def test_each_status_gives_its_error(
    status: int, kind: type[exc.UpsolveError], message: str, keeps_body: int
) -> None:
    err = error(status)
    assert type(err) is kind
    assert err.message == message
    assert err.status_code == status
    assert err.call == "user-token"
    assert err.body_excerpt == (EXCERPT if keeps_body else "")
    assert str(err).startswith(f"Upsolve user-token: HTTP {status} {message}")


@pytest.mark.parametrize(
    ("status", "retryable", "counts_as_failure"),
    [
        (302, False, True),
        (400, False, False),
        (401, False, True),
        (403, False, True),
        (404, False, False),
        (409, False, False),
        (429, True, True),
        (503, True, True),
        (418, False, True),
    ],
)
def test_retries_and_breaker_follow_the_status(
    status: int, retryable: bool, counts_as_failure: bool
) -> None:
    err = error(status)
    assert err.retryable is retryable
    assert err.counts_as_failure is counts_as_failure


def test_every_status_matches_one_rule_at_most_and_2xx_none() -> None:
    for status in range(100, 1000):
        matches = [rule for rule in STATUS_ERRORS if status in rule.statuses]
        assert len(matches) <= (0 if 200 <= status < 300 else 1), status


def test_validation_names_the_rejected_fields_never_the_values() -> None:
    parsed = {
        "errors": [
            {"field": "userRoleId", "message": "bad value 'secret-ish'"},
            {"field": "  na\nme  ", "message": "too long"},
            {"field": "x" * 100},
            {"field": "   "},
            {"message": "no field"},
            "not an object",
        ]
    }
    err = error(422, parsed)
    assert err.message == (f"Upsolve rejected the request (fields: userRoleId, na me, {'x' * 64}).")
    assert "secret-ish" not in str(err)


def test_validation_reads_at_most_ten_errors() -> None:
    parsed = {"errors": [{"field": f"f{i}"} for i in range(15)]}
    assert error(400, parsed).message.endswith("(fields: f0, f1, f2, f3, f4, f5, f6, f7, f8, f9).")


@pytest.mark.parametrize("parsed", [None, [], {"errors": "many"}, {"errors": [{"field": 3}]}])
def test_validation_without_field_names_says_unknown(parsed: object) -> None:
    assert error(400, parsed).message == "Upsolve rejected the request (fields: unknown)."


def test_conflict_carries_the_answers_data_object() -> None:
    data = {"projectOrganizationId": "0d4b9b52-1d3c-4c8e-9a51-2f7f3b2d9c11"}
    err = error(409, {"status": "error", "data": data})
    assert isinstance(err, exc.UpsolveConflict)
    assert err.data == data


@pytest.mark.parametrize("parsed", [None, {"message": "conflict"}, {"data": ["not", "a", "dict"]}])
def test_conflict_without_a_data_object_has_empty_data(parsed: object) -> None:
    err = error(409, parsed)
    assert isinstance(err, exc.UpsolveConflict)
    assert err.data == {}


def test_rate_limit_carries_retry_after_in_seconds() -> None:
    err = error(429, headers={"Retry-After": "7"})
    assert isinstance(err, exc.UpsolveRateLimited)
    assert err.retry_after == 7.0
    without = error(429)
    assert isinstance(without, exc.UpsolveRateLimited)
    assert without.retry_after is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2", 2.0),
        (" 1.5 ", 1.5),
        ("0", 0.0),
        ("-1", None),
        ("nan", None),
        ("inf", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00", None),  # a date without a zone is not usable
    ],
)
def test_parse_retry_after_as_seconds(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_parse_retry_after_as_an_http_date() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0


def test_error_text_is_redacted_and_on_one_line() -> None:
    err = exc.UpsolveBadResponse(
        "Bearer up_admin_secret\nleaked", status_code=200, call="user-token"
    )
    assert err.message == "[redacted] leaked"
    assert repr(err) == "UpsolveBadResponse(status_code=200, call='user-token')"
