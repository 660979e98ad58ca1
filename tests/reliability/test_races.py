"""Races with real threads and real transactions, on SQLite and on PostgreSQL.

Every test runs on the suite's database (``default``: SQLite unless ``DATABASE_URL`` says
otherwise) and on PostgreSQL (the ``postgres`` alias), whatever ``DATABASE_URL`` says; the
router of ``tests/reliability/routing.py`` sends the queries of every thread there. Upsolve
is the loopback fault server, answering slowly (a wide race window) and counting calls.
Each thread closes its database connections when it is done.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from django_upsolve import sync
from django_upsolve.models import UpsolveProfile, UpsolveTenant
from django_upsolve.services import get_token
from tests.concurrency import in_threads
from tests.helpers import PASSWORD, hour_token_ending, log_in, make_user, override_upsolve
from tests.reliability.faultserver import Upsolve
from tests.reliability.helpers import assert_rows_whole, on

SLOW = Upsolve(delay=0.05)


def post_login(username: str) -> tuple[int, str]:
    response = Client().post("/accounts/login/", {"username": username, "password": PASSWORD})
    return response.status_code, response.get("Location", "")


def assert_nothing_went_wrong(logs) -> None:
    """No sync failed, waited too long or crashed."""
    assert logs.messages("django_upsolve", 30) == []  # WARNING and above


@pytest.mark.parametrize("database", on("default", "postgres"), indirect=True)
def test_concurrent_first_logins_of_one_user_register_it_once(database, cache_alias, server, logs):
    server.always(SLOW)
    make_user("ada")
    results = in_threads(20, lambda _: post_login("ada"))
    assert results == [(302, settings.LOGIN_REDIRECT_URL)] * 20
    assert server.count("register-organization") == 1
    assert server.count("register-user") == 1
    assert UpsolveProfile.objects.count() == 1
    assert UpsolveTenant.objects.count() == 1
    assert UpsolveProfile.objects.get().has_fresh_token(300)
    assert_rows_whole()
    assert_nothing_went_wrong(logs)


@pytest.mark.parametrize("database", on("default", "postgres"), indirect=True)
def test_concurrent_first_logins_of_one_new_tenant_register_it_once(database, server, logs):
    server.always(SLOW)
    for n in range(12):
        make_user(f"user{n}", f"user{n}@acme.test")
    with override_upsolve(ADAPTER="tests.adapters.DomainTenantAdapter"):
        results = in_threads(12, lambda n: post_login(f"user{n}"))
    assert results == [(302, settings.LOGIN_REDIRECT_URL)] * 12
    assert server.count("register-organization") == 1
    assert server.count("register-user") == 12
    assert UpsolveTenant.objects.count() == 1
    tenant = UpsolveTenant.objects.get()
    assert tenant.is_registered
    assert list(UpsolveProfile.objects.values_list("tenant", flat=True)) == [tenant.pk] * 12
    assert_rows_whole()
    assert_nothing_went_wrong(logs)


@pytest.mark.parametrize("database", on("default", "postgres"), indirect=True)
def test_concurrent_refreshes_of_one_stale_token_fetch_it_once(database, client, server, logs):
    user = make_user("ada")
    log_in(client, "ada")
    stale = timezone.now() + timedelta(seconds=60)  # inside the 300 s refresh margin
    UpsolveProfile.objects.update(**hour_token_ending(stale))
    calls = server.count("user-token")
    server.always(SLOW)
    tokens = in_threads(12, lambda _: get_token(user))
    assert server.count("user-token") == calls + 1
    assert tokens == [server.tokens[-1]] * 12
    assert UpsolveProfile.objects.get().token == server.tokens[-1]
    assert_nothing_went_wrong(logs)


@pytest.mark.parametrize("database", on("default", "postgres"), indirect=True)
def test_concurrent_users_each_get_their_own_token(database, server, logs):
    server.always(SLOW)
    users = [make_user(f"user{n}") for n in range(10)]
    tokens = in_threads(10, lambda n: get_token(users[n]))
    assert len(set(tokens)) == 10
    for user, token in zip(users, tokens, strict=True):
        assert UpsolveProfile.objects.get(user=user).token == token
    assert_nothing_went_wrong(logs)


@contextmanager
def no_lock(name: str, *, wait: float, hold: float) -> Iterator[bool]:
    yield True  # each process "holds" its own local-memory lock


@pytest.mark.parametrize("database", on("postgres"), indirect=True)
def test_without_a_shared_cache_the_row_lock_registers_a_tenant_once(
    database, server, logs, monkeypatch
):
    """Processes with separate local-memory caches share no cache lock: PostgreSQL's row
    lock (``select_for_update``) and the unique constraints still register the tenant once."""
    monkeypatch.setattr(sync, "cache_lock", no_lock)
    server.always(SLOW)
    users = [make_user(f"user{n}", f"user{n}@acme.test") for n in range(12)]
    with override_upsolve(ADAPTER="tests.adapters.DomainTenantAdapter"):
        tokens = in_threads(12, lambda n: get_token(users[n]))
    assert all(tokens)
    assert server.count("register-organization") == 1
    assert UpsolveTenant.objects.count() == 1
    assert UpsolveProfile.objects.count() == 12
    assert_rows_whole()
    assert_nothing_went_wrong(logs)


@pytest.mark.parametrize("database", on("default", "postgres"), indirect=True)
def test_concurrent_first_uses_of_two_memberships_register_each_once(database, server, logs):
    server.always(SLOW)
    ada = make_user("ada")
    with override_upsolve(ADAPTER="tests.adapters.TwoOrganizationsAdapter"):
        tokens = in_threads(16, lambda n: get_token(ada, tenant=("acme", "globex")[n % 2]))
    assert server.count("register-organization") == 2
    assert server.count("register-user") == 2
    assert all(tokens)
    by_org = {p.tenant.external_id: p.token for p in UpsolveProfile.objects.filter(user=ada)}
    assert set(tokens[0::2]) == {by_org["acme"]}
    assert set(tokens[1::2]) == {by_org["globex"]}
    assert_rows_whole()
    assert_nothing_went_wrong(logs)


@pytest.mark.parametrize("database", on("postgres"), indirect=True)
def test_a_row_lock_leaves_the_callers_lock_timeout_as_it_was(database):
    from django.db import connections, transaction

    from django_upsolve.rowlocks import row_locked

    tenant = UpsolveTenant.objects.create(external_id="acme", name="Acme")
    with transaction.atomic(using=database), connections[database].cursor() as cursor:
        with row_locked(UpsolveTenant.objects.using(database), tenant.pk, wait=0.2) as row:
            assert row == tenant
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone() == ("0",)  # PostgreSQL's default: the request is unbounded
