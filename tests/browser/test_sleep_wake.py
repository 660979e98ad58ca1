"""The README's promise: a tab that slept past its token's expiry gets a new one on waking.

No clock is faked: the browser and the server share this machine's clock, the tokens live
30 s, and the tab sleeps (Chromium freezes it: none of its timers fire) for a real 30 s.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from .conftest import Demo
from .test_demo import FRAME, expiring_at, frame_src, jwt_of, log_in, watch

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The README's example of short tokens (read by the ``demo`` fixture).
TOKEN_EXPIRATION = 30
REFRESH_MARGIN = 10


def test_a_tab_that_slept_past_the_expiry_refreshes_when_it_wakes(
    browser: Any, demo: Demo, sync_api: Any
) -> None:
    context = browser.new_context(base_url=demo.url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems: list[str] = []
    watch(page, problems)
    asked: list[float] = []
    page.on("request", lambda r: asked.append(time.time()) if "/upsolve/token/" in r.url else None)
    log_in(page, "carol")
    frame = page.frame_locator(FRAME)
    sync_api.expect(frame.locator("#upsolve-org")).to_have_text("Globex")
    server_now = parsedate_to_datetime(page.request.get("/login/").headers["date"]).timestamp()
    assert abs(page.evaluate("Date.now() / 1000") - time.time()) < 1, "a faked browser clock"
    assert abs(server_now - time.time()) < 2, "the server's clock is another one"

    # The lid closes: the tab is frozen before its refresh (10 s before the expiry) is due.
    old_src = frame_src(page)
    expires = int(page.locator(FRAME).get_attribute("data-upsolve-expires"))
    assert expires - time.time() > REFRESH_MARGIN + 2, "too late to fall asleep before refresh"
    lifecycle = context.new_cdp_session(page)
    lifecycle.send("Page.setWebLifecycleState", {"state": "frozen"})
    asleep = time.time()
    time.sleep(expires - time.time() + 2)  # the refresh was due, then the token expired

    # The lid opens.
    woke = time.time()
    lifecycle.send("Page.setWebLifecycleState", {"state": "active"})
    deadline = time.monotonic() + 6
    while frame_src(page) == old_src:
        assert time.monotonic() < deadline, "the tab kept its expired token after waking"
        time.sleep(0.05)
    swapped = time.time()

    assert not [t for t in asked if asleep <= t < woke], "the frozen tab asked for a token"
    assert swapped - woke < 4  # at once, or after one "on its way: ask again in 2 s"
    new_src = frame_src(page)
    assert jwt_of(new_src) != jwt_of(old_src)
    new_expires = page.locator(FRAME).get_attribute("data-upsolve-expires")
    assert int(new_expires) > time.time() + REFRESH_MARGIN / 2  # fresh by the shared clock
    sync_api.expect(frame.locator("#upsolve-expires")).to_have_attribute(
        "data-upsolve-exp", expiring_at(new_expires)
    )
    sync_api.expect(frame.locator("#upsolve-org")).to_have_text("Globex")
    context.close()
    assert problems == []
