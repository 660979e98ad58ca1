"""The local sandbox's traps that code fixes: framing from another loopback name, and tokens
in the access log."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from django_upsolve.log import RedactTokensFilter, redact_tokens
from django_upsolve.sandbox import views
from django_upsolve.sandbox.models import SandboxOrganization, SandboxUser
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, playwright_sync_api
from tests.helpers import make_jwt
from tests.sandbox.helpers import PROJECT_ID, ROLE_ID

TOKEN = make_jwt(3600, sub="ada")


def share_url(base: str = "") -> str:
    org = SandboxOrganization.objects.create(project_id=PROJECT_ID, name="Acme Ltd")
    user = SandboxUser.objects.create(
        project_id=PROJECT_ID, organization=org, role_id=ROLE_ID, name="Ada"
    )
    query = urlencode({"jwt": views.emulator.issue_token(user, 3600)})
    return f"{base}/sandbox/share/dashboard/sales?{query}"


# Framing -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "localhost"])
def test_on_a_loopback_host_every_loopback_origin_may_frame_the_share_page(client, host):
    response = client.get(share_url(), HTTP_HOST=host)

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert policy.endswith("; frame-ancestors 'self' http://localhost:* http://127.0.0.1:*")
    assert "script-src 'self'; style-src 'self'" in policy  # still strict
    assert response["X-Frame-Options"] == "SAMEORIGIN"  # for browsers without CSP


@pytest.mark.django_db
def test_elsewhere_only_the_same_origin_may_frame_it(client):
    response = client.get(share_url(), HTTP_HOST="testserver")

    assert "Content-Security-Policy" not in response
    assert response["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.browser
@pytest.mark.urls("tests.quickstart.urls")
def test_a_page_on_127_0_0_1_shows_the_frame_served_by_localhost(live_server: Any) -> None:
    sync_api = playwright_sync_api()
    frame_src = share_url(live_server.url)
    assert urlsplit(frame_src).hostname == "localhost"
    framing = urlencode({"src": frame_src})
    page_url = f"http://127.0.0.1:{urlsplit(frame_src).port}/framing/?{framing}"

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(page_url)
            frame = page.frame_locator("iframe")
            organization = frame.locator("[data-upsolve-org]").inner_text(timeout=10_000)
        finally:
            browser.close()
    assert organization == "Acme Ltd"


# Tokens in the access log --------------------------------------------------------------------


def record(msg: str, *args: Any) -> logging.LogRecord:
    return logging.LogRecord("django.server", logging.INFO, __file__, 1, msg, args, None)


def test_the_filter_redacts_tokens_in_share_urls():
    line = record('"%s" %s %s', f"GET /sandbox/share/dashboard/7?jwt={TOKEN}&theme=dark", 200, 9)

    assert RedactTokensFilter().filter(line) is True

    assert line.getMessage() == '"GET /sandbox/share/dashboard/7?jwt=[redacted]&theme=dark" 200 9'


def test_the_filter_redacts_any_jwt():
    line = record("token %s refreshed", TOKEN)

    RedactTokensFilter().filter(line)

    assert line.getMessage() == "token [redacted] refreshed"


def test_other_records_are_left_as_they_are():
    line = record('"%s" %s', "GET /admin/ HTTP/1.1", 200)

    assert RedactTokensFilter().filter(line) is True

    assert (line.msg, line.args) == ('"%s" %s', ("GET /admin/ HTTP/1.1", 200))


def test_a_malformed_record_is_passed_on_for_its_handler_to_report():
    line = record("%s and %s", "only one")

    assert RedactTokensFilter().filter(line) is True
    assert (line.msg, line.args) == ("%s and %s", ("only one",))


def test_redact_tokens_stops_at_the_end_of_the_value():
    text = "a?jwt=abc.def.ghi&b=1 jwt=x' z"
    assert redact_tokens(text) == "a?jwt=[redacted]&b=1 jwt=[redacted]' z"
