"""The token endpoint: ``POST /upsolve/token/`` (``django_upsolve:token``)."""

from __future__ import annotations

import math
import time
from datetime import timedelta

import pytest
import responses
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from django_upsolve.conf import upsolve_settings
from django_upsolve.models import UpsolveProfile
from django_upsolve.services import sync_login
from tests.helpers import hour_token_ending

pytestmark = pytest.mark.urls("tests.embed.urls")

CSRF_SECRET = "a" * 32


@pytest.fixture(autouse=True)
def _no_sync_on_login(set_upsolve) -> None:
    """``force_login`` would fetch a token itself; these tests count the endpoint's calls."""
    set_upsolve(SYNC_ON_LOGIN=False)


def assert_never_cached(response) -> None:
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def csrf_client(user=None) -> Client:
    """A client that enforces CSRF like a browser, holding a CSRF cookie."""
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF_SECRET
    if user is not None:
        client.force_login(user)
    return client


def post_token(client: Client, csrf: str | None = CSRF_SECRET):
    headers = {"X-CSRFToken": csrf} if csrf else {}
    return client.post(reverse("django_upsolve:token"), headers=headers)


def test_the_url():
    assert reverse("django_upsolve:token") == "/upsolve/token/"


@pytest.mark.django_db
def test_anonymous_users_get_401_json(http):
    response = post_token(csrf_client())
    assert response.status_code == 401
    assert response.json() == {"error": "authentication_required"}
    assert_never_cached(response)
    assert len(http.calls) == 0


def test_a_post_without_the_csrf_token_is_refused(make_user_with_token, http):
    response = post_token(csrf_client(make_user_with_token()), csrf=None)
    assert response.status_code == 403
    assert b"eyJ" not in response.content


def test_a_post_with_a_wrong_csrf_token_is_refused(make_user_with_token, http):
    response = post_token(csrf_client(make_user_with_token()), csrf="b" * 32)
    assert response.status_code == 403


def test_get_is_not_allowed(make_user_with_token, http):
    client = csrf_client(make_user_with_token())
    response = client.get(reverse("django_upsolve:token"))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert_never_cached(response)


def test_a_fresh_token_is_answered_without_any_http_call(make_user_with_token, http):
    user = make_user_with_token(lifetime=3600)
    profile = UpsolveProfile.objects.get(user=user)
    response = post_token(csrf_client(user))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert_never_cached(response)
    body = response.json()
    assert body["token"] == profile.token
    assert body["expires_at"] == math.ceil(profile.token_expires_at.timestamp())
    assert abs(body["now"] - time.time()) < 5
    assert body["refreshing"] is False
    assert set(body) == {"token", "expires_at", "now", "refreshing"}
    assert len(http.calls) == 0


@pytest.mark.parametrize(("microsecond", "extra"), [(0, 0), (1, 1), (999_999, 1)])
def test_the_expiry_is_rounded_up_to_the_second(make_user_with_token, http, microsecond, extra):
    """Rounded down, the browser would ask while the server still finds the token fresh."""
    user = make_user_with_token(lifetime=3600)
    whole = (timezone.now() + timedelta(hours=1)).replace(microsecond=0)
    expires = whole.replace(microsecond=microsecond)
    UpsolveProfile.objects.filter(user=user).update(**hour_token_ending(expires))
    body = post_token(csrf_client(user)).json()
    assert body["expires_at"] == int(whole.timestamp()) + extra


def test_each_user_gets_their_own_token_only(make_user_with_token, http):
    ada, bob = make_user_with_token("ada"), make_user_with_token("bob")
    ada_token = UpsolveProfile.objects.get(user=ada).token
    bob_token = UpsolveProfile.objects.get(user=bob).token
    assert ada_token != bob_token
    ada_answer = post_token(csrf_client(ada)).json()
    bob_answer = post_token(csrf_client(bob)).json()
    assert ada_answer["token"] == ada_token
    assert bob_answer["token"] == bob_token


def test_a_stale_token_is_refreshed_once(db, upsolve_sandbox, django_user_model):
    user = django_user_model.objects.create_user("ada")
    sync_login(user)
    stale_until = timezone.now() + timedelta(seconds=10)
    UpsolveProfile.objects.filter(user=user).update(**hour_token_ending(stale_until))
    before = upsolve_sandbox.count("user-token")
    body = post_token(csrf_client(user)).json()
    assert upsolve_sandbox.count("user-token") == before + 1
    profile = UpsolveProfile.objects.get(user=user)
    assert body["token"] == profile.token
    assert body["expires_at"] == math.ceil(profile.token_expires_at.timestamp())
    assert profile.token_expires_at > stale_until


def test_a_user_the_adapter_leaves_out_gets_a_final_403(make_user_with_token, http, settings):
    user = make_user_with_token(lifetime=3600)  # holds a token, but has no e-mail
    settings.UPSOLVE = {**settings.UPSOLVE, "ADAPTER": "tests.adapters.DomainTenantAdapter"}
    response = post_token(csrf_client(user))
    assert response.status_code == 403
    assert response.json() == {"error": "not_available"}
    assert not response.has_header("Retry-After")
    assert_never_cached(response)


def test_no_token_to_be_had_is_a_503_without_any_token(make_user_with_token, http):
    user = make_user_with_token(lifetime=3600)
    old = UpsolveProfile.objects.get(user=user).token
    UpsolveProfile.objects.filter(user=user).update(**hour_token_ending(timezone.now()))
    http.add(responses.POST, f"{upsolve_settings.API_URL}/user-token", status=502, body="<html>")
    response = post_token(csrf_client(user))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {"error": "token_unavailable"}
    assert old.encode() not in response.content
    assert_never_cached(response)


def test_a_503_is_not_logged_per_request(make_user_with_token, http, caplog):
    """Django logs a 5xx at ERROR on django.request (and mails ADMINS): one per open tab and
    retry during an outage. The sync already logged why."""
    user = make_user_with_token(lifetime=3600)
    UpsolveProfile.objects.filter(user=user).update(**hour_token_ending(timezone.now()))
    http.add(responses.POST, f"{upsolve_settings.API_URL}/user-token", status=502, body="<html>")
    response = post_token(csrf_client(user))
    assert response.status_code == 503
    assert not [record for record in caplog.records if record.name == "django.request"]
    assert [record for record in caplog.records if record.name == "django_upsolve.sync"]
