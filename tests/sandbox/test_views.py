"""The sandbox over HTTP: API routes and share pages, through Django's test client."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from django_upsolve.client import UpsolveClient
from django_upsolve.payloads import OrganizationFields, UserFields
from django_upsolve.sandbox import views
from django_upsolve.sandbox.emulator import Emulator
from django_upsolve.sandbox.models import SandboxOrganization, SandboxUser
from tests.helpers import API_KEY

from .helpers import PROJECT_ID, ROLE_ID

BEARER = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(autouse=True)
def _the_project_talks_to_its_sandbox(set_upsolve: Any) -> None:
    """The documented set-up: then the sandbox accepts ``UPSOLVE["API_KEY"]`` over HTTP."""
    set_upsolve(API_URL="http://testserver/sandbox/api")


@pytest.fixture(autouse=True)
def _no_leftover_faults() -> Iterator[None]:
    yield
    views.emulator.clear_faults()


def post(client: Client, endpoint: str, body: Any, **kwargs: Any) -> Any:
    return client.post(
        f"/sandbox/api/{endpoint}",
        data=json.dumps(body),
        content_type="application/json",
        headers=kwargs.pop("headers", BEARER),
        **kwargs,
    )


@pytest.fixture
def user(db: None) -> SandboxUser:
    org = SandboxOrganization.objects.create(
        project_id=PROJECT_ID, name="Acme Ltd", external_id="acme-42"
    )
    return SandboxUser.objects.create(
        project_id=PROJECT_ID,
        organization=org,
        role_id=ROLE_ID,
        name="Grace Hopper",
        properties={"organization_id": "acme-42", "seats": 7},
    )


# API routes -------------------------------------------------------------------


def test_the_api_urls_match_the_documented_mounting() -> None:
    assert reverse("upsolve_sandbox:api", args=["register-user"]) == "/sandbox/api/register-user"
    assert reverse("upsolve_sandbox:share-dashboard", args=["d1"]) == "/sandbox/share/dashboard/d1"
    assert (
        reverse("upsolve_sandbox:share-application", args=["a1"]) == "/sandbox/share/application/a1"
    )


def test_the_three_calls_over_http(client: Client, db: None) -> None:
    org = post(
        client,
        "register-organization",
        {"projectId": PROJECT_ID, "name": "Acme", "externalId": "a"},
    )
    assert org.status_code == 200
    assert org["Content-Type"] == "application/json"
    assert org["Cache-Control"] == "no-store"
    user_id = str(uuid.uuid4())
    registered = post(
        client,
        "register-user",
        {
            "projectId": PROJECT_ID,
            "projectOrganizationId": "a",
            "userRoleId": ROLE_ID,
            "name": "Grace",
            "properties": {},
            "userId": user_id,
        },
    )
    assert registered.json() == {
        "status": "success",
        "data": {"message": "User registered", "userId": user_id},
    }
    token = post(client, "user-token", {"userId": user_id, "expiration": "1h"})
    assert token.status_code == 200
    claims = views.emulator.decode_token(token.json()["data"]["token"])
    assert (claims["sub"], claims["externalId"]) == (user_id, "a")


def test_the_api_needs_no_csrf_token(db: None) -> None:
    client = Client(enforce_csrf_checks=True)
    answer = post(client, "register-organization", {"projectId": PROJECT_ID, "name": "Acme"})
    assert answer.status_code == 200


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_the_api_answers_only_post(client: Client, method: str) -> None:
    answer = getattr(client, method)("/sandbox/api/register-user", headers=BEARER)
    assert answer.status_code == 405
    assert answer["Allow"] == "POST"
    assert answer.json() == {"status": "error", "message": "Method not allowed"}


def test_an_unknown_endpoint_is_a_json_404(client: Client, db: None) -> None:
    answer = post(client, "register-tenant", {})
    assert answer.status_code == 404
    assert answer.json() == {"status": "error", "message": "Not found"}


def test_a_wrong_key_is_401_over_http(client: Client, db: None) -> None:
    answer = post(
        client,
        "user-token",
        {"userId": str(uuid.uuid4())},
        headers={"Authorization": "Bearer up_admin_nope"},
    )
    assert answer.status_code == 401
    assert answer.json() == {"status": "error", "message": "Invalid API key"}
    assert b"up_admin_nope" not in answer.content


def test_a_body_over_djangos_limit_is_a_json_413(client: Client, db: None, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    answer = post(client, "register-organization", {"projectId": PROJECT_ID, "name": "Acme"})
    assert answer.status_code == 413
    assert answer.json() == {"status": "error", "message": "Request body too large"}


def test_faults_queued_on_the_view_emulator_are_served(client: Client, db: None) -> None:
    views.emulator.fail_next(429, b"slow down", headers={"Retry-After": "30"})
    answer = post(client, "user-token", {"userId": str(uuid.uuid4())})
    assert (answer.status_code, answer.content, answer["Retry-After"]) == (429, b"slow down", "30")
    assert post(client, "user-token", {"userId": str(uuid.uuid4())}).status_code == 404


# Share pages -------------------------------------------------------------------


def share(client: Client, token: str | None, kind: str = "dashboard", **params: str) -> Any:
    query = {**params, **({"jwt": token} if token is not None else {})}
    return client.get(f"/sandbox/share/{kind}/dash-1", query)


@pytest.mark.parametrize("kind", ["dashboard", "application"])
def test_a_valid_token_shows_who_it_is_for(client: Client, user: SandboxUser, kind: str) -> None:
    token = views.emulator.issue_token(user, 3600)
    claims = views.emulator.decode_token(token)
    page = share(client, token, kind, theme="dark")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Grace Hopper" in html
    assert "Acme Ltd" in html
    assert 'data-upsolve-org="Acme Ltd"' in html
    assert 'data-upsolve-external-id="acme-42"' in html
    assert f'data-upsolve-user="{user.pk}"' in html
    assert f'data-upsolve-kind="{kind}"' in html
    assert 'data-upsolve-id="dash-1"' in html
    assert f'data-upsolve-exp="{claims["exp"]}"' in html
    assert f'data-upsolve-iat="{claims["iat"]}"' in html
    assert 'data-upsolve-property="organization_id"' in html
    assert "<td>7</td>" in html
    assert 'class="upsolve-sandbox theme-dark"' in html
    left = re.search(r'<output id="upsolve-countdown"[^>]*>([^<]*)</output>', html)
    assert left is not None
    assert left.group(1) in {"1:00:00", "0:59:59", "0:59:58"}


def test_the_page_works_under_a_strict_csp(client: Client, user: SandboxUser) -> None:
    html = share(client, views.emulator.issue_token(user)).content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ['<script src="/static/upsolve_sandbox/countdown.js" defer>']
    assert "</script>" in html  # the tag is closed and empty
    assert re.search(r"<script[^>]*>\s*[^<\s]", html) is None
    assert " style=" not in html
    assert "<style" not in html
    assert finders.find("upsolve_sandbox/countdown.js")
    assert finders.find("upsolve_sandbox/sandbox.css")


def test_the_page_may_be_framed_by_its_own_site_only(client: Client, user: SandboxUser) -> None:
    page = share(client, views.emulator.issue_token(user))
    assert page["X-Frame-Options"] == "SAMEORIGIN"
    assert "no-store" in page["Cache-Control"]
    assert '<meta name="referrer" content="no-referrer">' in page.content.decode()


@pytest.mark.parametrize(("theme", "shown"), [("light", "light"), ("", "light"), ("neon", "light")])
def test_an_unknown_theme_falls_back_to_light(
    client: Client, user: SandboxUser, theme: str, shown: str
) -> None:
    page = share(client, views.emulator.issue_token(user), theme=theme)
    assert f'data-upsolve-theme="{shown}"' in page.content.decode()


def test_an_expired_token_is_a_401_page(client: Client, user: SandboxUser) -> None:
    token = Emulator(clock=lambda: time.time() - 7200).issue_token(user, 3600)
    page = share(client, token)
    assert page.status_code == 401
    html = page.content.decode()
    assert "<h1>Token expired</h1>" in html
    assert 'data-upsolve-error="expired"' in html
    assert "Grace Hopper" not in html
    assert page["X-Frame-Options"] == "SAMEORIGIN"


def test_a_tampered_token_is_a_401_page(client: Client, user: SandboxUser) -> None:
    header, payload, signature = views.emulator.issue_token(user).split(".")
    page = share(client, f"{header}.{payload}.{signature[::-1]}")
    assert page.status_code == 401
    html = page.content.decode()
    assert "<h1>Invalid token</h1>" in html
    assert 'data-upsolve-error="invalid"' in html
    assert "Grace Hopper" not in html


@pytest.mark.parametrize("token", [None, ""])
def test_a_missing_token_is_a_401_page(client: Client, db: None, token: str | None) -> None:
    page = share(client, token, "application")
    assert page.status_code == 401
    html = page.content.decode()
    assert "<h1>Invalid token</h1>" in html
    assert 'data-upsolve-error="missing"' in html
    assert "no <code>jwt</code> query parameter" in html


def test_everything_on_the_page_is_escaped(client: Client, user: SandboxUser) -> None:
    user.organization.name = '<script>alert("org")</script>'
    user.organization.external_id = '"><img src=x onerror=alert(1)>'
    user.organization.save()
    user.name = "<b>Grace</b>"
    user.properties = {"<i>key</i>": "<u>value</u>"}
    user.save()
    page = client.get(
        "/sandbox/share/dashboard/%3Cscript%3Ex",
        {"jwt": views.emulator.issue_token(user), "theme": '"><script>'},
    )
    assert page.status_code == 200
    html = page.content.decode()
    for raw in ["<script>alert", "<img", "<b>Grace", "<i>key", "<u>value", "<script>x"]:
        assert raw not in html
    assert "&lt;script&gt;alert(&quot;org&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Grace&lt;/b&gt;" in html
    assert 'data-upsolve-id="&lt;script&gt;x"' in html
    assert 'data-upsolve-theme="light"' in html


def test_share_pages_answer_only_get_and_head(client: Client, user: SandboxUser) -> None:
    token = views.emulator.issue_token(user)
    assert client.post(f"/sandbox/share/dashboard/d?jwt={token}").status_code == 405
    assert client.head(f"/sandbox/share/dashboard/d?jwt={token}").status_code == 200


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-5, "0:00:00"), (0, "0:00:00"), (59, "0:00:59"), (3661, "1:01:01"), (604800, "168:00:00")],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert views.format_duration(seconds) == text


def test_the_client_and_the_share_page_over_real_http(live_server: Any, set_upsolve: Any) -> None:
    """The documented set-up: UPSOLVE's URLs point at the sandbox mounted in the site."""
    base = f"{live_server.url}/sandbox"
    set_upsolve(API_URL=f"{base}/api", HUB_URL=base)
    client = UpsolveClient.from_settings()
    org = client.register_organization(
        fields=OrganizationFields.build(name="Acme <Ltd>", external_id="acme")
    )
    user_id = str(uuid.uuid4())
    client.register_user(
        organization_id=org.organization_id,
        user_id=user_id,
        fields=UserFields.build(role_id=ROLE_ID, name="Grace"),
    )
    token = client.user_token(user_id=user_id, expiration=600).token
    query = urlencode({"jwt": token, "theme": "dark"})
    page = requests.get(f"{base}/share/dashboard/dash-1?{query}", timeout=5)
    assert page.status_code == 200
    assert "Acme &lt;Ltd&gt;" in page.text
    assert "Grace" in page.text
    assert 'data-upsolve-theme="dark"' in page.text
