"""The ``UPSOLVE`` settings: defaults, required keys, types, and reading at access time."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_upsolve.conf import DEFAULTS, REQUIRED, upsolve_settings
from django_upsolve.exceptions import UpsolveImproperlyConfigured
from tests.helpers import override_upsolve


@override_settings(UPSOLVE={})
@pytest.mark.parametrize("name", sorted(set(DEFAULTS) - set(REQUIRED)))
def test_every_optional_setting_has_its_default(name):
    assert upsolve_settings.get(name) == DEFAULTS[name]


def test_a_missing_upsolve_dict_means_the_defaults(settings):
    del settings.UPSOLVE
    assert upsolve_settings.raw == {}
    assert DEFAULTS["MAX_RETRIES"] == upsolve_settings.MAX_RETRIES


@override_settings(UPSOLVE=[("API_KEY", "x")])
def test_upsolve_must_be_a_dict():
    with pytest.raises(UpsolveImproperlyConfigured, match="must be a dict"):
        upsolve_settings.get("API_KEY")


def test_an_unknown_name_is_a_key_error():
    with pytest.raises(KeyError, match="API_TOKEN"):
        upsolve_settings.get("API_TOKEN")


@pytest.mark.parametrize("name", REQUIRED)
def test_a_required_setting_names_the_key_to_add(name):
    with (
        override_upsolve(**{name: ""}),
        pytest.raises(UpsolveImproperlyConfigured, match=rf"UPSOLVE\['{name}'\]"),
    ):
        getattr(upsolve_settings, name)


@override_upsolve(PROJECT_ID=1234)
def test_a_required_setting_is_a_string():
    assert upsolve_settings.PROJECT_ID == "1234"


@override_upsolve(
    API_URL="https://api.example.test/v1/",
    HUB_URL="https://hub.example.test//",
    APPLICATION_HUB_URL="https://ai.example.test/",
)
def test_urls_lose_their_trailing_slashes():
    assert upsolve_settings.API_URL == "https://api.example.test/v1"
    assert upsolve_settings.HUB_URL == "https://hub.example.test"
    assert upsolve_settings.APPLICATION_HUB_URL == "https://ai.example.test"


@pytest.mark.parametrize(
    ("value", "expected"), [(3, (3.0, 3.0)), (2.5, (2.5, 2.5)), ((1, 4.5), (1.0, 4.5))]
)
def test_timeout_is_one_number_or_a_connect_read_pair(value, expected):
    with override_upsolve(TIMEOUT=value):
        timeout = upsolve_settings.TIMEOUT
    assert timeout == expected
    assert all(isinstance(part, float) for part in timeout)


@override_upsolve(
    TOKEN_EXPIRATION=900,
    MAX_RETRIES=2,
    DEADLINE=5,
    LOGIN_DEADLINE=1.5,
    BREAKER_COOLDOWN=10,
    SYNC_ON_LOGIN=False,
    CACHE_ALIAS="redis",
)
def test_values_are_read_with_their_types():
    assert upsolve_settings.TOKEN_EXPIRATION == 900
    assert upsolve_settings.MAX_RETRIES == 2
    assert upsolve_settings.DEADLINE == 5.0
    assert isinstance(upsolve_settings.DEADLINE, float)
    assert upsolve_settings.LOGIN_DEADLINE == 1.5
    assert upsolve_settings.BREAKER_COOLDOWN == 10.0
    assert upsolve_settings.SYNC_ON_LOGIN is False
    assert upsolve_settings.CACHE_ALIAS == "redis"


def test_every_access_reads_the_current_settings():
    before = upsolve_settings.REFRESH_MARGIN
    with override_upsolve(REFRESH_MARGIN=before + 1):
        assert before + 1 == upsolve_settings.REFRESH_MARGIN
    assert before == upsolve_settings.REFRESH_MARGIN


def test_nothing_is_written_back_into_django_settings(settings):
    settings.UPSOLVE = {"API_KEY": "k"}
    upsolve_settings.get("MAX_RETRIES")
    _ = upsolve_settings.TIMEOUT, upsolve_settings.API_URL
    assert settings.UPSOLVE == {"API_KEY": "k"}
