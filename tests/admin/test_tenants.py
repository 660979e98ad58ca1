"""The tenants list and page: counts from annotations, search, filters, read-only data."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from django_upsolve.admin.display import EMPTY, when
from django_upsolve.admin.tenants import USERS_SHOWN
from django_upsolve.models import UpsolveTenant

from .helpers import PROFILES, TENANTS, readonly

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    assert response.status_code == 200
    return [tenant.name for tenant in response.context["cl"].result_list]


def test_each_tenant_shows_its_user_and_valid_token_counts(admin_client, make_tenant, make_profile):
    acme = make_tenant("Acme")
    for state in ("valid", "expiring", "expired", None):
        make_profile(tenant=acme, token=state)
    make_tenant("Empty")

    response = admin_client.get(TENANTS)

    rows = {tenant.name: tenant for tenant in response.context["cl"].result_list}
    assert (rows["Acme"].user_count, rows["Acme"].valid_token_count) == (4, 2)
    assert (rows["Empty"].user_count, rows["Empty"].valid_token_count) == (0, 0)
    assert rows["Empty"].last_token_refresh is None
    latest = max(p.token_refreshed_at for p in acme.profiles.exclude(token_refreshed_at=None))
    assert rows["Acme"].last_token_refresh == latest
    html = response.content.decode()
    assert f'<a href="{PROFILES}?tenant__id__exact={acme.pk}">4</a>' in html
    assert acme.external_id in html
    assert list(response.context["cl"].list_display) == [
        "name",
        "external_id",
        "users",
        "valid_tokens",
        "registration",
        "error",
    ]


def test_the_tenant_page_shows_the_upsolve_id_latest_refresh_and_empty_values_one_way(
    admin_client, make_tenant, make_profile
):
    tenant = make_tenant("Acme")
    profile = make_profile(tenant=tenant)
    empty = make_tenant("Empty", registered=False)
    UpsolveTenant.objects.filter(pk=empty.pk).update(upsolve_id=None)

    html = admin_client.get(f"{TENANTS}{tenant.pk}/change/").content.decode()
    assert readonly(html, "upsolve_id") == str(tenant.upsolve_id)
    assert readonly(html, "last_token_refresh") == when(profile.token_refreshed_at)
    assert readonly(html, "registered_time") == when(tenant.registered_at)
    assert readonly(html, "created_time") == when(tenant.created_at)

    html = admin_client.get(f"{TENANTS}{empty.pk}/change/").content.decode()
    for field in ("upsolve_id", "registered_time", "full_error", "last_error_time"):
        assert readonly(html, field) == EMPTY, field
    assert readonly(html, "last_token_refresh") == EMPTY


def test_registration_column_shows_registered_failing_or_not_yet(admin_client, make_tenant):
    make_tenant("Registered")
    make_tenant(
        "Broken",
        registered=False,
        last_error="Upsolve register-organization: HTTP 503 unavailable",
        last_error_at=timezone.now(),
    )
    make_tenant("Waiting", registered=False)

    html = admin_client.get(TENANTS).content.decode()

    assert html.count('class="upsolve-badge upsolve-badge--ok" title="20') == 1
    assert html.count(">registered</span>") == 1
    assert 'upsolve-badge--error" title="Upsolve register-organization: HTTP 503' in html
    assert ">not yet</span>" in html


@pytest.mark.parametrize(
    ("query", "expected"), [("acme", ["Acme Corp"]), ("ORG-X7", ["Globex"]), ("nothing", [])]
)
def test_search_by_name_and_external_id(admin_client, make_tenant, query, expected):
    make_tenant("Acme Corp", external_id="org-a1")
    make_tenant("Globex", external_id="org-x7")

    assert names(admin_client.get(TENANTS, {"q": query})) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("registered", ["Registered", "Users failing"]),
        ("not_registered", ["Failing", "Waiting"]),
        ("failing", ["Failing"]),
        ("users_failing", ["Users failing"]),
    ],
)
def test_filter_by_registration_state(admin_client, make_tenant, make_profile, state, expected):
    make_tenant("Registered")
    make_tenant("Failing", registered=False, last_error="boom", last_error_at=timezone.now())
    make_tenant("Waiting", registered=False)
    users_failing = make_tenant("Users failing")
    make_profile(tenant=users_failing, last_error="HTTP 502", last_error_at=timezone.now())

    assert names(admin_client.get(TENANTS, {"state": state})) == expected


def test_an_unknown_filter_value_shows_the_admin_error_not_everything(admin_client, make_tenant):
    make_tenant()

    response = admin_client.get(TENANTS, {"state": "bogus"})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_facet_counts(admin_client, make_tenant):
    make_tenant("A")
    make_tenant("B")
    make_tenant("C", registered=False, last_error="boom", last_error_at=timezone.now())

    html = admin_client.get(TENANTS, {"_facets": "True"}).content.decode()

    assert "registered (2)" in html
    assert "not registered yet (1)" in html
    assert "failing (last error recorded) (1)" in html


def test_sorting_by_the_annotated_counts(admin_client, make_tenant, make_profile):
    small, large = make_tenant("Small"), make_tenant("Large")
    make_profile(tenant=small)
    for _ in range(3):
        make_profile(tenant=large, token="expired")
    users = 2  # list_display index of "users" (the tenants list has no actions column)

    assert names(admin_client.get(TENANTS, {"o": str(users)})) == ["Small", "Large"]
    assert names(admin_client.get(TENANTS, {"o": f"-{users}"})) == ["Large", "Small"]
    assert names(admin_client.get(TENANTS, {"o": str(users + 1)})) == ["Large", "Small"]


def test_pagination_shows_every_tenant_once(admin_client, make_tenant):
    UpsolveTenant.objects.bulk_create(
        UpsolveTenant(external_id=f"org-{i}", name=f"Tenant {i:03d}") for i in range(150)
    )

    first = names(admin_client.get(TENANTS))
    second = names(admin_client.get(TENANTS, {"p": "2"}))

    assert len(first) == 100
    assert first + second == [f"Tenant {i:03d}" for i in range(150)]


def test_tenant_page_lists_its_latest_users_and_links_to_all(
    admin_client, make_tenant, make_profile
):
    tenant = make_tenant("Big")
    profiles = [make_profile(f"member{i:02d}", tenant=tenant) for i in range(USERS_SHOWN + 5)]

    response = admin_client.get(f"{TENANTS}{tenant.pk}/change/")

    html = response.content.decode()
    assert response.status_code == 200
    shown = [p for p in profiles if f">{p.user.username}</a>" in html]
    assert shown == profiles[-USERS_SHOWN:]
    assert f'href="{PROFILES}?tenant__id__exact={tenant.pk}">All {USERS_SHOWN + 5} users' in html
    assert f"(the latest {USERS_SHOWN} are shown here)" in html
    assert f'href="{PROFILES}{profiles[-1].pk}/change/"' in html


def test_tenant_page_of_a_small_tenant(admin_client, make_tenant, make_profile):
    tenant = make_tenant("Small")
    make_profile("solo", tenant=tenant)

    html = admin_client.get(f"{TENANTS}{tenant.pk}/change/").content.decode()

    assert ">solo</a>" in html
    assert "1 user in the profiles list" in html
    assert "are shown here" not in html


def test_tenants_cannot_be_added_edited_or_deleted(admin_client, make_tenant):
    tenant = make_tenant("Acme")
    page = f"{TENANTS}{tenant.pk}/change/"

    assert admin_client.get(f"{TENANTS}add/").status_code == 403
    assert admin_client.get(f"{TENANTS}{tenant.pk}/delete/").status_code == 403
    html = admin_client.get(page).content.decode()
    assert "View Upsolve tenant" in html
    assert 'name="_save"' not in html
    assert 'name="name"' not in html
    response = admin_client.post(page, {"name": "Renamed", "external_id": "x"})
    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.name == "Acme"
    assert not LogEntry.objects.exists()


def test_a_missing_tenant_redirects_to_the_list(admin_client):
    response = admin_client.get(f"{TENANTS}999999/change/")

    assert response.status_code == 302
