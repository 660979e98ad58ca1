"""Test mode (``UPSOLVE["TEST_MODE"]``): logins recorded in ``testing.outbox``, never sent."""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.core import checks
from django.test import Client, TestCase, override_settings

from django_upsolve import testing
from django_upsolve.checks import check_settings, check_test_mode
from django_upsolve.client import UpsolveClient, get_client
from django_upsolve.conf import TEST_MODE_PLACEHOLDERS, SettingError, upsolve_settings
from django_upsolve.exceptions import UpsolveInvalidRequest
from django_upsolve.models import UpsolveProfile
from django_upsolve.payloads import OrganizationFields
from django_upsolve.testing import RecordingClient, outbox
from tests.embed.helpers import make_request, only_iframe, render
from tests.helpers import API_KEY, PASSWORD, log_in, make_user, upsolve_with

CALLS = ["register-organization", "register-user", "user-token"]
TEST_MODE = upsolve_with(TEST_MODE=True)


@pytest.fixture
def test_mode(set_upsolve: Any) -> None:
    set_upsolve(TEST_MODE=True)


# A login -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_login_is_recorded_and_sends_nothing(test_mode, http, client, upsolve_outbox):
    user = make_user("ada")

    log_in(client, "ada")

    assert len(http.calls) == 0  # every request would have failed the strict mock
    assert [call.name for call in upsolve_outbox] == CALLS
    organization, registration, token_call = upsolve_outbox
    assert organization.body == {
        "projectId": upsolve_settings.PROJECT_ID,
        "name": "ada",
        "externalId": f"user-{user.pk}",
        "properties": {},
    }
    profile = UpsolveProfile.objects.get(user=user)
    assert registration.body["projectOrganizationId"] == str(profile.tenant.upsolve_id)
    assert registration.body["userId"] == str(profile.upsolve_user_id)
    assert token_call.body == {
        "userId": str(profile.upsolve_user_id),
        "organizationId": str(profile.tenant.upsolve_id),
        "expiration": 3600,
    }
    assert profile.token == token_call.answer["token"]


@pytest.mark.django_db
def test_nothing_recorded_holds_the_key(test_mode, client, upsolve_outbox):
    make_user("ada")

    log_in(client, "ada")

    assert API_KEY not in repr(upsolve_outbox)


@pytest.mark.django_db
def test_tokens_are_jwts_living_token_expiration(set_upsolve, client, upsolve_outbox):
    set_upsolve(TEST_MODE=True, TOKEN_EXPIRATION=900, REFRESH_MARGIN=60)
    user = make_user("ada")

    log_in(client, "ada")

    token = upsolve_outbox[-1].answer["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 900
    assert claims["iss"] == testing.ISSUER
    profile = UpsolveProfile.objects.get(user=user)
    assert claims["sub"] == str(profile.upsolve_user_id)
    lifetime = profile.token_expires_at - profile.token_refreshed_at
    assert 899 <= lifetime.total_seconds() <= 900


@pytest.mark.django_db
def test_the_tag_renders_an_iframe_with_the_fake_token(test_mode, http, client, upsolve_outbox):
    user = make_user("ada")
    log_in(client, "ada")

    iframe = only_iframe(render('{% upsolve_dashboard "sales" %}', make_request(user)))

    token = upsolve_outbox[-1].answer["token"]
    assert iframe["src"] == f"https://hub.upsolve.ai/share/dashboard/sales?jwt={token}&theme=light"
    assert len(http.calls) == 0


@pytest.mark.django_db
def test_a_second_login_asks_only_a_token(test_mode, client, upsolve_outbox):
    make_user("ada")
    log_in(client, "ada")
    log_in(Client(), "ada")

    assert [call.name for call in upsolve_outbox] == [*CALLS, "user-token"]
    first, second = upsolve_outbox[2].answer["token"], upsolve_outbox[3].answer["token"]
    assert first != second


@pytest.mark.django_db
def test_background_mode_is_recorded_too(
    set_upsolve, http, client, upsolve_outbox, django_capture_on_commit_callbacks
):
    set_upsolve(TEST_MODE=True, SYNC_ON_LOGIN="background")  # the tests' immediate backend
    make_user("ada")

    with django_capture_on_commit_callbacks(execute=True):
        log_in(client, "ada")

    assert [call.name for call in upsolve_outbox] == CALLS
    assert len(http.calls) == 0


# Each test starts with an empty outbox (the plugin's autouse fixture): whichever of these
# two runs second would see the first one's calls otherwise.


@pytest.mark.django_db
@pytest.mark.parametrize("run", [1, 2])
def test_the_outbox_starts_empty(run, test_mode, client, upsolve_outbox):
    assert upsolve_outbox == []
    make_user("ada")
    log_in(client, "ada")
    assert len(upsolve_outbox) == 3


def test_the_fixture_is_the_module_list(upsolve_outbox):
    assert upsolve_outbox is testing.outbox is outbox


# Django's TestCase ---------------------------------------------------------------------------


@override_settings(UPSOLVE=TEST_MODE)
class TestModeInDjangoTestCase(TestCase):
    def setUp(self) -> None:
        outbox.clear()

    def test_login_view_records_the_calls(self) -> None:
        get_user_model().objects.create_user("ada", password=PASSWORD)

        response = self.client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})

        assert response.status_code == 302
        assert [call.name for call in outbox] == CALLS

    def test_force_login_records_them_too(self) -> None:
        user = get_user_model().objects.create_user("bob", password=PASSWORD)

        self.client.force_login(user)

        assert [call.name for call in testing.calls_to("user-token")] == ["user-token"]
        assert outbox[-1].answer["token"] == UpsolveProfile.objects.get(user=user).token


