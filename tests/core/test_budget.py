"""The operation budget: deadlines from settings, and when a failed attempt is retried."""

from __future__ import annotations

import dataclasses
import time
from types import SimpleNamespace

import pytest

from django_upsolve import budget
from django_upsolve import exceptions as exc
from django_upsolve.budget import MIN_ATTEMPT_TIME, SHORT_RETRY_AFTER, CallPolicy
from django_upsolve.conf import upsolve_settings


@pytest.fixture
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jitter at its top (1.0), so delays are exact."""
    monkeypatch.setattr(budget, "random", SimpleNamespace(uniform=lambda a, b: b))


def unavailable() -> exc.UpsolveError:
    return exc.UpsolveUnavailable("Upsolve is unavailable.", status_code=503)


def rate_limited(retry_after: float | None) -> exc.UpsolveError:
    return exc.UpsolveRateLimited("Rate limited.", retry_after=retry_after, status_code=429)


def test_within_sets_the_deadline_from_now() -> None:
    before = time.monotonic()
    policy = CallPolicy.within(10, max_retries=2)
    assert before + 10 <= policy.ends_at <= time.monotonic() + 10
    assert 9 < policy.remaining() <= 10
    assert policy.max_retries == 2
    assert not policy.spent()


def test_a_past_deadline_is_negative_and_spent() -> None:
    policy = CallPolicy(max_retries=1, ends_at=time.monotonic() - 1)
    assert policy.remaining() < 0
    assert policy.spent()
    assert CallPolicy.within(MIN_ATTEMPT_TIME / 2, max_retries=1).spent()


def test_policies_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        CallPolicy.within(1, max_retries=1).max_retries = 5  # type: ignore[misc]


def test_login_and_background_policies_follow_the_settings(settings) -> None:
    settings.UPSOLVE = {
        **settings.UPSOLVE,
        "LOGIN_DEADLINE": 3,
        "LOGIN_MAX_RETRIES": 0,
        "DEADLINE": 40,
        "MAX_RETRIES": 4,
    }
    login = CallPolicy.login()
    assert login.max_retries == upsolve_settings.LOGIN_MAX_RETRIES == 0
    assert 2.5 < login.remaining() <= 3
    background = CallPolicy.background()
    assert background.max_retries == 4
    assert 39 < background.remaining() <= 40


@pytest.mark.parametrize(
    "err",
    [
        exc.UpsolveAuthError("refused", status_code=401),
        exc.UpsolveValidationError("rejected", status_code=422),
        exc.UpsolveTLSError("bad certificate"),
        exc.UpsolveBreakerOpen("paused"),
        exc.UpsolveBadResponse("not JSON", status_code=200),
    ],
)
def test_final_errors_are_not_retried(err: exc.UpsolveError) -> None:
    assert CallPolicy.within(30, max_retries=5).retry_delay(err, 0) is None


def test_backoff_doubles_per_attempt_up_to_two_seconds(no_jitter: None) -> None:
    policy = CallPolicy.within(60, max_retries=10)
    delays = [policy.retry_delay(unavailable(), attempt) for attempt in range(6)]
    assert delays == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_backoff_is_jittered_between_half_and_all_of_the_step() -> None:
    policy = CallPolicy.within(60, max_retries=10)
    delays = {policy.retry_delay(unavailable(), 1) for _ in range(50)}
    assert all(d is not None and 0.25 <= d <= 0.5 for d in delays)
    assert len(delays) > 1


def test_no_retry_once_the_retries_are_used_up(no_jitter: None) -> None:
    policy = CallPolicy.within(60, max_retries=2)
    assert policy.retry_delay(unavailable(), 1) == 0.5
    assert policy.retry_delay(unavailable(), 2) is None
    assert CallPolicy.within(60, max_retries=0).retry_delay(unavailable(), 0) is None


def test_no_retry_when_the_wait_would_leave_no_time(no_jitter: None) -> None:
    policy = CallPolicy.within(0.25 + MIN_ATTEMPT_TIME / 2, max_retries=3)
    assert policy.retry_delay(unavailable(), 0) is None


def test_a_short_retry_after_is_waited_for_once() -> None:
    policy = CallPolicy.within(30, max_retries=3)
    assert policy.retry_delay(rate_limited(0.4), 0) == 0.4
    assert policy.retry_delay(rate_limited(SHORT_RETRY_AFTER), 0) == SHORT_RETRY_AFTER
    assert policy.retry_delay(rate_limited(0.4), 1) is None


def test_a_long_retry_after_fails_fast() -> None:
    policy = CallPolicy.within(300, max_retries=3)
    assert policy.retry_delay(rate_limited(SHORT_RETRY_AFTER + 0.5), 0) is None
    assert policy.retry_delay(rate_limited(120), 0) is None


def test_a_429_without_retry_after_backs_off_like_a_5xx(no_jitter: None) -> None:
    policy = CallPolicy.within(30, max_retries=3)
    assert policy.retry_delay(rate_limited(None), 0) == 0.25
    assert policy.retry_delay(rate_limited(None), 1) == 0.5
