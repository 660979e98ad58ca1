"""What the reliability tests check after a fault: logs and rows free of secrets, rows whole."""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

import pytest

from django_upsolve import breaker
from django_upsolve.models import UpsolveProfile, UpsolveTenant
from tests.helpers import API_KEY

#: A compact JWT as Upsolve issues them (the header is a JSON object: ``eyJ``...).
JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")


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


def on(*aliases: str) -> list[Any]:
    """Parameters for the indirect ``database`` fixture: real transactions on each alias."""
    return [
        pytest.param(alias, marks=pytest.mark.django_db(transaction=True, databases=[alias]))
        for alias in aliases
    ]


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
