"""The demo in a real browser: log in, see the dashboard, watch the token being swapped.

The demo runs in background mode: a login queues its sync, the demo's ``db_worker`` runs it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import PASSWORD, Demo

pytestmark = pytest.mark.browser

FRAME = "iframe[data-upsolve-embed]"
FILLED_FRAME = f"{FRAME}[src*='jwt=']"
TOKEN_URL = "**/upsolve/token/"
README = Path(__file__).resolve().parents[2] / "README.rst"


@pytest.fixture
def problems() -> list[str]:
    """Console errors (CSP violations too) and failed responses; the page fixture wants none."""
    return []


def watch(page: Any, problems: list[str]) -> None:
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )


@pytest.fixture
def page(browser: Any, demo_server: str, problems: list[str]) -> Iterator[Any]:
    context = browser.new_context(base_url=demo_server, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    watch(page, problems)
    yield page
    context.close()
    assert problems == []


def log_in(page: Any, username: str, *, filled: bool = True) -> None:
    """Log in from the analytics page; with ``filled``, wait for the frame to get its token.

    A user's first login queues the sync: the page shows a pending frame until the worker
    has stored the token and ``upsolve.js`` has fetched it.
    """
    page.goto("/analytics/")
    assert urlsplit(page.url).path == "/login/"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/analytics/")
    if filled:
        page.wait_for_selector(FILLED_FRAME, state="attached", timeout=15_000)


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
    page: Any, sync_api: Any
) -> None:
    expect = sync_api.expect
    log_in(page, "alice")
    frame = page.frame_locator(FRAME)
    expect(frame.locator("#upsolve-org")).to_have_text("Acme Corp")
    expect(frame.locator("#upsolve-user")).to_have_text("Alice Anders")
    expect(frame.locator("[data-upsolve-property='organization_id'] td")).to_have_text("acme")

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


def test_a_new_user_s_first_page_loads_at_once_and_fills_when_the_worker_has_the_token(
    page: Any, sync_api: Any, demo: Demo
) -> None:
    expect = sync_api.expect
    demo.manage("shell", "-c", NEW_MEMBER)
    asked: list[int] = []
    page.on("response", lambda r: asked.append(r.status) if "/upsolve/token/" in r.url else None)

    demo.pause_worker()  # Upsolve is out of reach: only the worker talks to it.
    try:
        started = time.monotonic()
        log_in(page, "dave", filled=False)
        loaded = time.monotonic() - started
        pending = page.get_by_role("status")
        expect(pending).to_have_text("Preparing your analytics…")
        assert page.locator(FRAME).is_hidden()
        wait_until(page, lambda: 202 in asked, timeout=5)  # "on its way: ask again soon"
        # While the worker stays away, the script asks less and less often: after Retry-After
        # (1 s) at first, 14 times in 14 s; slowing down, at most 9 times.
        page.wait_for_timeout(14_000)
        assert 3 <= asked.count(202) <= 9, asked
    finally:
        demo.resume_worker()
    resumed = time.monotonic()
    page.wait_for_selector(FILLED_FRAME, timeout=10_000)
    filled = time.monotonic() - resumed

    assert loaded < 5, "the login and its first page waited for something"
    assert filled < 4, f"the frame was filled {filled:.1f} s after the worker came back"
    assert page.get_by_role("status").count() == 0
    assert page.locator(FRAME).is_visible()
    assert asked[-1] == 200 and set(asked) == {202, 200}
    frame = page.frame_locator(FRAME)
    expect(frame.locator("#upsolve-user")).to_have_text("Dave Doe")
    expect(frame.locator("#upsolve-org")).to_have_text("Acme Corp")


NEW_MEMBER = """
from django.contrib.auth.models import User
from demo_project.saas.models import Membership, Organization
user = User.objects.create_user("dave", "dave@acme.test", "upsolve-demo", first_name="Dave",
                                last_name="Doe")
