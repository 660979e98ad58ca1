"""Calls to Django's cache that cannot hang or fail a request: bounded, and failing open.

The circuit breaker and the locks keep their state in ``caches[UPSOLVE["CACHE_ALIAS"]]``.
A stalled cache server (it accepts connections and never answers) would hold each call
for the client library's socket timeout (5 s for redis-py), and a refused one would raise
on every request. So each call runs in a daemon thread that the caller waits on for at
most ``CALL_TIMEOUT`` seconds, or less when its own deadline is nearer. A thread rather
than socket timeouts: the cache belongs to the project's ``CACHES`` setting, which is not
ours to change, redis-py has no per-call timeout, and a thread bounds every backend alike
(Redis, Memcached, third-party ones). Daemon threads, so a call stuck on a dead socket
never blocks the interpreter's exit; a thread adds a few tenths of a millisecond per call.

The first call that fails, or overruns a full ``CALL_TIMEOUT``, marks the cache down for
this process and logs one WARNING. Until it answers again, calls raise
``CacheUnavailable`` at once without touching it, and a background probe checks it every
``PROBE_INTERVAL`` seconds; its return is logged once too. Callers fail open: the breaker
keeps its state in this process's memory (``MEMORY``), the locks defer to the database.

Caches living in this process or its database (local memory, dummy, database, files)
cannot stall on a cache socket: their calls run in the caller's thread and are probed by
the next call after ``PROBE_INTERVAL``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.cache import InvalidCacheBackendError, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache

from .conf import upsolve_settings
from .exceptions import UpsolveImproperlyConfigured
from .redaction import describe

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: The longest one call may take; a healthy cache answers in about a millisecond.
CALL_TIMEOUT = 0.5
#: The shortest wait granted to a call, even when the caller's deadline is (nearly) spent.
MIN_TIMEOUT = 0.05
#: While a cache is down, it is probed this often (in the background, no request waits).
PROBE_INTERVAL = 5.0
#: Calls given up on and still stuck on one cache; beyond this many it counts as down.
MAX_STUCK = 8
#: Backends that run in the caller's thread (no cache socket to stall on).
IN_PROCESS = (LocMemCache, DummyCache, DatabaseCache, FileBasedCache)
#: Where callers keep their state while the shared cache is down (this process only).
MEMORY = LocMemCache("django_upsolve.fallback", {})

_PROBE_KEY = "django_upsolve:probe"


class CacheUnavailable(Exception):
    """The cache failed, did not answer within the budget, or is known to be down."""


@dataclass(frozen=True)
class Outage:
    """A cache this process finds down: since when (epoch seconds) and why."""

    alias: str
    since: float
    reason: str


class _Health:
    """What this process knows of one cache alias (read and written under ``_lock``)."""

    def __init__(self) -> None:
        self.outage: Outage | None = None
        self.next_probe = 0.0
        self.probing = False
        self.stuck = 0


_lock = threading.Lock()
_health: dict[str, _Health] = {}


def run(
    op: Callable[[BaseCache], T],
    *,
    budget: float | None = None,
    alias: str | None = None,
    fallback: BaseCache | None = None,
) -> T:
    """``op(cache)`` within ``budget`` seconds (at most ``CALL_TIMEOUT``).

    When the cache cannot answer, ``op(fallback)`` instead, or ``CacheUnavailable``
    without a fallback. ``op`` handles the cache's ordinary answers (a missing key for
    ``incr``...) itself: any exception it lets out counts as a cache failure.
    """
    try:
        return call(op, budget=budget, alias=alias)
    except CacheUnavailable:
        if fallback is None:
            raise
        return op(fallback)


def shared(alias: str | None = None) -> BaseCache:
    """The cache ``alias`` (default ``CACHE_ALIAS``); ``UpsolveImproperlyConfigured`` when
    ``settings.CACHES`` has no such cache (``django_upsolve.E007`` says so at start-up)."""
    alias = alias or upsolve_settings.CACHE_ALIAS
    try:
        return caches[alias]
    except InvalidCacheBackendError as err:
        raise UpsolveImproperlyConfigured(
            f"UPSOLVE['CACHE_ALIAS'] = {alias!r} is not in settings.CACHES."
        ) from err


def call(
    op: Callable[[BaseCache], T], *, budget: float | None = None, alias: str | None = None
) -> T:
    """``op(cache)`` within ``budget`` seconds, or ``CacheUnavailable``."""
    alias = alias or upsolve_settings.CACHE_ALIAS
    cache = shared(alias)
    timeout = CALL_TIMEOUT if budget is None else max(min(budget, CALL_TIMEOUT), MIN_TIMEOUT)
    in_process = isinstance(cache, IN_PROCESS)
    with _lock:
        health = _health.setdefault(alias, _Health())
        if health.outage is not None:
            due = time.monotonic() >= health.next_probe and not health.probing
            if not due:
                raise CacheUnavailable(health.outage.reason)
            health.next_probe = time.monotonic() + PROBE_INTERVAL
            if not in_process:
                health.probing = True
                threading.Thread(
                    target=_probe,
                    args=(alias, cache),
                    name="django_upsolve-cache-probe",
                    daemon=True,
                ).start()
                raise CacheUnavailable(health.outage.reason)
        stuck = health.stuck
    if stuck >= MAX_STUCK:
        reason = f"{stuck} calls given up on still wait for an answer"
        _fail(alias, reason)
        raise CacheUnavailable(reason)
    if not in_process:
        return _in_thread(alias, health, cache, op, timeout)
    try:
        result = op(cache)
    except Exception as err:
        _fail(alias, describe(err))
        raise CacheUnavailable(describe(err)) from err
    _recovered(alias)
    return result


def outage(alias: str | None = None) -> Outage | None:
    """The outage this process sees on ``alias`` (default ``CACHE_ALIAS``), or ``None``."""
    with _lock:
        health = _health.get(alias or upsolve_settings.CACHE_ALIAS)
        return health.outage if health is not None else None


def reset() -> None:
    """Forget what this process knows of every cache's health (tests; after a fork)."""
    global _lock
    _lock = threading.Lock()
    _health.clear()


