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


def sandbox_setting(name: str) -> Any:
    """One value of ``settings.UPSOLVE_SANDBOX``, or None when unset or empty."""
    values = getattr(settings, "UPSOLVE_SANDBOX", None) or {}
    if not isinstance(values, Mapping):
        raise ImproperlyConfigured("settings.UPSOLVE_SANDBOX must be a dict.")
    return values.get(name) or None
