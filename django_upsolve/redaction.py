"""Text made safe to show, log or store: secrets redacted, control characters removed.

Errors, admin pages and commands show text that may echo an answer from Upsolve, so it
passes through :func:`redact` first. Names sent to Upsolve and errors stored in the
database pass through :func:`one_line`: a NUL cannot be stored by PostgreSQL and a lone
surrogate cannot be encoded as UTF-8.
"""

from __future__ import annotations

import re
import unicodedata

#: At most this many characters of an answer are kept in an error.
EXCERPT_LENGTH = 200
#: At most this many characters of an error are recorded on a tenant or profile.
ERROR_RECORD_LENGTH = 500
REDACTED = "[redacted]"

#: Unicode categories removed from text: control characters and lone surrogates.
CONTROL_CATEGORIES = frozenset({"Cc", "Cs"})

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
            text = text.replace(secret, REDACTED)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def is_control(ch: str) -> bool:
    """Whether ``ch`` is a control character (NUL, newline, tab...) or a lone surrogate."""
    return unicodedata.category(ch) in CONTROL_CATEGORIES


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character or a lone surrogate."""
    return any(is_control(ch) for ch in text)


def is_storable(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 and fits a PostgreSQL text column (no lone surrogate,
    no NUL); other control characters, such as newlines, are kept."""
    return "\x00" not in text and not any(unicodedata.category(ch) == "Cs" for ch in text)


def one_line(text: str) -> str:
    """``text`` on one line: control characters become spaces, runs of whitespace one space,
    and the ends are stripped."""
    return " ".join("".join(" " if is_control(ch) else ch for ch in text).split())


def excerpt(body: bytes | str, *secrets: str) -> str:
    """A one-line, redacted excerpt of at most ``EXCERPT_LENGTH`` characters of a body."""
    if isinstance(body, bytes):
        body = body[: EXCERPT_LENGTH * 4].decode("utf-8", errors="replace")
    text = one_line(redact(body, *secrets))
    if len(text) > EXCERPT_LENGTH:
        text = text[: EXCERPT_LENGTH - 1] + "…"
    return text


def error_record(err: BaseException, length: int = ERROR_RECORD_LENGTH) -> str:
    """``err`` as the text recorded in a ``last_error`` field: redacted, on one line, cut at
    ``length`` characters. (An ``UpsolveError``'s text is already redacted and on one line.)"""
    return one_line(redact(str(err)))[:length]
