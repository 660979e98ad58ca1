"""The circuit breaker, in the local-memory cache and in Redis (``UPSOLVE["CACHE_ALIAS"]``).

Five consecutive failures open it (validation errors do not count); while open no request
leaves the process; after the cool-down one trial call half-opens it; each transition is
logged once, not once per request. With Redis the state is shared by processes.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from django_upsolve import breaker
from django_upsolve import cache as shared_cache
from django_upsolve import exceptions as exc
from django_upsolve.budget import CallPolicy
from django_upsolve.checks import check_settings
from django_upsolve.client import get_client
from django_upsolve.models import UpsolveProfile
from tests.concurrency import in_threads
from tests.helpers import ROOT, log_in, override_upsolve
from tests.reliability.faultserver import HTML_502, Respond, Upsolve
from tests.reliability.helpers import assert_failure_kept_token, breaker_failures

pytestmark = pytest.mark.django_db

USER = "8a2f6c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
DOWN = Respond(503, HTML_502)
INVALID = Respond(422, {"status": "error", "errors": [{"field": "userId"}]})


def call(max_retries: int = 0) -> object:
    """One ``user-token`` call; no retries unless asked, so one call is one request."""
    return get_client().user_token(
        user_id=USER, expiration=3600, policy=CallPolicy.within(5, max_retries=max_retries)
    )


def fail(times: int, error: type[exc.UpsolveError] = exc.UpsolveUnavailable) -> None:
    for _ in range(times):
        with pytest.raises(error) as raised:
            call()
        assert not isinstance(raised.value, exc.UpsolveBreakerOpen)


def open_breaker(server) -> None:
    server.always(DOWN)
    fail(5)
    assert breaker.status().state == "open"


def end_cooldown() -> None:
    """Move the end of the cool-down into the past, as if it had gone by."""
    shared_cache.shared().set(breaker.OPEN_UNTIL, time.time() - 1, timeout=breaker.KEEP)
    assert breaker.status().state == "half-open"


def transitions(logs) -> list[str]:
    return logs.messages("django_upsolve.breaker")


def test_five_consecutive_failures_open_it(cache_alias, server):
    server.always(DOWN)
    fail(4)
    assert breaker.status().state == "closed"
    assert breaker_failures() == 4
    fail(1)
    status = breaker.status()
    assert (status.state, status.failures) == ("open", 5)
    assert status.open_until - time.time() == pytest.approx(30, abs=2)


def test_no_request_leaves_while_open(cache_alias, server):
    open_breaker(server)
    for _ in range(10):
        with pytest.raises(exc.UpsolveBreakerOpen) as raised:
            call(max_retries=3)
        assert raised.value.status_code is None
    assert server.count() == 5


def test_a_success_resets_the_count(cache_alias, server):
    server.script(DOWN, DOWN, DOWN, DOWN)
    fail(4)
    call()
    assert breaker_failures() == 0
    server.always(DOWN)
    fail(4)
    assert breaker.status().state == "closed"


def test_validation_errors_do_not_count(cache_alias, server):
    server.always(INVALID)
    fail(10, exc.UpsolveValidationError)
    assert breaker.status() == breaker.BreakerStatus("closed", 0, None)


def test_cooldown_is_a_setting(cache_alias, server):
    with override_upsolve(BREAKER_COOLDOWN=7, BREAKER_THRESHOLD=2):
        server.always(DOWN)
        fail(2)
        assert breaker.status().open_until - time.time() == pytest.approx(7, abs=2)


@pytest.mark.parametrize(("retry_after", "open_for"), [("45", 45), ("86400", 300)])
def test_a_long_retry_after_opens_it_that_long_capped(cache_alias, server, retry_after, open_for):
    server.script(Respond(429, b"", {"Retry-After": retry_after}))
    with pytest.raises(exc.UpsolveRateLimited):
        call(max_retries=1)
    status = breaker.status()
    assert status.state == "open"
    assert status.open_until - time.time() == pytest.approx(open_for, abs=2)
    assert server.count() == 1


def test_one_trial_call_half_opens_it(cache_alias, server):
    open_breaker(server)
    end_cooldown()
    server.always(Upsolve(delay=0.3))  # Upsolve is back, slowly: a wide race window

    def caller(_: int) -> object:
        try:
            return call()
        except exc.UpsolveError as err:
            return err

    results = in_threads(8, caller)
    assert server.count("user-token") == 5 + 1  # the trial is the only request
    assert sum(isinstance(r, exc.UpsolveBreakerOpen) for r in results) == 7
    assert breaker.status() == breaker.BreakerStatus("closed", 0, None)
    call()  # closed: calls go out again
    assert server.count("user-token") == 7


def test_a_failed_trial_opens_it_again(cache_alias, server):
    open_breaker(server)
    end_cooldown()
    fail(1)
    status = breaker.status()
    assert status.state == "open"
    assert status.open_until - time.time() == pytest.approx(30, abs=2)
    with pytest.raises(exc.UpsolveBreakerOpen):
        call()
    assert server.count() == 6


def test_each_transition_is_logged_once(cache_alias, server, logs):
    server.always(DOWN)
    fail(5)
    for _ in range(20):
        with pytest.raises(exc.UpsolveBreakerOpen):
            call()
    assert transitions(logs) == [
        "Upsolve circuit breaker open for 30 s after 5 consecutive failure(s)."
    ]
    end_cooldown()
    fail(1)  # the trial fails: open again
    end_cooldown()
    server.always(Upsolve())
    for _ in range(20):
        call()
    assert transitions(logs)[1:] == [
        "Upsolve circuit breaker open for 30 s after 6 consecutive failure(s).",
        "Upsolve circuit breaker closed: calls to Upsolve succeed again.",
    ]
    records = [r for r in logs.records if r.name == "django_upsolve.breaker"]
    assert [r.levelno for r in records] == [logging.ERROR, logging.ERROR, logging.WARNING]


def test_concurrent_closes_are_logged_once(cache_alias, server, logs):
    open_breaker(server)
    in_threads(10, lambda _: breaker.record_success())
    assert (
        transitions(logs).count("Upsolve circuit breaker closed: calls to Upsolve succeed again.")
        == 1
    )


def test_concurrent_failures_open_it_once(cache_alias, logs):
    in_threads(12, lambda _: breaker.record_failure())
    assert breaker.status().failures == 12
    assert len(transitions(logs)) == 1


def test_reset_closes_it(cache_alias, server):
    open_breaker(server)
    breaker.reset()
    assert breaker.status() == breaker.BreakerStatus("closed", 0, None)
    server.always(Upsolve())
    call()


# During an outage, at login -------------------------------------------------------------------


def test_open_breaker_login_makes_no_request(cache_alias, client, server, ada, logs):
    before = UpsolveProfile.objects.get(user=ada)
    open_breaker(server)
    requests = server.count()
    for _ in range(3):
        log_in(client, "ada")
        client.logout()
    assert server.count() == requests
    assert_failure_kept_token(ada, before, logs)
    after = UpsolveProfile.objects.get(user=ada)
    assert "paused" in after.last_error
    # The outage was logged once, by the breaker; each skipped login only at INFO.
    skipped = [r for r in logs.records if "sync failed" in r.getMessage()]
    assert len(skipped) == 3
    assert {r.levelno for r in skipped} == {logging.INFO}


def test_an_outage_opens_it_through_logins(cache_alias, client, server, ada, logs):
    """Logins during an outage trip the breaker; later logins no longer wait for Upsolve."""
    server.always(DOWN)
    for _ in range(3):  # two requests per login (one retry)
        log_in(client, "ada")
        client.logout()
    assert server.count("user-token") == 1 + 5  # the first login, then the breaker opened
    assert breaker.status().state == "open"
    log_in(client, "ada")
    assert server.count("user-token") == 6


# Across processes ---------------------------------------------------------------------------

CHILD = """
import sys
import django
django.setup()
from django_upsolve import breaker
from django_upsolve import cache
from django_upsolve.budget import CallPolicy
from django_upsolve.client import get_client
from django_upsolve.exceptions import UpsolveError
from tests.helpers import PATIENT_CALL_TIMEOUT, override_upsolve

