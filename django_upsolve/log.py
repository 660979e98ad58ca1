"""Logging helpers: a filter that keeps tokens out of access logs, and quiet commands.

Dashboards are framed with the token in their URL (``?jwt=…``). With the local sandbox those
URLs are requests to your own site, so the development server's access log would show every
token. Add the filter to the handler of ``django.server``::

    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact_tokens": {"()": "django_upsolve.log.RedactTokensFilter"}},
        "handlers": {
            "server": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
        },
        "loggers": {
            "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        },
    }
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

from .redaction import REDACTED

#: The value of a ``jwt`` query parameter, and anything else shaped like a JWT.
_TOKENS = (
    (re.compile(r"(jwt=)[^&\s\"']+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"eyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), REDACTED),
)


def redact_tokens(text: str) -> str:
    """``text`` with every ``jwt=`` value and JWT-shaped string replaced by ``[redacted]``."""
    for pattern, replacement in _TOKENS:
        text = pattern.sub(replacement, text)
    return text


class RedactTokensFilter(logging.Filter):
    """Replaces tokens in a record's message (``jwt=[redacted]``); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # A malformed record: the handler reports it as it always does.
            return True
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


@contextmanager
def reported_by_caller(name: str = "django_upsolve") -> Iterator[None]:
    """While a command writes each failure itself: when no handler takes the ``name`` records
    (a project without ``LOGGING`` for them), drop them instead of letting Python's
    last-resort handler print every failure a second time on stderr."""
    logger = logging.getLogger(name)
    if logger.hasHandlers():
        yield
        return
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
