"""The time budget with the default settings, against a real loopback server.

A login spends at most ``LOGIN_DEADLINE`` (2.5 s) on Upsolve, over all its calls and
attempts, body reading included, and retries at most once; admin actions and commands
(``refresh_token``, the background policy) retry more. The upper bounds below carry
generous slack: they pin the deadline, not the machine's speed.
"""

from __future__ import annotations

import time
import uuid

import pytest

from django_upsolve import exceptions as exc
from django_upsolve.conf import upsolve_settings
from django_upsolve.models import UpsolveProfile
from django_upsolve.services import refresh_token
from tests.helpers import log_in, make_user, override_upsolve
from tests.reliability.faultserver import (
    HTML_502,
    Drip,
    Respond,
    Stall,
    ok,
    unaccepting_port,
)
from tests.reliability.helpers import assert_failure_kept_token, breaker_failures

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

BUDGET = 2.5
SLACK = 0.5


def timed_login(client, username: str = "ada") -> float:
    started = time.monotonic()
    log_in(client, username)
    return time.monotonic() - started


def test_the_defaults_are_the_documented_budget():
    assert (upsolve_settings.LOGIN_DEADLINE, upsolve_settings.LOGIN_MAX_RETRIES) == (BUDGET, 1)
    assert upsolve_settings.TIMEOUT == (1.5, 4.0)  # a read timeout alone would allow 4 s


def test_login_against_a_stalled_upsolve(client, server, ada, logs):
    before = UpsolveProfile.objects.get(user=ada)
    server.script(Stall(), Stall(), call="user-token")
    elapsed = timed_login(client)
    assert elapsed < BUDGET + SLACK
    assert server.count("user-token") == 2  # the first login, then one stalled attempt
    assert_failure_kept_token(ada, before, logs)


def test_login_against_a_slow_drip(client, server, ada, logs):
    # A byte every 0.2 s: no read timeout ever fires, the body would take a minute.
    before = UpsolveProfile.objects.get(user=ada)
    server.script(Drip(interval=0.2), Drip(interval=0.2), call="user-token")
    elapsed = timed_login(client)
    assert elapsed < BUDGET + SLACK
    assert_failure_kept_token(ada, before, logs)


def test_first_login_shares_one_deadline_over_all_calls(client, server, logs):
    """Registering the tenant and the user and fetching the token: 2.5 s for all of it."""
    make_user("bob")
    # The tenant is registered, slowly (about 0.5 s, more on a loaded machine), then
    # registering the user stalls: it only gets what is left of the 2.5 s.
    organization = ok({"projectOrganizationId": str(uuid.uuid4()), "externalId": "x" * 8})
    server.script(Drip(organization, interval=0.006, chunk=1), call="register-organization")
    server.script(Stall(), Stall(), call="register-user")
    elapsed = timed_login(client, "bob")
    assert 1.0 < elapsed < BUDGET + SLACK
    assert server.calls() == ["register-organization", "register-user"]
    profile = UpsolveProfile.objects.get(user__username="bob")
    assert profile.tenant.is_registered and not profile.is_registered
    assert profile.last_error


def test_login_against_connect_timeouts(client, server, ada, logs):
    """Each attempt may wait the 1.5 s connect timeout; the deadline cuts the retry short."""
    before = UpsolveProfile.objects.get(user=ada)
    with (
        unaccepting_port() as port,
        override_upsolve(API_URL=f"http://127.0.0.1:{port}/v1/api/projects"),
    ):
        elapsed = timed_login(client)
    assert elapsed < BUDGET + SLACK
    assert breaker_failures() == 2  # one retry
    assert_failure_kept_token(ada, before, logs)


def test_admin_actions_retry_more(server, ada):
    server.always(Respond(503, HTML_502))
    calls = server.count("user-token")
    with pytest.raises(exc.UpsolveUnavailable):
        refresh_token(ada)
    assert server.count("user-token") - calls == 1 + upsolve_settings.MAX_RETRIES


def test_a_stalled_body_costs_one_read_timeout_and_leaves_time_to_retry(server, ada, set_upsolve):
    """In the background budget the read timeout, not the whole deadline, bounds a stall."""
    set_upsolve(TIMEOUT=(1.0, 0.5), DEADLINE=10)
    calls = server.count("user-token")
    server.script(Drip(interval=3.0), call="user-token")  # headers, then 3 s of silence
    started = time.monotonic()
    profile = refresh_token(ada)
    assert time.monotonic() - started < 0.5 + 1.0 + SLACK  # one read timeout, backoff, retry
    assert server.count("user-token") - calls == 2
    assert profile.has_fresh_token(upsolve_settings.REFRESH_MARGIN)
