"""A server dripping its answer's head, or its TLS handshake, cannot hold a call past the
deadline.

Each byte comes well within the timeouts (4 s to read, 1.5 s to connect, by default). For
the head, only the deadline can end the wait: ``django_upsolve.transport`` shuts the socket
down when it passes. Over plain HTTP and TLS, at the client and through a real login with
the default settings."""

from __future__ import annotations

import threading
import time

import pytest

from django_upsolve import exceptions as exc
from django_upsolve.budget import CallPolicy
from django_upsolve.client import UpsolveClient, get_client
from django_upsolve.models import UpsolveProfile
from tests.helpers import API_KEY, log_in, override_upsolve
from tests.reliability.faultserver import DripHead, FaultServer, dripping_handshake_port
from tests.reliability.helpers import assert_failure_kept_token, breaker_failures

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

USER = "8a2f6c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
SHORT = 0.8
SLACK = 0.5


def deadline_timers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "upsolve-deadline"]


def call_user_token(client: UpsolveClient, deadline: float = SHORT):
    policy = CallPolicy.within(deadline, max_retries=1)
    return client.user_token(user_id=USER, expiration=3600, policy=policy)


def assert_cut_at_the_deadline(client: UpsolveClient, server: FaultServer) -> None:
    server.script(DripHead())  # a retry would get a quick answer, and the call succeed
    calls = server.count()
    started = time.monotonic()
    with pytest.raises(exc.UpsolveTimeout, match="deadline ran out"):
        call_user_token(client)
    assert time.monotonic() - started < SHORT + SLACK
    assert server.count() - calls == 1
    assert breaker_failures() == 1
    assert not deadline_timers()


def test_dripped_headers_end_at_the_deadline(server):
    assert get_client().timeout[1] > 10 * DripHead.interval  # no read timeout fires
    assert_cut_at_the_deadline(get_client(), server)


def test_the_next_call_after_a_cut_succeeds(server):
    client = get_client()
    assert_cut_at_the_deadline(client, server)
    assert call_user_token(client, 5).token == server.tokens[-1]


def test_a_pooled_connection_outlives_the_deadline_of_its_call(server):
    """The timer is gone once the headers are in: it never cuts the connection later."""
    client = get_client()
    call_user_token(client, 0.3)
    assert not deadline_timers()
    time.sleep(0.5)
    call_user_token(client, 5)
    first, second = server.requests
    assert first.port == second.port  # the same keep-alive connection, still whole


def test_over_tls(certificate):
    cert = certificate[0]
    with (
        FaultServer(api_key=API_KEY, tls=certificate) as tls_server,
        override_upsolve(API_URL=tls_server.api_url),
    ):
        client = UpsolveClient.from_settings()
        client.session.verify = cert
        assert call_user_token(client, 5).token == tls_server.tokens[-1]  # verified, answered
        assert_cut_at_the_deadline(client, tls_server)  # a timeout, not a TLS error


def test_login_against_dripped_headers(client, server, ada, logs):
    """The defaults: a login spends at most LOGIN_DEADLINE (2.5 s) on Upsolve."""
    before = UpsolveProfile.objects.get(user=ada)
    server.script(DripHead(), DripHead(), call="user-token")
    started = time.monotonic()
    log_in(client, "ada")
    assert time.monotonic() - started < 2.5 + SLACK
    assert server.count("user-token") == 2  # the first login, then one cut attempt
    assert_failure_kept_token(ada, before, logs)
    assert "deadline ran out" in UpsolveProfile.objects.get(user=ada).last_error
    assert not deadline_timers()


def test_a_dripped_tls_handshake_ends_at_the_deadline():
    """CPython bounds a whole TLS handshake by the socket's timeout, which is the connect
    timeout cut to the time left: no timer is needed before the headers."""
    with (
        dripping_handshake_port() as port,
        override_upsolve(API_URL=f"https://127.0.0.1:{port}/v1/api/projects"),
    ):
        client = UpsolveClient.from_settings()
        assert client.timeout[0] > 10 * 0.1  # no connect timeout fires between the bytes
        started = time.monotonic()
        with pytest.raises(exc.UpsolveTimeout, match="deadline ran out"):
            call_user_token(client)
        assert time.monotonic() - started < SHORT + SLACK
        assert breaker_failures() == 1
        assert not deadline_timers()
