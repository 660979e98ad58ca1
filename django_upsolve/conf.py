"""The ``UPSOLVE`` settings dict, read at access time through one typed object.

Every value is looked up on each access, so ``override_settings(UPSOLVE=...)``
works in tests and nothing is ever written back into ``django.conf.settings``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .exceptions import UpsolveImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    "API_KEY": "",
    "PROJECT_ID": "",
    "DEFAULT_ROLE_ID": "",
    "API_URL": "https://api.upsolve.ai/v1/api/projects",
    "HUB_URL": "https://hub.upsolve.ai",
    "APPLICATION_HUB_URL": "https://ai-hub.upsolve.ai",
    "ADAPTER": "django_upsolve.adapter.UpsolveAdapter",
    "SYNC_ON_LOGIN": True,
    "TOKEN_EXPIRATION": 3600,
    "REFRESH_MARGIN": 300,
    "TIMEOUT": (1.5, 4.0),
    "MAX_RETRIES": 3,
    "DEADLINE": 20.0,
    "LOGIN_MAX_RETRIES": 1,
    "LOGIN_DEADLINE": 2.5,
    "MAX_RESPONSE_BYTES": 64 * 1024,
    "BREAKER_THRESHOLD": 5,
    "BREAKER_COOLDOWN": 30,
    "BREAKER_MAX_COOLDOWN": 300,
    "CACHE_ALIAS": "default",
}

REQUIRED = ("API_KEY", "PROJECT_ID", "DEFAULT_ROLE_ID")


class UpsolveSettings:
    """Typed accessors over ``settings.UPSOLVE`` with the defaults above."""

    @property
    def raw(self) -> dict[str, Any]:
        value = getattr(settings, "UPSOLVE", None) or {}
        if not isinstance(value, dict):
            raise UpsolveImproperlyConfigured("settings.UPSOLVE must be a dict.")
        return value

    def get(self, name: str) -> Any:
        """Return one setting, falling back to its default."""
        if name not in DEFAULTS:
            raise KeyError(f"Unknown django-upsolve setting {name!r}.")
        return self.raw.get(name, DEFAULTS[name])

    def require(self, name: str) -> str:
        """Return a required string setting or raise naming the key to add."""
        value = self.get(name)
        if not value:
            raise UpsolveImproperlyConfigured(
                f"django-upsolve needs settings.UPSOLVE[{name!r}]; add it to your settings."
            )
        return str(value)

    @property
    def API_KEY(self) -> str:
        return self.require("API_KEY")

    @property
    def PROJECT_ID(self) -> str:
        return self.require("PROJECT_ID")

    @property
    def DEFAULT_ROLE_ID(self) -> str:
        return self.require("DEFAULT_ROLE_ID")

    @property
    def API_URL(self) -> str:
        return str(self.get("API_URL")).rstrip("/")

    @property
    def HUB_URL(self) -> str:
        return str(self.get("HUB_URL")).rstrip("/")

    @property
    def APPLICATION_HUB_URL(self) -> str:
        return str(self.get("APPLICATION_HUB_URL")).rstrip("/")

    @property
    def ADAPTER(self) -> str:
        return str(self.get("ADAPTER"))

    @property
    def SYNC_ON_LOGIN(self) -> bool:
        return bool(self.get("SYNC_ON_LOGIN"))

    @property
    def TOKEN_EXPIRATION(self) -> int:
        return int(self.get("TOKEN_EXPIRATION"))

    @property
    def REFRESH_MARGIN(self) -> int:
        return int(self.get("REFRESH_MARGIN"))

    @property
    def TIMEOUT(self) -> tuple[float, float]:
        value = self.get("TIMEOUT")
        if isinstance(value, (int, float)):
            return float(value), float(value)
        connect, read = value
        return float(connect), float(read)

    @property
    def MAX_RETRIES(self) -> int:
        return int(self.get("MAX_RETRIES"))

    @property
    def DEADLINE(self) -> float:
        return float(self.get("DEADLINE"))

    @property
    def LOGIN_MAX_RETRIES(self) -> int:
        return int(self.get("LOGIN_MAX_RETRIES"))

    @property
    def LOGIN_DEADLINE(self) -> float:
        return float(self.get("LOGIN_DEADLINE"))

    @property
    def MAX_RESPONSE_BYTES(self) -> int:
        return int(self.get("MAX_RESPONSE_BYTES"))

    @property
    def BREAKER_THRESHOLD(self) -> int:
        return int(self.get("BREAKER_THRESHOLD"))

    @property
    def BREAKER_COOLDOWN(self) -> float:
        return float(self.get("BREAKER_COOLDOWN"))

    @property
    def BREAKER_MAX_COOLDOWN(self) -> float:
        return float(self.get("BREAKER_MAX_COOLDOWN"))

    @property
    def CACHE_ALIAS(self) -> str:
        return str(self.get("CACHE_ALIAS"))


upsolve_settings = UpsolveSettings()
