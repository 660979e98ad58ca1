"""The README's step 4: Globex moves to the Pro plan in the admin, carol's next page shows it.

The plan is one of the token's properties, which the "Revenue overview" filters by (the
Free plan sees 3 months, Pro 12), so the demo drops the tokens of another plan and the
worker registers carol's new properties before her next token.
"""

from __future__ import annotations

from typing import Any

import pytest

from .test_demo import FRAME, log_in, watch

pytestmark = pytest.mark.browser


def test_a_plan_change_in_the_admin_shows_on_carol_s_next_page(
    browser: Any, demo_server: str, sync_api: Any
) -> None:
    expect = sync_api.expect
    problems: list[str] = []
    carol = browser.new_context(base_url=demo_server).new_page()
    admin = browser.new_context(base_url=demo_server).new_page()
    for page in (carol, admin):
        watch(page, problems)
    log_in(carol, "carol")
    bars = carol.frame_locator(FRAME).locator("rect.upsolve-bar")
    expect(bars).to_have_count(3)

    log_in(admin, "admin", filled=False)
    admin.goto("/admin/saas/organization/")
    admin.get_by_role("link", name="Globex").click()
    admin.get_by_label("Plan").select_option("pro")
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.locator(".messagelist .success")).to_contain_text("Globex")

    carol.reload()
    carol.wait_for_selector(f"{FRAME}[src*='jwt=']", state="attached", timeout=15_000)
    expect(bars).to_have_count(12)
    frame = carol.frame_locator(FRAME)
    expect(frame.locator("[data-upsolve-property='plan'] td")).to_have_text("pro")
    expect(frame.locator("#upsolve-panel-1 .upsolve-note")).to_have_text(
        "Pro plan: the last 12 months."
    )
    assert problems == []
