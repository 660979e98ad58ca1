"""System checks for the ``UPSOLVE`` settings (ids ``django_upsolve.E0xx`` / ``W0xx``).

- E001 a required setting (API_KEY, PROJECT_ID, DEFAULT_ROLE_ID) is missing
- E002 PROJECT_ID or DEFAULT_ROLE_ID is not a UUID
- E003 API_URL, HUB_URL or APPLICATION_HUB_URL is not https (allowed in DEBUG and for
  loopback hosts)
- E004 ADAPTER cannot be imported or is not an UpsolveAdapter
- E005 a number setting is out of range (negative, or 0 where it must be positive), or
  TIMEOUT is malformed
- E006 settings.UPSOLVE is not a dict
- E007 CACHE_ALIAS names no cache in settings.CACHES
- W001 API_KEY has neither the ``up_admin_`` nor the ``up_embed_`` prefix
- W002 REFRESH_MARGIN is not shorter than TOKEN_EXPIRATION
- W003 the cache used for locks and the breaker is per-process (local memory)
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .conf import REQUIRED, upsolve_settings

KEY_PREFIXES = ("up_admin_", "up_embed_")
POSITIVE_NUMBERS = (
    "TOKEN_EXPIRATION",
    "LOGIN_DEADLINE",
    "DEADLINE",
    "MAX_RESPONSE_BYTES",
    "BREAKER_THRESHOLD",
    "BREAKER_COOLDOWN",
    "BREAKER_MAX_COOLDOWN",
)
NON_NEGATIVE_NUMBERS = ("REFRESH_MARGIN", "MAX_RETRIES", "LOGIN_MAX_RETRIES")
LOCAL_MEMORY_BACKENDS = ("django.core.cache.backends.locmem.LocMemCache",)


def _error(msg: str, hint: str, id: str) -> checks.Error:
    return checks.Error(msg, hint=hint, obj="settings.UPSOLVE", id=f"django_upsolve.{id}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@checks.register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Validate the ``UPSOLVE`` settings dict."""
    if not isinstance(getattr(settings, "UPSOLVE", None) or {}, dict):
        return [_error("settings.UPSOLVE is not a dict.", "Set UPSOLVE = {...}.", "E006")]
    messages: list[checks.CheckMessage] = []
    for name in REQUIRED:
        if not upsolve_settings.get(name):
            messages.append(
                _error(
                    f"UPSOLVE[{name!r}] is not set.",
                    f"Add {name!r} to the UPSOLVE settings dict.",
                    "E001",
                )
            )
    key = str(upsolve_settings.get("API_KEY") or "")
    if key and not key.startswith(KEY_PREFIXES):
        messages.append(
            checks.Warning(
                "UPSOLVE['API_KEY'] starts with neither 'up_admin_' nor 'up_embed_'.",
                hint="Copy the whole key from the Upsolve hub; this looks like a paste error.",
                obj="settings.UPSOLVE",
                id="django_upsolve.W001",
            )
        )
    for name in ("PROJECT_ID", "DEFAULT_ROLE_ID"):
        value = upsolve_settings.get(name)
        if value:
            try:
                uuid.UUID(str(value))
            except ValueError:
                messages.append(
                    _error(
                        f"UPSOLVE[{name!r}] is not a UUID.",
                        "Copy the id from the Upsolve hub.",
                        "E002",
                    )
                )
    for name, why in (
        ("API_URL", "The API key travels in every request"),
        ("HUB_URL", "Tokens travel in every dashboard URL"),
        ("APPLICATION_HUB_URL", "Tokens travel in every application URL"),
    ):
        url = urlsplit(str(upsolve_settings.get(name)))
        if url.scheme != "https" and not (
            settings.DEBUG or (url.scheme == "http" and _is_loopback(url.hostname or ""))
        ):
            messages.append(
                _error(
                    f"UPSOLVE[{name!r}] is not an https URL.",
                    f"{why}: use https (http only for loopback hosts or in DEBUG).",
                    "E003",
                )
            )
    messages.extend(_check_adapter())
    messages.extend(_check_numbers())
    messages.extend(_check_cache())
    return messages


def _check_adapter() -> list[checks.CheckMessage]:
    from .adapter import get_adapter

    try:
        get_adapter()
    except ImproperlyConfigured as err:
        return [_error(str(err), "Point UPSOLVE['ADAPTER'] at an UpsolveAdapter subclass.", "E004")]
    return []


def _check_numbers() -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for name in POSITIVE_NUMBERS + NON_NEGATIVE_NUMBERS:
        value = upsolve_settings.get(name)
        positive = name in POSITIVE_NUMBERS
        if not _is_number(value) or value < 0 or (positive and value == 0):
            kind = "a positive number" if positive else "a number of 0 or more"
            messages.append(_error(f"UPSOLVE[{name!r}] must be {kind}.", "Fix the value.", "E005"))
    timeout = upsolve_settings.get("TIMEOUT")
    pair = isinstance(timeout, (tuple, list))
    parts = tuple(timeout) if pair else (timeout,)
    if (pair and len(parts) != 2) or not all(_is_number(p) and p > 0 for p in parts):
        messages.append(
            _error(
                "UPSOLVE['TIMEOUT'] must be seconds or a (connect, read) pair of seconds.",
                "For example (1.5, 4.0).",
                "E005",
            )
        )
    if not messages and upsolve_settings.REFRESH_MARGIN >= upsolve_settings.TOKEN_EXPIRATION:
        messages.append(
            checks.Warning(
                "UPSOLVE['REFRESH_MARGIN'] is not shorter than TOKEN_EXPIRATION.",
                hint="Every token would count as stale at once; lower the margin.",
                obj="settings.UPSOLVE",
                id="django_upsolve.W002",
            )
        )
    return messages


def _check_cache() -> list[checks.CheckMessage]:
    alias = upsolve_settings.CACHE_ALIAS
    if alias not in settings.CACHES:
        return [
            _error(
                f"UPSOLVE['CACHE_ALIAS'] = {alias!r} is not in settings.CACHES.",
                "Name one of your CACHES (it holds the circuit breaker and the locks).",
                "E007",
            )
        ]
    backend = settings.CACHES[alias].get("BACKEND", "")
    if backend in LOCAL_MEMORY_BACKENDS and not settings.DEBUG:
        return [
            checks.Warning(
                f"The {alias!r} cache is per-process local memory.",
                hint=(
                    "The circuit breaker and the registration locks live in this cache. With "
                    "several worker processes, set UPSOLVE['CACHE_ALIAS'] to a shared cache "
                    "(e.g. django.core.cache.backends.redis.RedisCache)."
                ),
                obj="settings.CACHES",
                id="django_upsolve.W003",
            )
        ]
    return []
