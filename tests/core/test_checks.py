"""System checks: each id fires on its own misconfiguration, and ``check`` fails."""

from __future__ import annotations

import math
import typing
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_upsolve.adapter import UpsolveAdapter
from django_upsolve.checks import IDS, check_settings
from django_upsolve.conf import DEFAULTS, NUMBERS, Problem

GOOD = {
    "API_KEY": "up_admin_test_0123456789abcdef",
    "PROJECT_ID": "1f0c6a34-54d4-4b57-9d0a-7c1c8a3a9e10",
    "DEFAULT_ROLE_ID": "5b1ad0a2-7d8e-4a43-9f39-3b7fd1f4f6c2",
    "API_URL": "https://api.upsolve.test/v1/api/projects",
}
REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
    }
}
NAN, INF = math.nan, math.inf
WEEK = 7 * 24 * 3600


class ExplodingAdapter(UpsolveAdapter):
    """An adapter whose constructor fails, echoing the configured key."""

    def __init__(self) -> None:
        raise RuntimeError(f"no database for {GOOD['API_KEY']}")


def messages(**changes: object) -> list:
    with override_settings(UPSOLVE={**GOOD, **changes}, CACHES=REDIS):
        return check_settings()


def ids(**changes: object) -> set[str]:
    return {message.id for message in messages(**changes)}


def text_of(found: list) -> str:
    return " ".join(f"{message.msg} {message.hint}" for message in found)


def test_every_kind_of_problem_has_an_id():
    assert set(IDS) == set(typing.get_args(Problem))
    assert len(set(IDS.values())) == len(IDS)


def test_good_settings_pass():
    assert ids() == set()


def test_every_default_passes():
    assert ids(**{name: value for name, value in DEFAULTS.items() if name not in GOOD}) == set()


# E001 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["API_KEY", "PROJECT_ID", "DEFAULT_ROLE_ID"])
@pytest.mark.parametrize("value", ["", None])
def test_missing_required_setting(name, value):
    assert ids(**{name: value}) == {"django_upsolve.E001"}


def test_missing_settings_dict():
    with override_settings(CACHES=REDIS):
        from django.conf import settings

        del settings.UPSOLVE
        assert {m.id for m in check_settings()} == {"django_upsolve.E001"}


# E002, E003 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["PROJECT_ID", "DEFAULT_ROLE_ID"])
def test_non_uuid_ids(name):
    assert ids(**{name: "my-project"}) == {"django_upsolve.E002"}


@pytest.mark.parametrize("name", ["API_URL", "HUB_URL", "APPLICATION_HUB_URL"])
def test_plain_http_urls_are_refused_outside_debug(name):
    assert ids(**{name: "http://upsolve.example/x"}) == {"django_upsolve.E003"}


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/sandbox/api", "http://localhost/api", "http://[::1]:9/api"]
)
def test_plain_http_on_loopback_is_fine(url):
    assert ids(API_URL=url) == set()


def test_plain_http_is_fine_in_debug():
    with override_settings(DEBUG=True):
        assert ids(API_URL="http://upsolve.internal/api") == set()


# E004, E014 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "nowhere.Adapter",
        "django_upsolve.adapter.Nothing",
        "os",  # not a dotted path
        "os.system",  # a function: calling it would run a shell
        "django_upsolve.conf.DEFAULTS",  # not a class
        "django.contrib.auth.models.User",  # a class, not an adapter
        "",
        42,
        None,
    ],
)
def test_adapter_that_is_not_an_importable_adapter_class(path):
    assert ids(ADAPTER=path) == {"django_upsolve.E004"}


