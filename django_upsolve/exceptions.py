"""The ``UpsolveError`` tree, and which error an HTTP status stands for.

Errors are typed and carry the HTTP status and a short, secret-free excerpt. Network
failures are also instances of the matching ``requests`` exception, so code written
against ``requests`` keeps catching them. ``STATUS_ERRORS`` maps the statuses of the
API contract (``docs/contract.rst``) to errors; ``error_for`` builds one.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Container, Mapping
from typing import Any, NamedTuple, Self

import requests
from django.core.exceptions import ImproperlyConfigured

from .redaction import one_line, redact


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
        self.body_excerpt = redact(body_excerpt)
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

    @classmethod
    def for_answer(
        cls, message: str, parsed: object, headers: Mapping[str, str], **context: Any
    ) -> Self:
        """The error for an HTTP answer; subclasses take what they carry from its parsed JSON
        body or its headers. ``context`` holds the ``__init__`` keywords."""
        return cls(message, **context)


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

    @classmethod
    def for_answer(
        cls, message: str, parsed: object, headers: Mapping[str, str], **context: Any
    ) -> Self:
        """``message`` with ``{fields}`` replaced by the rejected field names (never values)."""
        return cls(message.format(fields=_error_fields(parsed) or "unknown"), **context)


class UpsolveConflict(UpsolveError):
    """409. ``data`` holds the answer's ``data`` object (which may name the existing object)."""

    counts_as_failure = False

    def __init__(self, message: str, *, data: dict[str, object] | None = None, **kwargs: object):
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.data = data or {}

    @classmethod
    def for_answer(
        cls, message: str, parsed: object, headers: Mapping[str, str], **context: Any
    ) -> Self:
        data = parsed.get("data") if isinstance(parsed, dict) else None
        return cls(message, data=data if isinstance(data, dict) else None, **context)


class UpsolveRateLimited(UpsolveError):
    """429. ``retry_after`` is the parsed ``Retry-After`` in seconds, if usable."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after

    @classmethod
    def for_answer(
        cls, message: str, parsed: object, headers: Mapping[str, str], **context: Any
    ) -> Self:
        return cls(message, retry_after=parse_retry_after(headers.get("Retry-After")), **context)


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


class StatusRule(NamedTuple):
    """Which error an HTTP status stands for, and whether it keeps an excerpt of the body."""

    statuses: Container[int]
    error: type[UpsolveError]
    message: str
    #: Kept only where the body may help and does not echo what was sent (validation
    #: answers can quote the values; auth answers the credentials).
    keeps_body: bool


#: Statuses outside 2xx, as the API contract (``docs/contract.rst``) gives them; first match wins.
STATUS_ERRORS: tuple[StatusRule, ...] = (
    StatusRule(
        range(300, 400),
        UpsolveBadResponse,
        "Upsolve answered with a redirect, which is not followed.",
        keeps_body=False,
    ),
    StatusRule(
        (400, 422),
        UpsolveValidationError,
        "Upsolve rejected the request (fields: {fields}).",
        keeps_body=False,
    ),
    StatusRule((401,), UpsolveAuthError, "The API key was refused.", keeps_body=False),
    StatusRule((403,), UpsolvePermissionError, "The API key may not do this.", keeps_body=False),
    StatusRule((404,), UpsolveNotFound, "Not found.", keeps_body=True),
    StatusRule((409,), UpsolveConflict, "Conflict.", keeps_body=True),
    StatusRule((429,), UpsolveRateLimited, "Rate limited by Upsolve.", keeps_body=True),
    StatusRule(range(500, 1000), UpsolveUnavailable, "Upsolve is unavailable.", keeps_body=True),
)
#: Any other status (1xx, the rest of 4xx).
UNEXPECTED_STATUS = StatusRule((), UpsolveBadResponse, "Unexpected status.", keeps_body=True)


def error_for(
    call: str, status: int, parsed: object, headers: Mapping[str, str], body_excerpt: str
) -> UpsolveError:
    """The error for a non-2xx answer to ``call``: its status looked up in ``STATUS_ERRORS``.

    ``parsed`` is the body's JSON (None when it is not JSON) and ``body_excerpt`` its
    redacted excerpt.
    """
    rule = next((rule for rule in STATUS_ERRORS if status in rule.statuses), UNEXPECTED_STATUS)
    return rule.error.for_answer(
        rule.message,
        parsed,
        headers,
        status_code=status,
        call=call,
        body_excerpt=body_excerpt if rule.keeps_body else "",
    )


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta or HTTP date); None when unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = when.timestamp() - (now if now is not None else time.time())
        return max(0.0, seconds)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _error_fields(parsed: object) -> str:
    """Field names from a validation answer (never the values), each redacted before it is
    cut: a name may echo a value."""
    if not isinstance(parsed, dict):
        return ""
    errors = parsed.get("errors")
    if not isinstance(errors, list):
        return ""
    names = [
        redact(" ".join(e["field"].split()))[:64]
        for e in errors[:10]
        if isinstance(e, dict) and isinstance(e.get("field"), str) and e["field"].strip()
    ]
    return ", ".join(names)
