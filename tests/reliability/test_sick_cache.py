"""A sick cache (``UPSOLVE["CACHE_ALIAS"]`` on Redis) never takes logins down.

Refused, not accepting connections, or accepting them and never answering: each cache
call waits at most ``CALL_TIMEOUT`` (0.5 s), less when the caller's deadline is nearer;
then the cache counts as down for this process, with one WARNING. The breaker goes on in
this process's memory, locks defer to the database, and no call waits on the cache until
a background probe finds it back (one more WARNING). Releasing a lock on Redis is one
compare-and-delete. Bounds carry generous slack: they pin the budget, not the machine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from io import StringIO
from typing import TypeVar

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.test import override_settings

from django_upsolve import breaker, locks
from django_upsolve import cache as shared
from django_upsolve.models import UpsolveProfile
from tests.helpers import log_in, make_user, override_upsolve
from tests.reliability.faultserver import unaccepting_port
from tests.reliability.sickredis import RedisProxy, location, refused_port

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

T = TypeVar("T")

#: A first call on a sick cache: the 0.5 s budget, with slack.
FIRST = 1.5
#: Calls once the cache is known down: no waiting at all, with slack.
KNOWN_DOWN = 0.3
SICK = "sick"


@contextmanager
def cache_at(where: str) -> Iterator[str]:
    """The breaker and locks in a Redis cache at ``where``, this process knowing nothing of it."""
    sick = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": where,
        "KEY_PREFIX": settings.CACHES["redis"]["KEY_PREFIX"],
    }
    shared.reset()
    try:
        with (
            override_settings(CACHES={**settings.CACHES, SICK: sick}),
            override_upsolve(CACHE_ALIAS=SICK),
        ):
            yield SICK
    finally:
        shared.reset()
        redis = caches["redis"]._cache.get_client()
        for raw in redis.scan_iter(match=f"{sick['KEY_PREFIX']}:*"):
            redis.delete(raw)


@pytest.fixture(params=["refused", "unaccepting", "stalled"])
def sick(request: pytest.FixtureRequest) -> Iterator[str]:
    """A Redis that refuses connections, never accepts them, or accepts and never answers."""
    with ExitStack() as stack:
        if request.param == "refused":
            where = location(stack.enter_context(refused_port()))
        elif request.param == "unaccepting":
            where = location(stack.enter_context(unaccepting_port()))
        else:
            where = stack.enter_context(RedisProxy(forwarding=False)).location
        stack.enter_context(cache_at(where))
        yield request.param


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


def cache_warnings(logs) -> list[str]:
    return logs.messages("django_upsolve.cache", logging.WARNING)


def take_lock(name: str = "user:1") -> bool:
    with locks.cache_lock(name, wait=2.5, hold=7.5) as held:
        return held


# The breaker --------------------------------------------------------------------------------


def test_the_breaker_fails_open_to_this_process(sick, logs):
    allowed, elapsed = timed(breaker.allow_request)
    assert allowed
    assert elapsed < FIRST

    def five_failures() -> None:
        for _ in range(5):
            breaker.record_failure()

    _, elapsed = timed(five_failures)
    assert elapsed < KNOWN_DOWN
    # It still counts, opens and pauses calls: in this process's memory.
    status = breaker.status()
    assert (status.state, status.failures) == ("open", 5)
    assert not breaker.allow_request()
    [warning] = cache_warnings(logs)
    assert warning.startswith(f"Cache '{SICK}' is unavailable (")
    assert shared.outage(SICK) is not None


def test_one_warning_per_outage_not_per_request(sick, logs):
    def requests() -> None:
        for _ in range(50):
            breaker.allow_request()
            breaker.record_success()
            take_lock()

    _, elapsed = timed(requests)
    assert elapsed < FIRST + KNOWN_DOWN
    assert len(cache_warnings(logs)) == 1
    assert not logs.messages("", logging.ERROR)


def test_a_short_deadline_bounds_the_call_and_declares_no_outage(logs):
    with RedisProxy(forwarding=False) as proxy, cache_at(proxy.location):
        allowed, elapsed = timed(lambda: breaker.allow_request(budget=0.1))
        assert allowed
        assert elapsed < 0.1 + 0.4
        # Only the caller's deadline ran out, which says nothing of the cache.
        assert shared.outage(SICK) is None
        assert cache_warnings(logs) == []


def test_the_probe_finds_the_cache_back(logs, monkeypatch):
    monkeypatch.setattr(shared, "PROBE_INTERVAL", 0.2)
    real = caches["redis"]
    with RedisProxy() as proxy, cache_at(proxy.location):
        breaker.record_failure()
        assert real.get(breaker.FAILURES) == 1  # shared: through the proxy, in the real Redis
        proxy.stall()
        status, elapsed = timed(breaker.status)
        assert elapsed < FIRST
        assert status == breaker.BreakerStatus("closed", 0, None)  # this process's memory
        proxy.forward()
        give_up = time.monotonic() + 5
        while shared.outage(SICK) is not None and time.monotonic() < give_up:
            breaker.status()  # a call once the interval is over starts the probe
            time.sleep(0.05)
        assert shared.outage(SICK) is None
        down, back = cache_warnings(logs)
        assert down.startswith(f"Cache '{SICK}' is unavailable (")
        assert back.startswith(f"Cache '{SICK}' answers again after ")
        breaker.record_failure()
        assert real.get(breaker.FAILURES) == 2  # shared again
        assert breaker.status().failures == 2


def test_a_probe_runs_in_the_background(logs, monkeypatch):
    monkeypatch.setattr(shared, "PROBE_INTERVAL", 0.2)
    with RedisProxy(forwarding=False) as proxy, cache_at(proxy.location):
        timed(breaker.status)
        assert shared.outage(SICK) is not None
        time.sleep(0.25)
        for _ in range(3):  # the first starts the probe; none waits for it
            _, elapsed = timed(breaker.status)
            assert elapsed < KNOWN_DOWN
        assert shared.outage(SICK) is not None
        assert len(cache_warnings(logs)) == 1


def test_calls_given_up_on_pile_up_to_an_outage(logs):
    with RedisProxy(forwarding=False) as proxy, cache_at(proxy.location):
        for _ in range(shared.MAX_STUCK):
            assert breaker.allow_request(budget=0.05)
        assert shared.outage(SICK) is None
        _, elapsed = timed(lambda: breaker.allow_request(budget=0.05))
        assert elapsed < KNOWN_DOWN  # no ninth thread: it fails at once
        assert shared.outage(SICK).reason == "8 calls given up on still wait for an answer"
        assert len(cache_warnings(logs)) == 1


def test_an_in_process_cache_fails_open_and_recovers(tmp_path, logs, monkeypatch):
    """A file cache that cannot write fails in the caller's thread, without any waiting."""
    monkeypatch.setattr(shared, "PROBE_INTERVAL", 0.1)
    folder = tmp_path / "cache"
    files = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache"}
    files["LOCATION"] = str(folder)
    with (
        override_settings(CACHES={**settings.CACHES, "files": files}),
        override_upsolve(CACHE_ALIAS="files"),
    ):
        shared.reset()
        assert caches["files"].get(breaker.FAILURES) is None  # made its folder
        folder.rmdir()
        folder.write_text("")  # a file where the folder was: every write fails
        breaker.record_failure()
        assert shared.outage("files").reason.startswith("NotADirectoryError")
        assert breaker.status().failures == 1  # in this process's memory
        folder.unlink()
        time.sleep(0.15)
        breaker.record_failure()  # the first call after the interval tries the cache again
        assert shared.outage("files") is None
        assert caches["files"].get(breaker.FAILURES) == 1
        shared.reset()
    down, back = cache_warnings(logs)
    assert down.startswith("Cache 'files' is unavailable (NotADirectoryError")
    assert back.startswith("Cache 'files' answers again after ")


