"""The ``UPSOLVE`` settings dict, read at access time through one typed object.

Every value is looked up on each access, so ``override_settings(UPSOLVE=...)``
works in tests and nothing is ever written back into ``django.conf.settings``.
Each accessor validates its value and raises :class:`SettingError` (an
``UpsolveImproperlyConfigured``) naming the key, so a value the system checks
reject never fails deeper down with an unrelated error. The checks call the same
accessors: what they report is exactly what would fail at run time.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from django.conf import settings

from .exceptions import UpsolveImproperlyConfigured

HOUR = 3600
DAY = 24 * HOUR
#: Upsolve token lifetimes are hours, at most days: no duration setting needs more than a week.
MAX_LIFETIME = 7 * DAY

DEFAULTS: dict[str, Any] = {
    "API_KEY": "",
    "PROJECT_ID": "",
    "DEFAULT_ROLE_ID": "",
    "API_URL": "https://api.upsolve.ai/v1/api/projects",
    "HUB_URL": "https://hub.upsolve.ai",
    "APPLICATION_HUB_URL": "https://ai-hub.upsolve.ai",
    "ADAPTER": "django_upsolve.adapter.UpsolveAdapter",
    "SYNC_ON_LOGIN": True,
    "TASK_BACKEND": "default",
    "ACTIVE_WINDOW": HOUR,
    "LOGIN_MEMBERSHIPS": 1,
    "TOKEN_EXPIRATION": HOUR,
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
    "TEST_MODE": False,
}

REQUIRED = ("API_KEY", "PROJECT_ID", "DEFAULT_ROLE_ID")
#: What the required settings read as in test mode when left empty: nothing is sent anywhere
#: then, so a project's CI needs no Upsolve credentials.
TEST_MODE_PLACEHOLDERS = {
    "API_KEY": "up_admin_test_mode_placeholder",
    "PROJECT_ID": "00000000-0000-4000-8000-000000000001",
    "DEFAULT_ROLE_ID": "00000000-0000-4000-8000-000000000002",
}
URLS = ("API_URL", "HUB_URL", "APPLICATION_HUB_URL")

#: What is wrong with a value; the system checks give each kind its own id.
Problem = Literal[
    "missing", "number", "url", "key_charset", "key_whitespace", "choice", "text", "adapter"
]
SyncMode = Literal["inline", "background", "off"]


class SettingError(UpsolveImproperlyConfigured):
    """``UPSOLVE[name]`` is missing or wrong. The message never shows the API key."""

    def __init__(self, name: str, problem: Problem, detail: str, hint: str) -> None:
        self.name = name
        self.problem = problem
        self.message = f"UPSOLVE[{name!r}] {detail}"
        self.hint = hint
        super().__init__(f"{self.message} {hint}")


@dataclass(frozen=True)
class Bounds:
    """The numbers a setting accepts: whole or not, whether 0 is allowed, and the largest."""

    whole: bool
    zero: bool
    maximum: int
    unit: str

    def accepts(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if isinstance(value, float) and (self.whole or not math.isfinite(value)):
            return False
        return (value >= 0 if self.zero else value > 0) and value <= self.maximum

    def describe(self) -> str:
        if self.whole:
            return f"a whole number of {self.unit} from {0 if self.zero else 1} to {self.maximum}"
        return f"a number of {self.unit} above 0 and at most {self.maximum}"


NUMBERS: dict[str, Bounds] = {
    "ACTIVE_WINDOW": Bounds(whole=True, zero=False, maximum=MAX_LIFETIME, unit="seconds"),
    "LOGIN_MEMBERSHIPS": Bounds(whole=True, zero=False, maximum=100, unit="memberships"),
    "TOKEN_EXPIRATION": Bounds(whole=True, zero=False, maximum=MAX_LIFETIME, unit="seconds"),
    "REFRESH_MARGIN": Bounds(whole=True, zero=True, maximum=MAX_LIFETIME, unit="seconds"),
    "MAX_RETRIES": Bounds(whole=True, zero=True, maximum=10, unit="retries"),
    "DEADLINE": Bounds(whole=False, zero=False, maximum=HOUR, unit="seconds"),
    "LOGIN_MAX_RETRIES": Bounds(whole=True, zero=True, maximum=10, unit="retries"),
    "LOGIN_DEADLINE": Bounds(whole=False, zero=False, maximum=HOUR, unit="seconds"),
    "MAX_RESPONSE_BYTES": Bounds(whole=True, zero=False, maximum=16 * 1024 * 1024, unit="bytes"),
    "BREAKER_THRESHOLD": Bounds(whole=True, zero=False, maximum=1000, unit="failures"),
    "BREAKER_COOLDOWN": Bounds(whole=False, zero=False, maximum=DAY, unit="seconds"),
    "BREAKER_MAX_COOLDOWN": Bounds(whole=False, zero=False, maximum=DAY, unit="seconds"),
}
TIMEOUT_BOUNDS = Bounds(whole=False, zero=False, maximum=HOUR, unit="seconds")


def shown(value: object) -> str:
    """``repr(value)`` cut short, for messages about values that are never secret."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def key_problem(key: str) -> tuple[Problem, str] | None:
    """Why ``key`` cannot travel in an ``Authorization`` header, or ``None``.

    Only the offending character and its position are named, never the key.
    """
    for position, char in enumerate(key, 1):
        if ord(char) > 0xFF:
            return "key_charset", (
                f"contains {codepoint(char)} at character {position}: an HTTP header carries "
                "only Latin-1 characters."
            )
    for position, char in enumerate(key, 1):
        if char.isspace() or unicodedata.category(char) in {"Cc", "Cf"}:
            return "key_whitespace", (
                f"contains {codepoint(char)} at character {position}: whitespace or a "
                "control character."
            )
    return None


