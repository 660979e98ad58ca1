"""A short-lived mutual-exclusion lock on Django's cache (``cache.add`` is atomic).

With Redis (or any shared cache) it spans processes; with the local-memory
cache it spans the threads of one process, and a system check warns about
that. Database unique constraints remain the last line of defence.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import caches

from .conf import upsolve_settings

PREFIX = "django_upsolve:lock:"


class LockTimeout(Exception):
    """The lock could not be taken within the wait allowed."""


@contextmanager
def cache_lock(name: str, *, wait: float, hold: float) -> Iterator[None]:
    """Hold the lock ``name`` for at most ``hold`` seconds, waiting at most ``wait`` for it."""
    cache = caches[upsolve_settings.CACHE_ALIAS]
    key = PREFIX + name
    owner = uuid.uuid4().hex
    give_up = time.monotonic() + wait
    delay = 0.005
    while not cache.add(key, owner, timeout=max(1, int(hold + 0.999))):
        if time.monotonic() >= give_up:
            raise LockTimeout(name)
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    try:
        yield
    finally:
        # Only release a lock we still own (it may have expired and been taken over).
        if cache.get(key) == owner:
            cache.delete(key)
