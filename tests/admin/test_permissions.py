"""Who sees what: nothing without the view permission; actions need the change permission."""

from __future__ import annotations

import pytest

from django_upsolve.admin.display import mask_token

from .helpers import PROFILES, TENANTS

pytestmark = pytest.mark.django_db


def test_staff_without_the_view_permission_see_nothing_of_the_app(staff_client, make_profile):
    profile = make_profile("ada")
    client = staff_client()

    index = client.get("/admin/")
    assert index.status_code == 200
    assert "Upsolve" not in index.content.decode()
    for url in (
        PROFILES,
        TENANTS,
        f"{PROFILES}{profile.pk}/change/",
        f"{TENANTS}{profile.tenant.pk}/change/",
        f"{PROFILES}{profile.pk}/history/",
        "/admin/django_upsolve/",
    ):
        assert client.get(url).status_code in (403, 404), url


def test_viewers_see_masked_tokens_and_no_actions(staff_client, make_profile):
    profile = make_profile("ada")
    client = staff_client("view_upsolveprofile", "view_upsolvetenant")

    listing = client.get(PROFILES).content.decode()
    page = client.get(f"{PROFILES}{profile.pk}/change/").content.decode()

    assert profile.token not in listing
    assert profile.token not in page
    assert f"<code>{mask_token(profile.token)}</code>" in page
    assert 'name="action"' not in listing
    assert "deletelink" not in page
    assert client.get(f"{TENANTS}{profile.tenant.pk}/change/").status_code == 200


def test_the_tenants_view_permission_alone_shows_tenants_only(staff_client, make_profile):
    profile = make_profile("ada")
    client = staff_client("view_upsolvetenant")

    listing = client.get(TENANTS)
    page = client.get(f"{TENANTS}{profile.tenant.pk}/change/").content.decode()

    assert listing.status_code == 200
    assert client.get(PROFILES).status_code == 403
    assert "Users:" in page
    assert "Latest users" not in page
    assert ">ada</a>" not in page


def test_profile_viewers_see_the_users_on_the_tenant_page(staff_client, make_profile):
    profile = make_profile("ada")
    client = staff_client("view_upsolvetenant", "view_upsolveprofile")

    page = client.get(f"{TENANTS}{profile.tenant.pk}/change/").content.decode()

    assert "Latest users" in page
    assert ">ada</a>" in page


def test_operators_with_the_change_permission_get_the_actions(staff_client, make_profile):
    make_profile("ada")
    client = staff_client("view_upsolveprofile", "change_upsolveprofile")

    listing = client.get(PROFILES).content.decode()

    for action in ("refresh_tokens", "reregister", "clear_tokens"):
        assert f'value="{action}"' in listing
    assert 'value="delete_selected"' not in listing


def test_the_delete_permission_allows_deleting_one_profile(staff_client, make_profile):
    profile = make_profile("ada")
    client = staff_client("view_upsolveprofile", "delete_upsolveprofile")

    assert client.get(f"{PROFILES}{profile.pk}/delete/").status_code == 200
    assert 'value="delete_selected"' not in client.get(PROFILES).content.decode()