def test_adapter_module_that_raises_on_import(tmp_path: Path, monkeypatch):
    (tmp_path / "exploding_adapter_module.py").write_text("raise RuntimeError('import bug')\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    found = messages(ADAPTER="exploding_adapter_module.Adapter")

    assert [m.id for m in found] == ["django_upsolve.E004"]
    assert "RuntimeError" in found[0].msg


def test_adapter_whose_constructor_raises():
    found = messages(ADAPTER=f"{__name__}.ExplodingAdapter")

    assert [m.id for m in found] == ["django_upsolve.E014"]
    assert "RuntimeError" in found[0].msg
    assert GOOD["API_KEY"] not in text_of(found)


# E005 ----------------------------------------------------------------------------------------

BAD_NUMBERS = [
    *[{name: value} for name in NUMBERS for value in (NAN, INF, -INF, None, "3", True, -1)],
    *[{name: 1.5} for name, bounds in NUMBERS.items() if bounds.whole],
    *[{name: 10**15} for name in NUMBERS],
    {"TOKEN_EXPIRATION": 0},
    {"TOKEN_EXPIRATION": WEEK + 1},
    {"TOKEN_EXPIRATION": 3600.0},
    {"ACTIVE_WINDOW": 0},
    {"MAX_RETRIES": 11},
    {"LOGIN_DEADLINE": 0},
    {"DEADLINE": 3601},
    {"BREAKER_THRESHOLD": 0},
    {"MAX_RESPONSE_BYTES": 0},
    {"TIMEOUT": (INF, INF)},
    {"TIMEOUT": (NAN, 4.0)},
    {"TIMEOUT": (1.5, -INF)},
    {"TIMEOUT": INF},
    {"TIMEOUT": 0},
    {"TIMEOUT": (1.5, 0)},
    {"TIMEOUT": (1.5, 10**15)},
    {"TIMEOUT": (True, 4.0)},
    {"TIMEOUT": (1, 2, 3)},
    {"TIMEOUT": [1.5]},
    {"TIMEOUT": "fast"},
    {"TIMEOUT": None},
]


@pytest.mark.parametrize("change", BAD_NUMBERS, ids=repr)
def test_bad_numbers(change):
    assert ids(**change) == {"django_upsolve.E005"}


@pytest.mark.parametrize(
    "change",
    [
        {"TOKEN_EXPIRATION": WEEK},
        {"REFRESH_MARGIN": 0},
        {"MAX_RETRIES": 0},
        {"ACTIVE_WINDOW": 60},
        {"DEADLINE": 3600},
        {"LOGIN_DEADLINE": 1},
        {"BREAKER_COOLDOWN": 0.5},
        {"TIMEOUT": 3},
        {"TIMEOUT": [1, 2.5]},
    ],
    ids=repr,
)
def test_numbers_at_the_bounds_pass(change):
    assert ids(**change) == set()


def test_number_message_names_the_key_and_the_bound():
    [found] = messages(TOKEN_EXPIRATION=10**15)

    assert found.msg == (
        "UPSOLVE['TOKEN_EXPIRATION'] must be a whole number of seconds from 1 to 604800; "
        "got 1000000000000000."
    )


# E006, E007 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [["API_KEY"], 0, "", ()])
def test_settings_not_a_dict(value):
    with override_settings(UPSOLVE=value, CACHES=REDIS):
        assert [m.id for m in check_settings()] == ["django_upsolve.E006"]


def test_unknown_cache_alias():
    assert ids(CACHE_ALIAS="nowhere") == {"django_upsolve.E007"}


# E008 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "guess"),
    [
        ("APIKEY", "API_KEY"),
        ("api_key", "API_KEY"),
        ("TOKEN_EXPIRY", "TOKEN_EXPIRATION"),
        ("SYNC_ON_LOGINS", "SYNC_ON_LOGIN"),
        ("HUB", "HUB_URL"),
    ],
)
def test_unknown_key_suggests_the_closest(key, guess):
    [found] = messages(**{key: 1})

    assert found.id == "django_upsolve.E008"
    assert found.msg == f"UPSOLVE[{key!r}] is not a django-upsolve setting."
    assert found.hint == f"Did you mean {guess!r}?"


