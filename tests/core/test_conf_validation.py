"""The accessors of ``upsolve_settings``: typed values, and a clear error for a bad one."""

from __future__ import annotations

import math

import pytest
from django.test import override_settings

from django_upsolve.adapter import get_adapter
from django_upsolve.conf import DEFAULTS, SettingError, upsolve_settings
from django_upsolve.exceptions import UpsolveImproperlyConfigured

KEY = "up_admin_test_0123456789abcdef"


def with_upsolve(**changes: object) -> override_settings:
    return override_settings(UPSOLVE={**upsolve_settings.raw, **changes})


def test_every_setting_has_an_accessor_returning_its_default():
    for name in DEFAULTS:
        assert getattr(upsolve_settings, name) is not None, name


def test_new_settings_defaults():
    assert upsolve_settings.TASK_BACKEND == "default"
    assert upsolve_settings.ACTIVE_WINDOW == 3600
    assert upsolve_settings.LOGIN_MEMBERSHIPS == 1
    assert upsolve_settings.SYNC_MODE == "inline"


def test_new_settings_are_read():
    with with_upsolve(TASK_BACKEND="tasks", ACTIVE_WINDOW=600):
        assert (upsolve_settings.TASK_BACKEND, upsolve_settings.ACTIVE_WINDOW) == ("tasks", 600)


@pytest.mark.parametrize(
    ("value", "mode", "at_login"),
    [(True, "inline", True), (False, "off", False), ("background", "background", True)],
)
def test_sync_modes(value, mode, at_login):
    with with_upsolve(SYNC_ON_LOGIN=value):
        got = (upsolve_settings.SYNC_MODE, upsolve_settings.SYNC_ON_LOGIN)
    assert got == (mode, at_login)


@pytest.mark.parametrize("value", ["false", "true", 1, None])
def test_a_string_or_number_is_no_sync_mode(value):
    with (
        with_upsolve(SYNC_ON_LOGIN=value),
        pytest.raises(SettingError, match=r"UPSOLVE\['SYNC_ON_LOGIN'\] must be True, False"),
    ):
        _ = upsolve_settings.SYNC_ON_LOGIN


def test_timeout_single_value_and_list():
    with with_upsolve(TIMEOUT=3):
        assert upsolve_settings.TIMEOUT == (3.0, 3.0)
    with with_upsolve(TIMEOUT=[1, 2.5]):
        assert upsolve_settings.TIMEOUT == (1.0, 2.5)


def test_urls_lose_their_trailing_slash():
    with with_upsolve(HUB_URL="https://hub.example/prefix/"):
        assert upsolve_settings.HUB_URL == "https://hub.example/prefix"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TOKEN_EXPIRATION", 10**15),
        ("TOKEN_EXPIRATION", math.nan),
        ("REFRESH_MARGIN", math.inf),
        ("LOGIN_DEADLINE", math.nan),
        ("DEADLINE", math.inf),
        ("MAX_RESPONSE_BYTES", math.inf),
        ("MAX_RETRIES", 1.5),
        ("LOGIN_MAX_RETRIES", math.nan),
        ("BREAKER_THRESHOLD", True),
        ("BREAKER_COOLDOWN", math.nan),
        ("BREAKER_MAX_COOLDOWN", math.inf),
        ("ACTIVE_WINDOW", 0),
        ("TIMEOUT", (math.inf, math.inf)),
        ("API_URL", "https://"),
        ("HUB_URL", "https://hub.example/?embed=1"),
        ("APPLICATION_HUB_URL", "https://ai.example/#x"),
        ("ADAPTER", 42),
        ("TASK_BACKEND", ""),
        ("CACHE_ALIAS", ["default"]),
    ],
    ids=repr,
)
def test_a_rejected_value_raises_naming_the_key(name, value):
    with with_upsolve(**{name: value}), pytest.raises(SettingError) as raised:
        getattr(upsolve_settings, name)

    assert isinstance(raised.value, UpsolveImproperlyConfigured)
    assert str(raised.value).startswith(f"UPSOLVE[{name!r}] ")
    assert raised.value.name == name


@pytest.mark.parametrize(
    ("key", "problem", "says"),
    [
        (KEY + "\u200b", "key_charset", "contains U+200B at character 31"),
        (KEY + "\n", "key_whitespace", "contains U+000A at character 31"),
    ],
)
def test_an_unsendable_key_raises_without_showing_it(key, problem, says):
    with with_upsolve(API_KEY=key), pytest.raises(SettingError) as raised:
        _ = upsolve_settings.API_KEY

    assert raised.value.problem == problem
    assert says in str(raised.value)
    assert KEY not in str(raised.value)
    assert KEY not in repr(raised.value.args)


def test_a_missing_key_names_what_to_add():
    with (
        with_upsolve(API_KEY=""),
        pytest.raises(SettingError, match=r"Add 'API_KEY' to the UPSOLVE settings dict"),
    ):
        _ = upsolve_settings.API_KEY


@pytest.mark.parametrize(
    "path", ["os.system", "django_upsolve.conf.DEFAULTS", "django.contrib.auth.models.User"]
)
def test_get_adapter_refuses_what_is_not_an_adapter_class(path):
    with (
        with_upsolve(ADAPTER=path),
        pytest.raises(UpsolveImproperlyConfigured, match="is not an UpsolveAdapter subclass"),
    ):
        get_adapter()
