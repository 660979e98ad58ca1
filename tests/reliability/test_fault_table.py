"""Every scripted row of docs/faults.rst, over a real socket: at the client, then at login.

Each case is what Upsolve answers to ``user-token``. At the client level the case pins the
typed error (or success), how many requests went out under the login policy and what the
breaker counted. Through a login it pins the rest of the table: the login is the usual
redirect, the failure is logged and recorded on the profile, the previous valid token is
kept and no row is left half-written.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from django_upsolve import breaker
from django_upsolve import exceptions as exc
from django_upsolve.budget import CallPolicy
from django_upsolve.client import get_client
from django_upsolve.models import UpsolveProfile, UpsolveTenant
from django_upsolve.payloads import OrganizationFields, UserFields
from tests.helpers import log_in
from tests.reliability.cases import CASES, ERROR, NAMED_FIELDS
from tests.reliability.faultserver import HTML_502, Respond, Token
from tests.reliability.helpers import (
    assert_failure_kept_token,
    assert_rows_whole,
    assert_secret_free,
    breaker_failures,
)

pytestmark = pytest.mark.django_db

USER = "8a2f6c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
ORG = "0d4b9b52-1d3c-4c8e-9a51-2f7f3b2d9c11"


def call_user_token():
    return get_client().user_token(user_id=USER, expiration=3600, policy=CallPolicy.login())


@pytest.mark.parametrize("name", CASES)
def test_client(server, name):
    case = CASES[name]
    server.script(*case.answers, call="user-token")
    started = timezone.now()
    if case.error is None:
        issued = call_user_token()
        assert issued.token == server.tokens[-1]
        assert issued.expires_at - started == pytest.approx(
            timedelta(seconds=case.lifetime), abs=timedelta(seconds=5)
        )
    else:
        with pytest.raises(case.error) as raised:
            call_user_token()
        error = raised.value
        assert type(error) is case.error
        assert error.status_code == case.status
        assert len(error.body_excerpt) <= 200
        assert not isinstance(error.__context__, json.JSONDecodeError)
        assert_secret_free(f"{error} {error!r}")
    assert server.count("user-token") == case.requests
    assert breaker_failures() == case.failures
    current = breaker.status()
    if case.open_for is None:
        assert current.state == "closed"
    else:
        assert current.state == "open"
        assert current.open_until - time.time() == pytest.approx(case.open_for, abs=5)


def test_5xx_excerpt_is_short_and_names_the_page(server):
    server.script(Respond(502, HTML_502), Respond(502, HTML_502))
    with pytest.raises(exc.UpsolveUnavailable) as raised:
        call_user_token()
    assert len(HTML_502) > 1000
    assert "502 Bad Gateway" in raised.value.body_excerpt
    assert len(raised.value.body_excerpt) <= 200
    assert "HTTP 502" in str(raised.value)


def test_validation_errors_name_fields_never_values(server, logs):
    server.script(Respond(422, NAMED_FIELDS), call="user-token")
    with pytest.raises(exc.UpsolveValidationError) as raised:
        call_user_token()
    assert "userId" in str(raised.value)
    assert "Ada Private Lovelace" not in str(raised.value)
    assert "Ada Private Lovelace" not in logs.text


def test_missing_exp_is_logged_as_a_warning(server, logs):
    server.script(Token(drop=("exp",)), call="user-token")
    call_user_token()
    assert any("no readable 'exp'" in m for m in logs.messages("django_upsolve", logging.WARNING))


def test_background_policy_retries_more(server):
    server.always(Respond(503, HTML_502))
    with pytest.raises(exc.UpsolveUnavailable):
        get_client().user_token(
            user_id=USER, expiration=3600, policy=CallPolicy.within(20, max_retries=3)
        )
    assert server.count("user-token") == 4


# Registration answers ---------------------------------------------------------------------


def test_409_naming_the_organization_counts_as_registered(server):
    answer = {"status": "error", "data": {"projectOrganizationId": ORG, "externalId": "acme"}}
    server.script(Respond(409, answer))
    acme = OrganizationFields.build(name="Acme", external_id="acme")
    result = get_client().register_organization(fields=acme, policy=CallPolicy.login())
    assert (result.organization_id, result.already_registered) == (ORG, True)
    assert server.count() == 1 and breaker_failures() == 0


def test_409_naming_the_user_counts_as_registered(server):
    server.script(Respond(409, {"status": "error", "data": {"userId": USER}}))
    result = get_client().register_user(
        organization_id=ORG,
        user_id=USER,
        fields=UserFields.build(role_id=ORG, name="Ada"),
        policy=CallPolicy.login(),
    )
    assert (result.user_id, result.already_registered) == (USER, True)


def test_409_without_the_object_is_a_conflict(server):
    server.script(Respond(409, ERROR))
    with pytest.raises(exc.UpsolveConflict):
        get_client().register_organization(
            fields=OrganizationFields.build(name="Acme", external_id="acme")
        )
    assert server.count() == 1


# Through a real login -----------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_login(client, server, logs, ada, name):
    case = CASES[name]
    before = UpsolveProfile.objects.get(user=ada)
    rows = UpsolveTenant.objects.count(), UpsolveProfile.objects.count()
    calls = server.count()
    server.script(*case.answers, call="user-token")
    if name == "404":
        # Upsolve forgot the user: it is registered once more and asked once more.
        expected_calls = ["user-token", "register-user", "user-token"]
    else:
        expected_calls = ["user-token"] * case.requests

    log_in(client, "ada")

    after = UpsolveProfile.objects.get(user=ada)
    assert server.calls()[calls:] == expected_calls
    assert (UpsolveTenant.objects.count(), UpsolveProfile.objects.count()) == rows
    if name != "404":
        assert after.registered_at == before.registered_at
    assert_rows_whole()
    failures = logs.messages("django_upsolve", logging.WARNING)
    if case.error is None or case.error is exc.UpsolveNotFound:
        assert after.token != before.token
        assert after.token_refreshed_at > before.token_refreshed_at
        assert after.last_error == "" and after.last_error_at is None
        assert not any("sync failed" in m for m in failures)
    else:
        assert (after.token, after.token_expires_at) == (before.token, before.token_expires_at)
        assert_failure_kept_token(ada, before, logs)
