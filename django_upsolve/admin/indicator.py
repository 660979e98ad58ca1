"""The circuit breaker's state as one line for operators, read from the cache only."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TypedDict

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import breaker
from ..exceptions import UpsolveImproperlyConfigured
from .display import when

logger = logging.getLogger(__name__)


class BreakerIndicator(TypedDict):
    """``level`` is a message level tag: ``success``, ``warning`` or ``error``."""

    level: str
    text: str


def breaker_indicator() -> BreakerIndicator:
    """Where the breaker stands; an unreachable cache is reported, never raised."""
    try:
        status = breaker.status()
    except Exception as err:  # A page about Upsolve must not fail because the cache is down.
        if isinstance(err, UpsolveImproperlyConfigured):  # e.g. CACHE_ALIAS: its name says all
            logger.warning("Cannot read the Upsolve circuit breaker's state: %s", err)
        else:
            logger.warning("Cannot read the Upsolve circuit breaker's state.", exc_info=True)
        return {
            "level": "warning",
            "text": _("Upsolve circuit breaker: state unknown (cache unavailable)."),
        }
    if status.state == "open" and status.open_until is not None:
        until = when(datetime.fromtimestamp(status.open_until, tz=UTC))
        return {
            "level": "error",
            "text": _(
                "Upsolve circuit breaker open until %(until)s: calls to Upsolve are paused "
                "and dashboards show their placeholder."
            )
            % {"until": until},
        }
    if status.state == "half-open":
        return {
            "level": "warning",
            "text": _(
                "Upsolve circuit breaker half-open: the next call tests whether Upsolve is back."
            ),
        }
    if status.failures:
        return {
            "level": "warning",
            "text": ngettext(
                "Upsolve circuit breaker closed, after %(count)d recent failure.",
                "Upsolve circuit breaker closed, after %(count)d recent consecutive failures.",
                status.failures,
            )
            % {"count": status.failures},
        }
    return {"level": "success", "text": _("Upsolve circuit breaker closed: calls go through.")}
