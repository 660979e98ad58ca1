"""A circuit breaker whose state lives in Django's cache, so processes share it.

After ``BREAKER_THRESHOLD`` consecutive failures calls are skipped for
``BREAKER_COOLDOWN`` seconds (or a 429's ``Retry-After``, capped at
``BREAKER_MAX_COOLDOWN``). Once the cool-down is over a single caller wins the
trial call (``cache.add`` is atomic): success closes the breaker, failure opens
it again. Transitions are logged once, by the caller that made them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Literal

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache

from .conf import upsolve_settings

logger = logging.getLogger("django_upsolve.breaker")

PREFIX = "django_upsolve:breaker:"
FAILURES = PREFIX + "failures"
OPEN_UNTIL = PREFIX + "open_until"
TRIAL = PREFIX + "trial"
#: How long the breaker's keys are kept without activity.
KEEP = 24 * 3600

State = Literal["closed", "open", "half-open"]


@dataclass(frozen=True)
class BreakerStatus:
    """A snapshot for operators."""

    state: State
    failures: int
    open_until: float | None


def _cache() -> BaseCache:
    return caches[upsolve_settings.CACHE_ALIAS]


def status() -> BreakerStatus:
    """The breaker's current state, failure count and end of cool-down (epoch seconds)."""
    values = _cache().get_many([FAILURES, OPEN_UNTIL])
    failures = int(values.get(FAILURES) or 0)
    open_until = values.get(OPEN_UNTIL)
    if open_until is None:
        return BreakerStatus("closed", failures, None)
    state: State = "open" if time.time() < open_until else "half-open"
    return BreakerStatus(state, failures, float(open_until))


def allow_request() -> bool:
    """Whether a call may go out now; in half-open state only one caller gets ``True``."""
    current = status()
    if current.state == "closed":
        return True
    if current.state == "open":
        return False
    # The trial slot expires by itself should the trial caller die mid-call.
    return _cache().add(TRIAL, 1, timeout=max(1, int(upsolve_settings.BREAKER_COOLDOWN)))


def record_success() -> None:
    """Close the breaker and reset the failure count."""
    cache = _cache()
    if cache.delete(OPEN_UNTIL):  # Atomic: only the caller that closes it logs.
        logger.warning("Upsolve circuit breaker closed: calls to Upsolve succeed again.")
    cache.delete_many([FAILURES, TRIAL])


def record_failure(*, open_for: float | None = None) -> None:
    """Count a failure; open the breaker at the threshold, or at once for ``open_for`` seconds."""
    cache = _cache()
    cache.add(FAILURES, 0, timeout=KEEP)
    try:
        failures = cache.incr(FAILURES)
    except ValueError:  # The key vanished between add and incr.
        cache.set(FAILURES, 1, timeout=KEEP)
        failures = 1
    ended_trial = cache.delete(TRIAL)  # Atomic: one caller ends the trial (and logs).
    threshold = upsolve_settings.BREAKER_THRESHOLD
    if open_for is None and failures < threshold and not ended_trial:
        return
    cooldown = min(
        open_for if open_for is not None else upsolve_settings.BREAKER_COOLDOWN,
        upsolve_settings.BREAKER_MAX_COOLDOWN,
    )
    cache.set(OPEN_UNTIL, time.time() + cooldown, timeout=KEEP)
    if ended_trial or failures == threshold or open_for is not None:
        logger.error(
            "Upsolve circuit breaker open for %.0f s after %d consecutive failure(s).",
            cooldown,
            failures,
        )


def reset() -> None:
    """Forget all breaker state (tests, operators after a fix)."""
    _cache().delete_many([FAILURES, OPEN_UNTIL, TRIAL])
