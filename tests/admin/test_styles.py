"""The admin badges are styled by a static file, which a strict Content-Security-Policy allows."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders

from django_upsolve.admin import add_profile_inline

from .helpers import PROFILES, TENANTS

STYLESHEET = '<link rel="stylesheet" href="/static/django_upsolve/admin.css">'


def test_the_stylesheet_styles_every_badge():
    path = finders.find("django_upsolve/admin.css")
    assert path is not None
    with open(path, encoding="utf-8") as css:
        text = css.read()
    for level in ("ok", "warning", "error", "none"):
        assert f".upsolve-badge--{level} {{" in text


@pytest.mark.django_db
@pytest.mark.usefixtures("user_admin")
def test_every_admin_page_with_badges_links_the_stylesheet_and_has_no_inline_style(
    admin_client, make_profile
):
    profile = make_profile("ada")
    add_profile_inline()
    pages = [
        PROFILES,
        f"{PROFILES}{profile.pk}/change/",
        TENANTS,
        f"{TENANTS}{profile.tenant.pk}/change/",
        f"/admin/auth/user/{profile.user.pk}/change/",
    ]
    for page in pages:
        html = admin_client.get(page).content.decode()
        assert "upsolve-badge--" in html, page
        assert html.count(STYLESHEET) == 1, page
        assert "<style" not in html, page
