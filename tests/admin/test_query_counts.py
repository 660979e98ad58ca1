"""The admin pages cost the same number of queries for 10 rows and for 1,000."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_upsolve.models import UpsolveProfile, UpsolveTenant

from .helpers import PROFILES, TENANTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_page(monkeypatch):
    """Every row on one page, so that a per-row query would show at once."""
    for model in (UpsolveProfile, UpsolveTenant):
        monkeypatch.setattr(admin.site.get_model_admin(model), "list_per_page", 5000)


def grow(tenants: int, profiles_per_tenant: int) -> None:
    """Add tenants, each with users in every token state; some failing."""
    now = timezone.now()
    start = UpsolveTenant.objects.count()
    created = UpsolveTenant.objects.bulk_create(
        UpsolveTenant(
            external_id=f"org-{start + i}",
            name=f"Tenant {start + i}",
            upsolve_id=uuid.uuid4(),
            registered_at=now,
            last_error="HTTP 503" if i % 7 == 0 else "",
            last_error_at=now if i % 7 == 0 else None,
        )
        for i in range(tenants)
    )
    User = get_user_model()
    users = User.objects.bulk_create(
        User(username=f"u-{uuid.uuid4().hex}") for _ in range(tenants * profiles_per_tenant)
    )
    UpsolveProfile.objects.bulk_create(
        UpsolveProfile(
            user=user,
            tenant=created[i % tenants],
            registered_at=now,
            token=f"eyJhbGciOiJIUzI1NiJ9.{'x' * 40}.{i}",
            token_expires_at=now + timedelta(seconds=(-1) ** (i // tenants) * 600),
            token_refreshed_at=now,
            last_error="HTTP 502" if i % 3 == 0 else "",
            last_error_at=now if i % 3 == 0 else None,
        )
        for i, user in enumerate(users)
    )


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        TENANTS,
        f"{TENANTS}?state=registered",
        f"{TENANTS}?state=users_failing",
        f"{TENANTS}?q=Tenant",
        f"{TENANTS}?o=3",
        f"{TENANTS}?_facets=True",
        PROFILES,
        f"{PROFILES}?token_state=valid",
        f"{PROFILES}?state=failing&token_state=expired",
        f"{PROFILES}?q=u-",
        f"{PROFILES}?o=2",
        f"{PROFILES}?_facets=True",
    ],
)
def test_lists_cost_the_same_queries_for_10_and_1000_rows(admin_client, one_page, url):
    grow(tenants=2, profiles_per_tenant=5)
    # Also warms per-process caches (content types) before counting.
    assert admin_client.get(url).context["cl"].result_count > 0
    small = queries(admin_client, url)

    grow(tenants=98, profiles_per_tenant=10)
    assert UpsolveProfile.objects.count() == 990
    large = queries(admin_client, url)

    assert large == small


def test_lists_show_every_row_of_the_large_case(admin_client, one_page):
    grow(tenants=100, profiles_per_tenant=10)

    tenants = admin_client.get(TENANTS).context["cl"]
    profiles = admin_client.get(PROFILES).context["cl"]

    assert len(list(tenants.result_list)) == 100
    assert {t.user_count for t in tenants.result_list} == {10}
    assert {t.valid_token_count for t in tenants.result_list} == {5}
    assert len(list(profiles.result_list)) == 1000


def test_paginated_lists_cost_the_same_on_the_first_and_the_last_page(admin_client):
    grow(tenants=150, profiles_per_tenant=2)
    admin_client.get(TENANTS)  # warms per-process caches

    assert queries(admin_client, f"{TENANTS}?p=2") == queries(admin_client, TENANTS)
    assert queries(admin_client, f"{PROFILES}?p=3") == queries(admin_client, PROFILES)


def test_tenant_page_costs_the_same_for_a_few_users_and_many(admin_client):
    grow(tenants=1, profiles_per_tenant=3)
    few = UpsolveTenant.objects.get()
    admin_client.get(f"{TENANTS}{few.pk}/change/")  # warms per-process caches
    small = queries(admin_client, f"{TENANTS}{few.pk}/change/")

    grow(tenants=1, profiles_per_tenant=500)
    many = UpsolveTenant.objects.exclude(pk=few.pk).get()

    assert queries(admin_client, f"{TENANTS}{many.pk}/change/") == small


def test_tenant_counts_are_not_multiplied_by_joins(admin_client):
    grow(tenants=3, profiles_per_tenant=4)

    response = admin_client.get(f"{TENANTS}?state=users_failing&q=Tenant")

    rows = response.context["cl"].result_list
    assert rows
    assert all((t.user_count, t.valid_token_count) == (4, 2) for t in rows)
