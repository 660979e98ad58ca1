"""Neither the API key nor a full token appears in any admin page."""

from __future__ import annotations

import pytest
from django.utils import timezone

from django_upsolve.admin import add_profile_inline
from django_upsolve.admin.display import mask_token
from tests.helpers import API_KEY

from .helpers import PROFILES, TENANTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_admin_with_inline():
    from django.contrib import admin
    from django.contrib.auth import get_user_model

    user_admin = admin.site.get_model_admin(get_user_model())
    add_profile_inline()
    yield
    vars(user_admin).pop("inlines", None)


def pages(profiles, tenant) -> list[str]:
    first = profiles[0]
    return [
        "/admin/",
        "/admin/django_upsolve/",
        PROFILES,
        f"{PROFILES}?q={first.user.username}",
        f"{PROFILES}?token_state=valid",
        f"{PROFILES}?token_state=expired&state=failing",
        f"{PROFILES}?tenant__id__exact={tenant.pk}",
        f"{PROFILES}?_facets=True",
        f"{PROFILES}?o=5",
        *(f"{PROFILES}{p.pk}/change/" for p in profiles),
        *(f"{PROFILES}{p.pk}/history/" for p in profiles),
        f"{PROFILES}{first.pk}/delete/",
        TENANTS,
        f"{TENANTS}?q={tenant.name}",
        f"{TENANTS}?state=users_failing",
        f"{TENANTS}{tenant.pk}/change/",
        f"{TENANTS}{tenant.pk}/history/",
        *(f"/admin/auth/user/{p.user.pk}/change/" for p in profiles),
        f"/admin/auth/user/{first.user.pk}/delete/",
    ]


def test_no_page_shows_the_api_key_or_a_full_token(
    admin_client, make_tenant, make_profile, user_admin_with_inline
):
    # Errors are recorded redacted; the admin redacts them again should one slip through.
    tenant = make_tenant(
        "Acme", registered=False, last_error=f"key {API_KEY}?", last_error_at=timezone.now()
    )
    profiles = [
        make_profile("ada", tenant=tenant),
        make_profile("bob", tenant=tenant, token="expiring"),
        make_profile(
            "cy",
            tenant=tenant,
            token="expired",
            last_error="HTTP 502",
            last_error_at=timezone.now(),
        ),
    ]
    profiles[2].last_error = f"Bearer {API_KEY} rejected, token {profiles[1].token}"
    profiles[2].save()

    for url in pages(profiles, tenant):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert API_KEY not in html, url
        for profile in profiles:
            assert profile.token not in html, url
            # Not even the token's signature, the part that makes it usable.
            assert profile.token.rsplit(".", 1)[1] not in html, url

    user_page = admin_client.get(f"/admin/auth/user/{profiles[0].user.pk}/change/")
    assert f"<code>{mask_token(profiles[0].token)}</code>" in user_page.content.decode()


@pytest.mark.parametrize("length", [1, 20, 31])
def test_short_tokens_are_masked_entirely(length):
    assert mask_token("t" * length) == "…"


def test_long_tokens_keep_a_few_characters_at_each_end():
    token = "eyJhbGciOiJIUzI1NiJ9." + "p" * 60 + ".signature-abcd"

    masked = mask_token(token)

    assert masked == "eyJhbG…abcd"
    assert mask_token("") == ""


@pytest.mark.parametrize(
    "lookup", ["token__startswith", "token", "token__gt", "token__regex", "token__contains"]
)
def test_tokens_cannot_be_probed_through_list_lookups(admin_client, make_profile, lookup):
    ada = make_profile("ada")
    response = admin_client.get(f"{PROFILES}?{lookup}={ada.token[:8]}")
    # The admin refuses the lookup: no page reveals whether a guess matched.
    assert response.status_code in (302, 400), response.status_code
    assert "ada" not in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/auth/user/?upsolve_profile__token__startswith=eyJ",
        f"{TENANTS}?profiles__token__startswith=eyJ",
    ],
)
def test_related_token_lookups_are_refused_too(admin_client, make_profile, url):
    make_profile("ada")
    response = admin_client.get(url)
    assert response.status_code in (302, 400), response.status_code