@pytest.mark.parametrize("key", ["COLOUR_SCHEME", 7])
def test_unknown_key_without_a_close_match(key):
    with override_settings(UPSOLVE={**GOOD, key: 1}, CACHES=REDIS):
        [found] = check_settings()

    assert found.id == "django_upsolve.E008"
    assert "Did you mean" not in found.hint


# E009, E010: keys an HTTP header cannot carry ------------------------------------------------

KEY = GOOD["API_KEY"]


@pytest.mark.parametrize(
    "key",
    [KEY + "\u200b", "\u200b" + KEY, KEY[:12] + "\u2014" + KEY[12:], KEY + "\U0001f511"],
    ids=["zero-width-space-after", "zero-width-space-before", "em-dash", "emoji"],
)
def test_key_outside_latin1(key):
    found = messages(API_KEY=key)

    assert [m.id for m in found] == ["django_upsolve.E009"]
    assert f"U+{ord(next(c for c in key if ord(c) > 0xFF)):04X}" in found[0].msg


UNSENDABLE = {
    "newline": KEY + "\n",
    "crlf": KEY + "\r\n",
    "leading-space": " " + KEY,
    "trailing-space": KEY + " ",
    "tab": KEY + "\t",
    "nul": KEY + "\x00",
    "nbsp": KEY + "\xa0",
    "soft-hyphen": KEY[:12] + "\xad" + KEY[12:],
}


@pytest.mark.parametrize("key", list(UNSENDABLE.values()), ids=list(UNSENDABLE))
def test_key_with_whitespace_or_control_characters(key):
    assert ids(API_KEY=key) == {"django_upsolve.E010"}


def test_key_with_a_pasted_bearer_prefix():
    found = messages(API_KEY="Bearer " + KEY)

    assert [m.id for m in found] == ["django_upsolve.E010"]
    assert found[0].msg == (
        "UPSOLVE['API_KEY'] contains U+0020 at character 7: whitespace or a control character."
    )


@pytest.mark.parametrize("key", [KEY + "\u200b", KEY + "\n", "Bearer " + KEY, "sk_secret_value"])
def test_messages_never_show_the_key(key):
    found = messages(API_KEY=key)

    assert found
    assert key.strip() not in text_of(found)
    assert KEY not in text_of(found)


def test_latin1_key_is_sendable():
    assert ids(API_KEY=KEY + "é") == set()


# E011 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["API_URL", "HUB_URL", "APPLICATION_HUB_URL"])
@pytest.mark.parametrize(
    "url",
    [
        "https://",
        "https:///v1",
        "https://:443/v1",
        "ftp://upsolve.example/x",
        "upsolve.example/v1",
        "https://upsolve.example:99999/x",
        "https://upsolve.example:port/x",
        "https://[::1",
        "https://upsolve.example/ x",
        "https://upsolve.example/x\n",
        "https://upsolve.example/x?a=1",
        "https://upsolve.example/?",
        "https://upsolve.example/x#frag",
        "",
        None,
        42,
    ],
)
def test_malformed_urls(name, url):
    assert ids(**{name: url}) == {"django_upsolve.E011"}


def test_url_message_never_shows_the_url():
    [found] = messages(API_URL=f"https://upsolve.example/?key={KEY}")

    assert found.msg == (
        "UPSOLVE['API_URL'] must not have a query string or fragment: paths are appended to it."
    )


@pytest.mark.parametrize("url", ["https://hub.example/", "https://hub.example:8443/prefix"])
def test_hub_url_with_a_port_or_path_passes(url):
    assert ids(HUB_URL=url) == set()


# E012 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["false", "true", "True", "", "Background", 0, 1, None])
def test_sync_on_login_must_be_a_boolean_or_background(value):
    found = messages(SYNC_ON_LOGIN=value)

    assert [m.id for m in found] == ["django_upsolve.E012"]
    assert repr(value) in found[0].msg


@pytest.mark.parametrize("value", [True, False, "background"])
def test_sync_on_login_modes_pass(value):
    assert ids(SYNC_ON_LOGIN=value) == set()


