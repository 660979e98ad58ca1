"""What tests across the suite share: users and logins, tokens, changes to ``UPSOLVE``.

Fixtures live in the ``conftest.py`` files; plain functions and constants live here
(and in a package's own ``helpers`` module), so no test imports a conftest or another test.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import Client, override_settings

#: The repository's root, where ``manage.py`` is.
ROOT = Path(__file__).resolve().parents[1]
#: The key of the test settings (a shape Upsolve issues); it must never show in any output.
API_KEY: str = settings.UPSOLVE["API_KEY"]
#: Every user made here logs in with it.
PASSWORD = "correct horse"
#: ``cache.CALL_TIMEOUT`` for tests of where state lives in the real Redis (``patient_cache``).
PATIENT_CALL_TIMEOUT = 5.0
SIGNING_KEY = "tests-signing-key-0123456789abcdef0123"


def make_jwt(lifetime: int = 3600, *, iat: float | None = None, **claims: Any) -> str:
    """A signed JWT like Upsolve's, with ``iat`` and ``exp`` set from ``lifetime``."""
    issued = int(time.time() if iat is None else iat)
    payload = {"iat": issued, "exp": issued + lifetime, **claims}
    return jwt.encode(payload, SIGNING_KEY, algorithm="HS256")


def make_user(username: str = "ada", email: str = "", **fields: Any) -> Any:
    """A user of the (default) user model who logs in with ``PASSWORD``."""
    return get_user_model().objects.create_user(username, email=email, password=PASSWORD, **fields)


def log_in(client: Client, username: str) -> HttpResponse:
    """Log in through the real login view; whatever Upsolve does, it is the usual redirect."""
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, "a login must never fail because of Upsolve"
    assert response["Location"] == settings.LOGIN_REDIRECT_URL
    assert client.session.get("_auth_user_id")
    return response


def upsolve_with(**changes: Any) -> dict[str, Any]:
    """The current ``UPSOLVE`` dict with some keys changed."""
    return {**settings.UPSOLVE, **changes}


def override_upsolve(**changes: Any) -> override_settings:
    """``override_settings`` for some ``UPSOLVE`` keys, keeping the others.

    A context manager or a decorator; for the rest of a test, the ``set_upsolve`` fixture.
    """
    return override_settings(UPSOLVE=upsolve_with(**changes))


def hour_token_ending(expires_at: datetime) -> dict[str, datetime]:
    """Profile fields for an hour-long token expiring at ``expires_at`` (for ``update()``):
    moving only the expiry would make a token that short, which stays fresh longer."""
    return {"token_expires_at": expires_at, "token_refreshed_at": expires_at - timedelta(hours=1)}


def run_suite(path: str, settings_module: str) -> None:
    """Run the pytest suite at ``path`` in a subprocess under other settings (a user model or
    an app list this run cannot switch to) and fail unless it passed whole."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            path,
            f"--ds={settings_module}",
            "-q",
            "-p",
            "no:randomly",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
    assert "failed" not in result.stdout
    assert "skipped" not in result.stdout
