"""A circuit breaker whose state lives in Django's cache, so processes share it.

After ``BREAKER_THRESHOLD`` consecutive failures calls are skipped for
``BREAKER_COOLDOWN`` seconds (or a 429's ``Retry-After``, capped at
``BREAKER_MAX_COOLDOWN``). Once the cool-down is over a single caller wins the
trial call (``cache.add`` is atomic): success closes the breaker, failure opens
it again. Transitions are logged once, by the caller that made them.

Each function runs its cache calls within ``budget`` seconds (the caller's
deadline; see ``django_upsolve.cache``). While the cache is down or too slow the
breaker fails open to the same state kept in this process's memory, so it keeps
counting and pausing calls, for this process only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Literal, TypeVar

from django.core.cache.backends.base import BaseCache

from . import cache as shared
from .conf import upsolve_settings

logger = logging.getLogger(__name__)

PREFIX = "django_upsolve:breaker:"
FAILURES = PREFIX + "failures"
OPEN_UNTIL = PREFIX + "open_until"
TRIAL = PREFIX + "trial"
KEYS = (FAILURES, OPEN_UNTIL, TRIAL)
#: How long the breaker's keys are kept without activity.
KEEP = 24 * 3600

State = Literal["closed", "open", "half-open"]
T = TypeVar("T")


@dataclass(frozen=True)
class BreakerStatus:
    """A snapshot for operators."""

    state: State
    failures: int
    open_until: float | None


def _run(op: Callable[[BaseCache], T], budget: float | None) -> T:
    """``op`` on the shared cache, or on this process's memory when the cache cannot answer."""
    return shared.run(op, budget=budget, fallback=shared.MEMORY)


def status(*, budget: float | None = None) -> BreakerStatus:
    """The breaker's current state, failure count and end of cool-down (epoch seconds)."""
    return _run(_status, budget)


def allow_request(*, budget: float | None = None) -> bool:
    """Whether a call may go out now; in half-open state only one caller gets ``True``."""
    return _run(_allow_request, budget)


def record_success(*, budget: float | None = None) -> None:
    """Close the breaker and reset the failure count."""
    _run(_record_success, budget)


def record_failure(*, open_for: float | None = None, budget: float | None = None) -> None:
    """Count a failure; open the breaker at the threshold, or at once for ``open_for`` seconds."""
    _run(lambda cache: _record_failure(cache, open_for), budget)


def reset() -> None:
    """Forget all breaker state, shared and in this process (tests, operators after a fix)."""
    shared.MEMORY.delete_many(KEYS)
    with suppress(shared.CacheUnavailable):
        shared.call(lambda cache: cache.delete_many(KEYS))


def _status(cache: BaseCache) -> BreakerStatus:
    values = cache.get_many([FAILURES, OPEN_UNTIL])
    failures = int(values.get(FAILURES) or 0)
    open_until = values.get(OPEN_UNTIL)
    if open_until is None:
        return BreakerStatus("closed", failures, None)
    state: State = "open" if time.time() < open_until else "half-open"
    return BreakerStatus(state, failures, float(open_until))


def _allow_request(cache: BaseCache) -> bool:
    current = _status(cache)
    if current.state == "closed":
        return True
    if current.state == "open":
        return False
    # The trial slot expires by itself should the trial caller die mid-call.
    return cache.add(TRIAL, 1, timeout=max(1, int(upsolve_settings.BREAKER_COOLDOWN)))


def _record_success(cache: BaseCache) -> None:
    if cache.delete(OPEN_UNTIL):  # Atomic: only the caller that closes it logs.
        logger.warning("Upsolve circuit breaker closed: calls to Upsolve succeed again.")
    cache.delete_many([FAILURES, TRIAL])


def _record_failure(cache: BaseCache, open_for: float | None) -> None:
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
