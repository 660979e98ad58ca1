"""The profiles list and page: badges, masked tokens, search, filters, read-only data."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from django_upsolve.admin.display import EMPTY, SHORT_ERROR_LENGTH, mask_token, short_error, when
from django_upsolve.admin.filters import TenantFilter
from django_upsolve.models import UpsolveProfile, UpsolveTenant

from .helpers import PROFILES, TENANTS, readonly

pytestmark = pytest.mark.django_db


def usernames(response) -> list[str]:
    assert response.status_code == 200
    return sorted(profile.user.username for profile in response.context["cl"].result_list)


def test_list_shows_user_tenant_states_and_error(admin_client, make_profile):
    ok = make_profile("ada", role_id="5b1ad0a2-7d8e-4a43-9f39-3b7fd1f4f6c2")
    broken = make_profile(
        "bob",
        token="expired",
        last_error="Upsolve user-token: HTTP 502 " + "x" * 200,
        last_error_at=timezone.now(),
    )

    response = admin_client.get(PROFILES)

    html = response.content.decode()
    assert response.context["cl"].list_display == [
        "action_checkbox",
        "user_name",
        "tenant_link",
        "registration",
        "token_state",
        "error",
    ]
    assert f'href="{PROFILES}{ok.pk}/change/">ada</a>' in html
    assert f'<a href="{TENANTS}{ok.tenant.pk}/change/">{ok.tenant.name}</a>' in html
    short = short_error(broken.last_error)
    assert len(short) == SHORT_ERROR_LENGTH
    assert short.endswith("…")
    assert f'<span title="{broken.last_error}">{short}</span>' in html
    assert f'<td class="field-error">{EMPTY}</td>' in html  # ada has no error


def test_the_profile_page_shows_role_masked_token_and_moments(admin_client, make_profile):
    profile = make_profile(
        "ada",
        role_id="5b1ad0a2-7d8e-4a43-9f39-3b7fd1f4f6c2",
        last_error="HTTP 502",
        last_error_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
    )
    UpsolveProfile.objects.filter(pk=profile.pk).update(
        last_seen_at=datetime(2026, 3, 4, 5, 0, 0, tzinfo=UTC), name=""
    )
    profile.refresh_from_db()

    html = admin_client.get(f"{PROFILES}{profile.pk}/change/").content.decode()

    assert "5b1ad0a2-7d8e-4a43-9f39-3b7fd1f4f6c2" in html
    assert f"<code>{mask_token(profile.token)}</code>" in html
    assert readonly(html, "last_error_time") == "2026-03-04 05:06:07"
    assert readonly(html, "last_seen_time") == "2026-03-04 05:00:00"
    assert readonly(html, "token_expires_time") == when(profile.token_expires_at)
    assert readonly(html, "name_sent") == EMPTY
    assert readonly(html, "sync_queued_time") == EMPTY


@pytest.mark.parametrize(
    ("state", "level", "text"),
    [
        ("valid", "ok", "valid until "),
        ("expiring", "warning", "expiring "),
        ("expired", "error", "expired "),
        (None, "none", "none"),
    ],
)
def test_token_badge(admin_client, make_profile, state, level, text):
    make_profile(token=state)

    html = admin_client.get(PROFILES).content.decode()

    assert f'<span class="upsolve-badge upsolve-badge--{level}" title="">{text}' in html


def test_registration_badge(admin_client, make_profile):
    make_profile("waiting", registered=False)
    make_profile("failing", registered=False, last_error="HTTP 401", last_error_at=timezone.now())
    done = make_profile("done")

    html = admin_client.get(PROFILES).content.decode()

    assert ">not yet</span>" in html
    assert 'upsolve-badge--error" title="HTTP 401">failing</span>' in html
    # The list names the state and shows the moment on hover, as the profile's page does.
    registered = when(done.registered_at)
    assert f'upsolve-badge--ok" title="{registered}">registered</span>' in html
    page = admin_client.get(f"{PROFILES}{done.pk}/change/").content.decode()
    assert readonly(page, "registered_time") == registered
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", registered)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("ada", ["ada", "adam"]), ("adam", ["adam"]), ("@globex", ["grace"]), ("ADA@EX", ["ada"])],
)
def test_search_by_username_and_email(admin_client, make_profile, query, expected):
    make_profile("ada")
    make_profile("adam")
    grace = make_profile("grace")
    get_user_model().objects.filter(pk=grace.user.pk).update(email="grace@globex.test")

    assert usernames(admin_client.get(PROFILES, {"q": query})) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "registered"}, ["expired", "expiring", "failing", "valid"]),
        ({"state": "not_registered"}, ["pending"]),
        ({"state": "failing"}, ["failing"]),
        ({"token_state": "valid"}, ["failing", "valid"]),
        ({"token_state": "expiring"}, ["expiring"]),
        ({"token_state": "expired"}, ["expired"]),
        ({"token_state": "none"}, ["pending"]),
        ({"state": "registered", "token_state": "valid"}, ["failing", "valid"]),
    ],
)
def test_filter_by_state(admin_client, make_profile, params, expected):
    make_profile("valid")
    make_profile("expiring", token="expiring")
    make_profile("expired", token="expired")
    make_profile("pending", registered=False, token=None)
    make_profile("failing", last_error="HTTP 502", last_error_at=timezone.now())

    assert usernames(admin_client.get(PROFILES, params)) == expected


def test_a_token_with_no_text_counts_as_none(admin_client, make_profile):
    profile = make_profile("cleared")
    UpsolveProfile.objects.filter(pk=profile.pk).update(token="")

    assert usernames(admin_client.get(PROFILES, {"token_state": "none"})) == ["cleared"]
    assert usernames(admin_client.get(PROFILES, {"token_state": "valid"})) == []


def test_filter_by_tenant_lists_every_tenant_when_few(admin_client, make_tenant, make_profile):
    acme, globex = make_tenant("Acme"), make_tenant("Globex")
    make_profile("ada", tenant=acme)
    make_profile("grace", tenant=globex)
    orphan = make_profile("orphan")
    UpsolveProfile.objects.filter(pk=orphan.pk).update(tenant=None)

    page = admin_client.get(PROFILES).content.decode()
    assert f'?tenant__id__exact={acme.pk}">Acme</a>' in page
    assert f'?tenant__id__exact={globex.pk}">Globex</a>' in page
    assert "pick one on the tenants list" not in page
    assert '?tenant__isnull=True">no tenant</a>' in page  # not a bare "-"
    assert usernames(admin_client.get(PROFILES, {"tenant__id__exact": acme.pk})) == ["ada"]
    assert usernames(admin_client.get(PROFILES, {"tenant__isnull": "True"})) == ["orphan"]


def test_filter_by_tenant_stays_small_with_many_tenants(admin_client, make_profile):
    UpsolveTenant.objects.bulk_create(
        UpsolveTenant(external_id=f"bulk-{i}", name=f"Bulk {i:03d}")
        for i in range(TenantFilter.max_choices + 1)
    )
    chosen = make_profile("ada").tenant
    make_profile("grace")

    listing = admin_client.get(PROFILES).content.decode()
    assert "Bulk 000" not in listing
    assert f'href="{TENANTS}">Other tenants: pick one on the tenants list…</a>' in listing

    response = admin_client.get(PROFILES, {"tenant__id__exact": chosen.pk})
    assert usernames(response) == ["ada"]
    html = response.content.decode()
    assert f'<li class="selected">\n    <a href="?tenant__id__exact={chosen.pk}"' in html
    assert "Bulk 000" not in html


@pytest.mark.parametrize("tenant", ["not-a-number", "9" * 20, "-" + "9" * 20])
def test_filter_by_tenant_refuses_a_malformed_tenant(admin_client, make_profile, tenant):
    UpsolveTenant.objects.bulk_create(
        UpsolveTenant(external_id=f"bulk-{i}", name=f"Bulk {i}")
        for i in range(TenantFilter.max_choices + 1)
    )

    response = admin_client.get(PROFILES, {"tenant__id__exact": tenant})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_unknown_token_state_shows_the_admin_error(admin_client):
    response = admin_client.get(PROFILES, {"token_state": "forever"})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_facet_counts(admin_client, make_profile):
    make_profile(token="valid")
    make_profile(token="valid")
    make_profile(token="expired", last_error="boom", last_error_at=timezone.now())

    html = admin_client.get(PROFILES, {"_facets": "True"}).content.decode()

    assert ">valid (2)<" in html
    assert ">expired (1)<" in html
    assert ">none (0)<" in html
    assert ">failing (last error recorded) (1)<" in html


def test_profile_page_is_read_only_and_links_to_the_user(admin_client, make_profile):
    profile = make_profile("ada", properties={"organization_id": "org-1"})
    page = f"{PROFILES}{profile.pk}/change/"

    response = admin_client.get(page)

    html = response.content.decode()
    assert "View Upsolve profile" in html
    assert f'href="/admin/auth/user/{profile.user.pk}/change/">ada</a>' in html
    assert f'href="{TENANTS}{profile.tenant.pk}/change/">' in html
    assert str(profile.upsolve_user_id) in html
    assert "&quot;organization_id&quot;: &quot;org-1&quot;" in html
    assert f"<code>{mask_token(profile.token)}</code>" in html
    assert 'name="_save"' not in html
    assert admin_client.post(page, {"role_id": ""}).status_code == 403


def test_profiles_cannot_be_added(admin_client):
    assert admin_client.get(f"{PROFILES}add/").status_code == 403


def test_a_profile_is_deleted_one_at_a_time(admin_client, make_profile):
    profile = make_profile("ada")

    listing = admin_client.get(PROFILES).content.decode()
    assert 'value="delete_selected"' not in listing
    confirm = admin_client.get(f"{PROFILES}{profile.pk}/delete/")
    assert confirm.status_code == 200
    response = admin_client.post(f"{PROFILES}{profile.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not UpsolveProfile.objects.exists()
    assert get_user_model().objects.filter(username="ada").exists()


def test_deleting_a_user_also_deletes_the_profile(admin_client, make_profile):
    profile = make_profile("ada")

    confirm = admin_client.get(f"/admin/auth/user/{profile.user.pk}/delete/")
    assert "Upsolve profile" in confirm.content.decode()
    assert confirm.context["perms_lacking"] == set()
    admin_client.post(f"/admin/auth/user/{profile.user.pk}/delete/", {"post": "yes"})

    assert not UpsolveProfile.objects.exists()
