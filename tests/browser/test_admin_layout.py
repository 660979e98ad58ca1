"""The Upsolve admin lists fit a 1280 px screen, whatever their rows hold.

Rendered by Chromium at 1280 × 800 with the admin's sidebar open and the filters shown, and
rows at their widest: long names and e-mail logins, long errors, every badge.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from django_upsolve.models import UpsolveProfile

from .chromium import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_NAME = "Konstantinopoulou International Holdings and Reinsurance Ltd"
LONG_LOGIN = "alexandra.konstantinopoulou-vanderbilt@globex-international.example"
LONG_ERROR = "Upsolve register-user: HTTP 503 " + "upstream_connect_error_" * 8 + " and more"


@pytest.fixture
def widest_rows(make_tenant: Any, make_profile: Any, set_upsolve: Any) -> None:
    set_upsolve(SYNC_ON_LOGIN=False)  # the admin's login calls no Upsolve
    wide = make_tenant(LONG_NAME, external_id=LONG_LOGIN)
    make_tenant(
        "Failing GmbH", registered=False, last_error=LONG_ERROR, last_error_at=timezone.now()
    )
    make_tenant("Waiting", registered=False)
    for state in ("valid", "expiring", "expired", None):
        make_profile(token=state, tenant=wide)
    make_profile(LONG_LOGIN, tenant=wide, last_error=LONG_ERROR, last_error_at=timezone.now())
    make_profile("failing", registered=False, last_error=LONG_ERROR, last_error_at=timezone.now())
    orphan = make_profile("orphan", token=None, registered=False)
    UpsolveProfile.objects.filter(pk=orphan.pk).update(tenant=None)


@pytest.mark.usefixtures("widest_rows")
@pytest.mark.parametrize("model", ["upsolvetenant", "upsolveprofile"])
def test_the_widest_rows_fit_1280_px(
    live_server: Any, admin_user: Any, sync_api: Any, model: str
) -> None:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{live_server.url}/admin/login/")
            page.get_by_label("Username").fill("admin")
            page.get_by_label("Password").fill("password")
            page.get_by_role("button", name="Log in").click()
            page.goto(f"{live_server.url}/admin/django_upsolve/{model}/")
            assert page.locator("#nav-sidebar").is_visible()
            assert page.locator("#changelist-filter").is_visible()
            widths = page.evaluate(
                """(() => { const box = document.querySelector("#result_list").parentElement;
                return [box.scrollWidth, box.clientWidth, document.documentElement.scrollWidth];
                })()"""
            )
            rows = page.locator("#result_list tbody tr").count()
        finally:
            chromium.close()

    assert rows >= 3
    assert widths[0] <= widths[1], f"the list is {widths[0]} px wide in a {widths[1]} px box"
    assert widths[2] <= 1280
