"""System checks of ``UPSOLVE_SANDBOX["DASHBOARDS"]`` (ids ``upsolve_sandbox.E0xx``).

- E001 the setting is malformed (not a dict, a dashboard or panel without a title,
  an unknown kind or key, a bad format pattern)
- E002 a panel's data path does not import, or imports something that is not callable
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .dashboards import SETTING, declared_dashboards

OBJ = "settings.UPSOLVE_SANDBOX"


@checks.register()
def check_dashboards(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Validate the declared sandbox dashboards and import their data functions."""
    try:
        dashboards = declared_dashboards()
    except ImproperlyConfigured as err:
        hint = f"See the docstring of django_upsolve.sandbox.dashboards for the {SETTING} format."
        return [checks.Error(str(err), hint=hint, obj=OBJ, id="upsolve_sandbox.E001")]
    messages: list[checks.CheckMessage] = []
    for dashboard in dashboards.values():
        for panel in dashboard.panels:
            try:
                panel.load()
            except ImproperlyConfigured as err:
                messages.append(
                    checks.Error(
                        f"Panel {panel.title!r} of sandbox dashboard {dashboard.id!r}: {err}",
                        hint="Point 'data' at a function that takes the token's properties.",
                        obj=OBJ,
                        id="upsolve_sandbox.E002",
                    )
                )
    return messages
