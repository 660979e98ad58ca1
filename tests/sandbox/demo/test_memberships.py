"""A user in two organizations: the navbar's switch, the adapter, and one Upsolve user each.

dana belongs to Acme Corp and Globex. The organization a page shows is the one she switched
to (kept in the session), else her first; the adapter answers the same, so each page embeds
that membership's own token, and switching back and forth registers nobody again.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, RequestFactory

from demo_project.saas.adapter import OrganizationAdapter
from demo_project.saas.models import Membership, Organization
from demo_project.saas.organizations import SESSION_KEY, memberships_of
from django_upsolve.models import UpsolveProfile

from .pages import (
    bar_labels,
    dashboard_of,
    dollars,
    frame_src,
    invoices_of,
    jwt_of,
    logged_in,
    total_figure,
)

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


def user(username: str) -> Any:
    return get_user_model().objects.get(username=username)


def request_with(organization: str | None) -> Any:
    """A request whose session names ``organization`` as the one switched to."""
    request = RequestFactory().get("/analytics/")
    request.session = SessionStore()
    if organization is not None:
        request.session[SESSION_KEY] = organization
    return request


def switch_to(client: Client, organization: str, back: str = "/analytics/") -> Any:
    return client.post("/organization/", {"organization": organization, "next": back})


# The adapter ---------------------------------------------------------------------------


def test_the_adapter_lists_every_membership_first_joined_first(seeded: None) -> None:
    adapter = OrganizationAdapter()

    tenants = adapter.get_tenants(user("dana"))

    assert [(t.external_id, t.name, t.properties) for t in tenants] == [
        ("acme", "Acme Corp", {"plan": "pro"}),
        ("globex", "Globex", {"plan": "free"}),
    ]
    assert [t.external_id for t in adapter.get_tenants(user("bob"))] == ["acme"]
    assert adapter.get_tenants(user("admin")) == []
    assert adapter.get_user_properties(user("dana"), tenants[1]) == {
        "organization_id": "globex",
        "plan": "free",
    }


@pytest.mark.parametrize(
    ("username", "in_session", "active"),
    [
        ("dana", None, "acme"),  # no switch yet: the first membership
        ("dana", "globex", "globex"),
        ("dana", "acme", "acme"),
        ("dana", "initech", "acme"),  # no such organization
        ("bob", "globex", "acme"),  # not a member of it (a session outliving a membership)
        ("carol", None, "globex"),
    ],
)
def test_the_active_tenant_is_the_session_s_if_a_membership_else_the_first(
    seeded: None, username: str, in_session: str | None, active: str
) -> None:
    tenant = OrganizationAdapter().get_active_tenant(request_with(in_session), user(username))

    assert tenant is not None
    assert tenant.external_id == active


def test_no_membership_no_active_tenant(seeded: None) -> None:
    assert OrganizationAdapter().get_active_tenant(request_with("acme"), user("admin")) is None


def test_a_membership_removed_leaves_the_other(seeded: None) -> None:
    dana = user("dana")
    Membership.objects.filter(user=dana, organization__slug="acme").delete()

    adapter = OrganizationAdapter()

    assert [t.external_id for t in adapter.get_tenants(dana)] == ["globex"]
    assert adapter.get_active_tenant(request_with("acme"), dana).external_id == "globex"


# The navbar's switch --------------------------------------------------------------------


def test_the_navbar_shows_the_current_organization_and_a_button_for_the_other(
    seeded: None,
) -> None:
    page = logged_in("dana").get("/").content.decode()

    assert '<span class="org" aria-current="true">Acme Corp</span>' in page
    assert 'name="organization" value="globex"' in page
    assert 'value="acme"' not in page
    assert '<input type="hidden" name="next" value="/">' in page
    assert "csrfmiddlewaretoken" in page
    assert "You belong to 2 organizations" in page

    single = logged_in("bob").get("/").content.decode()
    assert "org-switch" not in single
    assert "Bob Baker · Acme Corp" in single


def test_switching_keeps_the_organization_in_the_session_and_goes_back(seeded: None) -> None:
    dana = logged_in("dana")

    response = switch_to(dana, "globex", back="/analytics/")

    assert response.status_code == 302
    assert response["Location"] == "/analytics/"
    assert dana.session[SESSION_KEY] == "globex"
    analytics = dana.get("/analytics/").content.decode()
    assert '<span class="org" aria-current="true">Globex</span>' in analytics
    assert "Globex's invoices, and nobody else's (Free plan)" in analytics
    home = dana.get("/").content.decode()
    assert "<strong>Carol Chen</strong>" in home  # Globex's members
    assert "<strong>Bob Baker</strong>" not in home

    assert switch_to(dana, "acme").status_code == 302
    assert dana.session[SESSION_KEY] == "acme"


def test_only_a_member_may_switch_to_an_organization(seeded: None) -> None:
    bob = logged_in("bob")

    assert switch_to(bob, "globex").status_code == 404
    assert switch_to(bob, "").status_code == 404
    assert SESSION_KEY not in bob.session


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/", ""])
def test_a_switch_never_redirects_off_site(seeded: None, back: str) -> None:
    response = switch_to(logged_in("dana"), "globex", back=back)

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_switch_is_a_post_with_a_csrf_token_by_a_logged_in_user(seeded: None) -> None:
    dana = logged_in("dana")
    assert dana.get("/organization/").status_code == 405

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user("dana"))
    assert strict.post("/organization/", {"organization": "globex"}).status_code == 403
    assert SESSION_KEY not in strict.session

    anonymous = Client().post("/organization/", {"organization": "globex"})
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/")


def test_an_anonymous_user_has_no_memberships() -> None:
    assert memberships_of(AnonymousUser()) == []


# One Upsolve user per membership -------------------------------------------------------


def test_switching_embeds_each_membership_s_own_token_and_registers_nobody_again(
    upsolve_sandbox: Any, seeded: None
) -> None:
    dana = logged_in("dana")  # inline mode: the login syncs the active membership, Acme
    assert upsolve_sandbox.count("register-user") == 1
    acme_token = jwt_of(frame_src(dana))
    acme = dashboard_of(dana)

    switch_to(dana, "globex")
    globex_token = jwt_of(frame_src(dana))  # Globex's first page registers dana there
    globex = dashboard_of(dana)

    assert total_figure(acme) == dollars(sum(i.amount for i in invoices_of("acme", 12)))
    assert total_figure(globex) == dollars(sum(i.amount for i in invoices_of("globex", 3)))
    assert (len(bar_labels(acme)), len(bar_labels(globex))) == (12, 3)
    assert "<td>acme</td>" in acme and "<td>globex</td>" in globex
    assert globex_token != acme_token
    profiles = {
        p.tenant.external_id: p
        for p in UpsolveProfile.objects.select_related("tenant").filter(user=user("dana"))
    }
    assert sorted(profiles) == ["acme", "globex"]
    assert profiles["acme"].token == acme_token
    assert profiles["globex"].token == globex_token
    sandbox_users = {str(u.pk): u.organization.external_id for u in upsolve_sandbox.users()}
    assert sandbox_users[str(profiles["acme"].upsolve_user_id)] == "acme"
    assert sandbox_users[str(profiles["globex"].upsolve_user_id)] == "globex"
    calls = {name: upsolve_sandbox.count(name) for name in ("register-user", "user-token")}
    assert calls == {"register-user": 2, "user-token": 2}

    for _ in range(10):
        switch_to(dana, "acme")
        assert jwt_of(frame_src(dana)) == acme_token
        assert dana.post("/upsolve/token/").json()["token"] == acme_token
        switch_to(dana, "globex")
        assert jwt_of(frame_src(dana)) == globex_token
        assert dana.post("/upsolve/token/").json()["token"] == globex_token

    assert {name: upsolve_sandbox.count(name) for name in calls} == calls
    assert upsolve_sandbox.count("register-organization") == 2
    assert upsolve_sandbox.users().filter(name="Dana Diaz").count() == 2


def test_a_plan_change_drops_only_that_organization_s_membership_token(
    upsolve_sandbox: Any, seeded: None
) -> None:
    dana = logged_in("dana")
    switch_to(dana, "globex")
    frame_src(dana)  # Globex's first page: dana's Globex token

    def token_of(slug: str) -> str:
        return UpsolveProfile.objects.get(user=user("dana"), tenant__external_id=slug).token

    globex = Organization.objects.get(slug="globex")
    globex.plan = Organization.Plan.PRO
    globex.save()

    assert token_of("acme") != ""
    assert token_of("globex") == ""
    upgraded = dashboard_of(dana)  # still Globex: a new token with the new plan
    assert len(bar_labels(upgraded)) == 12
    assert token_of("globex") != ""


# The migration from one organization per user -------------------------------------------


@pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])
def test_the_migration_keeps_every_profile_as_a_membership_and_reverses() -> None:
    before, after = [("saas", "0002_invoice")], [("saas", "0003_membership")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        acme = old.get_model("saas", "Organization").objects.create(name="Acme", slug="acme")
        globex = old.get_model("saas", "Organization").objects.create(name="Globex", slug="g")
        users = old.get_model("auth", "User").objects
        ann, ben = users.create(username="ann"), users.create(username="ben")
        profiles = old.get_model("saas", "Profile").objects
        profiles.create(user=ann, organization=acme, job_title="CFO")
        profiles.create(user=ben, organization=globex)

        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps
        memberships = new.get_model("saas", "Membership").objects
        rows = memberships.order_by("pk").values_list("user_id", "organization_id", "job_title")
        assert list(rows) == [(ann.pk, acme.pk, "CFO"), (ben.pk, globex.pk, "")]
        memberships.create(user_id=ann.pk, organization_id=globex.pk)

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        rows = old.get_model("saas", "Profile").objects.order_by("pk")
        assert list(rows.values_list("user_id", "organization_id")) == [
            (ann.pk, acme.pk),
            (ben.pk, globex.pk),
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_analytics_page_holding_a_token_is_never_kept_by_a_shared_cache(
    upsolve_sandbox: Any, seeded: None
) -> None:
    response = logged_in("alice").get("/analytics/")
    assert "jwt=" in response.content.decode()
    assert "private" in response["Cache-Control"]
