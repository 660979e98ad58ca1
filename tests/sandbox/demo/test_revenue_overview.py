"""The demo's "Revenue overview": seeded invoices filtered by organization and plan, end to end."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from demo_project.saas import dashboards
from demo_project.saas.models import Invoice, Organization
from demo_project.saas.sample_invoices import CUSTOMERS, seed_invoices
from django_upsolve.models import UpsolveProfile
from django_upsolve.sandbox.checks import check_dashboards
from django_upsolve.sandbox.dashboards import get_dashboard

from .pages import bar_labels, dashboard_of, dollars, invoices_of, logged_in, total_figure

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


def props(organization: str, plan: str = "pro") -> dict[str, str]:
    return {"organization_id": organization, "plan": plan}


def test_seeding_gives_each_organization_a_year_from_several_customers(seeded: None) -> None:
    today = timezone.localdate()
    year = dashboards.recent_months(12)
    for slug in ("acme", "globex"):
        invoices = invoices_of(slug, 12)
        assert {i.issued_on.replace(day=1) for i in invoices} == set(year)
        assert {i.customer for i in invoices} == {name for name, _ in CUSTOMERS[slug]}
        assert all(i.issued_on <= today and i.amount > 0 for i in invoices)
    count = Invoice.objects.count()

    call_command("seed_demo", stdout=StringIO())

    assert Invoice.objects.count() == count


def test_seeding_later_fills_in_only_the_months_that_passed(seeded: None) -> None:
    acme = Organization.objects.get(slug="acme")
    before = set(acme.invoices.values_list("pk", flat=True))
    months = dashboards.recent_months(12)
    later = date(months[-1].year + 1, 2, 10)

    added = seed_invoices(acme, today=later)

    new = acme.invoices.exclude(pk__in=before)
    assert added == new.count() > 0
    new_months = {i.issued_on.replace(day=1) for i in new}
    assert new_months == set(dashboards.recent_months(12, later)) - set(months)
    assert max(i.issued_on for i in new) <= later


def test_each_organization_sees_only_its_own_invoices(seeded: None) -> None:
    totals = {}
    for slug in ("acme", "globex"):
        expected = sum(i.amount for i in invoices_of(slug, 12))
        total = dashboards.total_revenue(props(slug)).data
        assert total == expected
        assert dashboards.invoice_count(props(slug)).data == len(invoices_of(slug, 12))
        top = dashboards.top_customers(props(slug)).data
        assert {name for name, _ in top} <= {name for name, _ in CUSTOMERS[slug]}
        totals[slug] = total
    assert totals["acme"] != totals["globex"]


def test_the_free_plan_sees_the_last_3_months_and_pro_12(seeded: None) -> None:
    free = dashboards.revenue_per_month(props("globex", "free"))
    pro = dashboards.revenue_per_month(props("globex", "pro"))

    labels = [m.strftime("%b %Y") for m in dashboards.recent_months(12)]
    assert [label for label, _ in pro.data] == labels
    assert [label for label, _ in free.data] == labels[-3:]
    assert free.data == pro.data[-3:]
    assert free.note == "Free plan: the last 3 months. Pro shows 12."
    assert pro.note == "Pro plan: the last 12 months."
    free_total = dashboards.total_revenue(props("globex", "free")).data
    assert free_total == sum(i.amount for i in invoices_of("globex", 3))
    assert free_total == sum(value for _, value in free.data)
    assert free_total < dashboards.total_revenue(props("globex", "pro")).data


def test_top_customers_are_the_five_largest_in_order(seeded: None) -> None:
    top = dashboards.top_customers(props("acme")).data

    sums: dict[str, Decimal] = {}
    for invoice in invoices_of("acme", 12):
        sums[invoice.customer] = sums.get(invoice.customer, Decimal(0)) + invoice.amount
    assert top == sorted(sums.items(), key=lambda item: -item[1])[:5]


@pytest.mark.parametrize(
    ("properties", "months"),
    [({"organization_id": "acme", "plan": "enterprise"}, 3), ({"organization_id": "acme"}, 3)],
)
def test_an_unknown_or_missing_plan_gets_the_smallest_window(
    seeded: None, properties: dict[str, str], months: int
) -> None:
    assert len(dashboards.revenue_per_month(properties).data) == months
    assert dashboards.total_revenue(properties).note == "No known plan: the last 3 months."


@pytest.mark.parametrize("properties", [{}, {"plan": "pro"}, {"organization_id": "initech"}])
def test_no_known_organization_sees_no_invoice(seeded: None, properties: dict[str, str]) -> None:
    assert dashboards.total_revenue(properties).data == 0
    assert dashboards.customer_count(properties).data == 0
    assert dashboards.top_customers(properties).data == []
    assert all(value == 0 for _, value in dashboards.revenue_per_month(properties).data)


def test_the_settings_declare_the_embedded_dashboard() -> None:
    overview = get_dashboard(settings.DEMO_DASHBOARD_ID)

    assert overview is not None
    assert overview.title == "Revenue overview"
    assert [panel.kind for panel in overview.panels] == ["figure", "figure", "figure", "bar", "top"]
    assert check_dashboards() == []


# End to end: log in, open Analytics, follow the iframe ---------------------------------


def test_acme_and_globex_see_their_numbers_and_a_plan_change_shows_after_refresh(
    upsolve_sandbox: Any, seeded: None
) -> None:
    acme = dashboard_of(logged_in("alice"))
    carol = logged_in("carol")
    globex = dashboard_of(carol)

    assert total_figure(acme) == dollars(sum(i.amount for i in invoices_of("acme", 12)))
    assert total_figure(globex) == dollars(sum(i.amount for i in invoices_of("globex", 3)))
    assert total_figure(acme) != total_figure(globex)
    assert len(bar_labels(acme)) == 12
    assert len(bar_labels(globex)) == 3
    assert "Stark Industries" in acme
    assert "Stark Industries" not in globex
    assert "<td>globex</td>" in globex

    registrations = upsolve_sandbox.count("register-user")
    Organization.objects.filter(slug="globex").update(plan=Organization.Plan.PRO)
    Organization.objects.get(slug="globex").save()  # what the admin's Save does
    upgraded = dashboard_of(carol)  # the same session: a refresh, no new login

    assert len(bar_labels(upgraded)) == 12
    assert total_figure(upgraded) == dollars(sum(i.amount for i in invoices_of("globex", 12)))
    assert "Pro plan: the last 12 months." in upgraded
    assert upsolve_sandbox.count("register-user") == registrations + 1


def test_a_plan_change_drops_only_the_tokens_of_another_plan(
    upsolve_sandbox: Any, seeded: None
) -> None:
    users = get_user_model().objects
    for username in ("alice", "bob", "carol"):
        logged_in(username)

    def has_token(username: str) -> bool:
        return UpsolveProfile.objects.get(user=users.get(username=username)).token != ""

    Organization.objects.get(slug="acme").save()  # no plan change
    assert all(has_token(name) for name in ("alice", "bob", "carol"))

    globex = Organization.objects.get(slug="globex")
    globex.plan = Organization.Plan.PRO
    globex.save()

    assert (has_token("alice"), has_token("bob"), has_token("carol")) == (True, True, False)
