"""The cache lock: one holder at a time, bounded waits, released only by its owner."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import caches

from django_upsolve.locks import PREFIX, LockTimeout, cache_lock
from tests.helpers import override_upsolve

KEY = PREFIX + "org:acme"


def test_the_lock_is_held_inside_the_block_and_released_after():
    cache = caches["default"]
    with cache_lock("org:acme", wait=0, hold=5):
        assert cache.get(KEY) is not None
    assert cache.get(KEY) is None


def test_a_held_lock_is_not_taken_twice():
    with cache_lock("org:acme", wait=0, hold=5):
        started = time.monotonic()
        with pytest.raises(LockTimeout, match="org:acme"), cache_lock("org:acme", wait=0.1, hold=5):
            pass
        assert 0.1 <= time.monotonic() - started < 1
        with cache_lock("org:other", wait=0, hold=5):
            pass  # another name is another lock


def test_the_lock_is_released_when_the_block_raises():
    with pytest.raises(RuntimeError), cache_lock("org:acme", wait=0, hold=5):
        raise RuntimeError("boom")
    with cache_lock("org:acme", wait=0, hold=5):
        pass


def test_a_waiter_gets_the_lock_once_it_is_released():
    taken, release = threading.Event(), threading.Event()

    def holder() -> None:
        with cache_lock("org:acme", wait=0, hold=5):
            taken.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert taken.wait(5)
        threading.Timer(0.2, release.set).start()
        started = time.monotonic()
        with cache_lock("org:acme", wait=5, hold=5):
            waited = time.monotonic() - started
    finally:
        release.set()
        thread.join(5)
    assert 0.15 <= waited < 2


def test_an_abandoned_lock_expires_after_its_hold_time():
    # A holder that died without releasing: its entry lives ``hold`` seconds (at least 1).
    caches["default"].add(KEY, "a process that died", timeout=1)
    started = time.monotonic()
    with cache_lock("org:acme", wait=5, hold=5):
        waited = time.monotonic() - started
    assert 0.5 < waited < 3


def test_a_lock_taken_over_after_expiry_is_left_to_its_new_owner():
    cache = caches["default"]
    with cache_lock("org:acme", wait=0, hold=5):
        # Our hold ran out and another process took the lock.
        cache.set(KEY, "the new owner", timeout=5)
    assert cache.get(KEY) == "the new owner"


def test_the_lock_lives_in_the_configured_cache(patient_cache):
    with override_upsolve(CACHE_ALIAS="redis"), cache_lock("org:acme", wait=1, hold=5):
        assert caches["redis"].get(KEY) is not None
        assert caches["default"].get(KEY) is None
    assert caches["redis"].get(KEY) is None