class _Call:
    """One call running in its own thread: the result or the error, once it is done."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.abandoned = False
        self.result: Any = None
        self.error: Exception | None = None


def _in_thread(
    alias: str, health: _Health, cache: BaseCache, op: Callable[[BaseCache], T], timeout: float
) -> T:
    job = _Call()

    def work() -> None:
        try:
            job.result = op(cache)
        except Exception as err:
            job.error = err
        finally:
            with _lock:
                job.done.set()
                if job.abandoned:
                    health.stuck -= 1

    threading.Thread(target=work, name="django_upsolve-cache", daemon=True).start()
    if not job.done.wait(timeout):
        with _lock:
            if not job.done.is_set():
                job.abandoned = True
                health.stuck += 1
    if job.abandoned:
        reason = f"no answer within {timeout:.2f} s"
        if timeout >= CALL_TIMEOUT:
            _fail(alias, reason)
        else:  # Only the caller's deadline was short: that says nothing of the cache.
            logger.debug("Cache %r: %s (the caller's deadline).", alias, reason)
        raise CacheUnavailable(reason)
    if job.error is not None:
        _fail(alias, describe(job.error))
        raise CacheUnavailable(describe(job.error)) from job.error
    result: T = job.result
    return result


def _probe(alias: str, cache: BaseCache) -> None:
    """Ask the cache one cheap question; an answer within ``CALL_TIMEOUT`` ends the outage."""
    started = time.monotonic()
    try:
        cache.get(_PROBE_KEY)
    except Exception as err:
        logger.debug("Cache %r still unavailable: %s", alias, describe(err))
    else:
        if time.monotonic() - started <= CALL_TIMEOUT:
            _recovered(alias)
    finally:
        with _lock:
            _health.setdefault(alias, _Health()).probing = False


def _fail(alias: str, reason: str) -> None:
    """Start an outage, if none is on; only the call that starts it logs."""
    with _lock:
        health = _health.setdefault(alias, _Health())
        if health.outage is not None:
            return
        health.outage = Outage(alias, time.time(), reason)
        health.next_probe = time.monotonic() + PROBE_INTERVAL
    logger.warning(
        "Cache %r is unavailable (%s): the Upsolve circuit breaker keeps its state in this "
        "process's memory and locks fall back to the database until it answers again.",
        alias,
        reason,
    )


def _recovered(alias: str) -> None:
    """End the outage, if any; only the call that ends it logs."""
    with _lock:
        health = _health.get(alias)
        if health is None or health.outage is None:
            return
        began, health.outage = health.outage, None
    logger.warning(
        "Cache %r answers again after %.0f s: the Upsolve circuit breaker and locks share it "
        "again.",
        alias,
        max(time.time() - began.since, 0),
    )


os.register_at_fork(after_in_child=reset)