# Locks --------------------------------------------------------------------------------------


def test_locks_defer_to_the_database(sick, logs):
    held, elapsed = timed(take_lock)
    assert held is False
    assert elapsed < FIRST
    held, elapsed = timed(take_lock)
    assert held is False
    assert elapsed < KNOWN_DOWN
    assert len(cache_warnings(logs)) == 1


def test_a_held_lock_still_times_out_on_a_healthy_cache(cache_alias):
    with locks.cache_lock("user:2", wait=1, hold=5) as held:
        assert held is True
        started = time.monotonic()
        with pytest.raises(locks.LockTimeout), locks.cache_lock("user:2", wait=0.2, hold=5):
            pass
        assert 0.2 <= time.monotonic() - started < 1.0
    assert take_lock("user:2") is True


def test_a_lock_taken_over_after_expiry_is_not_released_by_its_old_holder(cache_alias):
    # Waits of 0.5 s, not 0: each cache call gets the wait as its budget, and a loaded machine
    # can take longer than a zero budget's 50 ms floor to answer.
    old = locks.cache_lock("user:3", wait=0.5, hold=0.5)  # kept 1 s in the cache
    assert old.__enter__() is True
    time.sleep(1.2)
    new = locks.cache_lock("user:3", wait=0.5, hold=5)
    assert new.__enter__() is True
    old.__exit__(None, None, None)
    with pytest.raises(locks.LockTimeout), locks.cache_lock("user:3", wait=0.5, hold=5):
        pass
    new.__exit__(None, None, None)
    assert take_lock("user:3") is True


def test_release_on_redis_is_one_compare_and_delete(monkeypatch):
    cache = caches["redis"]
    key = locks.PREFIX + "user:4"
    raw = cache.make_and_validate_key(key)
    redis = cache._cache.get_client(raw, write=True)
    cache.set(key, "theirs", timeout=30)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a release on Redis must not be get-then-delete")

    monkeypatch.setattr(cache, "get", forbidden)
    monkeypatch.setattr(cache, "delete", forbidden)
    try:
        assert locks.release(cache, key, "mine") is False
        assert redis.exists(raw) == 1
        assert locks.release(cache, key, "theirs") is True
        assert redis.exists(raw) == 0
    finally:
        redis.delete(raw)


def test_release_elsewhere_only_deletes_its_own_lock():
    cache = caches["default"]
    key = locks.PREFIX + "user:5"
    cache.set(key, "theirs", timeout=30)
    assert locks.release(cache, key, "mine") is False
    assert cache.get(key) == "theirs"
    assert locks.release(cache, key, "theirs") is True
    assert cache.get(key) is None


# Logins and commands ------------------------------------------------------------------------


def test_logins_keep_getting_tokens(sick, client, server, logs):
    for name in ("ada", "bob"):
        make_user(name)
    _, elapsed = timed(lambda: log_in(client, "ada"))
    assert elapsed < FIRST + 1.0
    client.logout()
    _, elapsed = timed(lambda: log_in(client, "bob"))
    assert elapsed < 1.0
    for profile in UpsolveProfile.objects.all():
        assert profile.has_fresh_token(300)
    assert len(cache_warnings(logs)) == 1
    assert not logs.messages("", logging.ERROR)


def test_the_sync_command_runs_through_a_refused_cache(server, logs):
    make_user("ada")
    out, err = StringIO(), StringIO()
    with refused_port() as port, cache_at(location(port)):
        call_command("upsolve_sync", stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert UpsolveProfile.objects.get(user__username="ada").has_fresh_token(300)
    assert len(cache_warnings(logs)) == 1
