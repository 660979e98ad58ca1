"""Reaching a user's profile from the project's own user admin, with any user model."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.sites import AdminSite
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, models
from django.test.utils import CaptureQueriesContext, isolate_apps

from django_upsolve.admin import UpsolveProfileInline, add_profile_inline
from django_upsolve.admin.display import mask_token
from django_upsolve.admin.filters import TenantFilter
from django_upsolve.admin.profiles import user_search_fields
from django_upsolve.models import UpsolveTenant

from .helpers import PROFILES


@pytest.mark.django_db
def test_the_inline_is_opt_in(admin_client, user_admin, make_profile):
    profile = make_profile("ada")

    html = admin_client.get(f"/admin/auth/user/{profile.user.pk}/change/").content.decode()

    assert mask_token(profile.token) not in html
    assert UpsolveProfileInline not in user_admin.inlines


@pytest.mark.django_db
def test_add_profile_inline_shows_the_profile_on_the_user_page(
    admin_client, user_admin, make_profile
):
    profile = make_profile("ada")
    add_profile_inline()
    add_profile_inline()  # idempotent

    response = admin_client.get(f"/admin/auth/user/{profile.user.pk}/change/")

    html = response.content.decode()
    assert user_admin.inlines.count(UpsolveProfileInline) == 1
    assert type(user_admin).inlines == ()  # the project's class is left alone
    assert f'<a href="{PROFILES}{profile.pk}/change/">{profile.upsolve_user_id}</a>' in html
    assert f"<code>{mask_token(profile.token)}</code>" in html
    assert "valid until" in html
    assert profile.tenant.name in html
    # Read-only: no form field of the profile, no delete box, no "add another".
    assert "upsolve_profiles-0-role_id" not in html
    assert "upsolve_profiles-0-DELETE" not in html


@pytest.mark.django_db
def test_saving_the_user_page_leaves_the_profile_alone(admin_client, user_admin, make_profile):
    profile = make_profile("ada")
    add_profile_inline()
    page = f"/admin/auth/user/{profile.user.pk}/change/"
    form = admin_client.get(page).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "username": "ada",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "upsolve_profiles-TOTAL_FORMS": "1",
            "upsolve_profiles-INITIAL_FORMS": "1",
            "upsolve_profiles-MIN_NUM_FORMS": "0",
            "upsolve_profiles-MAX_NUM_FORMS": "1",
            "upsolve_profiles-0-id": str(profile.pk),
            "upsolve_profiles-0-user": str(profile.user.pk),
            "upsolve_profiles-0-DELETE": "on",
        }
    )
    data.pop("password", None)
    data.pop("groups", None)
    data.pop("user_permissions", None)

    response = admin_client.post(page, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    profile.refresh_from_db()
    assert profile.token


@pytest.mark.django_db
def test_staff_without_the_profile_view_permission_do_not_see_the_inline(
    staff_client, user_admin, make_profile
):
    profile = make_profile("ada")
    add_profile_inline()
    client = staff_client("view_user", "change_user")

    html = client.get(f"/admin/auth/user/{profile.user.pk}/change/").content.decode()

    assert "ada" in html
    assert mask_token(profile.token) not in html
    assert str(profile.upsolve_user_id) not in html


def test_add_profile_inline_needs_the_user_model_registered():
    with pytest.raises(NotRegistered):
        add_profile_inline(AdminSite(name="empty"))


def test_search_fields_of_the_default_user_model():
    assert user_search_fields(get_user_model()) == ["user__username", "user__email"]


@isolate_apps("django_upsolve")
def test_search_fields_of_an_email_login_user_model():
    class EmailUser(AbstractBaseUser):
        email = models.EmailField(unique=True)
        USERNAME_FIELD = "email"
        EMAIL_FIELD = "email"

        class Meta:
            app_label = "django_upsolve"

    assert user_search_fields(EmailUser) == ["user__email"]


@isolate_apps("django_upsolve")
def test_search_fields_of_a_user_model_without_username_or_email():
    class HandleUser(AbstractBaseUser):
        handle = models.CharField(max_length=40, unique=True)
        USERNAME_FIELD = "handle"

        class Meta:
            app_label = "django_upsolve"

    assert user_search_fields(HandleUser) == ["user__handle"]


@isolate_apps("django_upsolve")
def test_search_fields_are_read_from_the_user_model_at_request_time(monkeypatch, rf):
    class HandleUser(AbstractBaseUser):
        handle = models.CharField(max_length=40, unique=True)
        USERNAME_FIELD = "handle"

        class Meta:
            app_label = "django_upsolve"

    from django_upsolve.admin import profiles

    monkeypatch.setattr(profiles, "get_user_model", lambda: HandleUser)
    profile_admin = admin.site.get_model_admin(profiles.UpsolveProfile)

    assert profile_admin.get_search_fields(rf.get("/")) == ["user__handle"]


@pytest.mark.django_db
@pytest.mark.urls("tests.admin.partial_urls")
def test_links_to_admins_missing_from_the_site_become_plain_text(admin_client, make_profile):
    UpsolveTenant.objects.bulk_create(
        UpsolveTenant(external_id=f"bulk-{i}", name=f"Bulk {i}")
        for i in range(TenantFilter.max_choices + 1)
    )
    profile = make_profile("ada")

    user_page = admin_client.get(f"/users/auth/user/{profile.user.pk}/change/").content.decode()
    listing = admin_client.get("/profiles/django_upsolve/upsolveprofile/").content.decode()

    assert f"{profile.upsolve_user_id}" in user_page
    assert "upsolveprofile/" not in user_page
    assert f"<code>{mask_token(profile.token)}</code>" in user_page
    assert f'<td class="field-tenant_link">{profile.tenant.name}</td>' in listing
    assert "pick one on the tenants list" not in listing


@pytest.mark.django_db
def test_the_inline_costs_the_same_queries_for_one_membership_and_many(
    admin_client, user_admin, make_profile, make_tenant
):
    add_profile_inline()
    ada = make_profile("ada").user
    url = f"/admin/auth/user/{ada.pk}/change/"
    admin_client.get(url)  # warms per-process caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured)

    one = queries()
    for _ in range(5):
        make_profile(user=ada, tenant=make_tenant())
    assert queries() == one
