"""Which API key the sandbox accepts: never the production key, unless told to.

The production key is ``UPSOLVE["API_KEY"]`` while ``UPSOLVE["API_URL"]`` points anywhere but
the sandbox mounted in this site: that key opens the real Upsolve, and whoever holds it must
not be able to write into this site's database through the sandbox.

- ``UPSOLVE_SANDBOX["API_KEY"]``, when set, is the only key the sandbox accepts.
- Without it, the sandbox accepts ``UPSOLVE["API_KEY"]`` only when that is not the production
  key: ``UPSOLVE["API_URL"]`` is the sandbox of this site (its path resolves to the sandbox's
  API view, as in the documented set-up), or the call comes from the in-process sandbox of a
  test suite (``sandbox_responses``, the ``upsolve_sandbox`` fixture), which nothing outside
  the process can reach. Otherwise it accepts no key: every call is a 401.
- An ``UPSOLVE_SANDBOX["API_KEY"]`` that repeats the production key is refused too (system
  check ``upsolve_sandbox.E004``; every call is a 401).
- ``UPSOLVE_SANDBOX["ALLOW_PRODUCTION_KEY"] = True`` lifts the rule, for a sandbox reached
  under a URL this site cannot resolve (another host, a proxy rewriting paths).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.urls import get_script_prefix, resolve

from ..conf import upsolve_settings
from .conf import sandbox_setting, sandbox_values

#: The application namespace and URL name of the sandbox's API view (``urls.py``).
APP_NAME, API_URL_NAME = "upsolve_sandbox", "api"


def own_key() -> str | None:
    """``UPSOLVE_SANDBOX["API_KEY"]``, or None when unset."""
    key = sandbox_setting("API_KEY")
    if key is not None and not isinstance(key, str):
        raise ImproperlyConfigured("UPSOLVE_SANDBOX['API_KEY'] must be a string.")
    return key


def production_key_allowed() -> bool:
    """Whether ``UPSOLVE_SANDBOX["ALLOW_PRODUCTION_KEY"]`` is True (nothing else counts)."""
    return sandbox_values().get("ALLOW_PRODUCTION_KEY") is True


def points_at_sandbox(url: str) -> bool:
    """Whether ``url``, as an ``UPSOLVE["API_URL"]``, is the sandbox mounted in this site."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    prefix = get_script_prefix()
    if prefix != "/" and path.startswith(prefix):
        path = path[len(prefix) - 1 :]
    try:
        match = resolve(path.rstrip("/") + "/register-user")
    except Exception:  # No match, or a URLconf that fails (Django's own checks report it).
        return False
    return APP_NAME in match.app_names and match.url_name == API_URL_NAME


def is_production_key(key: str, *, in_process: bool = False) -> bool:
    """Whether ``key`` is ``UPSOLVE["API_KEY"]`` while ``UPSOLVE["API_URL"]`` is not this
    sandbox (never for the in-process sandbox of tests)."""
    if in_process or not key or key != upsolve_settings.get("API_KEY"):
        return False
    return not points_at_sandbox(str(upsolve_settings.get("API_URL")))


def accepted_key(*, in_process: bool = False) -> str | None:
    """The key the sandbox accepts now, or None when it accepts none (see the module)."""
    key = own_key() or upsolve_settings.get("API_KEY")
    if not isinstance(key, str) or not key:
        return None
    if is_production_key(key, in_process=in_process) and not production_key_allowed():
        return None
    return key
