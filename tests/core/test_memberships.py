"""Users in several organizations: one Upsolve user per membership, the request picks one."""

from __future__ import annotations

import pytest
from django.test import Client

from django_upsolve.adapter import Tenant
from django_upsolve.memberships import membership_of, memberships_of
from django_upsolve.models import UpsolveProfile
from django_upsolve.services import get_token
from tests.adapters import TwoOrganizationsAdapter
from tests.embed.helpers import elements, query
from tests.helpers import log_in, make_user, override_upsolve

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.embed.urls")]

TWO_ORGS = "tests.adapters.TwoOrganizationsAdapter"


def switch(client: Client, org: str) -> None:
    session = client.session
    session["org"] = org
    session.save()


def embedded_token(client: Client) -> str:
    (frame,) = elements(client.get("/embed/dashboard/").content.decode(), "iframe")
    return dict(query(frame["src"]))["jwt"]


@override_upsolve(ADAPTER=TWO_ORGS)
def test_switching_organizations_uses_each_memberships_own_token(client, upsolve_sandbox):
    ada = make_user("ada")
    log_in(client, "ada")
    acme_token = embedded_token(client)
    switch(client, "globex")
    globex_token = embedded_token(client)  # the first use of this membership registers it
    registrations = upsolve_sandbox.count("register-user")
    assert registrations == 2
    for _ in range(10):
        for org, token in (("acme", acme_token), ("globex", globex_token)):
            switch(client, org)
            assert embedded_token(client) == token
    assert upsolve_sandbox.count("register-user") == registrations  # nobody re-registered
    assert upsolve_sandbox.count("register-organization") == 2
    profiles = {p.tenant.external_id: p for p in UpsolveProfile.objects.filter(user=ada)}
    assert profiles["acme"].token == acme_token and profiles["globex"].token == globex_token
    assert profiles["acme"].upsolve_user_id != profiles["globex"].upsolve_user_id
    assert {str(p.role_id) for p in profiles.values()} == set(
        TwoOrganizationsAdapter.ROLES.values()
    )
    users = {u.id: u.organization.external_id for u in upsolve_sandbox.users()}
    assert users == {p.upsolve_user_id: org for org, p in profiles.items()}


@override_upsolve(ADAPTER=TWO_ORGS)
def test_user_token_carries_the_memberships_organization(client, upsolve_sandbox):
    make_user("ada")
    log_in(client, "ada")
    (call,) = upsolve_sandbox.calls_to("user-token")
    profile = UpsolveProfile.objects.get()
    assert call.json_body["organizationId"] == str(profile.tenant.upsolve_id)


@override_upsolve(ADAPTER=TWO_ORGS, LOGIN_MEMBERSHIPS=2)
def test_a_login_may_sync_more_memberships_within_the_setting(client, upsolve_sandbox):
    make_user("ada")
    log_in(client, "ada")
    assert upsolve_sandbox.count("register-user") == 2
    assert UpsolveProfile.objects.exclude(token="").count() == 2


class ListsGlobexTwiceAdapter(TwoOrganizationsAdapter):
    """Globex listed twice, with different plans (a join that repeats a row)."""

    def get_tenants(self, user):
        return [
            Tenant(external_id="acme", name="Acme"),
            Tenant(external_id="globex", name="Globex"),
            Tenant(external_id="globex", name="Globex", properties={"plan": "pro"}),
        ]

    def get_user_properties(self, user, tenant):
        return {"plan": tenant.properties.get("plan", "free")}


@override_upsolve(ADAPTER=f"{__name__}.ListsGlobexTwiceAdapter", LOGIN_MEMBERSHIPS=3)
def test_a_tenant_listed_twice_counts_once_as_first_listed(client, upsolve_sandbox):
    ada = make_user("ada")
    assert [m.external_id for m in memberships_of(ada)] == ["acme", "globex"]
    log_in(client, "ada")
    switch(client, "globex")
    embedded_token(client)  # the page finds the login's registration current
    assert upsolve_sandbox.count("register-user") == 2
    globex = UpsolveProfile.objects.get(tenant__external_id="globex")
    assert globex.properties == {"plan": "free"}


@override_upsolve(ADAPTER=TWO_ORGS)
def test_a_membership_the_adapter_no_longer_lists_gets_no_token(
    client, upsolve_sandbox, monkeypatch
):
    ada = make_user("ada")
    log_in(client, "ada")
    assert get_token(ada, tenant="acme")
    monkeypatch.setitem(
        TwoOrganizationsAdapter.ROLES, "initech", TwoOrganizationsAdapter.ROLES["acme"]
    )
    monkeypatch.delitem(TwoOrganizationsAdapter.ROLES, "acme")
    calls = len(upsolve_sandbox.calls)
    assert get_token(ada, tenant="acme") is None
    assert "acme" not in [m.external_id for m in memberships_of(ada)]
    assert membership_of(ada, tenant="acme") is None
    assert len(upsolve_sandbox.calls) == calls
    response = client.get("/embed/dashboard/")  # the session still names acme
    assert elements(response.content.decode(), "iframe") == []


@override_upsolve(ADAPTER="tests.adapters.OneTenantPerUserAdapter")
def test_an_adapter_written_for_one_tenant_per_user_still_works(client, upsolve_sandbox):
    make_user("ada")
    log_in(client, "ada")
    profile = UpsolveProfile.objects.get()
    assert profile.tenant.external_id == "legacy"
    assert str(profile.role_id) == "33333333-3333-4333-8333-333333333333"
    assert embedded_token(client) == profile.token


@override_upsolve(ADAPTER=TWO_ORGS)
def test_a_page_keeps_its_organization_when_another_tab_switches(client, upsolve_sandbox):
    make_user("ada")
    log_in(client, "ada")
    page = client.get("/embed/dashboard/").content.decode()
    (frame,), (script,) = elements(page, "iframe"), elements(page, "script")
    assert script["data-upsolve-tenant"] == "acme"
    acme_token = dict(query(frame["src"]))["jwt"]
    switch(client, "globex")  # another tab
    pinned = client.post("/upsolve/token/", headers={"X-Upsolve-Tenant": "acme"})
    assert pinned.json()["token"] == acme_token
    unpinned = client.post("/upsolve/token/")  # a page rendered for the session's choice
    assert unpinned.json()["token"] != acme_token
    listed_no_more = client.post("/upsolve/token/", headers={"X-Upsolve-Tenant": "initech"})
    assert listed_no_more.status_code == 403  # final: asking again cannot change it
    assert listed_no_more.json() == {"error": "not_available"}
