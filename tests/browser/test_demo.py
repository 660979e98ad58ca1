"""The demo in a real browser: log in, see the dashboard, watch the token being swapped."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

FRAME = "iframe[data-upsolve-embed]"
PASSWORD = "upsolve-demo"
TOKEN_URL = "**/upsolve/token/"


@pytest.fixture
def problems() -> list[str]:
    """Console errors (CSP violations too) and failed responses; the page fixture wants none."""
    return []


@pytest.fixture
def page(browser: Any, demo_server: str, problems: list[str]) -> Iterator[Any]:
    context = browser.new_context(base_url=demo_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    yield page
    context.close()
    assert problems == []


def log_in(page: Any, username: str) -> None:
    page.goto("/analytics/")
    assert urlsplit(page.url).path == "/login/"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/analytics/")


def record_errors(page: Any) -> None:
    """Collect the ``status`` of every ``upsolve:error`` in ``window.upsolveErrors``."""
    page.evaluate(
        """window.upsolveErrors = [];
        document.addEventListener("upsolve:error", (e) => upsolveErrors.push(e.detail.status));"""
    )


def wait_until(page: Any, condition: Any, timeout: float) -> None:
    """Poll ``condition()`` from Python, letting Playwright dispatch route handlers meanwhile."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"Still waiting after {timeout} s."
        page.wait_for_timeout(100)


def drop_expected(problems: list[str], status: int) -> None:
    """Remove the failed token response and Chromium's console line about it, once each."""
    expected = [
        p for p in problems if str(status) in p and ("/upsolve/token/" in p or "resource" in p)
    ]
    assert len(expected) == 2, problems
    problems[:] = [p for p in problems if p not in expected]


def expiring_at(expires: str) -> re.Pattern[str]:
    """The ``exp`` claim of a token whose expiry the page shows as ``expires``.

    The page rounds the expiry up to the second, the claim is a whole second: one earlier at most.
    """
    return re.compile(f"^({int(expires) - 1}|{expires})$")


def jwt_of(src: str) -> str:
    return parse_qs(urlsplit(src).query)["jwt"][0]


def frame_src(page: Any) -> str:
    return str(page.evaluate(f"document.querySelector({FRAME!r}).src"))


