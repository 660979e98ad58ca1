"""Profile actions: delegate to the services, report successes and failures, need "change"."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model

from django_upsolve import breaker, services
from django_upsolve.admin.actions import ACTION_LIMIT, ERRORS_NAMED
from django_upsolve.models import UpsolveProfile
from tests.helpers import API_KEY, make_jwt, make_user

from .helpers import messages_of, post_action

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(upsolve_sandbox):
    """``synced("ada", "bob")``: users registered with the sandbox, each holding a token."""

    def make(*usernames: str) -> list[UpsolveProfile]:
        profiles = []
        for username in usernames:
            user = make_user(username, f"{username}@acme.test")
            profile = services.sync_login(user)
            assert profile is not None
            profiles.append(profile)
        return profiles

    return make


def test_refresh_fetches_a_new_token_for_each_selected_profile(
    admin_client, synced, upsolve_sandbox
):
    ada, bob = synced("ada", "bob")
    before = upsolve_sandbox.count("user-token")

    response = post_action(admin_client, "refresh_tokens", [ada, bob])

    assert messages_of(response) == [("success", "Refreshed the tokens of 2 profiles.")]
    assert upsolve_sandbox.count("user-token") == before + 2
    for old in (ada, bob):
        assert UpsolveProfile.objects.get(pk=old.pk).token_refreshed_at > old.token_refreshed_at
    assert LogEntry.objects.filter(change_message="Refreshed the Upsolve token.").count() == 2


def test_reregister_sends_the_user_again(admin_client, synced, upsolve_sandbox):
    (ada,) = synced("ada")
    get_user_model().objects.filter(pk=ada.user.pk).update(first_name="Ada", last_name="L.")
    before = upsolve_sandbox.count("register-user")

    response = post_action(admin_client, "reregister", [ada])

    assert messages_of(response) == [("success", "Registered 1 profile again.")]
    assert upsolve_sandbox.count("register-user") == before + 1
    assert upsolve_sandbox.calls_to("register-user")[-1].json_body["name"] == "Ada L."
    assert UpsolveProfile.objects.get(pk=ada.pk).name == "Ada L."


def test_clear_forgets_the_tokens_without_calling_upsolve(admin_client, synced, upsolve_sandbox):
    ada, bob = synced("ada", "bob")
    calls = len(upsolve_sandbox.calls)

    response = post_action(admin_client, "clear_tokens", [ada])

    assert messages_of(response) == [("success", "Cleared the token of 1 profile.")]
    assert len(upsolve_sandbox.calls) == calls
    assert UpsolveProfile.objects.get(pk=ada.pk).token == ""
    assert UpsolveProfile.objects.get(pk=ada.pk).token_expires_at is None
    assert UpsolveProfile.objects.get(pk=bob.pk).token == bob.token


def test_a_failure_from_upsolve_is_reported_and_recorded(admin_client, synced, upsolve_sandbox):
    ada, bob = synced("ada", "bob")
    # Profiles are handled newest first: bob's call fails, ada's succeeds. The error
    # body carries secrets, which must not reach the page.
    leaked = make_jwt()
    upsolve_sandbox.fail_next(400, {"status": "error", "message": f"bad key {API_KEY} {leaked}"})

    response = post_action(admin_client, "refresh_tokens", [ada, bob])

    shown = messages_of(response)
    assert shown[0] == ("success", "Refreshed the token of 1 profile.")
    level, text = shown[1]
    assert level == "error"
    assert text.startswith("1 profile failed: bob: Upsolve user-token: HTTP 400")
    html = response.content.decode()
    for secret in (API_KEY, leaked, ada.token, bob.token):
        assert secret not in html
    bob.refresh_from_db()
    assert "HTTP 400" in bob.last_error
    assert bob.last_error_at is not None


def test_many_failures_are_counted_and_a_few_named(admin_client, synced, upsolve_sandbox):
    profiles = synced(*(f"user{i}" for i in range(ERRORS_NAMED + 2)))
    upsolve_sandbox.fail_next(403, {"status": "error", "message": "forbidden"}, times=20)

    response = post_action(admin_client, "refresh_tokens", profiles)

    ((level, text),) = messages_of(response)
    assert level == "error"
    assert text.startswith(f"{ERRORS_NAMED + 2} profiles failed: ")
    assert text.count("HTTP 403") == ERRORS_NAMED
    assert text.endswith("(and 2 more)")


def test_an_open_breaker_stops_the_action(admin_client, synced, upsolve_sandbox):
    profiles = synced("ada", "bob", "cy")
    breaker.record_failure(open_for=60)
    calls = len(upsolve_sandbox.calls)

    response = post_action(admin_client, "refresh_tokens", profiles)

    shown = messages_of(response)
    assert [level for level, _text in shown] == ["error", "warning"]
    assert shown[0][1].startswith("1 profile failed: cy: ")
    assert shown[1][1].startswith("2 profiles were not tried: Upsolve's circuit breaker is open.")
    assert len(upsolve_sandbox.calls) == calls


def test_an_ineligible_user_is_reported(admin_client, make_profile, set_upsolve, upsolve_sandbox):
    set_upsolve(ADAPTER="tests.adapters.DomainTenantAdapter")
    profile = make_profile("nomail")
    get_user_model().objects.filter(pk=profile.user.pk).update(email="")

    response = post_action(admin_client, "refresh_tokens", [profile])

    ((level, text),) = messages_of(response)
    assert level == "error"
    assert "nomail" in text
    assert "adapter leaves this membership out" in text
    assert upsolve_sandbox.calls == []


@pytest.mark.parametrize("action", ["refresh_tokens", "reregister"])
def test_a_profile_without_a_tenant_is_refused_not_mistaken_for_another(
    admin_client, upsolve_sandbox, action
):
    """Rows kept from before profiles were per membership: syncing "the user" would work on
    the user's listed membership and report success on this row."""
    legacy = UpsolveProfile.objects.create(user=make_user("erin"), tenant=None)
    calls = len(upsolve_sandbox.calls)

    response = post_action(admin_client, action, [legacy])

    ((level, text),) = messages_of(response)
    assert level == "error"
    assert "erin" in text and "it has no tenant" in text
    assert len(upsolve_sandbox.calls) == calls
    assert list(UpsolveProfile.objects.filter(user__username="erin")) == [legacy]