# E013 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"TASK_BACKEND": ""},
        {"TASK_BACKEND": None},
        {"TASK_BACKEND": 5},
        {"CACHE_ALIAS": ["default"]},
        {"CACHE_ALIAS": None},
        {"API_KEY": KEY.encode()},
    ],
    ids=repr,
)
def test_names_must_be_strings(change):
    assert ids(**change) == {"django_upsolve.E013"}


def test_task_backend_alias_passes():
    assert ids(TASK_BACKEND="background") == set()


# W001, W002, W003 ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["sk_live_123", "admin_123"])
def test_key_without_prefix_warns(key):
    assert ids(API_KEY=key) == {"django_upsolve.W001"}


def test_embed_key_is_fine():
    assert ids(API_KEY="up_embed_abc") == set()


def test_margin_not_shorter_than_lifetime_warns():
    assert ids(TOKEN_EXPIRATION=300, REFRESH_MARGIN=300) == {"django_upsolve.W002"}


def test_local_memory_cache_warns_outside_debug():
    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(UPSOLVE=GOOD, CACHES=locmem):
        assert {m.id for m in check_settings()} == {"django_upsolve.W003"}
    with override_settings(UPSOLVE=GOOD, CACHES=locmem, DEBUG=True):
        assert check_settings() == []


# The check never raises ----------------------------------------------------------------------

HOSTILE = [None, NAN, INF, -1, 10**100, 1.5, "", "x", b"x", [], ["a"], {}, {"a": 1}, object()]


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_the_check_survives_any_value(name):
    for value in HOSTILE:
        found = ids(**{name: value})
        assert all(id.startswith("django_upsolve.") for id in found), (name, value)


# Through manage.py check ---------------------------------------------------------------------

ONE_PER_ID = {  # E001 fails only check --deploy: tests/core/test_credential_checks.py
    "E002": {"PROJECT_ID": "nope"},
    "E003": {"HUB_URL": "http://hub.example"},
    "E004": {"ADAPTER": "os.system"},
    "E005": {"TOKEN_EXPIRATION": 10**15},
    "E007": {"CACHE_ALIAS": "nowhere"},
    "E008": {"APIKEY": KEY},
    "E009": {"API_KEY": KEY + "\u200b"},
    "E010": {"API_KEY": KEY + "\n"},
    "E011": {"API_URL": "https://"},
    "E012": {"SYNC_ON_LOGIN": "false"},
    "E013": {"TASK_BACKEND": ""},
    "E014": {"ADAPTER": f"{__name__}.ExplodingAdapter"},
    "W001": {"API_KEY": "sk_live_123"},
    "W002": {"REFRESH_MARGIN": 3600},
    "W006": {"PROJECT_ID": ""},
}


@pytest.mark.django_db
@pytest.mark.parametrize(("id", "change"), ONE_PER_ID.items())
def test_manage_py_check_fails(id, change):
    level = "WARNING" if id.startswith("W") else "ERROR"
    with (
        override_settings(UPSOLVE={**GOOD, **change}, CACHES=REDIS),
        pytest.raises(SystemCheckError, match=rf"django_upsolve\.{id}"),
    ):
        call_command("check", fail_level=level)


@pytest.mark.django_db
def test_manage_py_check_fails_when_settings_are_not_a_dict():
    with (
        override_settings(UPSOLVE="API_KEY=x"),
        pytest.raises(SystemCheckError, match=r"django_upsolve\.E006"),
    ):
        call_command("check")


@pytest.mark.django_db
def test_manage_py_check_warns_about_local_memory():
    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with (
        override_settings(UPSOLVE=GOOD, CACHES=locmem),
        pytest.raises(SystemCheckError, match=r"django_upsolve\.W003"),
    ):
        call_command("check", fail_level="WARNING")


@pytest.mark.django_db
def test_manage_py_check_passes_on_good_settings():
    with override_settings(UPSOLVE=GOOD, CACHES=REDIS):
        call_command("check", fail_level="WARNING")
