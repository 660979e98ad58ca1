"""The ``upsolve`` template tags: URLs, escaping, placeholders, HTTP calls, the script."""

from __future__ import annotations

import logging
import math
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import responses
from django.contrib.auth.models import AnonymousUser
from django.test import override_settings
from django.utils import timezone

from django_upsolve.conf import upsolve_settings
from django_upsolve.models import UpsolveProfile
from django_upsolve.services import sync_login
from tests.helpers import hour_token_ending, make_user, override_upsolve

from .helpers import elements, make_request, only_iframe, query, render

HUB = "https://hub.upsolve.ai"
SCRIPT = "/static/django_upsolve/upsolve.js"
EMBED_URLS = pytest.mark.urls("tests.embed.urls")


def token_of(user) -> str:
    return UpsolveProfile.objects.get(user=user).token


# iframe and URL -----------------------------------------------------------------------


def test_dashboard_with_a_fresh_token_makes_no_http_call(make_user_with_token, http):
    user = make_user_with_token()
    html = render('{% upsolve_dashboard "sales-42" %}', make_request(user))
    iframe = only_iframe(html)
    assert iframe["src"] == f"{HUB}/share/dashboard/sales-42?jwt={token_of(user)}&theme=light"
    assert len(http.calls) == 0


def test_defaults_and_attributes(make_user_with_token, http):
    html = render('{% upsolve_dashboard "d" %}', make_request(make_user_with_token()))
    iframe = only_iframe(html)
    assert iframe["title"] == "Analytics dashboard"
    assert iframe["width"] == "100%"
    assert iframe["height"] == "800"
    assert iframe["loading"] == "lazy"
    assert iframe["referrerpolicy"] == "strict-origin"
    assert iframe["data-upsolve-embed"] == "dashboard"


def test_options_set_attributes_and_query_parameters(make_user_with_token, http):
    user = make_user_with_token()
    html = render(
        '{% upsolve_dashboard 7 theme="dark" width="640" height=480 title="Sales" loading="eager"'
        ' referrerpolicy="no-referrer" class="wide" id="sales" dbAuthToken=db_token %}',
        make_request(user),
        db_token="per-user-secret",
    )
    iframe = only_iframe(html)
    assert (iframe["width"], iframe["height"], iframe["title"]) == ("640", "480", "Sales")
    assert (iframe["loading"], iframe["referrerpolicy"]) == ("eager", "no-referrer")
    assert (iframe["class"], iframe["id"]) == ("wide", "sales")
    assert urlsplit(iframe["src"]).path == "/share/dashboard/7"
    assert query(iframe["src"]) == [
        ("jwt", token_of(user)),
        ("theme", "dark"),
        ("dbAuthToken", "per-user-secret"),
    ]


def test_application_uses_the_application_hub(make_user_with_token, http):
    user = make_user_with_token()
    with override_upsolve(APPLICATION_HUB_URL="https://ai.example.test/"):
        html = render("{% upsolve_application app_id %}", make_request(user), app_id="space-1")
    iframe = only_iframe(html)
    assert iframe["src"] == (
        f"https://ai.example.test/share/application/space-1?jwt={token_of(user)}&theme=light"
    )
    assert iframe["title"] == "Analytics workspace"
    assert iframe["data-upsolve-embed"] == "application"


def test_template_literals_are_escaped_too(make_user_with_token, http):
    html = render(
        """{% upsolve_dashboard 'd' title='Say "<b>hi</b>"' %}""",
        make_request(make_user_with_token()),
    )
    assert only_iframe(html)["title"] == 'Say "<b>hi</b>"'
    assert "<b>" not in html


def test_everything_is_escaped(make_user_with_token, http):
    user = make_user_with_token()
    nasty = "\"><script>alert('x')</script>&amp;"
    html = render(
        "{% upsolve_dashboard nasty title=nasty class=nasty extra=nasty %}",
        make_request(user),
        nasty=nasty,
    )
    assert "<script>alert" not in html
    iframe = only_iframe(html)
    assert iframe["title"] == nasty
    assert iframe["class"] == nasty
    src = iframe["src"]
    assert urlsplit(src).path == (
        "/share/dashboard/%22%3E%3Cscript%3Ealert%28%27x%27%29%3C%2Fscript%3E%26amp%3B"
    )
    assert query(src) == [("jwt", token_of(user)), ("theme", "light"), ("extra", nasty)]


