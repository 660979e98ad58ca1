"""The login flow against the sandbox emulator: registration, call counts, failures."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import requests
import responses
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from django_upsolve import signals
from django_upsolve.conf import upsolve_settings
from django_upsolve.models import UpsolveProfile, UpsolveTenant
from django_upsolve.services import get_token
from django_upsolve.tokens import read_claims
from tests.helpers import API_KEY, log_in, make_user, override_upsolve

SHARED = "tests.adapters.DomainTenantAdapter"


def shared_tenants():
    return override_upsolve(ADAPTER=SHARED)


@pytest.mark.django_db
def test_call_counts_three_then_two_then_one(client, upsolve_sandbox):
    make_user("ada", "ada@acme.test")
    make_user("bob", "bob@acme.test")
    with shared_tenants():
        log_in(client, "ada")
        assert [c.path for c in upsolve_sandbox.calls] == [
            "register-organization",
            "register-user",
            "user-token",
        ]
        log_in(client, "bob")
        assert [c.path for c in upsolve_sandbox.calls[3:]] == ["register-user", "user-token"]
        log_in(client, "ada")
        assert [c.path for c in upsolve_sandbox.calls[5:]] == ["user-token"]
    assert all(call.status == 200 for call in upsolve_sandbox.calls)
    assert UpsolveTenant.objects.count() == 1
    assert upsolve_sandbox.organizations().count() == 1
    assert upsolve_sandbox.users().count() == 2


@pytest.mark.django_db
def test_bodies_match_the_contract_and_what_is_stored(client, upsolve_sandbox):
    user = make_user("ada", "ada@acme.test")
    user.first_name, user.last_name = "Ada", "Lovelace"
    user.save()
    with shared_tenants():
        log_in(client, "ada")
    tenant = UpsolveTenant.objects.get()
    profile = UpsolveProfile.objects.get(user=user)
    org_body, user_body, token_body = (c.json_body for c in upsolve_sandbox.calls)
    assert org_body == {
        "projectId": upsolve_settings.PROJECT_ID,
        "name": "Acme.Test",
        "externalId": "acme.test",
        "properties": {"plan": "pro"},
    }
    assert user_body == {
        "projectId": upsolve_settings.PROJECT_ID,
        "projectOrganizationId": str(tenant.upsolve_id),
        "userId": str(profile.upsolve_user_id),
        "userRoleId": upsolve_settings.DEFAULT_ROLE_ID,
        "name": "Ada Lovelace",
        "properties": {"organization_id": "acme.test", "user_pk": user.pk},
    }
    assert token_body == {
        "userId": str(profile.upsolve_user_id),
        "organizationId": str(tenant.upsolve_id),
        "expiration": 3600,
    }
    assert upsolve_sandbox.organizations().get().id == tenant.upsolve_id
    assert upsolve_sandbox.users().get().id == profile.upsolve_user_id
    assert tenant.registered_at and tenant.name == "Acme.Test"
    assert profile.tenant == tenant
    assert profile.registered_at
    assert str(profile.role_id) == upsolve_settings.DEFAULT_ROLE_ID
    assert profile.properties == user_body["properties"]
    claims = read_claims(profile.token)
    assert profile.token_expires_at == pytest.approx(
        timezone.now() + timedelta(hours=1), abs=timedelta(seconds=5)
    )
    assert claims.expires_at and claims.issued_at
    assert claims.expires_at - claims.issued_at == 3600
    assert profile.last_error == ""
    for call in upsolve_sandbox.calls:
        assert call.headers["Authorization"].startswith("Bearer ")
        assert call.headers["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_default_adapter_gives_each_user_a_personal_tenant(client, upsolve_sandbox):
    ada = make_user("ada")
    log_in(client, "ada")
    tenant = UpsolveTenant.objects.get()
    assert tenant.external_id == f"user-{ada.pk}"
    assert tenant.name == "ada"
    assert UpsolveProfile.objects.get(user=ada).has_fresh_token(300)


@pytest.mark.django_db
def test_token_404_registers_again_and_retries_once(client, upsolve_sandbox):
    ada = make_user("ada")
    log_in(client, "ada")
    upsolve_sandbox.users().delete()  # Upsolve forgot the user.
    log_in(client, "ada")
    assert [c.path for c in upsolve_sandbox.calls[3:]] == [
        "user-token",
        "register-user",
        "user-token",
    ]
    assert [c.status for c in upsolve_sandbox.calls[3:]] == [404, 200, 200]
    profile = UpsolveProfile.objects.get(user=ada)
    assert upsolve_sandbox.users().get().id == profile.upsolve_user_id


@pytest.mark.django_db
def test_user_left_out_by_the_adapter_is_not_synced(client, upsolve_sandbox):
    make_user("nomail")
    with shared_tenants():
        log_in(client, "nomail")
    assert upsolve_sandbox.calls == []
    assert not UpsolveProfile.objects.exists()


@pytest.mark.django_db
def test_sync_on_login_can_be_switched_off(client, upsolve_sandbox):
    make_user("ada")
    with override_upsolve(SYNC_ON_LOGIN=False):
        log_in(client, "ada")
    assert upsolve_sandbox.calls == []


@pytest.mark.django_db
def test_signals_are_sent(client, upsolve_sandbox):
    received: list[str] = []

    def on(name):
        def receiver(sender, **kwargs):
            received.append(name)

        return receiver

    handlers = {
        name: on(name) for name in ("tenant_registered", "user_registered", "token_refreshed")
    }
    for name, handler in handlers.items():
        getattr(signals, name).connect(handler)
    try:
        make_user("ada")
        log_in(client, "ada")
    finally:
        for name, handler in handlers.items():
            getattr(signals, name).disconnect(handler)
    assert received == ["tenant_registered", "user_registered", "token_refreshed"]


# Failures -------------------------------------------------------------------------------


def fail_every_call(http, failure):
    for call in ("register-organization", "register-user", "user-token"):
        url = f"{upsolve_settings.API_URL}/{call}"
        if isinstance(failure, Exception):
            http.post(url, body=failure)
        else:
            status, body = failure
            http.post(url, status=status, body=body)


FAILURES = {
    "timeout": requests.exceptions.ReadTimeout("read timed out"),
    "connection refused": requests.exceptions.ConnectionError("Connection refused"),
    "html 502": (502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "json without data.token": (200, '{"status": "success", "data": {}}'),
}


@pytest.mark.django_db
@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_failure_on_first_login_still_logs_in_and_records(client, http, caplog, failure):
    ada = make_user("ada")
    if failure == FAILURES["json without data.token"]:
        # Registration works; only the token answer is garbage.
        http.post(
            f"{upsolve_settings.API_URL}/register-organization",
            json={
                "status": "success",
                "data": {"projectOrganizationId": "0d4b9b52-1d3c-4c8e-9a51-2f7f3b2d9c11"},
            },
        )
        http.post(
            f"{upsolve_settings.API_URL}/register-user",
            json={"status": "success", "data": {"message": "ok"}},
        )
        http.post(f"{upsolve_settings.API_URL}/user-token", body=failure[1])
    else:
        fail_every_call(http, failure)
    with caplog.at_level(logging.DEBUG):
        log_in(client, "ada")
    profile = UpsolveProfile.objects.get(user=ada)
    tenant = UpsolveTenant.objects.get()
    assert profile.last_error and profile.last_error_at
    assert profile.token == "" and profile.token_expires_at is None
    # Each row is whole: registered with its Upsolve id, or not registered at all.
    if failure == FAILURES["json without data.token"]:
        assert tenant.upsolve_id and tenant.registered_at and profile.registered_at
    else:
        assert tenant.upsolve_id is None and tenant.registered_at is None
        assert tenant.last_error and profile.registered_at is None
    assert "Upsolve sync failed" in caplog.text
    assert API_KEY not in caplog.text
    assert get_token(ada) is None


@pytest.mark.django_db
@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_failure_on_later_login_keeps_the_valid_token(client, upsolve_sandbox, failure):
    ada = make_user("ada")
    log_in(client, "ada")
    before = UpsolveProfile.objects.get(user=ada)
    tenants, profiles = UpsolveTenant.objects.count(), UpsolveProfile.objects.count()
    with (
        override_upsolve(API_URL="https://down.test/v1"),
        responses.RequestsMock(assert_all_requests_are_fired=False) as down,
    ):
        fail_every_call(down, failure)
        log_in(client, "ada")
    after = UpsolveProfile.objects.get(user=ada)
    assert after.token == before.token
    assert after.token_expires_at == before.token_expires_at
    assert after.registered_at == before.registered_at
    assert after.last_error
    assert API_KEY not in after.last_error
    assert (UpsolveTenant.objects.count(), UpsolveProfile.objects.count()) == (tenants, profiles)
    assert get_token(ada) == before.token  # still fresh: no call needed


@pytest.mark.django_db
def test_a_crashing_adapter_never_breaks_the_login(client, upsolve_sandbox, caplog):
    make_user("ada")
    with override_upsolve(ADAPTER="tests.adapters.BrokenAdapter"):
        log_in(client, "ada")
    assert "Unexpected error while syncing user" in caplog.text
    assert upsolve_sandbox.calls == []


@pytest.mark.django_db
def test_missing_settings_never_break_the_login(client, upsolve_sandbox, caplog):
    make_user("ada")
    with override_settings(UPSOLVE={"PROJECT_ID": upsolve_settings.PROJECT_ID}):
        log_in(client, "ada")
    # Already reported by the checks: one line that names the missing key, no traceback.
    (record,) = [r for r in caplog.records if r.name == "django_upsolve.receivers"]
    assert record.levelname == "WARNING" and record.exc_info is None
    assert "Upsolve sync skipped for user" in record.getMessage()
    assert "API_KEY" in record.getMessage()


# get_token ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_get_token_makes_no_call_when_fresh(client, upsolve_sandbox):
    ada = make_user("ada")
    log_in(client, "ada")
    calls = len(upsolve_sandbox.calls)
    token = get_token(ada)
    assert token == UpsolveProfile.objects.get(user=ada).token
    assert len(upsolve_sandbox.calls) == calls


@pytest.mark.django_db
def test_get_token_refreshes_once_when_about_to_expire(client, upsolve_sandbox):
    ada = make_user("ada")
    log_in(client, "ada")
    old = UpsolveProfile.objects.get(user=ada)
    UpsolveProfile.objects.filter(pk=old.pk).update(
        token_expires_at=timezone.now() + timedelta(seconds=upsolve_settings.REFRESH_MARGIN - 1),
        token_refreshed_at=timezone.now() - timedelta(hours=1),  # an hour-long token near its end
    )
    calls = len(upsolve_sandbox.calls)
    token = get_token(ada)
    assert [c.path for c in upsolve_sandbox.calls[calls:]] == ["user-token"]
    new = UpsolveProfile.objects.get(user=ada)
    assert token == new.token
    assert new.has_fresh_token(upsolve_settings.REFRESH_MARGIN)
    assert get_token(ada) == token
    assert len(upsolve_sandbox.calls) == calls + 1


@pytest.mark.django_db
def test_get_token_force_always_fetches(client, upsolve_sandbox):
    ada = make_user("ada")
    log_in(client, "ada")
    calls = len(upsolve_sandbox.calls)
    assert get_token(ada, force=True)
    assert [c.path for c in upsolve_sandbox.calls[calls:]] == ["user-token"]


@pytest.mark.django_db
def test_get_token_registers_a_user_who_never_logged_in_since_install(upsolve_sandbox):
    ada = make_user("ada")
    assert get_token(ada)
    assert [c.path for c in upsolve_sandbox.calls] == [
        "register-organization",
        "register-user",
        "user-token",
    ]


def test_get_token_for_anonymous_is_none():
    from django.contrib.auth.models import AnonymousUser

    assert get_token(AnonymousUser()) is None


@pytest.mark.django_db
def test_get_token_returns_none_when_upsolve_is_down(http):
    ada = make_user("ada")
    fail_every_call(http, (503, "down"))
    assert get_token(ada) is None
    assert UpsolveProfile.objects.get(user=ada).last_error


# The adapter's current view wins -----------------------------------------------------------


@pytest.mark.django_db
def test_changed_details_are_sent_again_on_the_next_login(client, upsolve_sandbox):
    ada = make_user("ada", "ada@acme.test")
    with shared_tenants():
        log_in(client, "ada")
        log_in(client, "ada")
        assert [c.path for c in upsolve_sandbox.calls[3:]] == ["user-token"]
        ada.first_name, ada.last_name = "Ada", "Lovelace"
        ada.save()
        log_in(client, "ada")
    assert [c.path for c in upsolve_sandbox.calls[4:]] == ["register-user", "user-token"]
    assert upsolve_sandbox.users().get().name == "Ada Lovelace"
    assert UpsolveProfile.objects.get(user=ada).name == "Ada Lovelace"


@pytest.mark.django_db
def test_a_user_moved_to_another_tenant_becomes_a_new_member_there(upsolve_sandbox):
    ada = make_user("ada", "ada@acme.test")
    with shared_tenants():
        old_token = get_token(ada)
        ada.email = "ada@globex.test"
        ada.save()
        new_token = get_token(ada)
    assert new_token != old_token
    assert [c.path for c in upsolve_sandbox.calls[3:]] == [
        "register-organization",
        "register-user",
        "user-token",
    ]
    acme, globex = UpsolveProfile.objects.order_by("pk")
    assert (acme.tenant.external_id, globex.tenant.external_id) == ("acme.test", "globex.test")
    assert globex.token == new_token
    assert acme.upsolve_user_id != globex.upsolve_user_id  # one Upsolve user per membership
    users = {u.organization.external_id: u.id for u in upsolve_sandbox.users()}
    assert users == {"acme.test": acme.upsolve_user_id, "globex.test": globex.upsolve_user_id}


@pytest.mark.django_db
def test_no_token_once_the_adapter_leaves_the_user_out(upsolve_sandbox):
    ada = make_user("ada", "ada@acme.test")
    with shared_tenants():
        assert get_token(ada)
        ada.email = ""
        ada.save()
        assert get_token(ada) is None
    assert UpsolveProfile.objects.get(user=ada).has_fresh_token(300)  # kept, not handed out
    assert len(upsolve_sandbox.calls) == 3


@pytest.mark.django_db
def test_page_sync_runs_in_a_savepoint_inside_a_transaction(upsolve_sandbox, monkeypatch):
    from django.db import transaction

    from django_upsolve import services

    ada = make_user("ada")
    tenant = UpsolveTenant.objects.create(external_id="acme", name="Acme")

    def broken_sync(*args, **kwargs):
        UpsolveProfile.objects.create(user=ada, tenant=tenant)
        # IntegrityError (one profile per membership): breaks a bare transaction.
        UpsolveProfile.objects.create(user=ada, tenant=tenant)

    monkeypatch.setattr(services, "sync_membership", broken_sync)
    with transaction.atomic():
        assert get_token(ada) is None  # logged, never raised
        # The caller's transaction is still usable.
        assert get_user_model().objects.filter(pk=ada.pk).exists()
    assert not UpsolveProfile.objects.exists()


@pytest.mark.django_db
def test_pages_pause_a_failing_user_instead_of_calling_upsolve_on_every_view(http):
    from django_upsolve import services

    ada = make_user("ada")
    fail_every_call(http, (422, '{"errors": [{"field": "name"}]}'))  # never counts for the breaker
    assert get_token(ada) is None
    calls = len(http.calls)
    assert get_token(ada) is None
    assert len(http.calls) == calls  # paused: no call
    UpsolveProfile.objects.filter(user=ada).update(
        last_error_at=timezone.now() - services.FAILED_SYNC_PAUSE
    )
    assert get_token(ada) is None
    assert len(http.calls) == calls + 1  # tried again after the pause
