"""Whatever goes wrong inside the login receiver, the login is the usual redirect.

The hard case is a login that runs in a transaction (``ATOMIC_REQUESTS``): a database
error inside the receiver, even caught, would break that transaction, roll the new
session back and turn the login into a 400. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.test import Client

from django_upsolve.adapter import UpsolveAdapter
from django_upsolve.models import UpsolveProfile
from tests.helpers import log_in, make_user, override_upsolve
from tests.reliability.faultserver import HTML_502, Respond
from tests.reliability.helpers import on


class QueryBreakingAdapter(UpsolveAdapter):
    """A project adapter whose query fails (here: a NOT NULL column left empty)."""

    def get_user_name(self, user: object) -> str:
        Group.objects.create(name=None)
        return "unreachable"


@pytest.fixture
def atomic_requests(database, monkeypatch):
    """Every view runs in a transaction on the test's database."""
    monkeypatch.setitem(connections.settings[database], "ATOMIC_REQUESTS", True)


@pytest.mark.parametrize("database", on("default", "postgres"), indirect=True)
def test_a_database_error_in_the_receiver_keeps_the_login(atomic_requests, server, logs):
    user = make_user("ada")
    client = Client()
    with override_upsolve(ADAPTER=f"{__name__}.QueryBreakingAdapter"):
        log_in(client, "ada")
    assert client.get("/admin/login/").context["user"] == user  # the session survived
    user.refresh_from_db()
    assert user.last_login is not None  # the login's own writes were committed
    errors = logs.messages("django_upsolve", logging.ERROR)
    assert errors == [f"Unexpected error while syncing user pk={user.pk} with Upsolve."]
    assert server.count() == 1  # the tenant was registered before the adapter broke


@pytest.mark.parametrize("database", on("default", "postgres"), indirect=True)
def test_a_failure_recorded_in_a_transaction_is_kept(atomic_requests, server, logs):
    server.always(Respond(503, HTML_502))
    user = make_user("ada")
    log_in(Client(), "ada")
    profile = UpsolveProfile.objects.get(user=user)
    assert profile.last_error.startswith("Upsolve register-organization: HTTP 503")
    assert profile.last_error_at is not None
