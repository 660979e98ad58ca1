"""Fixtures of the reliability suite: a loopback fault server, real logins, a secret guard."""

from __future__ import annotations

import logging
import re
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client, override_settings

from django_upsolve import breaker
from django_upsolve.conf import upsolve_settings
from django_upsolve.models import UpsolveProfile, UpsolveTenant
from tests.reliability.faultserver import FaultServer
from tests.reliability.routing import pinned

API_KEY = settings.UPSOLVE["API_KEY"]
#: A compact JWT as Upsolve issues them (the header is a JSON object: ``eyJ``...).
JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")
PASSWORD = "correct horse"


def upsolve(**changes: Any) -> override_settings:
    """``override_settings`` for some ``UPSOLVE`` keys, keeping the others."""
    return override_settings(UPSOLVE={**upsolve_settings.raw, **changes})


class LogCapture(logging.Handler):
    """Every record of every logger, formatted with its traceback, as the operator sees it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def messages(self, logger: str = "", level: int = logging.NOTSET) -> list[str]:
        """Messages of ``logger`` (and its children) at ``level`` or above."""
        return [
            r.getMessage()
            for r in self.records
            if r.levelno >= level and (r.name == logger or r.name.startswith(logger))
        ]


def assert_secret_free(text: str, *secrets: str) -> None:
    """Neither the API key, nor a JWT, nor any of ``secrets`` appears in ``text``."""
    assert API_KEY not in text
    assert API_KEY.removeprefix("up_admin_") not in text
    assert not JWT.search(text), "a full token leaked"
    for secret in secrets:
        assert secret not in text


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
    """Breaker and locks in the local-memory cache, then in Redis (``UPSOLVE["CACHE_ALIAS"]``).

    Only this run's keys are removed from Redis afterwards (the prefix is per run).
    """
    alias: str = request.param
    with upsolve(CACHE_ALIAS=alias):
        breaker.reset()
        yield alias
    if alias == "redis":
        redis = caches["redis"]
        client = redis._cache.get_client()
        prefix = settings.CACHES["redis"]["KEY_PREFIX"]
        for raw in client.scan_iter(match=f"{prefix}:*"):
            client.delete(raw)


def on(*aliases: str) -> list[Any]:
    """Parameters for the indirect ``database`` fixture: real transactions on each alias."""
    return [
        pytest.param(alias, marks=pytest.mark.django_db(transaction=True, databases=[alias]))
        for alias in aliases
    ]


@pytest.fixture
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every query of the test, from any thread, goes to this alias (parametrise with ``on``)."""
    with pinned(request.param):
        yield request.param


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """A loopback fault server, and ``UPSOLVE["API_URL"]`` pointing at it."""
    with FaultServer(api_key=API_KEY) as fault_server, upsolve(API_URL=fault_server.api_url):
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


def make_user(username: str, email: str = "") -> Any:
    return get_user_model().objects.create_user(username, email=email, password=PASSWORD)


def log_in(client: Client, username: str) -> None:
    """Log in through the real login view; whatever Upsolve does, it is the usual redirect."""
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, "a login must never fail because of Upsolve"
    assert response["Location"] == settings.LOGIN_REDIRECT_URL
    assert client.session.get("_auth_user_id")


def assert_rows_whole() -> None:
    """No half-written rows: each tenant and profile is either registered or not, completely."""
    for tenant in UpsolveTenant.objects.all():
        assert (tenant.upsolve_id is None) == (tenant.registered_at is None)
        assert bool(tenant.last_error) == (tenant.last_error_at is not None)
    for profile in UpsolveProfile.objects.all():
        if profile.registered_at is not None:
            assert profile.tenant_id is not None and profile.role_id is not None
            assert profile.tenant.is_registered
        if profile.token:
            assert profile.registered_at is not None
            assert profile.token_expires_at is not None and profile.token_refreshed_at is not None
        else:
            assert profile.token_expires_at is None
        assert bool(profile.last_error) == (profile.last_error_at is not None)


def breaker_failures() -> int:
    return breaker.status().failures


@pytest.fixture
def ada(client: Client, server: FaultServer) -> Any:
    """A user who logged in once while Upsolve was fine: registered, with a valid token."""
    user = make_user("ada")
    log_in(client, "ada")
    client.logout()
    assert UpsolveProfile.objects.get(user=user).has_fresh_token(300)
    return user


def assert_failure_kept_token(user: Any, before: UpsolveProfile, logs: LogCapture) -> None:
    """The sync failed: logged, recorded on the profile, the previous valid token kept."""
    after = UpsolveProfile.objects.get(user=user)
    assert (after.token, after.token_expires_at) == (before.token, before.token_expires_at)
    assert after.has_fresh_token(0)
    assert after.last_error and after.last_error_at
    assert_secret_free(after.last_error, before.token)
    # One line, no control characters: PostgreSQL cannot even store a NUL.
    assert not any(unicodedata.category(ch) == "Cc" for ch in after.last_error)
    failures = logs.messages("django_upsolve", logging.INFO)
    assert any(f"sync failed for user pk={user.pk}" in m for m in failures)
    assert_rows_whole()
