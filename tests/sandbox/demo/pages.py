"""The demo's pages as the test client sees them, and the sandbox dashboard they frame."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from django.test import Client

from demo_project.saas import dashboards
from demo_project.saas.models import Invoice

PASSWORD = "upsolve-demo"


def logged_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def frame_src(client: Client) -> str:
    """The address of the dashboard the Analytics page frames."""
    analytics = client.get("/analytics/").content.decode()
    found = re.search(r'<iframe src="([^"]+)"[^>]* data-upsolve-embed="dashboard"', analytics)
    assert found is not None, analytics
    return found.group(1).replace("&amp;", "&")


def jwt_of(src: str) -> str:
    return parse_qs(urlsplit(src).query)["jwt"][0]


def dashboard_of(client: Client) -> str:
    """The sandbox page the Analytics page frames, as the browser would load it."""
    src = urlsplit(frame_src(client))
    response = client.get(f"{src.path}?{src.query}")
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert " style=" not in html
    return html


def total_figure(html: str) -> str:
    found = re.search(
        r'<h2 id="upsolve-panel-1-title">Total revenue</h2>.*?<p class="upsolve-figure"[^>]*>'
        r"([^<]*)</p>",
        html,
        re.S,
    )
    assert found is not None, html
    return found.group(1)


def bar_labels(html: str) -> list[str]:
    return re.findall(r'<rect class="upsolve-bar"[^>]* data-upsolve-label="([^"]*)"', html)


def dollars(value: Decimal) -> str:
    return f"${value:,.0f}"


def invoices_of(slug: str, months: int) -> list[Invoice]:
    """The organization's invoices of the last ``months`` months, picked out in Python."""
    start = dashboards.recent_months(months)[0]
    rows = Invoice.objects.select_related("organization")
    return [i for i in rows if i.organization.slug == slug and i.issued_on >= start]
