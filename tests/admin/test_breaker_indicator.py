"""Both lists show the circuit breaker's state in one line, read from the cache only."""

from __future__ import annotations

import logging
import time

import pytest
from django.core.cache import caches

from django_upsolve import breaker

from .helpers import PROFILES, TENANTS

pytestmark = pytest.mark.django_db


def breaker_line(client, url: str) -> str:
    html = client.get(url).content.decode()
    start = html.index('<ul class="messagelist upsolve-breaker">')
    return html[start : html.index("</ul>", start)]


@pytest.mark.parametrize("url", [TENANTS, PROFILES])
def test_closed(admin_client, url):
    line = breaker_line(admin_client, url)

    assert '<li class="success">Upsolve circuit breaker closed: calls go through.' in line


@pytest.mark.parametrize("url", [TENANTS, PROFILES])
def test_closed_after_recent_failures(admin_client, url):
    breaker.record_failure()
    breaker.record_failure()

    line = breaker_line(admin_client, url)

    assert '<li class="warning">' in line
    assert "after 2 recent consecutive failures" in line


@pytest.mark.parametrize("url", [TENANTS, PROFILES])
def test_open(admin_client, url):
    breaker.record_failure(open_for=60)

    line = breaker_line(admin_client, url)

    assert '<li class="error">Upsolve circuit breaker open until ' in line
    assert "calls to Upsolve are paused" in line


def test_half_open(admin_client):
    caches["default"].set(breaker.OPEN_UNTIL, time.time() - 1)

    line = breaker_line(admin_client, PROFILES)

    assert '<li class="warning">Upsolve circuit breaker half-open' in line


def test_an_unreachable_cache_does_not_break_the_page(admin_client, monkeypatch, caplog):
    def down():
        raise ConnectionError("cache down")

    monkeypatch.setattr(breaker, "status", down)

    with caplog.at_level(logging.WARNING, logger="django_upsolve.admin"):
        line = breaker_line(admin_client, TENANTS)

    assert "state unknown (cache unavailable)" in line
    assert "Cannot read the Upsolve circuit breaker" in caplog.text


def test_the_line_is_not_on_other_pages(admin_client, make_profile):
    profile = make_profile()

    html = admin_client.get(f"{PROFILES}{profile.pk}/change/").content.decode()

    assert "upsolve-breaker" not in html