def test_a_slash_in_the_id_stays_in_one_path_segment(make_user_with_token, http):
    html = render('{% upsolve_dashboard "../../admin" %}', make_request(make_user_with_token()))
    assert urlsplit(only_iframe(html)["src"]).path == "/share/dashboard/..%2F..%2Fadmin"


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ('{% upsolve_dashboard "" %}', "''"),
        ("{% upsolve_dashboard report.id %}", "''"),  # an unset variable
        ('{% upsolve_dashboard "." %}', "'.'"),
        ('{% upsolve_application " .. " %}', "' .. '"),
        ("{% upsolve_dashboard bell %}", "'a\\x07b'"),
        ("{% upsolve_dashboard none %}", "None"),
    ],
)
def test_an_unusable_id_is_a_warning_and_the_placeholder_without_a_token_lookup(
    make_user_with_token, http, caplog, django_assert_num_queries, source, shown
):
    request = make_request(make_user_with_token())
    with django_assert_num_queries(0):
        html = render(source, request, bell="a\x07b", none=None)
    assert 'data-upsolve-placeholder="unavailable"' in html and "<iframe" not in html
    (record,) = [r for r in caplog.records if r.name == "django_upsolve.templatetags.upsolve"]
    assert record.levelname == "WARNING" and record.exc_info is None
    assert record.getMessage().startswith(f"{shown} is not an Upsolve ")


def test_the_placeholder_of_an_unusable_id_keeps_the_embeds_attributes(make_user_with_token):
    html = render(
        '{% upsolve_dashboard "" title="Sales" class="wide" id="sales" %}',
        make_request(make_user_with_token()),
    )
    (placeholder,) = elements(html, "div")
    assert (placeholder["class"], placeholder["id"]) == ("upsolve-placeholder wide", "sales")
    assert ">Sales<" in html


def test_unknown_theme_falls_back_to_light(make_user_with_token, http, caplog):
    html = render('{% upsolve_dashboard "d" theme="neon" %}', make_request(make_user_with_token()))
    assert ("theme", "light") in query(only_iframe(html)["src"])
    assert "Unknown Upsolve theme 'neon'" in caplog.text


def test_a_jwt_option_cannot_replace_the_token(make_user_with_token, http, caplog):
    user = make_user_with_token()
    html = render('{% upsolve_dashboard "d" jwt="forged" %}', make_request(user))
    assert [value for name, value in query(only_iframe(html)["src"]) if name == "jwt"] == [
        token_of(user)
    ]
    assert "ignoring it" in caplog.text


def test_unset_options_are_left_out(make_user_with_token, http):
    html = render(
        '{% upsolve_dashboard "d" dbAuthToken=missing title=none %}',
        make_request(make_user_with_token()),
        none=None,
    )
    assert only_iframe(html)["title"] == "Analytics dashboard"
    assert [name for name, _ in query(only_iframe(html)["src"])] == ["jwt", "theme"]


# Refresh ------------------------------------------------------------------------------


def test_a_stale_token_is_refreshed_exactly_once(db, upsolve_sandbox, django_user_model):
    user = django_user_model.objects.create_user("ada")
    sync_login(user)
    stale_until = timezone.now() + timedelta(seconds=10)
    UpsolveProfile.objects.filter(user=user).update(**hour_token_ending(stale_until))
    before = upsolve_sandbox.count("user-token")
    request = make_request(user)
    html = render('{% upsolve_dashboard "a" %}{% upsolve_dashboard "b" %}', request)
    assert upsolve_sandbox.count("user-token") == before + 1
    assert [c.path for c in upsolve_sandbox.calls].count("register-user") == 1
    profile = UpsolveProfile.objects.get(user=user)
    assert profile.token_expires_at > stale_until + timedelta(seconds=3000)
    new = profile.token
    assert [query(iframe["src"])[0] for iframe in elements(html, "iframe")] == [("jwt", new)] * 2


def test_an_expired_token_is_never_rendered_when_upsolve_is_down(
    make_user_with_token, http, caplog
):
    user = make_user_with_token(lifetime=3600)
    UpsolveProfile.objects.filter(user=user).update(**hour_token_ending(timezone.now()))
    http.add(responses.POST, f"{upsolve_settings.API_URL}/user-token", status=503, body="down")
    html = render('{% upsolve_dashboard "d" %}', make_request(user))
    assert elements(html, "iframe") == []
    assert token_of(user) not in html
    (placeholder,) = elements(html, "div")
    assert placeholder["data-upsolve-placeholder"] == "unavailable"


