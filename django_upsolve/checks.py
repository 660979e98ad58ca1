"""System checks for the ``UPSOLVE`` settings (ids ``django_upsolve.E0xx`` / ``W0xx``).

- E001 a required setting (API_KEY, PROJECT_ID, DEFAULT_ROLE_ID) is missing; only
  ``check --deploy`` reports it, so that a CI without credentials can still migrate and test
- E002 PROJECT_ID or DEFAULT_ROLE_ID is not a UUID
- E003 API_URL, HUB_URL or APPLICATION_HUB_URL uses http (allowed in DEBUG and for
  loopback hosts)
- E004 ADAPTER cannot be imported or is not an UpsolveAdapter subclass
- E005 a number setting has the wrong type, is not finite or is out of range, or
  TIMEOUT is malformed
- E006 settings.UPSOLVE is not a dict
- E007 CACHE_ALIAS names no cache in settings.CACHES
- E008 a key of UPSOLVE is not a setting (with a "did you mean")
- E009 API_KEY holds a character outside Latin-1 (an HTTP header cannot carry it)
- E010 API_KEY holds whitespace or a control character
- E011 a URL setting is not an http(s) URL with a host, or has a query string or fragment
- E012 SYNC_ON_LOGIN is not True, False or "background", or TEST_MODE is not a bool
- E013 API_KEY is not a string, or TASK_BACKEND or CACHE_ALIAS is not a non-empty string
- E014 creating the ADAPTER raises
- E018 TEST_MODE is on (``check --deploy`` only): no user would ever reach Upsolve
- W001 API_KEY has neither the ``up_admin_`` nor the ``up_embed_`` prefix
- W002 REFRESH_MARGIN is not shorter than TOKEN_EXPIRATION
- W003 the cache used for locks and the breaker is per-process (local memory), outside
  DEBUG and test mode
- W006 every missing setting in one warning, on every run (``--deploy`` adds E001 for them)

:func:`check_settings` reports every problem, E001 included (``upsolve_status`` shows
them all); Django runs it through :func:`check_development` and :func:`check_deployment`.
Each value is validated by its accessor in :mod:`django_upsolve.conf`, so a value
that passes here never fails at run time for its type or shape. The check never
raises, whatever the settings hold.
"""

from __future__ import annotations

import difflib
import ipaddress
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from .conf import DEFAULTS, REQUIRED, URLS, Problem, SettingError, shown, upsolve_settings
from .exceptions import UpsolveImproperlyConfigured
from .redaction import describe

KEY_PREFIXES = ("up_admin_", "up_embed_")
LOCAL_MEMORY_BACKENDS = ("django.core.cache.backends.locmem.LocMemCache",)
IDS: dict[Problem, str] = {
    "missing": "E001",
    "adapter": "E004",
    "number": "E005",
    "key_charset": "E009",
    "key_whitespace": "E010",
    "url": "E011",
    "choice": "E012",
    "text": "E013",
}
MISSING = f"django_upsolve.{IDS['missing']}"
ADAPTER_HINT = "Point UPSOLVE['ADAPTER'] at an UpsolveAdapter subclass."
URL_REASONS = {
    "API_URL": "The API key travels in every request",
    "HUB_URL": "Tokens travel in every dashboard URL",
    "APPLICATION_HUB_URL": "Tokens travel in every application URL",
}


def _error(msg: str, hint: str, id: str) -> checks.Error:
    return checks.Error(msg, hint=hint, obj="settings.UPSOLVE", id=f"django_upsolve.{id}")


