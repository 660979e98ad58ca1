"""A short-lived mutual-exclusion lock on Django's cache (``cache.add`` is atomic).

With Redis (or any shared cache) it spans processes; with the local-memory
cache it spans the threads of one process, and a system check warns about
that. Database unique constraints remain the last line of defence.

Every cache call is bounded by the caller's wait (``django_upsolve.cache``).
When the cache is down or too slow the lock is not taken and the context yields
``False``: the caller must then serialise through its database row lock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache

from . import cache as shared

PREFIX = "django_upsolve:lock:"

# Deletes the key only while it still holds our owner token, in one step on the server.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class LockTimeout(Exception):
    """The lock could not be taken within the wait allowed."""


@contextmanager
def cache_lock(name: str, *, wait: float, hold: float) -> Iterator[bool]:
    """Hold the lock ``name`` for at most ``hold`` seconds, waiting at most ``wait`` for it.

    Yields ``True`` while the lock is held in the cache. Yields ``False`` when the cache
    cannot be used (down, or no answer within the wait): no lock is held, and the caller
    takes its database row lock instead. Raises ``LockTimeout`` when another holder keeps
    the lock past ``wait``.
    """
    key = PREFIX + name
    owner = uuid.uuid4().hex
    give_up = time.monotonic() + wait
    delay = 0.005
    ttl = max(1, int(hold + 0.999))
    try:
        while not shared.call(
            lambda cache: cache.add(key, owner, timeout=ttl), budget=give_up - time.monotonic()
        ):
            if time.monotonic() >= give_up:
                raise LockTimeout(name)
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
    except shared.CacheUnavailable:
        held = False
    else:
        held = True
    try:
        yield held
    finally:
        if held:
            # An unreachable cache drops the lock itself after ``hold`` seconds.
            with suppress(shared.CacheUnavailable):
                shared.call(lambda cache: release(cache, key, owner))


def release(cache: BaseCache, key: str, owner: str) -> bool:
    """Delete ``key`` if it still holds ``owner`` (it may have expired and been taken over).

    Atomic on Django's ``RedisCache``: compare and delete run as one Lua script. On other
    backends it is a get followed by a delete, which another process could slip between
    only if the lock expired, after ``hold`` seconds, at that very moment.
    """
    if isinstance(cache, RedisCache):
        raw = cache.make_and_validate_key(key)
        client = cache._cache.get_client(raw, write=True)
        # The value as the cache stored it (its serializer is not in the type stubs).
        stored = cache._cache._serializer.dumps(owner)  # type: ignore[attr-defined]
        return bool(client.eval(_RELEASE, 1, raw, stored))
    if cache.get(key) == owner:
        return cache.delete(key)
    return False