Membership.objects.create(user=user, organization=Organization.objects.get(slug="acme"))
"""


def test_a_user_without_organization_is_told_analytics_are_not_available(
    page: Any, sync_api: Any
) -> None:
    log_in(page, "admin", filled=False)
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

    log_in(page, "bob")
    record_errors(page)
    page.route(TOKEN_URL, token_endpoint)
    old_src = frame_src(page)
    new_src = wait_for_new_src(page, old_src, timeout=20)
    statuses = [status for status, _ in answers]
    # After Retry-After the old token may be stale or gone: the server queues a sync and
    # answers 202 (pending) or 200 "refreshing" until the worker has stored the new token.
    assert statuses[0] == 503
    assert statuses[-1] == 200
    assert set(statuses[1:-1]) <= {200, 202}, statuses
    assert 3.5 < answers[1][1] - answers[0][1] < 6
    assert page.evaluate("window.upsolveErrors") == [503]
    assert jwt_of(new_src) != jwt_of(old_src)
    sync_api.expect(page.frame_locator(FRAME).locator("#upsolve-org")).to_have_text("Acme Corp")
    drop_expected(problems, 503)


def test_injected_markup_cannot_direct_the_script(page: Any) -> None:
    """An iframe injected ahead of the embed (a sanitizer letting hub iframes through) names
    another token URL, CSRF cookie and tenant: the script reads none of them, only its tag."""
    log_in(page, "bob")

    def analytics(route: Any) -> None:
        response = route.fetch()
        html = response.text()
        src = re.search(r'<iframe src="([^"]+)"', html)
        assert src is not None
        hostile = (
            f'<iframe src="{src[1]}" data-upsolve-token-url="/logout/" '
            'data-upsolve-csrf-cookie="csrftoken" data-upsolve-tenant="globex"></iframe>'
        )
        route.fulfill(response=response, body=html.replace("<iframe", hostile + "<iframe", 1))

    posts: list[tuple[str, str | None]] = []
    page.on(
        "request",
        lambda r: (
            posts.append((urlsplit(r.url).path, r.headers.get("x-upsolve-tenant")))
            if r.method == "POST"
            else None
        ),
    )
    page.route("**/analytics/", analytics)
    page.goto("/analytics/")
    assert page.locator("iframe[data-upsolve-token-url='/logout/']").count() == 1
    page.evaluate("window.djangoUpsolve.refresh()")
    wait_until(page, lambda: posts, timeout=10)
    assert posts == [("/upsolve/token/", "acme")]
    page.goto("/analytics/")  # still signed in
    assert urlsplit(page.url).path == "/analytics/"


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
    log_in(page, "carol")
    record_errors(page)
    page.route(TOKEN_URL, token_endpoint)
    page.evaluate("window.djangoUpsolve.refresh()")
    wait_until(page, lambda: answers == ["stalled"], timeout=5)
    page.clock.fast_forward("00:16")  # past the script's 15 s request timeout
    wait_until(page, lambda: len(answers) == 2, timeout=10)
    # Retried and answered: the token, or 202 when the short test token was just renewing.
    assert answers[0] == "stalled" and answers[1] in (200, 202)
    assert page.evaluate("window.upsolveErrors") == [None]


def test_a_refused_csrf_token_stops_the_refresh(page: Any, problems: list[str]) -> None:
    answers: list[int] = []

    def token_endpoint(route: Any) -> None:
        response = route.fetch()
        answers.append(response.status)
        route.fulfill(response=response)

    page.clock.install()
    log_in(page, "alice")
    record_errors(page)
    page.route(TOKEN_URL, token_endpoint)
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


def test_two_tenants_see_their_own_revenue(
    browser: Any, demo_server: str, problems: list[str], screenshot_dir: Path
) -> None:
    """Acme (Pro plan: 12 months) and Globex (Free plan: 3 months), as the README shows them."""
    shown = {}
    for username, tenant in (("alice", "acme"), ("carol", "globex")):
        context = browser.new_context(base_url=demo_server, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        watch(page, problems)
        log_in(page, username)
        frame = page.frame_locator(FRAME)
        frame.locator("#upsolve-panel-1 .upsolve-figure").wait_for()
        frame.locator("rect.upsolve-bar").first.wait_for()
        shown[tenant] = (
            frame.locator("#upsolve-panel-1 .upsolve-figure").inner_text(),
            frame.locator("rect.upsolve-bar").count(),
            frame.locator("[data-upsolve-property='organization_id'] td").inner_text(),
        )
        page.screenshot(path=screenshot_dir / f"dashboard-{tenant}.png")
        context.close()

    assert shown["acme"][1:] == (12, "acme")
    assert shown["globex"][1:] == (3, "globex")
    assert shown["acme"][0] != shown["globex"][0]
    assert problems == []


@pytest.mark.parametrize(
    ("model", "name"), [("upsolvetenant", "admin-tenants"), ("upsolveprofile", "admin-profiles")]
)
def test_the_admin_lists_fit_1280_px(
    page: Any, model: str, name: str, screenshot_dir: Path
) -> None:
    for member in ("alice", "bob", "carol"):
        log_in(page, member)
        page.context.clear_cookies()
    log_in(page, "admin", filled=False)
    page.get_by_role("link", name="Admin").click()
    page.wait_for_url("**/admin/")
    page.goto(f"/admin/django_upsolve/{model}/")

    box = page.evaluate(
        """(() => { const box = document.querySelector("#result_list").parentElement;
            return [box.scrollWidth, box.clientWidth, document.documentElement.scrollWidth]; })()"""
    )
    assert box[0] <= box[1], f"the list is {box[0]} px wide in a {box[1]} px box"
    assert box[2] <= 1280
    assert page.locator("#result_list tbody tr").count() >= 2
    assert page.request.get("/favicon.ico").ok
    page.screenshot(path=screenshot_dir / f"{name}.png")


def test_only_staff_see_the_admin_link(page: Any) -> None:
    log_in(page, "bob")
    assert page.get_by_role("navigation").get_by_role("link", name="Admin").count() == 0
    page.context.clear_cookies()
    log_in(page, "admin", filled=False)
    assert page.get_by_role("navigation").get_by_role("link", name="Admin").is_visible()


# What the demo prints -------------------------------------------------------------------


def readme_logins() -> list[tuple[str, str]]:
    """The rows of the README's table of demo logins."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("Demo logins (password for all") :].split("\n\n")[1]
    return re.findall(r"^``(\w+)``\s+(.+?)\s*$", table, re.M)


def test_the_printed_logins_are_the_readme_s(demo: Demo) -> None:
    log = demo.log.read_text()
    printed = log[log.index("Demo logins (password for all") :].split("\n\n")[0]

    assert re.findall(r"^  (\w+) +(.+?)\s*$", printed, re.M) == readme_logins()
    assert "Pro plan" in printed and "Free plan" in printed


def test_the_banner_names_the_sync_mode_the_worker_and_the_short_tokens(demo: Demo) -> None:
    log = demo.log.read_text()

    assert f"Demo ready: open {demo.url}/" in log
    assert 'Sync on login:  background (UPSOLVE["SYNC_ON_LOGIN"] = "background")' in log
    assert f"pid {demo.worker_pid}" in log
    assert "UPSOLVE_TOKEN_EXPIRATION=8 UPSOLVE_REFRESH_MARGIN=3" in log