def _warning(msg: str, hint: str, id: str, obj: str = "settings.UPSOLVE") -> checks.Warning:
    return checks.Warning(msg, hint=hint, obj=obj, id=f"django_upsolve.{id}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@checks.register()
def check_development(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every problem of :func:`check_settings`, but missing credentials only warn (W006).

    These checks run before every management command: an error would stop ``migrate``
    and ``test`` in a CI that has no Upsolve credentials.
    """
    found = check_settings()
    kept = [message for message in found if message.id != MISSING]
    if len(kept) < len(found):
        kept.append(_missing_warning())
    return kept


@checks.register(deploy=True)
def check_deployment(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Missing credentials (E001) block a deployment: ``check --deploy`` fails on them."""
    return [message for message in check_settings() if message.id == MISSING]


def _missing_warning() -> checks.CheckMessage:
    names = [name for name in REQUIRED if not upsolve_settings.get(name)]
    listed = ", ".join(f"UPSOLVE[{name!r}]" for name in names)
    return _warning(
        f"{listed} {'is' if len(names) == 1 else 'are'} not set: logins cannot reach Upsolve.",
        "Fine in development and in a CI without credentials; check --deploy fails "
        "until they are set.",
        "W006",
    )


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Validate the ``UPSOLVE`` settings dict: every problem, missing credentials as E001."""
    try:
        raw = upsolve_settings.raw
    except UpsolveImproperlyConfigured:
        return [_error("settings.UPSOLVE is not a dict.", "Set UPSOLVE = {...}.", "E006")]
    messages = _check_unknown_keys(raw)
    invalid: set[str] = set()
    for name in DEFAULTS:
        try:
            getattr(upsolve_settings, name)
        except SettingError as err:
            invalid.add(name)
            messages.append(_error(err.message, err.hint, IDS[err.problem]))
    valid = set(DEFAULTS) - invalid
    if "API_KEY" in valid and not upsolve_settings.API_KEY.startswith(KEY_PREFIXES):
        messages.append(
            _warning(
                "UPSOLVE['API_KEY'] starts with neither 'up_admin_' nor 'up_embed_'.",
                "Copy the whole key from the Upsolve hub; this looks like a paste error.",
                "W001",
            )
        )
    messages.extend(_check_ids(valid))
    messages.extend(_check_https(valid))
    if "ADAPTER" in valid:
        messages.extend(_check_adapter())
    if {"REFRESH_MARGIN", "TOKEN_EXPIRATION"} <= valid and (
        upsolve_settings.REFRESH_MARGIN >= upsolve_settings.TOKEN_EXPIRATION
    ):
        messages.append(
            _warning(
                "UPSOLVE['REFRESH_MARGIN'] is not shorter than TOKEN_EXPIRATION.",
                "Every token would count as stale at once; lower the margin.",
                "W002",
            )
        )
    if "CACHE_ALIAS" in valid:
        messages.extend(_check_cache())
    return messages


def _check_unknown_keys(raw: dict[Any, Any]) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for name in raw:
        if name in DEFAULTS:
            continue
        close = difflib.get_close_matches(str(name).upper(), list(DEFAULTS), n=1)
        hint = (
            f"Did you mean {close[0]!r}?"
            if close
            else "Remove it; the django-upsolve README lists every setting."
        )
        messages.append(
            _error(f"UPSOLVE[{shown(name)}] is not a django-upsolve setting.", hint, "E008")
        )
    return messages


def _check_ids(valid: set[str]) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for name in ("PROJECT_ID", "DEFAULT_ROLE_ID"):
        if name not in valid:
            continue
        try:
            uuid.UUID(upsolve_settings.require(name))
        except ValueError:
            messages.append(
                _error(
                    f"UPSOLVE[{name!r}] is not a UUID.", "Copy the id from the Upsolve hub.", "E002"
                )
            )
    return messages


def _check_https(valid: set[str]) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for name in URLS:
        if name not in valid:
            continue
        url = urlsplit(getattr(upsolve_settings, name))
        if url.scheme == "http" and not (settings.DEBUG or _is_loopback(url.hostname or "")):
            messages.append(
                _error(
                    f"UPSOLVE[{name!r}] is not an https URL.",
                    f"{URL_REASONS[name]}: use https (http only for loopback hosts or in DEBUG).",
                    "E003",
                )
            )
    return messages


def _check_adapter() -> list[checks.CheckMessage]:
    """Import and create the adapter as every sync does, reporting whatever goes wrong."""
    from .adapter import get_adapter_class

    path = upsolve_settings.ADAPTER
    try:
        adapter_class = get_adapter_class()
    except UpsolveImproperlyConfigured as err:
        return [_error(str(err), ADAPTER_HINT, "E004")]
    try:
        adapter_class()
    except Exception as err:  # The adapter's own __init__ may raise anything.
        key = upsolve_settings.get("API_KEY")
        detail = describe(err, key if isinstance(key, str) else "")
        return [
            _error(
                f"Creating UPSOLVE['ADAPTER'] = {path!r} raised {detail}",
                "An adapter is created for every sync: its __init__ must not fail.",
                "E014",
            )
        ]
    return []


def _test_mode() -> bool:
    try:
        return upsolve_settings.TEST_MODE
    except UpsolveImproperlyConfigured:
        return False  # Reported by check_settings.


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
    if backend in LOCAL_MEMORY_BACKENDS and not (settings.DEBUG or _test_mode()):
        return [
            _warning(
                f"The {alias!r} cache is per-process local memory.",
                "The circuit breaker and the registration locks live in this cache. With "
                "several worker processes, set UPSOLVE['CACHE_ALIAS'] to a shared cache "
                "(e.g. django.core.cache.backends.redis.RedisCache).",
                "W003",
                obj="settings.CACHES",
            )
        ]
    return []


@checks.register()
def check_background(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Background mode needs Django's tasks framework and a backend whose worker runs tasks."""
    try:
        if upsolve_settings.SYNC_MODE != "background":
            return []
        backend_alias = upsolve_settings.TASK_BACKEND
    except UpsolveImproperlyConfigured:
        return []  # Reported by check_settings.
    try:
        from .taskframework import DummyBackend, ImmediateBackend, task_backends
    except ImportError:
        return [
            _error(
                "UPSOLVE['SYNC_ON_LOGIN'] = 'background' needs Django's tasks framework.",
                "Use Django 6.0 or newer, or install the django-tasks backport (the "
                "package's 'tasks' extra, or: pip install django-tasks).",
                "E015",
            )
        ]
    try:
        backend = task_backends[backend_alias]
    except Exception as err:
        return [
            _error(
                f"UPSOLVE['TASK_BACKEND'] = {backend_alias!r} is not a usable task backend "
                f"({describe(err)}).",
                "Name a backend of settings.TASKS, e.g. django_tasks_db.DatabaseBackend.",
                "E016",
            )
        ]
    alias, name = backend_alias, type(backend).__name__
    if isinstance(backend, DummyBackend):
        return [
            _error(
                f"The task backend {alias!r} ({name}) never runs tasks: no user would get a token.",
                "Use a backend with a worker, e.g. django_tasks_db.DatabaseBackend.",
                "E017",
            )
        ]
    messages: list[checks.CheckMessage] = []
    if isinstance(backend, ImmediateBackend):
        messages.append(
            _warning(
                f"The task backend {alias!r} runs tasks inside the request: logins wait on "
                "Upsolve as in inline mode.",
                "Use a backend with a worker (django_tasks_db.DatabaseBackend, Celery, RQ).",
                "W004",
            )
        )
    elif not getattr(backend, "supports_defer", False):
        messages.append(
            _warning(
                f"The task backend {alias!r} cannot run tasks later (run_after): the proactive "
                "token refresh cannot schedule itself.",
                "Run `manage.py upsolve_refresh` from cron every few minutes.",
                "W005",
            )
        )
    return messages


@checks.register(checks.Tags.security, deploy=True)
def check_test_mode(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Test mode answers every call in-process: deployed, no user would get a real token."""
    if not _test_mode():
        return []
    return [
        _error(
            "UPSOLVE['TEST_MODE'] is on: calls to Upsolve are recorded, never sent, and every "
            "token is fake.",
            "Set TEST_MODE only in the settings your tests run with.",
            "E018",
        )
    ]
