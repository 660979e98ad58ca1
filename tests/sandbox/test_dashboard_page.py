"""Share pages of declared dashboards: charts filtered by the token's properties, like RLS rules."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import translation

from django_upsolve.sandbox import views
from django_upsolve.sandbox.models import SandboxOrganization, SandboxUser

from . import dashboard_data
from .helpers import PROJECT_ID, ROLE_ID

DATA = "tests.sandbox.dashboard_data"
REVENUE = {
    "title": "Revenue overview",
    "description": "Invoices of your organization.",
    "panels": [
        {"kind": "figure", "title": "Total revenue", "data": f"{DATA}.total", "format": "${:,}"},
        {"kind": "bar", "title": "Revenue per month", "data": f"{DATA}.per_month"},
        {"kind": "top", "title": "Top customers", "data": dashboard_data.top, "format": "${:,}"},
    ],
}


@pytest.fixture(autouse=True)
def _dashboards(settings: Any) -> Iterator[None]:
    settings.UPSOLVE_SANDBOX = {"DASHBOARDS": {"revenue": REVENUE}}
    dashboard_data.SEEN.clear()
    yield
    dashboard_data.SEEN.clear()


def token_for(properties: dict[str, Any], org: str = "Acme Corp") -> str:
    organization = SandboxOrganization.objects.create(project_id=PROJECT_ID, name=org)
    user = SandboxUser.objects.create(
        project_id=PROJECT_ID,
        organization=organization,
        role_id=ROLE_ID,
        name="Alice Anders",
        properties=properties,
    )
    return views.emulator.issue_token(user)


def page(client: Client, token: str, dashboard: str = "revenue", **params: str) -> str:
    response = client.get(f"/sandbox/share/dashboard/{dashboard}", {"jwt": token, **params})
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    return response.content.decode()


def figure(html: str) -> str:
    found = re.search(r'<p class="upsolve-figure" data-upsolve-value="([^"]*)">([^<]*)</p>', html)
    assert found is not None, html
    return found.group(2)


def bars(html: str) -> list[tuple[str, str]]:
    return re.findall(
        r'<rect class="upsolve-bar"[^>]* data-upsolve-label="([^"]*)" data-upsolve-value="([^"]*)"',
        html,
    )


def ranking(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<li data-upsolve-label="([^"]*)" data-upsolve-value="([^"]*)"', html)


def test_two_tenants_see_their_own_figures(client: Client, db: None) -> None:
    acme = page(client, token_for({"organization_id": "acme", "plan": "pro"}))
    globex = page(client, token_for({"organization_id": "globex", "plan": "pro"}, "Globex"))

    acme_total = sum(1000 + 100 * n for n in range(12)) + 12 * 400
    assert figure(acme) == f"${acme_total:,}"
    assert figure(globex) == "$3,000"
    assert ranking(acme) == [("Initech", str(acme_total - 4800)), ("Hooli", "4800")]
    assert ranking(globex) == [("Oscorp", "3000")]
    assert "Hooli" not in globex
    assert "Oscorp" not in acme
    assert '<span id="upsolve-org" data-upsolve-org="Globex">Globex</span>' in globex


def test_the_free_plan_sees_fewer_months(client: Client, db: None) -> None:
    pro = page(client, token_for({"organization_id": "acme", "plan": "pro"}))
    free = page(client, token_for({"organization_id": "acme", "plan": "free"}))

    assert [label for label, _ in bars(pro)] == dashboard_data.MONTHS
    assert bars(free) == [("2026-10", "2300"), ("2026-11", "2400"), ("2026-12", "2500")]
    assert figure(free) == "$7,200"
    assert '<p class="upsolve-note">plan free</p>' in free


def test_data_functions_get_the_token_properties_read_only(client: Client, db: None) -> None:
    page(client, token_for({"organization_id": "acme", "plan": "pro", "seats": 3}))

    [seen] = dashboard_data.SEEN
    assert isinstance(seen, MappingProxyType)
    assert dict(seen) == {"organization_id": "acme", "plan": "pro", "seats": 3}


def test_the_page_shows_which_properties_the_rules_read(client: Client, db: None) -> None:
    html = page(client, token_for({"organization_id": "acme", "plan": "pro"}))

    assert '<h1 id="upsolve-dashboard-title">Revenue overview</h1>' in html
    assert "Invoices of your organization." in html
    assert (
        '<tr data-upsolve-property="organization_id"><th scope="row">'
        "<code>{{user.organization_id}}</code></th><td>acme</td></tr>"
    ) in html
    assert 'data-upsolve-dashboard="revenue"' in html
    assert '<output id="upsolve-countdown"' in html
    assert re.search(r'<time id="upsolve-expires" datetime="[^"]+" data-upsolve-exp="\d+">', html)


def test_a_token_without_properties_sees_no_rows(client: Client, db: None) -> None:
    html = page(client, token_for({}))

    assert "This token has no properties" in html
    assert figure(html) == "$0"
    assert '<p class="upsolve-empty">No data</p>' in html  # the bar chart: no month
    assert ranking(html) == []
    assert dashboard_data.SEEN == [{}]


def test_charts_are_svg_with_a_title_a_description_and_a_data_table(
    client: Client, db: None
) -> None:
    html = page(client, token_for({"organization_id": "acme", "plan": "free"}))

    svg = re.search(r"<svg class=\"upsolve-chart\"[^>]*>", html)
    assert svg is not None
    assert 'role="img"' in svg.group(0)
    assert 'aria-labelledby="upsolve-panel-2-svg-title upsolve-panel-2-svg-desc"' in svg.group(0)
    assert '<title id="upsolve-panel-2-svg-title">Revenue per month</title>' in html
    assert (
        '<desc id="upsolve-panel-2-svg-desc">3 bars, from 2026-10 (2,300) to 2026-12 (2,500);'
        " highest: 2026-12 (2,500).</desc>"
    ) in html
    assert "<title>2026-11: 2,400</title>" in html
    assert '<tr><th scope="row">2026-10</th><td>2,300</td></tr>' in html
    # Each panel is a labelled region.
    assert 'aria-labelledby="upsolve-panel-1-title"' in html
    assert '<h2 id="upsolve-panel-3-title">Top customers</h2>' in html


def test_the_page_works_under_a_strict_csp(client: Client, db: None) -> None:
    html = page(client, token_for({"organization_id": "acme", "plan": "pro"}))

    assert re.findall(r"<script\b[^>]*>", html) == [
        '<script src="/static/upsolve_sandbox/countdown.js" defer>'
    ]
    assert re.search(r"<script[^>]*>\s*[^<\s]", html) is None
    assert " style=" not in html
    assert "<style" not in html
    assert re.search(r"\son[a-z]+=", html) is None  # no inline event handlers
    assert '<link rel="stylesheet" href="/static/upsolve_sandbox/sandbox.css">' in html


def test_chart_coordinates_ignore_the_locale(client: Client, db: None, settings: Any) -> None:
    settings.USE_THOUSAND_SEPARATOR = True
    token = token_for({"organization_id": "acme", "plan": "pro"})
    with translation.override("de"):
        html = page(client, token)

    coordinates = re.findall(r' (?:x|y|width|height|x1|x2|y1|y2)="([^"]*)"', html)
    assert coordinates
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", value) for value in coordinates), coordinates
    assert figure(html) == "$23,400"  # the panel's own format, not the locale's


def test_a_failing_data_function_draws_an_error_panel_and_is_logged(
    client: Client, db: None, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    broken = {"kind": "bar", "title": "Broken", "data": f"{DATA}.broken"}
    settings.UPSOLVE_SANDBOX = {
        "DASHBOARDS": {"revenue": {**REVENUE, "panels": [broken, *REVENUE["panels"]]}}
    }
    with caplog.at_level(logging.ERROR, logger="django_upsolve.sandbox"):
        html = page(client, token_for({"organization_id": "acme", "plan": "free"}))

    error = re.search(r'<p class="upsolve-panel-error" role="alert"[^>]*>([^<]*)</p>', html)
    assert error is not None
    assert error.group(1) == (
        f"This panel could not be drawn. Its data function {DATA}.broken raised"
        " ZeroDivisionError; see the log."
    )
    assert "stays in the log" not in html
    assert 'class="upsolve-panel upsolve-panel-bar upsolve-panel-failed"' in html
    assert figure(html) == "$7,200"  # the other panels are drawn
    [record] = caplog.records
    assert record.name == "django_upsolve.sandbox.panels"
    assert record.getMessage() == (
        f"The data function {DATA}.broken of panel 'Broken' of sandbox dashboard 'revenue' failed."
    )
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ZeroDivisionError)


@pytest.mark.parametrize(
    ("kind", "data", "problem"),
    [
        ("bar", "not_pairs", "should answer (label, number) pairs: the answer is a str"),
        ("top", "total", "should answer (label, number) pairs: the answer is a int"),
        ("figure", "per_month", "should answer a number or None: the answer is a list"),
        ("figure", "gone", "raised ImproperlyConfigured"),
        ("figure", "mutate", "raised TypeError"),
    ],
)
def test_an_answer_it_cannot_draw_draws_an_error_panel(
    client: Client,
    db: None,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    data: str,
    problem: str,
) -> None:
    panel = {"kind": kind, "title": "Odd", "data": f"{DATA}.{data}"}
    settings.UPSOLVE_SANDBOX = {"DASHBOARDS": {"odd": {"title": "Odd", "panels": [panel]}}}
    with caplog.at_level(logging.ERROR, logger="django_upsolve.sandbox"):
        html = page(client, token_for({"organization_id": "acme", "plan": "pro"}), "odd")

    assert problem in html
    assert 'data-upsolve-error="panel"' in html
    [record] = caplog.records
    assert f"{DATA}.{data} of panel 'Odd' of sandbox dashboard 'odd'" in record.getMessage()


def test_a_figure_without_data_says_so(client: Client, db: None, settings: Any) -> None:
    panel = {"kind": "figure", "title": "Nothing", "data": f"{DATA}.nothing"}
    settings.UPSOLVE_SANDBOX = {"DASHBOARDS": {"d": {"title": "D", "panels": [panel]}}}

    html = page(client, token_for({"organization_id": "acme"}), "d")

    assert '<p class="upsolve-empty">No data</p>' in html
    assert "upsolve-panel-error" not in html


def test_an_undeclared_dashboard_keeps_the_token_card(client: Client, db: None) -> None:
    html = page(client, token_for({"organization_id": "acme", "plan": "pro"}), "dash-1")

    assert '<table id="upsolve-properties">' in html
    assert '<h1>Dashboard <code id="upsolve-object-id">dash-1</code></h1>' in html
    assert "upsolve-panel" not in html
    assert dashboard_data.SEEN == []


def test_an_application_never_draws_a_dashboard_of_the_same_id(client: Client, db: None) -> None:
    token = token_for({"organization_id": "acme", "plan": "pro"})
    response = client.get("/sandbox/share/application/revenue", {"jwt": token})

    assert response.status_code == 200
    assert "upsolve-panel" not in response.content.decode()


def test_an_invalid_token_draws_no_dashboard(client: Client, db: None) -> None:
    response = client.get("/sandbox/share/dashboard/revenue", {"jwt": "not-a-token"})

    assert response.status_code == 401
    assert "upsolve-panel" not in response.content.decode()
    assert dashboard_data.SEEN == []


def test_the_dark_theme_applies_to_dashboards(client: Client, db: None) -> None:
    html = page(client, token_for({"organization_id": "acme"}), theme="dark")

    assert 'class="upsolve-sandbox theme-dark"' in html


def test_a_malformed_setting_is_improperly_configured_on_the_page(
    client: Client, db: None, settings: Any
) -> None:
    token = token_for({"organization_id": "acme"})
    settings.UPSOLVE_SANDBOX = {"DASHBOARDS": {"revenue": {"title": "No panels"}}}

    with pytest.raises(ImproperlyConfigured, match=r"\['revenue'\]\['panels'\] must be"):
        client.get("/sandbox/share/dashboard/revenue", {"jwt": token})
