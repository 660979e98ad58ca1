"""``manage.py upsolve_status``: checks, breaker and counts, never the key."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from django_upsolve import breaker
from tests.helpers import API_KEY

pytestmark = pytest.mark.django_db


def status() -> str:
    out = StringIO()
    call_command("upsolve_status", stdout=out, no_color=True)
    return out.getvalue()


def test_reports_configuration_breaker_and_counts(make_tenant, make_profile, settings):
    settings.DEBUG = True  # no W003 for the tests' local-memory cache
    acme = make_tenant("Acme")
    make_tenant("Broken", registered=False, last_error="HTTP 503", last_error_at=timezone.now())
    make_tenant("Waiting", registered=False)
    make_profile(tenant=acme, token="valid")
    make_profile(tenant=acme, token="expiring")
    make_profile(tenant=acme, token="expired", last_error="HTTP 502", last_error_at=timezone.now())
    make_profile(tenant=acme, token=None, registered=False)

    output = status()

    assert output.splitlines() == [
        "Configuration: OK",
        "API key: set (never shown)",
        "API URL: https://api.upsolve.test/v1/api/projects",
        "Circuit breaker: closed, 0 consecutive failure(s)",
        "Tenants: 3 (registered 1, not registered 2, failing 1)",
        "Profiles: 4 (registered 3, not registered 1, "
        "valid tokens 2 of which 1 expiring, failing 1)",
    ]


def test_lists_configuration_problems_without_the_key(set_upsolve):
    set_upsolve(API_KEY="sk_live_0123456789", PROJECT_ID="")

    output = status()

    assert "Configuration: 1 error(s), " in output
    assert "  django_upsolve.E001: UPSOLVE['PROJECT_ID'] is not set." in output
    assert "  django_upsolve.W001: " in output
    assert "sk_live_0123456789" not in output
    assert "API key: set (never shown)" in output


def test_a_missing_key_is_said_so(set_upsolve):
    set_upsolve(API_KEY="")

    output = status()

    assert "API key: missing (never shown)" in output
    assert "django_upsolve.E001: UPSOLVE['API_KEY'] is not set." in output


def test_never_prints_the_key_even_in_a_url(set_upsolve):
    set_upsolve(API_URL=f"https://x.test/?key={API_KEY}")

    output = status()

    assert API_KEY not in output
    assert "API URL: https://x.test/?key=[redacted]" in output


def test_warnings_are_listed(settings):
    settings.DEBUG = False

    output = status()

    assert "Configuration: 0 error(s), 1 warning(s)" in output
    assert "  django_upsolve.W003: The 'default' cache is per-process local memory." in output


def test_an_open_breaker():
    breaker.record_failure(open_for=60)

    output = status()

    assert "Circuit breaker: open, 1 consecutive failure(s), open until 20" in output


def test_an_unreachable_cache(monkeypatch):
    def down():
        raise ConnectionError("cache down")

    monkeypatch.setattr(breaker, "status", down)

    assert "Circuit breaker: unknown (ConnectionError)" in status()