cache.CALL_TIMEOUT = PATIENT_CALL_TIMEOUT  # as the patient_cache fixture does
api_url, calls, user_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with override_upsolve(CACHE_ALIAS="redis", API_URL=api_url):
    for _ in range(calls):
        try:
            get_client().user_token(
                user_id=user_id, expiration=3600, policy=CallPolicy.within(5, max_retries=0)
            )
        except UpsolveError as err:
            print(type(err).__name__)
    print(breaker.status().state)
"""


def run_child(api_url: str, calls: int) -> list[str]:
    """Another Python process, sharing this run's Redis keys, makes ``calls`` calls."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD, api_url, str(calls), USER],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "UPSOLVE_TEST_CACHE_PREFIX": settings.CACHES["redis"]["KEY_PREFIX"],
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.split()


@pytest.mark.parametrize("cache_alias", ["redis"], indirect=True)
def test_redis_shares_the_state_across_processes(cache_alias, server):
    server.always(DOWN)
    # Another process meets the outage and opens the breaker ...
    assert run_child(server.api_url, 5) == ["UpsolveUnavailable"] * 5 + ["open"]
    # ... so this one makes no request at all.
    with pytest.raises(exc.UpsolveBreakerOpen):
        call()
    assert server.count() == 5
    # And the other way round: this process closes it, the other one calls again.
    breaker.reset()
    server.always(Upsolve())
    assert run_child(server.api_url, 1) == ["closed"]
    assert server.count() == 6


@pytest.mark.parametrize(("alias", "warned"), [("default", True), ("redis", False)])
def test_w003_warns_about_a_per_process_cache(alias, warned):
    with override_upsolve(CACHE_ALIAS=alias):
        ids = {message.id for message in check_settings()}
    assert ("django_upsolve.W003" in ids) is warned
