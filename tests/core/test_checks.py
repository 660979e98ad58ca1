"""System checks: each id fires on its own misconfiguration, and ``check`` fails."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_upsolve.checks import check_settings

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


def ids(**changes: object) -> set[str]:
    with override_settings(UPSOLVE={**GOOD, **changes}, CACHES=REDIS):
        return {message.id for message in check_settings()}


def test_good_settings_pass():
    assert ids() == set()


@pytest.mark.parametrize("name", ["API_KEY", "PROJECT_ID", "DEFAULT_ROLE_ID"])
def test_missing_required_setting(name):
    assert ids(**{name: ""}) == {"django_upsolve.E001"}


def test_missing_settings_dict():
    with override_settings(CACHES=REDIS):
        from django.conf import settings

        del settings.UPSOLVE
        assert {m.id for m in check_settings()} == {"django_upsolve.E001"}


def test_settings_not_a_dict():
    with override_settings(UPSOLVE=["API_KEY"], CACHES=REDIS):
        assert [m.id for m in check_settings()] == ["django_upsolve.E006"]


@pytest.mark.parametrize("key", ["sk_live_123", "Bearer up_admin_x", "admin_123"])
def test_key_without_prefix_warns(key):
    assert ids(API_KEY=key) == {"django_upsolve.W001"}


def test_embed_key_is_fine():
    assert ids(API_KEY="up_embed_abc") == set()


@pytest.mark.parametrize("name", ["PROJECT_ID", "DEFAULT_ROLE_ID"])
def test_non_uuid_ids(name):
    assert ids(**{name: "my-project"}) == {"django_upsolve.E002"}


@pytest.mark.parametrize("name", ["API_URL", "HUB_URL", "APPLICATION_HUB_URL"])
def test_plain_http_urls_are_refused_outside_debug(name):
    assert ids(**{name: "http://upsolve.example/x"}) == {"django_upsolve.E003"}


def test_a_single_timeout_is_both_connect_and_read():
    assert ids(TIMEOUT=3) == set()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/sandbox/api", "http://localhost/api", "http://[::1]:9/api"]
)
def test_plain_http_on_loopback_is_fine(url):
    assert ids(API_URL=url) == set()


def test_plain_http_is_fine_in_debug():
    with override_settings(DEBUG=True):
        assert ids(API_URL="http://upsolve.internal/api") == set()


def test_adapter_that_cannot_be_imported():
    assert ids(ADAPTER="nowhere.Adapter") == {"django_upsolve.E004"}


def test_adapter_of_the_wrong_type():
    assert ids(ADAPTER="django.contrib.auth.models.User") == {"django_upsolve.E004"}


@pytest.mark.parametrize(
    "change",
    [
        {"TOKEN_EXPIRATION": 0},
        {"REFRESH_MARGIN": -1},
        {"MAX_RETRIES": "3"},
        {"TIMEOUT": (1, 2, 3)},
        {"TIMEOUT": "fast"},
        {"BREAKER_THRESHOLD": True},
    ],
)
def test_bad_numbers(change):
    assert ids(**change) == {"django_upsolve.E005"}


def test_unknown_cache_alias():
    assert ids(CACHE_ALIAS="nowhere") == {"django_upsolve.E007"}


def test_margin_not_shorter_than_lifetime_warns():
    assert ids(TOKEN_EXPIRATION=300, REFRESH_MARGIN=300) == {"django_upsolve.W002"}


def test_local_memory_cache_warns_outside_debug():
    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(UPSOLVE=GOOD, CACHES=locmem):
        assert {m.id for m in check_settings()} == {"django_upsolve.W003"}
    with override_settings(UPSOLVE=GOOD, CACHES=locmem, DEBUG=True):
        assert check_settings() == []


@pytest.mark.django_db
def test_manage_py_check_fails_on_errors():
    with (
        override_settings(UPSOLVE={**GOOD, "PROJECT_ID": "nope"}),
        pytest.raises(SystemCheckError, match=r"django_upsolve\.E002"),
    ):
        call_command("check")


def test_messages_never_show_the_key():
    with override_settings(UPSOLVE={**GOOD, "API_KEY": "sk_secret_value"}, CACHES=REDIS):
        for message in check_settings():
            assert "sk_secret_value" not in f"{message.msg} {message.hint}"
