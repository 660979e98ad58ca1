"""The share page in a real headless Chromium, under a strict Content-Security-Policy."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from django_upsolve.sandbox import views
from django_upsolve.sandbox.models import SandboxOrganization, SandboxUser

from ..browser.chromium import CHROMIUM, CHROMIUM_ARGS, playwright_sync_api
from .helpers import PROJECT_ID, ROLE_ID

STRICT_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; frame-ancestors 'self'"

pytestmark = pytest.mark.browser


def test_the_countdown_runs_and_shows_the_expiry(live_server: Any) -> None:
    sync_api = playwright_sync_api()
    org = SandboxOrganization.objects.create(project_id=PROJECT_ID, name="Acme Ltd")
    user = SandboxUser.objects.create(
        project_id=PROJECT_ID, organization=org, role_id=ROLE_ID, name="Grace Hopper"
    )
    query = urlencode({"jwt": views.emulator.issue_token(user, 3600), "theme": "dark"})
    url = f"{live_server.url}/sandbox/share/dashboard/dash-1?{query}"
    problems: list[str] = []

    def add_csp(route: Any) -> None:
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda message: problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.route("**/*", add_csp)
            page.clock.install()
            page.goto(url)
            assert page.locator("[data-upsolve-org]").inner_text() == "Acme Ltd"
            assert page.get_by_text("Grace Hopper").is_visible()
            countdown = page.locator("#upsolve-countdown")
            page.clock.run_for("30:00")
            assert countdown.inner_text().startswith("0:29:")
            page.clock.run_for("30:01")
            assert countdown.inner_text() == "Token expired"
            assert page.locator("[data-upsolve-expired='true']").count() == 1
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        finally:
            browser.close()
    assert background == "rgb(21, 24, 31)"  # the dark theme's stylesheet loaded under the CSP
    assert problems == []