# Placeholder --------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_users_get_an_accessible_placeholder(http):
    html = render('{% upsolve_dashboard "d" title="Sales" %}', make_request(AnonymousUser()))
    assert elements(html, "iframe") == []
    assert elements(html, "script") == []
    (placeholder,) = elements(html, "div")
    assert placeholder["role"] == "status"
    assert placeholder["data-upsolve-placeholder"] == "anonymous"
    assert "Sales" in html
    (link,) = elements(html, "a")
    assert link["href"] == "/accounts/login/?next=%2Freports%2F%3Fpage%3D2"
    assert len(http.calls) == 0


def test_users_without_a_token_get_the_placeholder(db, http):
    http.add(responses.POST, f"{upsolve_settings.API_URL}/register-organization", status=401)
    html = render('{% upsolve_dashboard "d" class="wide" %}', make_request(make_user()))
    assert elements(html, "iframe") == []
    (placeholder,) = elements(html, "div")
    assert placeholder["data-upsolve-placeholder"] == "unavailable"
    assert placeholder["class"] == "upsolve-placeholder wide"
    assert "cannot be shown right now" in html


@pytest.mark.parametrize(("email", "active"), [("", True), ("ada@acme.test", False)])
def test_users_the_adapter_leaves_out_are_told_analytics_are_not_available(db, http, email, active):
    user = make_user()
    user.email, user.is_active = email, active
    with override_upsolve(ADAPTER="tests.adapters.DomainTenantAdapter"):
        html = render('{% upsolve_dashboard "d" %}', make_request(user))
    (placeholder,) = elements(html, "div")
    assert placeholder["data-upsolve-placeholder"] == "not-available"
    assert "Analytics are not available for your account." in html
    assert "reload" not in html
    assert len(http.calls) == 0


def test_a_fresh_token_is_not_embedded_once_the_adapter_leaves_the_user_out(
    make_user_with_token, http
):
    user = make_user_with_token()  # holds a fresh token
    user.email = ""  # DomainTenantAdapter: no e-mail, no tenant
    user.save()
    with override_upsolve(ADAPTER="tests.adapters.DomainTenantAdapter"):
        html = render('{% upsolve_dashboard "d" %}', make_request(user))
    assert token_of(user) not in html
    assert elements(html, "div")[0]["data-upsolve-placeholder"] == "not-available"
    assert len(http.calls) == 0


def test_an_exception_anywhere_becomes_the_placeholder(db, http, caplog):
    user = make_user()
    with override_upsolve(ADAPTER="tests.adapters.BrokenAdapter"), caplog.at_level(logging.ERROR):
        html = render('{% upsolve_dashboard "d" %}', make_request(user))
    assert elements(html, "div")[0]["data-upsolve-placeholder"] == "unavailable"
    assert "Could not get an Upsolve token" in caplog.text


def test_an_unrenderable_placeholder_renders_nothing(db, caplog):
    loaders = [("django.template.loaders.locmem.Loader", {})]
    templates = [{"BACKEND": "django.template.backends.django.DjangoTemplates",
                  "OPTIONS": {"loaders": loaders}}]  # fmt: skip
    with override_settings(TEMPLATES=templates):
        html = render('{% upsolve_dashboard "d" %}', make_request(AnonymousUser()))
    assert html == ""
    assert "django_upsolve/placeholder.html" in caplog.text


def test_the_placeholder_template_can_be_overridden(db):
    loaders = [
        (
            "django.template.loaders.locmem.Loader",
            {"django_upsolve/placeholder.html": "<p>{{ reason }}: {{ title }} ({{ kind }})</p>"},
        ),
        "django.template.loaders.app_directories.Loader",
    ]
    templates = [{"BACKEND": "django.template.backends.django.DjangoTemplates",
                  "OPTIONS": {"loaders": loaders}}]  # fmt: skip
    with override_settings(TEMPLATES=templates):
        html = render('{% upsolve_dashboard "d" title="<b>" %}', make_request(AnonymousUser()))
    assert html == "<p>anonymous: &lt;b&gt; (dashboard)</p>"


def test_without_the_request_in_the_context_the_tag_shows_the_placeholder(caplog):
    html = render('{% upsolve_dashboard "d" %}', None)
    assert elements(html, "div")[0]["data-upsolve-placeholder"] == "anonymous"
    assert "context_processors.request" in caplog.text


def test_a_stored_token_that_is_not_a_jwt_is_never_rendered(make_user_with_token, http):
    user = make_user_with_token()
    UpsolveProfile.objects.filter(user=user).update(token='a.b.c"><script>')
    html = render('{% upsolve_dashboard "d" %}', make_request(user))
    assert "<script>" not in html
    assert elements(html, "iframe") == []


# Browser refresh configuration --------------------------------------------------------