def url_problem(value: object) -> str | None:
    """Why ``value`` is not an http(s) base URL paths can be appended to, or ``None``."""
    if not isinstance(value, str) or not value:
        return "must be a URL string."
    return _url_text_problem(value)


@functools.lru_cache(maxsize=64)
def _url_text_problem(value: str) -> str | None:
    """:func:`url_problem` of a string; remembered, as every embed reads the hub URLs."""
    if any(char.isspace() or not char.isprintable() for char in value):
        return "contains whitespace or control characters."
    try:
        parts = urlsplit(value)
        port_ok = parts.port != 0  # .port raises ValueError when malformed or out of range
    except ValueError:
        port_ok = False
    if not port_ok:
        return "is not a valid URL (check the host and port)."
    if parts.scheme not in ("http", "https"):
        return "must start with https://."
    if not parts.hostname:
        return "has no host."
    if "?" in value or "#" in value:
        return "must not have a query string or fragment: paths are appended to it."
    return None


class UpsolveSettings:
    """Typed, validated accessors over ``settings.UPSOLVE`` with the defaults above."""

    @property
    def raw(self) -> dict[str, Any]:
        value = getattr(settings, "UPSOLVE", None)
        if value is None:  # not set: every setting has its default
            return {}
        if not isinstance(value, dict):
            raise UpsolveImproperlyConfigured("settings.UPSOLVE must be a dict.")
        return value

    def get(self, name: str) -> Any:
        """Return one setting as written (unvalidated), falling back to its default."""
        if name not in DEFAULTS:
            raise KeyError(f"Unknown django-upsolve setting {name!r}.")
        return self.raw.get(name, DEFAULTS[name])

    def require(self, name: str) -> str:
        """Return a required string setting or raise naming the key to add (in test mode, a
        placeholder when it is left empty)."""
        value = self.get(name)
        if not value and self.get("TEST_MODE") is True and name in TEST_MODE_PLACEHOLDERS:
            return TEST_MODE_PLACEHOLDERS[name]
        if not value:
            raise SettingError(
                name, "missing", "is not set.", f"Add {name!r} to the UPSOLVE settings dict."
            )
        return str(value)

    def _text(self, name: str, what: str, problem: Problem = "text") -> str:
        value = self.get(name)
        if not isinstance(value, str) or not value:
            raise SettingError(
                name,
                problem,
                f"must be a non-empty string: {what}.",
                f"The default is {DEFAULTS[name]!r}.",
            )
        return value

    def _number(self, name: str) -> int | float:
        value = self.get(name)
        bounds = NUMBERS[name]
        if not bounds.accepts(value):
            raise SettingError(
                name,
                "number",
                f"must be {bounds.describe()}; got {shown(value)}.",
                f"The default is {DEFAULTS[name]!r}.",
            )
        number: int | float = value
        return number

    def _url(self, name: str) -> str:
        problem = url_problem(self.get(name))
        if problem:
            raise SettingError(
                name, "url", problem, "Use a base URL such as https://host/path, nothing after."
            )
        return str(self.get(name)).rstrip("/")

    @property
    def API_KEY(self) -> str:
        """The key, as it can be sent: Latin-1, no whitespace or control characters."""
        value = self.get("API_KEY")
        if value and not isinstance(value, str):
            raise SettingError("API_KEY", "text", "must be a string.", "Copy the key as text.")
        key = self.require("API_KEY")
        problem = key_problem(key)
        if problem:
            raise SettingError(
                "API_KEY",
                problem[0],
                problem[1],
                "Copy the key again from the Upsolve hub: something came with the paste.",
            )
        return key

    @property
    def PROJECT_ID(self) -> str:
        return self.require("PROJECT_ID")

    @property
    def DEFAULT_ROLE_ID(self) -> str:
        return self.require("DEFAULT_ROLE_ID")

    @property
    def API_URL(self) -> str:
        return self._url("API_URL")

    @property
    def HUB_URL(self) -> str:
        return self._url("HUB_URL")

    @property
    def APPLICATION_HUB_URL(self) -> str:
        return self._url("APPLICATION_HUB_URL")

    @property
    def ADAPTER(self) -> str:
        return self._text("ADAPTER", "the dotted path of an UpsolveAdapter subclass", "adapter")

    @property
    def SYNC_MODE(self) -> SyncMode:
        """How a login syncs: ``"inline"`` (``True``), ``"background"`` (a task) or ``"off"``."""
        value = self.get("SYNC_ON_LOGIN")
        if value is True:
            return "inline"
        if value is False:
            return "off"
        if isinstance(value, str) and value == "background":
            return "background"
        raise SettingError(
            "SYNC_ON_LOGIN",
            "choice",
            f"must be True, False or 'background'; got {shown(value)}.",
            "Use a boolean, not a string, or 'background' to sync in a task.",
        )

    @property
    def SYNC_ON_LOGIN(self) -> bool:
        """Whether a login syncs at all (inline or in the background)."""
        return self.SYNC_MODE != "off"

    @property
    def TASK_BACKEND(self) -> str:
        """The ``django.tasks`` backend alias the background sync is enqueued on."""
        return self._text("TASK_BACKEND", "a TASKS backend alias")

    @property
    def ACTIVE_WINDOW(self) -> int:
        """Seconds after a login or a page using the token during which a user counts as active."""
        return int(self._number("ACTIVE_WINDOW"))

    @property
    def LOGIN_MEMBERSHIPS(self) -> int:
        """How many of a user's memberships a login syncs: the active one, then the next."""
        return int(self._number("LOGIN_MEMBERSHIPS"))

    @property
    def TOKEN_EXPIRATION(self) -> int:
        return int(self._number("TOKEN_EXPIRATION"))

    @property
    def REFRESH_MARGIN(self) -> int:
        return int(self._number("REFRESH_MARGIN"))

    @property
    def TIMEOUT(self) -> tuple[float, float]:
        value = self.get("TIMEOUT")
        pair = isinstance(value, tuple | list)
        parts = tuple(value) if pair else (value, value)
        if len(parts) != 2 or not all(TIMEOUT_BOUNDS.accepts(part) for part in parts):
            raise SettingError(
                "TIMEOUT",
                "number",
                "must be seconds or a (connect, read) pair of seconds, each above 0 and at "
                f"most {TIMEOUT_BOUNDS.maximum}; got {shown(value)}.",
                "For example (1.5, 4.0).",
            )
        return float(parts[0]), float(parts[1])

    @property
    def MAX_RETRIES(self) -> int:
        return int(self._number("MAX_RETRIES"))

    @property
    def DEADLINE(self) -> float:
        return float(self._number("DEADLINE"))

    @property
    def LOGIN_MAX_RETRIES(self) -> int:
        return int(self._number("LOGIN_MAX_RETRIES"))

    @property
    def LOGIN_DEADLINE(self) -> float:
        return float(self._number("LOGIN_DEADLINE"))

    @property
    def MAX_RESPONSE_BYTES(self) -> int:
        return int(self._number("MAX_RESPONSE_BYTES"))

    @property
    def BREAKER_THRESHOLD(self) -> int:
        return int(self._number("BREAKER_THRESHOLD"))

    @property
    def BREAKER_COOLDOWN(self) -> float:
        return float(self._number("BREAKER_COOLDOWN"))

    @property
    def BREAKER_MAX_COOLDOWN(self) -> float:
        return float(self._number("BREAKER_MAX_COOLDOWN"))

    @property
    def CACHE_ALIAS(self) -> str:
        return self._text("CACHE_ALIAS", "a CACHES alias")

    @property
    def TEST_MODE(self) -> bool:
        """Whether the three calls are answered in-process and recorded, never sent
        (:mod:`django_upsolve.testing`): for the test suites of projects."""
        value = self.get("TEST_MODE")
        if not isinstance(value, bool):
            raise SettingError(
                "TEST_MODE",
                "choice",
                f"must be True or False; got {shown(value)}.",
                "Use a boolean, not a string.",
            )
        return value


upsolve_settings = UpsolveSettings()