def test_too_many_profiles_at_once_are_refused(admin_client, make_tenant, upsolve_sandbox):
    tenant = make_tenant()
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bulk{i}") for i in range(ACTION_LIMIT + 1)
    )
    profiles = UpsolveProfile.objects.bulk_create(
        UpsolveProfile(user=user, tenant=tenant) for user in users
    )

    response = post_action(admin_client, "refresh_tokens", profiles)

    ((level, text),) = messages_of(response)
    assert level == "error"
    assert text.startswith(f"Select at most {ACTION_LIMIT} profiles at a time")
    assert upsolve_sandbox.calls == []


def test_actions_need_the_change_permission(staff_client, synced, upsolve_sandbox):
    (ada,) = synced("ada")
    viewer = staff_client("view_upsolveprofile")
    calls = len(upsolve_sandbox.calls)

    listing = viewer.get("/admin/django_upsolve/upsolveprofile/").content.decode()
    response = post_action(viewer, "refresh_tokens", [ada])

    assert 'name="action"' not in listing
    assert response.status_code == 200
    assert messages_of(response) == []
    assert len(upsolve_sandbox.calls) == calls
    assert UpsolveProfile.objects.get(pk=ada.pk).token == ada.token


def test_staff_with_the_change_permission_can_run_actions(staff_client, synced, upsolve_sandbox):
    (ada,) = synced("ada")
    operator = staff_client("view_upsolveprofile", "change_upsolveprofile")

    response = post_action(operator, "refresh_tokens", [ada])

    assert messages_of(response) == [("success", "Refreshed the token of 1 profile.")]


def test_a_bug_in_the_adapter_is_reported_not_a_500(admin_client, synced, set_upsolve, caplog):
    (ada,) = synced("ada")
    set_upsolve(ADAPTER="tests.adapters.BrokenAdapter")

    response = post_action(admin_client, "refresh_tokens", [ada])

    assert response.status_code == 200
    assert messages_of(response) == [
        ("error", "1 profile failed: ada: unexpected error, see the server log")
    ]
    assert "Unexpected error in an Upsolve admin action" in caplog.text


def test_a_setting_the_app_cannot_use_is_named_once_without_a_traceback(
    admin_client, synced, set_upsolve, caplog, upsolve_sandbox
):
    profiles = synced("ada", "bob")
    calls = len(upsolve_sandbox.calls)
    set_upsolve(CACHE_ALIAS="nope")

    response = post_action(admin_client, "refresh_tokens", profiles)

    ((level, text),) = messages_of(response)
    assert level == "error"
    assert text.startswith("UPSOLVE['CACHE_ALIAS'] = 'nope' is not in ")
    assert [record for record in caplog.records if record.exc_info] == []
    assert len(upsolve_sandbox.calls) == calls
