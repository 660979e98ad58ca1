"""``embed_for``: what a request embeds; ``refresh_attributes``: what the script is told."""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory, override_settings
from django.urls import NoReverseMatch, clear_url_caches, set_script_prefix, set_urlconf
from django.utils import translation

from django_upsolve import embed
from django_upsolve.conf import upsolve_settings
from django_upsolve.embed import (
    EmbedToken,
    Placeholder,
    embed_for,
    frame_attributes,
    hub_origins,
    refresh_attributes,
    token_endpoint,
)
from django_upsolve.models import UpsolveProfile
from tests.adapters import counting_adapter
from tests.helpers import make_user, override_upsolve

from .helpers import make_request

API = upsolve_settings.API_URL
ORG = "0d4b9b52-1d3c-4c8e-9a51-2f7f3b2d9c11"
USER = "8a2f6c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
EMBED_URLS = pytest.mark.urls("tests.embed.urls")


def adapter(path: str) -> override_settings:
    return override_settings(UPSOLVE={**upsolve_settings.raw, "ADAPTER": path})


# embed_for --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_without_a_signed_in_user_embeds_the_anonymous_placeholder(http):
    assert embed_for(make_request(AnonymousUser())) == Placeholder("anonymous")
    assert embed_for(RequestFactory().get("/")) == Placeholder("anonymous")  # no user at all
    assert len(http.calls) == 0


def test_a_fresh_stored_token_is_embedded_without_any_call(make_user_with_token, http):
    user = make_user_with_token()
    profile = UpsolveProfile.objects.get(user=user)
    embed = embed_for(make_request(user))
    assert embed == EmbedToken(
        profile.token, profile.token_expires_at, tenant=profile.tenant.external_id
    )
    assert isinstance(embed, EmbedToken)
    assert embed.expires_epoch == math.ceil(profile.token_expires_at.timestamp())
    assert len(http.calls) == 0


def test_a_user_the_adapter_leaves_out_is_not_available_despite_a_fresh_token(
    make_user_with_token, http
):
    user = (
        make_user_with_token()
    )  # holds a fresh token, but no e-mail: DomainTenantAdapter has no tenant
    with adapter("tests.adapters.DomainTenantAdapter"):
        assert embed_for(make_request(user)) == Placeholder("not-available")
    user.is_active = False  # the default adapter: inactive users are not eligible
    assert embed_for(make_request(user)) == Placeholder("not-available")
    assert len(http.calls) == 0


def test_no_token_to_be_had_is_unavailable_and_the_adapter_is_asked_once(http, db):
    user = make_user()
    http.post(f"{API}/register-organization", json={"data": {"projectOrganizationId": ORG}})
    http.post(f"{API}/register-user", json={"data": {"userId": USER}})
    http.post(f"{API}/user-token", status=503, body="down")
    with counting_adapter() as calls:
        assert embed_for(make_request(user)) == Placeholder("unavailable")
    assert [call.request.url.rsplit("/", 1)[1] for call in http.calls][:3] == [
        "register-organization",
        "register-user",
        "user-token",
    ]
    assert calls == Counter(
        is_eligible=1, get_tenant=1, get_user_name=1, get_user_properties=1, get_role_id=1
    )


def test_an_adapter_that_raises_is_unavailable_and_logged(make_user_with_token, http, caplog):
    user = make_user_with_token()
    with adapter("tests.adapters.BrokenAdapter"), caplog.at_level(logging.ERROR):
        assert embed_for(make_request(user)) == Placeholder("unavailable")
    assert "Could not get an Upsolve token for this request." in caplog.text
    assert "adapter bug" in caplog.text


def test_a_key_that_cannot_be_sent_is_one_line_of_warning_per_page(
    make_user_with_token, http, caplog
):
    user = make_user_with_token(lifetime=60)  # stale: the page would call Upsolve
    key = upsolve_settings.API_KEY + "\u200b"  # a paste brought a zero-width space
    with override_upsolve(API_KEY=key), caplog.at_level(logging.DEBUG):
        assert embed_for(make_request(user)) == Placeholder("unavailable")
    (record,) = [r for r in caplog.records if r.name == "django_upsolve.embed"]
    assert (record.levelno, record.exc_info) == (logging.WARNING, None)
    assert "contains U+200B" in record.getMessage()
    assert key.strip("\u200b") not in caplog.text
    assert not http.calls


@pytest.mark.parametrize("token", ["", 'a.b.c"><script>', "not a jwt"])
def test_a_stored_token_that_is_not_jwt_shaped_is_never_handed_out(
    make_user_with_token, http, token
):
    user = make_user_with_token()
    UpsolveProfile.objects.filter(user=user).update(token=token)
    http.post(f"{API}/user-token", status=503, body="down")  # an empty token is fetched anew
    assert embed_for(make_request(user)) == Placeholder("unavailable")


# refresh_attributes -----------------------------------------------------------------------


TOKEN = EmbedToken("a.b.c", datetime(2030, 1, 1, 12, 0, 0, 250_000, tzinfo=UTC))


