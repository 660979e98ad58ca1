"""The ``UpsolveError`` tree: typed, carrying the HTTP status and a short, secret-free excerpt.

Network failures are also instances of the matching ``requests`` exception, so
code written against ``requests`` keeps catching them.
"""

from __future__ import annotations

import re
import unicodedata

import requests
from django.core.exceptions import ImproperlyConfigured

EXCERPT_LENGTH = 200

_SECRET_PATTERNS = (
    # Upsolve API keys, whatever follows the prefix.
    re.compile(r"up_(?:admin|embed)_[A-Za-z0-9_\-]*"),
    # Anything shaped like a JWT (three base64url segments, the first a JSON object).
    re.compile(r"eyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"),
    # Bearer credentials of any form.
    re.compile(r"(?i)bearer\s+\S+"),
)


def redact(text: str, *secrets: str) -> str:
    """Remove API keys, bearer credentials, JWTs and the given secrets from ``text``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("[redacted]", text)
    return text


def one_line(text: str) -> str:
    """``text`` on one line, without control characters (PostgreSQL cannot store a NUL)."""
    return " ".join(
        "".join(" " if unicodedata.category(ch) in {"Cc", "Cs"} else ch for ch in text).split()
    )


def excerpt(body: bytes | str, *secrets: str) -> str:
    """A one-line, redacted excerpt of at most ``EXCERPT_LENGTH`` characters of a body."""
    if isinstance(body, bytes):
        body = body[: EXCERPT_LENGTH * 4].decode("utf-8", errors="replace")
    text = one_line(redact(body, *secrets))
    if len(text) > EXCERPT_LENGTH:
        text = text[: EXCERPT_LENGTH - 1] + "…"
    return text


class UpsolveImproperlyConfigured(ImproperlyConfigured):
    """The ``UPSOLVE`` settings are missing or wrong."""


class UpsolveError(Exception):
    """Base class of every error raised while talking to Upsolve.

    ``status_code`` is the HTTP status (``None`` when no answer came), ``call``
    the API call (e.g. ``"user-token"``) and ``body_excerpt`` a redacted excerpt
    of the answer. Messages never contain the API key or a token.
    """

    #: Whether the failure says something about Upsolve's health (counts for the breaker).
    counts_as_failure = True
    #: Whether another attempt may succeed.
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        call: str = "",
        body_excerpt: str = "",
    ) -> None:
        self.message = one_line(redact(message))
        self.status_code = status_code
        self.call = call
        self.body_excerpt = body_excerpt
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = []
        if self.call:
            parts.append(f"Upsolve {self.call}:")
        if self.status_code is not None:
            parts.append(f"HTTP {self.status_code}")
        parts.append(self.message)
        if self.body_excerpt:
            parts.append(f"— body: {self.body_excerpt}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, call={self.call!r})"


class UpsolveInvalidRequest(UpsolveError, ValueError):
    """We refused to send a request the contract would reject (no network call was made)."""

    counts_as_failure = False


class UpsolveNotEligible(UpsolveError):
    """The adapter leaves this user out (inactive, no tenant); nothing was sent."""

    counts_as_failure = False


class UpsolveAuthError(UpsolveError):
    """401: the API key is missing, wrong or revoked."""


class UpsolvePermissionError(UpsolveAuthError):
    """403: the key may not do this."""


class UpsolveNotFound(UpsolveError):
    """404: e.g. ``user-token`` for a user Upsolve does not know."""

    counts_as_failure = False


class UpsolveValidationError(UpsolveError):
    """400/422: Upsolve rejected the request body."""

    counts_as_failure = False


class UpsolveConflict(UpsolveError):
    """409. ``data`` holds the answer's ``data`` object (which may name the existing object)."""

    counts_as_failure = False

    def __init__(self, message: str, *, data: dict[str, object] | None = None, **kwargs: object):
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.data = data or {}


class UpsolveRateLimited(UpsolveError):
    """429. ``retry_after`` is the parsed ``Retry-After`` in seconds, if usable."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class UpsolveUnavailable(UpsolveError):
    """Upsolve could not be reached or answered with a 5xx."""

    retryable = True


class UpsolveConnectionError(UpsolveUnavailable, requests.exceptions.ConnectionError):
    """The connection failed (refused, reset, DNS)."""


class UpsolveTLSError(UpsolveConnectionError, requests.exceptions.SSLError):
    """TLS handshake or certificate failure; never retried."""

    retryable = False


class UpsolveTimeout(UpsolveUnavailable, requests.exceptions.Timeout):
    """A timeout or the operation's deadline ran out."""


class UpsolveBreakerOpen(UpsolveUnavailable):
    """Calls are paused after repeated failures; no network call was made."""

    counts_as_failure = False
    retryable = False


class UpsolveBadResponse(UpsolveError):
    """Upsolve answered something that does not follow the contract."""