@EMBED_URLS
def test_refresh_attributes_and_the_script(make_user_with_token, http):
    user = make_user_with_token(lifetime=3600)
    profile = UpsolveProfile.objects.get(user=user)
    html = render('{% upsolve_dashboard "d" %}', make_request(user))
    expires = str(math.ceil(profile.token_expires_at.timestamp()))
    # The frame carries its marker and its expiry, nothing of the script's configuration.
    assert {name: value for name, value in only_iframe(html).items() if "upsolve" in name} == {
        "data-upsolve-embed": "dashboard",
        "data-upsolve-token-url": "/upsolve/token/",
        "data-upsolve-expires": expires,
    }
    (script,) = elements(html, "script")
    # The script reads its configuration from its own tag, which injected markup cannot add.
    now = script.pop("data-upsolve-now")
    assert abs(int(now) - time.time()) < 5
    csrf = script.pop("data-upsolve-csrf-token")
    assert len(csrf) == 64
    assert script == {
        "src": SCRIPT,
        "defer": None,
        "data-upsolve-origins": "https://hub.upsolve.ai https://ai-hub.upsolve.ai",
        "data-upsolve-token-url": "/upsolve/token/",
        "data-upsolve-tenant": f"user-{user.pk}",
        "data-upsolve-expires": expires,
        "data-upsolve-refresh-margin": str(upsolve_settings.REFRESH_MARGIN),
        "data-upsolve-csrf-header": "X-CSRFTOKEN",
        "data-upsolve-csrf-cookie": "csrftoken",
    }


@EMBED_URLS
def test_the_script_is_included_once_per_request(make_user_with_token, http):
    request = make_request(make_user_with_token())
    first = render(
        '{% upsolve_dashboard "a" %}{% upsolve_application "b" %}{% upsolve_dashboard "c" %}',
        request,
    )
    second = render('{% upsolve_dashboard "d" %}', request)
    assert len(elements(first, "iframe")) == 3
    assert len(elements(first, "script")) == 1
    assert elements(second, "script") == []


@EMBED_URLS
def test_the_script_carries_the_csp_nonce(make_user_with_token, http):
    html = render(
        '{% upsolve_dashboard "d" %}', make_request(make_user_with_token()), csp_nonce="n0nce"
    )
    assert elements(html, "script")[0]["nonce"] == "n0nce"


@EMBED_URLS
def test_the_script_carries_the_request_s_csp_nonce_as_django_csp_sets_it(
    make_user_with_token, http
):
    request = make_request(make_user_with_token())
    request.csp_nonce = "r3quest"
    assert elements(render('{% upsolve_dashboard "d" %}', request), "script")[0]["nonce"] == (
        "r3quest"
    )


@EMBED_URLS
@override_settings(CSRF_COOKIE_HTTPONLY=True, CSRF_HEADER_NAME="HTTP_X_MY_CSRF")
def test_an_httponly_csrf_cookie_is_not_named(make_user_with_token, http):
    html = render('{% upsolve_dashboard "d" %}', make_request(make_user_with_token()))
    (script,) = elements(html, "script")
    assert "data-upsolve-csrf-cookie" not in script
    assert len(script["data-upsolve-csrf-token"]) == 64
    assert script["data-upsolve-csrf-header"] == "X-MY-CSRF"


def test_without_the_token_endpoint_there_is_no_refresh(make_user_with_token, http, caplog):
    html = render('{% upsolve_dashboard "d" %}', make_request(make_user_with_token()))
    assert not [name for name in only_iframe(html) if name.startswith("data-upsolve-") and
                name != "data-upsolve-embed"]  # fmt: skip
    assert elements(html, "script") == []
    assert 'include("django_upsolve.urls")' in caplog.text


# upsolve_token ------------------------------------------------------------------------


def test_upsolve_token_as_variable(make_user_with_token, http):
    user = make_user_with_token()
    html = render("{% upsolve_token as token %}[{{ token }}]", make_request(user))
    assert html == f"[{token_of(user)}]"
    assert len(http.calls) == 0


@pytest.mark.django_db
def test_upsolve_token_is_empty_for_anonymous_users(http):
    assert render("[{% upsolve_token %}]", make_request(AnonymousUser())) == "[]"
    assert render("[{% upsolve_token %}]", None) == "[]"


def test_attributes_are_escaped_even_under_autoescape_off(make_user_with_token, http):
    user = make_user_with_token()
    html = render(
        '{% autoescape off %}{% upsolve_dashboard "d" title=evil %}{% endautoescape %}',
        make_request(user),
        evil='"><script>alert(1)</script>',
    )
    assert "<script>alert(1)" not in html
    assert only_iframe(html)["title"] == '"><script>alert(1)</script>'
