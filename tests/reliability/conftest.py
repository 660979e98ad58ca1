"""Fixtures of the reliability suite: a loopback fault server, real logins, a secret guard.

Plain helpers are in :mod:`tests.reliability.helpers`, the fault table in
:mod:`tests.reliability.cases`.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client

from django_upsolve import breaker
from django_upsolve.models import UpsolveProfile
from tests.helpers import API_KEY, log_in, make_user, override_upsolve
from tests.reliability.faultserver import FaultServer
from tests.reliability.helpers import LogCapture, assert_secret_free
from tests.reliability.routing import pinned


@pytest.fixture(autouse=True)
def logs() -> Iterator[LogCapture]:
    """All log output at DEBUG (every logger, urllib3 included); it must stay secret-free."""
    capture = LogCapture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(level)
    assert_secret_free(capture.text)


@pytest.fixture(params=["default", "redis"])
def cache_alias(request: pytest.FixtureRequest) -> Iterator[str]:
    """Breaker and locks in the local-memory cache, then in Redis (``UPSOLVE["CACHE_ALIAS"]``),
    with the patience of ``patient_cache``.

    Only this run's keys are removed from Redis afterwards (the prefix is per run).
    """
    alias: str = request.param
    if alias == "redis":
        request.getfixturevalue("patient_cache")
    with override_upsolve(CACHE_ALIAS=alias):
        breaker.reset()
        yield alias
    if alias == "redis":
        redis = caches["redis"]
        client = redis._cache.get_client()
        prefix = settings.CACHES["redis"]["KEY_PREFIX"]
        for raw in client.scan_iter(match=f"{prefix}:*"):
            client.delete(raw)


@pytest.fixture
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every query of the test, from any thread, goes to this alias (parametrise with ``on``)."""
    with pinned(request.param):
        yield request.param


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """A loopback fault server, and ``UPSOLVE["API_URL"]`` pointing at it."""
    with (
        FaultServer(api_key=API_KEY) as fault_server,
        override_upsolve(API_URL=fault_server.api_url),
    ):
        yield fault_server


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (trusted only by a test that passes it)."""
    folder: Path = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


@pytest.fixture
def ada(client: Client, server: FaultServer) -> Any:
    """A user who logged in once while Upsolve was fine: registered, with a valid token."""
    user = make_user("ada")
    log_in(client, "ada")
    client.logout()
    assert UpsolveProfile.objects.get(user=user).has_fresh_token(300)
    return user