# The client ----------------------------------------------------------------------------------


def test_get_client_follows_the_switch(set_upsolve):
    assert type(get_client()) is UpsolveClient
    set_upsolve(TEST_MODE=True)
    assert isinstance(get_client(), RecordingClient)


def test_organizations_keep_their_id_when_registered_again(upsolve_outbox):
    client = RecordingClient(project_id=str(uuid.uuid4()))
    fields = OrganizationFields.build(external_id="acme", name="Acme")

    first = client.register_organization(fields=fields)
    again = client.register_organization(fields=fields)
    other = client.register_organization(fields=OrganizationFields.build(external_id="x", name="X"))

    assert first.organization_id == again.organization_id != other.organization_id
    assert first.external_id == "acme"


def test_bodies_are_checked_as_for_upsolve(upsolve_outbox):
    client = RecordingClient(project_id="not-a-uuid")

    with pytest.raises(UpsolveInvalidRequest, match="projectId must be a UUID"):
        client.register_organization(fields=OrganizationFields.build(external_id="a", name="A"))
    with pytest.raises(UpsolveInvalidRequest, match="expiration"):
        client.user_token(user_id=str(uuid.uuid4()), expiration=0)
    assert upsolve_outbox == []


# Settings and checks -------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_credentials_are_needed(set_upsolve, http, client, upsolve_outbox, settings):
    settings.DEBUG = True  # no W003 either way
    set_upsolve(TEST_MODE=True, API_KEY="", PROJECT_ID="", DEFAULT_ROLE_ID="")

    assert check_settings() == []
    make_user("ada")
    log_in(client, "ada")

    assert [call.name for call in upsolve_outbox] == CALLS
    assert upsolve_outbox[0].body["projectId"] == TEST_MODE_PLACEHOLDERS["PROJECT_ID"]
    assert upsolve_outbox[1].body["userRoleId"] == TEST_MODE_PLACEHOLDERS["DEFAULT_ROLE_ID"]


def test_without_test_mode_credentials_are_required(set_upsolve, settings):
    settings.DEBUG = True
    set_upsolve(API_KEY="", PROJECT_ID="", DEFAULT_ROLE_ID="")

    assert {m.id for m in check_settings()} == {"django_upsolve.E001"}


def test_test_mode_silences_the_local_memory_cache_warning(settings, set_upsolve):
    settings.DEBUG = False
    assert [m.id for m in check_settings()] == ["django_upsolve.W003"]
    set_upsolve(TEST_MODE=True)
    assert check_settings() == []


@pytest.mark.parametrize("value", ["true", 1, None])
def test_test_mode_must_be_a_bool(set_upsolve, value):
    set_upsolve(TEST_MODE=value)

    with pytest.raises(SettingError, match=r"UPSOLVE\['TEST_MODE'\] must be True or False"):
        _ = upsolve_settings.TEST_MODE
    assert "django_upsolve.E012" in {m.id for m in check_settings()}
    assert check_test_mode() == []


def test_deploy_check_refuses_test_mode(set_upsolve):
    assert check_test_mode() == []
    set_upsolve(TEST_MODE=True)

    (error,) = check_test_mode()

    assert (error.id, error.level) == ("django_upsolve.E018", checks.ERROR)
    deploy = checks.run_checks(include_deployment_checks=True)
    assert "django_upsolve.E018" in {m.id for m in deploy}
    assert "django_upsolve.E018" not in {m.id for m in checks.run_checks()}
