"""The README's step 5: dana, in Acme Corp and Globex, switches organizations from the navbar.

Each membership is its own Upsolve user with its own token: Acme's numbers with one,
Globex's with another (its first page is pending until the worker has it), and Acme's first
token again on the way back, without a single new ``register-user``.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest

from .conftest import Demo
from .test_demo import FILLED_FRAME, FRAME, frame_src, jwt_of, log_in, watch

pytestmark = pytest.mark.browser

#: Tokens that outlive the test, so the way back finds Acme's very first token.
TOKEN_EXPIRATION = 3600
REFRESH_MARGIN = 300
#: How the demo's log shows a registration reaching the sandbox.
REGISTER_USER = re.compile(r'"POST /sandbox/api/register-user HTTP/1\.1" 200')


def registrations(demo: Demo) -> int:
    return len(REGISTER_USER.findall(demo.log.read_text()))


def sandbox_users_named(demo: Demo, name: str) -> dict[str, str]:
    """The sandbox's users called ``name``: their Upsolve ids and organizations' external ids."""
    database = sqlite3.connect(f"file:{demo.folder / 'sandbox.sqlite3'}?mode=ro", uri=True)
    try:
        rows = database.execute(
            "SELECT u.id, o.external_id FROM upsolve_sandbox_sandboxuser u"
            " JOIN upsolve_sandbox_sandboxorganization o ON o.id = u.organization_id"
            " WHERE u.name = ?",
            (name,),
        ).fetchall()
    finally:
        database.close()
    return {str(user_id).replace("-", ""): external_id for user_id, external_id in rows}


def switch(page: Any, organization: str) -> str:
    """Click ``organization`` in the navbar; the HTML of the analytics page it lands on."""
    with page.expect_response(
        lambda r: r.url.endswith("/analytics/") and r.request.method == "GET"
    ) as landed:
        page.get_by_role("form", name="Organization").get_by_role(
            "button", name=organization
        ).click()
    page.wait_for_url("**/analytics/")
    return str(landed.value.text())


def shown(page: Any) -> dict[str, Any]:
    """What the framed dashboard shows: organization, Upsolve user, property, bars, token."""
    frame = page.frame_locator(FRAME)
    frame.locator("rect.upsolve-bar").first.wait_for()
    return {
        "org": frame.locator("#upsolve-org").inner_text(),
        "user": frame.locator("#upsolve-user").get_attribute("data-upsolve-user"),
        "organization_id": frame.locator(
            "[data-upsolve-property='organization_id'] td"
        ).inner_text(),
        "bars": frame.locator("rect.upsolve-bar").count(),
        "total": frame.locator("#upsolve-panel-1 .upsolve-figure").inner_text(),
        "jwt": jwt_of(frame_src(page)),
    }


def current_organization(page: Any) -> str:
    return str(page.locator(".org-switch [aria-current='true']").inner_text())


def test_dana_switches_organizations_with_one_upsolve_user_and_token_each(
    browser: Any, demo: Demo, sync_api: Any
) -> None:
    expect = sync_api.expect
    context = browser.new_context(base_url=demo.url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems: list[str] = []
    watch(page, problems)

    log_in(page, "dana")
    assert current_organization(page) == "Acme Corp"
    acme = shown(page)
    assert (acme["org"], acme["organization_id"], acme["bars"]) == ("Acme Corp", "acme", 12)
    assert registrations(demo) == 1  # the login synced the active membership only

    html = switch(page, "Globex")
    assert "data-upsolve-pending" in html, "Globex's first page had a token already"
    assert "jwt=" not in html
    page.wait_for_selector(FILLED_FRAME, state="attached", timeout=15_000)
    assert current_organization(page) == "Globex"
    expect(page.get_by_role("status")).to_have_count(0)
    globex = shown(page)
    assert (globex["org"], globex["organization_id"], globex["bars"]) == ("Globex", "globex", 3)
    assert globex["total"] != acme["total"]
    assert globex["user"] != acme["user"]
    assert globex["jwt"] != acme["jwt"]
    assert registrations(demo) == 2

    html = switch(page, "Acme Corp")
    assert f"jwt={acme['jwt']}" in html, "Acme's page did not embed its token at once"
    assert shown(page) == acme

    for organization in ("Globex", "Acme Corp", "Globex"):
        switch(page, organization)
        page.wait_for_selector(FILLED_FRAME, state="attached", timeout=15_000)
    assert shown(page) == globex

    assert registrations(demo) == 2
    assert sandbox_users_named(demo, "Dana Diaz") == {
        acme["user"].replace("-", ""): "acme",
        globex["user"].replace("-", ""): "globex",
    }
    context.close()
    assert problems == []
