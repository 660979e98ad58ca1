"""Socket-level rows of docs/faults.rst on real loopback sockets: at the client, then at login.

Refused and never-accepted ports, a server that stalls before its headers or drips its
body, a TLS certificate nobody trusts, a 50 MB body, a redirect to another host, a DNS
failure. Deadlines here are short (0.6 s) to keep the suite fast; ``test_deadlines.py``
proves the defaults.
"""

from __future__ import annotations

import logging
import socket
import time
import tracemalloc

import pytest
import requests

from django_upsolve import exceptions as exc
from django_upsolve.budget import CallPolicy
from django_upsolve.client import get_client
from django_upsolve.models import UpsolveProfile
from tests.helpers import API_KEY, log_in, override_upsolve
from tests.reliability.faultserver import (
    Drip,
    FaultServer,
    Huge,
    Respond,
    Stall,
    refused_port,
    unaccepting_port,
)
from tests.reliability.helpers import assert_failure_kept_token, breaker_failures

pytestmark = pytest.mark.django_db

USER = "8a2f6c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
SHORT = 0.6  # the deadline of these tests, in seconds
SLACK = 0.5  # what the deadline may be overrun by (thread scheduling, a loaded CI machine)


def call_user_token(deadline: float = SHORT):
    return get_client().user_token(
        user_id=USER, expiration=3600, policy=CallPolicy.within(deadline, max_retries=1)
    )


def api_url(port: int, scheme: str = "http", host: str = "127.0.0.1") -> str:
    return f"{scheme}://{host}:{port}/v1/api/projects"


def login_fails_but_keeps_the_token(client, ada, logs, **changes) -> UpsolveProfile:
    """Log ``ada`` in with ``changes`` to ``UPSOLVE``; the previous token must survive."""
    before = UpsolveProfile.objects.get(user=ada)
    with override_upsolve(LOGIN_DEADLINE=SHORT, **changes):
        log_in(client, "ada")
    assert_failure_kept_token(ada, before, logs)
    return UpsolveProfile.objects.get(user=ada)


# Connection refused, DNS failure: fast, at most one retry. ------------------------------------


def test_refused_connection(server):
    with (
        refused_port() as port,
        override_upsolve(API_URL=api_url(port)),
        pytest.raises(exc.UpsolveConnectionError) as raised,
    ):
        call_user_token(5)
    assert isinstance(raised.value, requests.exceptions.ConnectionError)
    assert raised.value.status_code is None
    assert breaker_failures() == 2  # two attempts: one retry


def test_refused_connection_at_login(client, ada, logs):
    with refused_port() as port:
        login_fails_but_keeps_the_token(client, ada, logs, API_URL=api_url(port))


@pytest.fixture
def no_dns(monkeypatch):
    """Every lookup of ``upsolve.invalid`` fails as a resolver would."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == "upsolve.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return api_url(443, "https", "upsolve.invalid")


def test_dns_failure(no_dns):
    with override_upsolve(API_URL=no_dns), pytest.raises(exc.UpsolveConnectionError):
        call_user_token(5)
    assert breaker_failures() == 2


def test_dns_failure_at_login(client, ada, logs, no_dns):
    login_fails_but_keeps_the_token(client, ada, logs, API_URL=no_dns)


# Connect timeout, stall before the headers, slow drip: bounded by the deadline. -------------


def assert_within_deadline(started: float) -> None:
    assert time.monotonic() - started < SHORT + SLACK


def test_connect_timeout():
    with unaccepting_port() as port, override_upsolve(API_URL=api_url(port)):
        started = time.monotonic()
        with pytest.raises(exc.UpsolveTimeout) as raised:
            call_user_token()
    assert_within_deadline(started)
    assert isinstance(raised.value, requests.exceptions.Timeout)


def test_connect_timeout_at_login(client, ada, logs):
    with unaccepting_port() as port:
        login_fails_but_keeps_the_token(client, ada, logs, API_URL=api_url(port))


def test_stall_before_headers(server):
    server.script(Stall(), Stall())
    started = time.monotonic()
    with pytest.raises(exc.UpsolveTimeout):
        call_user_token()
    assert_within_deadline(started)
    assert server.count() == 1  # the deadline left no time for a retry


def test_stall_at_login(client, ada, logs, server):
    server.script(Stall(), Stall())
    login_fails_but_keeps_the_token(client, ada, logs)


def test_slow_drip(server):
    # A byte every 50 ms: each read returns within any read timeout, only the deadline ends it.
    server.script(Drip(interval=0.05))
    started = time.monotonic()
    with pytest.raises(exc.UpsolveTimeout) as raised:
        call_user_token()
    assert_within_deadline(started)
    assert raised.value.status_code == 200


def test_slow_drip_at_login(client, ada, logs, server):
    server.script(Drip(interval=0.05), Drip(interval=0.05))
    login_fails_but_keeps_the_token(client, ada, logs)


def test_a_drip_that_ends_in_time_is_fine(server):
    server.script(Drip(interval=0.001, chunk=64))
    assert call_user_token(5).token == server.tokens[-1]


# TLS certificate failure: never retried, logged as an error. -----------------------------------


@pytest.fixture
def untrusted(certificate):
    with FaultServer(api_key=API_KEY, tls=certificate) as tls_server:
        yield tls_server


def test_tls_certificate_failure(untrusted):
    with override_upsolve(API_URL=untrusted.api_url), pytest.raises(exc.UpsolveTLSError) as raised:
        call_user_token(5)
    assert isinstance(raised.value, requests.exceptions.SSLError)
    assert breaker_failures() == 1  # one attempt, no retry
    assert untrusted.count() == 0  # the request (and its key) never left the client


def test_tls_certificate_failure_at_login(client, ada, logs, untrusted):
    login_fails_but_keeps_the_token(client, ada, logs, API_URL=untrusted.api_url)
    errors = logs.messages("django_upsolve", logging.ERROR)
    assert any("TLS" in message for message in errors)


# A 50 MB body: reading stops at the cap, memory stays flat. -------------------------------------


def test_huge_body_stops_at_the_cap(server):
    huge = Huge()
    server.script(huge)
    tracemalloc.start()
    try:
        with pytest.raises(exc.UpsolveBadResponse, match="larger than 65536 bytes"):
            call_user_token(5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024
    assert huge.finished.wait(5)
    assert huge.sent < huge.size / 2  # the client hung up long before the end


def test_huge_body_at_login(client, ada, logs, server):
    server.script(Huge(size=10 * 1024 * 1024))
    login_fails_but_keeps_the_token(client, ada, logs)


# A redirect to another host: not followed, so the key never goes there. ----------------------


@pytest.fixture
def elsewhere():
    with FaultServer(api_key=API_KEY) as other:
        yield other


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_not_followed(server, elsewhere, status):
    server.script(Respond(status, b"", {"Location": f"{elsewhere.api_url}/user-token"}))
    with pytest.raises(exc.UpsolveBadResponse) as raised:
        call_user_token(5)
    assert raised.value.status_code == status
    assert server.count() == 1
    assert elsewhere.count() == 0


def test_redirect_at_login(client, ada, logs, server, elsewhere):
    server.script(Respond(307, b"", {"Location": f"{elsewhere.api_url}/user-token"}))
    login_fails_but_keeps_the_token(client, ada, logs)
    assert elsewhere.count() == 0