@EMBED_URLS
def test_the_script_is_told_where_and_when_to_refresh():
    attributes = refresh_attributes(RequestFactory().get("/"), TOKEN, "acme")
    names = [name for name, _ in attributes]
    assert names == [
        "data-upsolve-token-url",
        "data-upsolve-tenant",
        "data-upsolve-expires",
        "data-upsolve-now",
        "data-upsolve-refresh-margin",
        "data-upsolve-csrf-header",
        "data-upsolve-csrf-token",
        "data-upsolve-csrf-cookie",
    ]
    values = dict(attributes)
    assert values["data-upsolve-token-url"] == "/upsolve/token/"
    assert values["data-upsolve-tenant"] == "acme"
    assert values["data-upsolve-expires"] == str(
        int(datetime(2030, 1, 1, 12, 0, 1, tzinfo=UTC).timestamp())
    )  # rounded up
    assert abs(int(values["data-upsolve-now"]) - time.time()) < 5
    assert values["data-upsolve-refresh-margin"] == str(upsolve_settings.REFRESH_MARGIN)
    assert values["data-upsolve-csrf-header"] == "X-CSRFTOKEN"
    assert len(values["data-upsolve-csrf-token"]) == 64
    assert values["data-upsolve-csrf-cookie"] == "csrftoken"


@EMBED_URLS
@override_settings(CSRF_USE_SESSIONS=True, CSRF_HEADER_NAME="HTTP_X_XSRF_TOKEN")
def test_a_csrf_token_kept_in_the_session_is_sent_from_the_page():
    values = dict(refresh_attributes(RequestFactory().get("/"), TOKEN, "acme"))
    assert "data-upsolve-csrf-cookie" not in values
    assert values["data-upsolve-csrf-header"] == "X-XSRF-TOKEN"
    assert len(values["data-upsolve-csrf-token"]) == 64


def test_without_the_token_endpoint_there_is_nothing_to_refresh(caplog):
    assert refresh_attributes(RequestFactory().get("/"), TOKEN, "acme") == []
    assert 'include("django_upsolve.urls")' in caplog.text


@EMBED_URLS
def test_a_frame_carries_its_marker_and_its_expiry_the_same_as_the_script():
    script = dict(refresh_attributes(RequestFactory().get("/"), TOKEN, "acme"))
    assert frame_attributes(TOKEN) == [
        ("data-upsolve-token-url", script["data-upsolve-token-url"]),
        ("data-upsolve-expires", script["data-upsolve-expires"]),
    ]
    assert frame_attributes(None) == [
        ("data-upsolve-token-url", "/upsolve/token/"),
        ("data-upsolve-expires", "0"),  # pending: the script asks at once
    ]


def test_without_the_token_endpoint_a_frame_has_nothing_for_the_script(caplog):
    assert frame_attributes(TOKEN) == []
    assert 'include("django_upsolve.urls")' in caplog.text


@EMBED_URLS
def test_the_token_path_follows_the_urlconf_the_script_prefix_and_a_new_resolver(monkeypatch):
    assert token_endpoint() == "/upsolve/token/"
    set_script_prefix("/app/")  # a site mounted under /app/
    try:
        assert token_endpoint() == "/app/upsolve/token/"
    finally:
        set_script_prefix("/")
    set_urlconf("tests.urls")  # a request whose middleware picked a URLconf without it
    try:
        with pytest.raises(NoReverseMatch):
            token_endpoint()
    finally:
        set_urlconf(None)
    # The same URLconf with other patterns: Django's clear_url_caches() means a new resolver.
    monkeypatch.setattr("tests.embed.urls.urlpatterns", [])
    clear_url_caches()
    with pytest.raises(NoReverseMatch):
        token_endpoint()


@EMBED_URLS
def test_the_token_path_is_reversed_once_per_resolver_and_prefix(monkeypatch):
    reversed_names = []

    def counting_reverse(name, **kwargs):
        reversed_names.append(name)
        return original(name, **kwargs)

    original = embed.reverse
    monkeypatch.setattr(embed, "reverse", counting_reverse)
    clear_url_caches()
    assert {token_endpoint() for _ in range(3)} == {"/upsolve/token/"}
    assert reversed_names == ["django_upsolve:token"]


@pytest.mark.urls("tests.embed.i18n_urls")
def test_the_token_path_follows_the_language_of_i18n_patterns():
    with translation.override("de"):
        assert token_endpoint() == "/de/upsolve/token/"
    with translation.override("fr"):
        assert token_endpoint() == "/fr/upsolve/token/"


def test_the_hub_origins_follow_the_settings():
    assert hub_origins() == ("https://hub.upsolve.ai", "https://ai-hub.upsolve.ai")
    with override_upsolve(
        HUB_URL="https://embed:secret@hub.example.com:8443/v2",
        APPLICATION_HUB_URL="https://hub.example.com:8443",
    ):
        assert hub_origins() == ("https://hub.example.com:8443",)


@pytest.mark.parametrize(
    ("hub_url", "origin"),
    [
        ("https://Hub.Upsolve.AI", "https://hub.upsolve.ai"),
        ("HTTPS://hub.upsolve.ai:443/path", "https://hub.upsolve.ai"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        ("http://127.0.0.1:8000/sandbox", "http://127.0.0.1:8000"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_the_hub_origins_are_written_as_a_browser_serializes_them(hub_url, origin):
    """``upsolve.js`` compares them with ``URL.origin``: any other spelling trusts no frame."""
    with override_upsolve(HUB_URL=hub_url, APPLICATION_HUB_URL=hub_url):
        assert hub_origins() == (origin,)


@EMBED_URLS
def test_a_readable_csrf_cookie_the_browser_holds_is_not_repeated_in_the_page():
    request = RequestFactory().get("/")
    request.COOKIES["csrftoken"] = "x" * 32
    values = dict(refresh_attributes(request, TOKEN, "acme"))
    assert "data-upsolve-csrf-token" not in values
    assert values["data-upsolve-csrf-cookie"] == "csrftoken"
