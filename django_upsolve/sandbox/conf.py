"""``settings.UPSOLVE_SANDBOX``, read on every access (``override_settings`` works).

Kept apart from the emulator and its models, so that modules a project imports
(its dashboard data functions import :mod:`.dashboards`) load without the
sandbox app installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

#: What the sandbox stores at most, and the setting that changes each bound: organizations
#: and users (rows, all projects together) and the ``properties`` of one of them (bytes of
#: compact UTF-8 JSON).
LIMITS: dict[str, int] = {
    "MAX_ORGANIZATIONS": 10_000,
    "MAX_USERS": 10_000,
    "MAX_PROPERTIES_BYTES": 16 * 1024,
}


def sandbox_values() -> Mapping[str, Any]:
    """``settings.UPSOLVE_SANDBOX`` as written (empty when unset)."""
    values = getattr(settings, "UPSOLVE_SANDBOX", None) or {}
    if not isinstance(values, Mapping):
        raise ImproperlyConfigured("settings.UPSOLVE_SANDBOX must be a dict.")
    return values


def sandbox_setting(name: str) -> Any:
    """One value of ``settings.UPSOLVE_SANDBOX``, or None when unset or empty."""
    return sandbox_values().get(name) or None


def sandbox_limit(name: str) -> int:
    """One of the :data:`LIMITS`, as set in ``UPSOLVE_SANDBOX`` or its default."""
    value = sandbox_values().get(name, LIMITS[name])
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ImproperlyConfigured(
            f"UPSOLVE_SANDBOX[{name!r}] must be a whole number above 0 (default {LIMITS[name]})."
        )
    return value