def wait_for_new_src(page: Any, old: str, timeout: float) -> str:
    """Poll from Python: the page's own timers may be paused by ``page.clock``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        src = frame_src(page)
        if src != old:
            return src
        time.sleep(0.1)
    raise AssertionError(f"The iframe kept its token for {timeout} s.")


def test_the_dashboard_names_the_organization_and_its_token_is_swapped_in_place(
    page: Any, sync_api: Any, screenshot_dir: Path
) -> None:
    expect = sync_api.expect
    log_in(page, "alice")
    frame = page.frame_locator(FRAME)
    expect(frame.locator("#upsolve-org")).to_have_text("Acme Corp")
    expect(frame.locator("#upsolve-user")).to_have_text("Alice Anders")
    expect(frame.locator("[data-upsolve-property='organization_id'] td")).to_have_text("acme")
    page.screenshot(path=screenshot_dir / "analytics.png")

    page.evaluate("window.upsolveTestMarker = 'same page'")
    old_src = frame_src(page)
    old_expires = int(page.locator(FRAME).get_attribute("data-upsolve-expires"))
    new_src = wait_for_new_src(page, old_src, timeout=15)

    assert page.evaluate("window.upsolveTestMarker") == "same page", "the page was reloaded"
    assert jwt_of(new_src) != jwt_of(old_src)
    assert new_src.split("jwt=")[0] == old_src.split("jwt=")[0]
    assert parse_qs(urlsplit(new_src).query)["theme"] == ["light"]
    new_expires = page.locator(FRAME).get_attribute("data-upsolve-expires")
    assert int(new_expires) > old_expires
    # The iframe loaded the new token, which the emulator accepts, for the same organization.
    expect(frame.locator("#upsolve-expires")).to_have_attribute(
        "data-upsolve-exp", expiring_at(new_expires)
    )
    expect(frame.locator("#upsolve-org")).to_have_text("Acme Corp")


def test_a_tab_that_slept_past_the_expiry_refreshes_when_it_wakes(page: Any, sync_api: Any) -> None:
    expect = sync_api.expect
    page.clock.install()
    log_in(page, "carol")
    frame = page.frame_locator(FRAME)
    expect(frame.locator("#upsolve-org")).to_have_text("Globex")

    # The laptop lid closes: no timer of the page fires any more.
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 1)  # in seconds, not in the past
    old_src = frame_src(page)
    expires = int(page.locator(FRAME).get_attribute("data-upsolve-expires"))
    time.sleep(max(expires - time.time(), 0) + 0.5)  # the token has expired meanwhile
    assert frame_src(page) == old_src, "a timer fired although the clock was paused"

    # The lid opens: the wall clock jumped, timers are still paused; the page becomes visible.
    page.clock.set_system_time(time.time())
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    new_src = wait_for_new_src(page, old_src, timeout=10)
    assert jwt_of(new_src) != jwt_of(old_src)
    new_expires = page.locator(FRAME).get_attribute("data-upsolve-expires")
    assert int(new_expires) > expires
    expect(frame.locator("#upsolve-expires")).to_have_attribute(
        "data-upsolve-exp", expiring_at(new_expires)
    )
    expect(frame.locator("#upsolve-org")).to_have_text("Globex")


def test_a_user_without_organization_is_told_analytics_are_not_available(
    page: Any, sync_api: Any
) -> None:
    log_in(page, "admin")
    placeholder = page.get_by_role("status")
    sync_api.expect(placeholder).to_contain_text("Analytics are not available for your account.")
    assert placeholder.get_attribute("data-upsolve-placeholder") == "not-available"
    assert page.locator("iframe").count() == 0
    assert page.evaluate("typeof window.djangoUpsolve") == "undefined"


def test_a_failed_refresh_is_reported_and_retried_after_retry_after(
    page: Any, sync_api: Any, problems: list[str]
) -> None:
    answers: list[tuple[int, float]] = []

    def token_endpoint(route: Any) -> None:
        if not answers:
            answers.append((503, time.monotonic()))
            headers = {"Retry-After": "4"}  # longer than the first backoff (2 s)
            route.fulfill(status=503, headers=headers, json={"error": "token_unavailable"})
        else:
            response = route.fetch()
            answers.append((response.status, time.monotonic()))
            route.fulfill(response=response)

    page.route(TOKEN_URL, token_endpoint)
    log_in(page, "bob")
    record_errors(page)
    old_src = frame_src(page)
    new_src = wait_for_new_src(page, old_src, timeout=15)
    assert [status for status, _ in answers[:2]] == [503, 200]
    assert 3.5 < answers[1][1] - answers[0][1] < 6
    assert page.evaluate("window.upsolveErrors") == [503]
    assert jwt_of(new_src) != jwt_of(old_src)
    sync_api.expect(page.frame_locator(FRAME).locator("#upsolve-org")).to_have_text("Acme Corp")
    drop_expected(problems, 503)


def test_a_request_left_hanging_is_aborted_and_retried(page: Any) -> None:
    answers: list[int | str] = []

    def token_endpoint(route: Any) -> None:
        if not answers:
            answers.append("stalled")  # never answered, as across a laptop's sleep
        else:
            response = route.fetch()
            answers.append(response.status)
            route.fulfill(response=response)

    page.clock.install()
    page.route(TOKEN_URL, token_endpoint)
    log_in(page, "carol")
    record_errors(page)
    page.evaluate("window.djangoUpsolve.refresh()")
    wait_until(page, lambda: answers == ["stalled"], timeout=5)
    page.clock.fast_forward("00:16")  # past the script's 15 s request timeout
    wait_until(page, lambda: len(answers) == 2, timeout=10)
    assert answers == ["stalled", 200]
    assert page.evaluate("window.upsolveErrors") == [None]


def test_a_refused_csrf_token_stops_the_refresh(page: Any, problems: list[str]) -> None:
    answers: list[int] = []

    def token_endpoint(route: Any) -> None:
        response = route.fetch()
        answers.append(response.status)
        route.fulfill(response=response)

    page.clock.install()
    page.route(TOKEN_URL, token_endpoint)
    log_in(page, "alice")
    record_errors(page)
    old_src = frame_src(page)
    page.context.clear_cookies(name="csrftoken")  # Django now refuses every POST: 403
    page.evaluate("window.djangoUpsolve.refresh()")
    wait_until(page, lambda: answers == [403], timeout=5)
    page.clock.run_for("05:00")  # every timer of the next five minutes fires
    page.wait_for_timeout(500)
    assert answers == [403]
    assert page.evaluate("window.upsolveErrors") == [403]
    assert frame_src(page) == old_src
    drop_expected(problems, 403)
