"""First logins through the real login view: registration faults, odd names and properties,
a refused key. Upsolve is the loopback fault server; bodies are read as it received them.
"""

from __future__ import annotations

import datetime
import decimal
import logging
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy

from django_upsolve.adapter import Tenant, UpsolveAdapter
from django_upsolve.models import UpsolveProfile, UpsolveTenant
from tests.helpers import API_KEY, log_in, make_user, override_upsolve
from tests.reliability.faultserver import HTML_502, Respond
from tests.reliability.helpers import assert_rows_whole

pytestmark = pytest.mark.django_db

ORG = "0d4b9b52-1d3c-4c8e-9a51-2f7f3b2d9c11"
ERROR = {"status": "error", "message": "no"}


def test_a_failed_registration_leaves_whole_rows_and_heals_at_the_next_login(client, server):
    user = make_user("ada")
    server.script(Respond(503, HTML_502), Respond(503, HTML_502), call="register-user")
    log_in(client, "ada")
    tenant, profile = UpsolveTenant.objects.get(), UpsolveProfile.objects.get(user=user)
    assert tenant.is_registered  # the first call went through
    assert not profile.is_registered and profile.tenant == tenant and profile.token == ""
    assert profile.last_error.startswith("Upsolve register-user: HTTP 503")
    assert_rows_whole()

    client.logout()
    log_in(client, "ada")
    profile.refresh_from_db()
    assert server.calls() == ["register-organization"] + ["register-user"] * 3 + ["user-token"]
    assert profile.is_registered and profile.has_fresh_token(300)
    assert profile.last_error == ""
    assert_rows_whole()


def test_409s_naming_the_objects_count_as_registered_at_login(client, server):
    user = make_user("ada")
    profile_id = str(uuid.uuid4())
    server.script(
        Respond(409, {"status": "error", "data": {"projectOrganizationId": ORG}}),
        call="register-organization",
    )
    server.script(
        Respond(409, {"status": "error", "data": {"userId": profile_id}}), call="register-user"
    )
    log_in(client, "ada")
    profile = UpsolveProfile.objects.get(user=user)
    assert str(UpsolveTenant.objects.get().upsolve_id) == ORG
    assert str(profile.upsolve_user_id) == profile_id
    assert profile.has_fresh_token(300) and profile.last_error == ""
    assert server.calls() == ["register-organization", "register-user", "user-token"]


def test_a_409_without_the_object_is_a_recorded_failure(client, server):
    user = make_user("ada")
    server.script(Respond(409, ERROR), call="register-organization")
    log_in(client, "ada")
    assert not UpsolveTenant.objects.get().is_registered
    assert "HTTP 409" in UpsolveProfile.objects.get(user=user).last_error
    assert_rows_whole()


def test_a_refused_key_is_logged_as_an_error_once_not_per_login(client, server, logs):
    make_user("ada")
    server.always(Respond(401, ERROR))
    for _ in range(4):
        log_in(client, "ada")
        client.logout()
    assert server.count() == 4  # never retried
    errors = logs.messages("django_upsolve", logging.ERROR)
    assert len(errors) == 1
    assert "check UPSOLVE['API_KEY']" in errors[0]
    assert API_KEY not in logs.text
    quiet = [r for r in logs.records if "sync failed" in r.getMessage()]
    assert [r.levelno for r in quiet] == [logging.ERROR] + [logging.DEBUG] * 3


# Names and properties a project may hand over ------------------------------------------------


class NameAdapter(UpsolveAdapter):
    """Hands over whatever ``name`` holds as the user's display name."""

    name = ""

    def get_user_name(self, user: Any) -> str:
        return self.name


NAMES = {
    "emoji": "Zoë 👩🏽‍💻 Ünïcødé 🚀",
    "right to left": "\u202eعلي אבי\u202c",
    "nul and newlines": "Ada\x00 Love\nlace\r\n",
    "10k characters": "A" * 10_000,
}


@pytest.mark.parametrize("case", NAMES)
def test_odd_names_are_sent_as_valid_json_capped_and_round_tripping(
    client, server, monkeypatch, case
):
    monkeypatch.setattr(NameAdapter, "name", NAMES[case])
    user = make_user("ada")
    with override_upsolve(ADAPTER=f"{__name__}.NameAdapter"):
        log_in(client, "ada")
    (registration,) = [r for r in server.requests if r.call == "register-user"]
    sent = registration.body["name"]  # decoded as strict UTF-8 JSON by the server
    assert sent == " ".join(NAMES[case].replace("\x00", " ").split())[:255]
    assert 1 <= len(sent) <= 255
    profile = UpsolveProfile.objects.get(user=user)
    assert profile.name == sent and profile.has_fresh_token(300)


class PropertiesAdapter(UpsolveAdapter):
    """Hands over whatever ``properties`` holds as the user's properties."""

    properties: dict[str, Any] = {}

    def get_user_properties(self, user: Any, tenant: Tenant) -> dict[str, Any]:
        return self.properties


ENCODED = {
    "when": (
        datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "2030-01-02T03:04:05+00:00",
    ),
    "day": (datetime.date(2030, 1, 2), "2030-01-02"),
    "price": (decimal.Decimal("12.50"), "12.50"),
    "org": (uuid.UUID(ORG), ORG),
    "label": (gettext_lazy("Dashboard"), "Dashboard"),
    "seats": (12, 12),
    "ratio": (0.5, 0.5),
    "active": (True, "true"),
}
REFUSED = {
    "a set": {"tags": {"a", "b"}},
    "a model instance": {"group": Group(name="staff")},
    "a list": {"ids": [1, 2]},
    "NaN": {"score": float("nan")},
    "an int JavaScript cannot hold": {"org": 2**53 + 1},
    "a bad key": {"user.id": 1},
}


def test_properties_are_encoded_as_strings_and_numbers(client, server, monkeypatch):
    monkeypatch.setattr(PropertiesAdapter, "properties", {k: v for k, (v, _) in ENCODED.items()})
    user = make_user("ada")
    with override_upsolve(ADAPTER=f"{__name__}.PropertiesAdapter"):
        log_in(client, "ada")
    (registration,) = [r for r in server.requests if r.call == "register-user"]
    assert registration.body["properties"] == {k: sent for k, (_, sent) in ENCODED.items()}
    assert UpsolveProfile.objects.get(user=user).has_fresh_token(300)


@pytest.mark.parametrize("case", REFUSED)
def test_unencodable_properties_are_refused_before_any_request(client, server, monkeypatch, case):
    monkeypatch.setattr(PropertiesAdapter, "properties", REFUSED[case])
    user = make_user("ada")
    with override_upsolve(ADAPTER=f"{__name__}.PropertiesAdapter"):
        log_in(client, "ada")
    assert "register-user" not in server.calls()  # no partial request
    profile = UpsolveProfile.objects.get(user=user)
    assert not profile.is_registered
    assert "Propert" in profile.last_error
    assert_rows_whole()
