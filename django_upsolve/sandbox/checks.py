"""System checks of ``UPSOLVE_SANDBOX`` (ids ``upsolve_sandbox.E0xx``).

- E001 ``DASHBOARDS`` is malformed (not a dict, a dashboard or panel without a title,
  an unknown kind or key, a bad format pattern)
- E002 a panel's data path does not import, or imports something that is not callable
- E003 (``check --deploy``) the sandbox is installed while ``DEBUG`` is False
- E004 ``UPSOLVE_SANDBOX["API_KEY"]`` is the production key (see :mod:`.keys`)
- E005 ``API_KEY``, ``ALLOW_PRODUCTION_KEY`` or a bound (``MAX_ORGANIZATIONS``,
  ``MAX_USERS``, ``MAX_PROPERTIES_BYTES``) has the wrong type or range
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .conf import LIMITS, sandbox_limit, sandbox_values
from .dashboards import SETTING, declared_dashboards
from .keys import is_production_key, own_key, production_key_allowed

OBJ = "settings.UPSOLVE_SANDBOX"
KEY_RULE = (
    "The sandbox accepts UPSOLVE_SANDBOX['API_KEY'], or else UPSOLVE['API_KEY'] while "
    "UPSOLVE['API_URL'] is the sandbox mounted in this site; it never accepts the key of the "
    "real Upsolve unless UPSOLVE_SANDBOX['ALLOW_PRODUCTION_KEY'] is True."
)


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


@checks.register(checks.Tags.security, deploy=True)
def check_not_deployed(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The sandbox stores what its callers send: it has no place in production."""
    if settings.DEBUG:
        return []
    return [
        checks.Error(
            "The Upsolve sandbox (django_upsolve.sandbox) is installed while DEBUG is False.",
            hint=(
                "Remove 'django_upsolve.sandbox' from INSTALLED_APPS (and its URLs) in "
                "production: it emulates Upsolve and writes what its callers send into this "
                f"site's database. {KEY_RULE}"
            ),
            obj=OBJ,
            id="upsolve_sandbox.E003",
        )
    ]


@checks.register()
def check_key_and_bounds(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The sandbox's own key, the production-key rule and the storage bounds."""
    try:
        values = sandbox_values()
    except ImproperlyConfigured:
        return []  # E001 says so.
    problems = []
    if not isinstance(values.get("ALLOW_PRODUCTION_KEY", False), bool):
        problems.append("UPSOLVE_SANDBOX['ALLOW_PRODUCTION_KEY'] must be True or False.")
    for name in LIMITS:
        try:
            sandbox_limit(name)
        except ImproperlyConfigured as err:
            problems.append(str(err))
    try:
        key = own_key()
    except ImproperlyConfigured as err:
        problems.append(str(err))
        key = None
    messages: list[checks.CheckMessage] = [
        checks.Error(problem, obj=OBJ, id="upsolve_sandbox.E005") for problem in problems
    ]
    try:
        production = key is not None and is_production_key(key)
    except ImproperlyConfigured:
        production = False  # UPSOLVE itself is malformed: django_upsolve's checks say so.
    if production and not production_key_allowed():
        messages.append(
            checks.Error(
                "UPSOLVE_SANDBOX['API_KEY'] is the production UPSOLVE['API_KEY'] "
                "(UPSOLVE['API_URL'] is not this site's sandbox): the sandbox refuses it.",
                hint=f"Give the sandbox a key of its own. {KEY_RULE}",
                obj=OBJ,
                id="upsolve_sandbox.E004",
            )
        )
    return messages
