"""The bench's phases: what the clients do to the four sites, and what they record.

Configurations are interleaved request by request (in a shuffled order each round) or, for
the throughput, window by window, so that the machine's noise falls on all of them alike.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

from pathbench import configs
from pathbench.client import Browser, Hit
from pathbench.stack import Site, Stack

#: Dashboard views per simulated user per (scaled) hour, as a working day has them.
VIEWS_PER_HOUR = 30
#: Simulated users arrive over this share of the first hour.
ARRIVALS = 0.25


@dataclass
class Record:
    """What a phase produced: the timed requests and the Upsolve calls made meanwhile."""

    hits: list[Hit] = field(default_factory=list)
    calls: list[tuple[str, str, str]] = field(default_factory=list)


def shuffled(rng: random.Random) -> list[str]:
    order = list(configs.CONFIGS)
    rng.shuffle(order)
    return order


def run_threads(targets: list[Callable[[], None]], stop: threading.Event) -> None:
    """Run ``targets`` in threads until all return; on Ctrl-C, tell them to stop and wait."""
    failures: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except Exception as err:
            failures.append(err)
            stop.set()

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except BaseException:
        stop.set()
        for thread in threads:
            thread.join()
        raise
    if failures:
        raise failures[0]


def wait_idle(stack: Stack, sites: dict[str, Site], scale: float = 1.0) -> None:
    """Let the background worker finish what the requests queued before going on."""
    site = sites[configs.BACKGROUND]
    stack.manage(site.config, site.database, "bench_db", "wait_idle", "120", scale=scale)


def create_users(stack: Stack, sites: dict[str, Site], prefix: str, count: int) -> None:
    for site in sites.values():
        stack.manage(site.config, site.database, "bench_db", "users", prefix, str(count))


def warm_up(sites: dict[str, Site], views: int = 10) -> None:
    """A user per worker thread logs in and loads the page: imports, connections, caches."""
    for site in sites.values():
        for _ in range(8):
            browser = Browser(site.config, site.port, "warm-up")
            browser.log_in("warm00000")
            for _ in range(views):
                browser.view()
            browser.close()


def request_latency(
    stack: Stack, sites: dict[str, Site], users: int, views: int, rng: random.Random
) -> tuple[Record, dict[str, list[Browser]]]:
    """One request at a time: first logins, logins again, then dashboard views with a fresh
    token. Returns the record and the logged-in browsers (for the throughput)."""
    record = Record()
    browsers = {
        config: [Browser(config, site.port, "latency") for _ in range(users)]
        for config, site in sites.items()
    }
    for first in (True, False):
        for n in range(users):
            for config in shuffled(rng):
                record.hits.append(browsers[config][n].log_in(f"lat{n:05d}", first=first))
        wait_idle(stack, sites)
    for n in range(views):
        for config in shuffled(rng):
            record.hits.append(browsers[config][n % users].view())
    return record, browsers


def throughput(
    browsers: dict[str, list[Browser]],
    seconds: float,
    rounds: int,
    clients: int,
    rng: random.Random,
    rows: int = 0,
) -> tuple[Record, dict[str, list[float]]]:
    """Views per second of each site under ``clients`` concurrent clients, ``rounds`` windows
    of ``seconds`` per configuration, the windows interleaved; the page has a table of
    ``rows`` rows."""
    record, rates = Record(), {config: [] for config in configs.CONFIGS}
    for _ in range(rounds):
        for config in shuffled(rng):
            tabs = [browsers[config][n % len(browsers[config])].clone() for n in range(clients)]
            hits = load(tabs, seconds, rows)
            rates[config].append(len(hits) / seconds)
            record.hits.extend(hits)
            for tab in tabs:
                tab.close()
    return record, rates


def load(tabs: list[Browser], seconds: float, rows: int = 0) -> list[Hit]:
    """Each tab loads the dashboard page (``rows`` rows) again and again for ``seconds``."""
    hits: list[Hit] = []
    stop = threading.Event()
    ends_at = time.perf_counter() + seconds

    def keep_loading(tab: Browser) -> Callable[[], None]:
        def loop() -> None:
            while not stop.is_set():
                hit = tab.view(rows)
                if time.perf_counter() > ends_at:
                    return
                hits.append(hit)

        return loop

    run_threads([keep_loading(tab) for tab in tabs], stop)
    return hits


def simulate(
    sites: dict[str, Site],
    prefix: str,
    users: int,
    *,
    hours: float,
    scale: float,
    rng: random.Random,
    first: bool,
) -> list[Hit]:
    """``users`` per site, arriving over :data:`ARRIVALS` of an hour: each logs in once, then
    loads the dashboard about :data:`VIEWS_PER_HOUR` times an hour for ``hours``, with the
    clock ``scale`` times faster."""
    hour = configs.HOUR / scale
    hits: list[Hit] = []
    stop = threading.Event()
    started = time.monotonic()

    def user(site: Site, username: str, seed: int) -> Callable[[], None]:
        own = random.Random(seed)

        def day() -> None:
            at = started + own.uniform(0, ARRIVALS * hour)
            if stop.wait(max(0.0, at - time.monotonic())):
                return
            browser = Browser(site.config, site.port, prefix)
            hits.append(browser.log_in(username, first=first))
            ends_at = at + hours * hour
            while True:
                at += own.uniform(0.5, 1.5) * hour / VIEWS_PER_HOUR
                if at > ends_at or stop.wait(max(0.0, at - time.monotonic())):
                    break
                hits.append(browser.view())
            browser.close()

        return day

    people = [
        user(site, f"{prefix}{n:05d}", rng.randrange(2**32))
        for site in sites.values()
        for n in range(users)
    ]
    run_threads(people, stop)
    return hits


@dataclass(frozen=True)
class MemorySample:
    seconds: float
    refreshed: int
    rss_kib: int


@dataclass
class Memory:
    """The worker's RSS, idle and then while it refreshed ``users`` tokens."""

    users: int
    idle_kib: int
    samples: list[MemorySample]

    def at(self, fraction: float) -> MemorySample:
        """The first sample taken once ``fraction`` of the users were refreshed."""
        return next(s for s in self.samples if s.refreshed >= fraction * self.users)

    def growth(self) -> float:
        """RSS growth from 10 % of the refreshes to the end: after the first tasks' imports."""
        return self.samples[-1].rss_kib / self.at(0.1).rss_kib - 1


def worker_memory(stack: Stack, users: int, latency: float) -> Memory:
    """The ``db_worker``'s RSS, idle and then every half second while the proactive refresh
    renews ``users`` due tokens (one sweep task, then one sync task per user)."""
    with ExitStack() as cleanup:
        database = stack.create_database("memory", cleanup)
        user_ids = stack.manage(configs.BACKGROUND, database, "bench_db", "stale", str(users))
        stack.standin.know_users(json.loads(user_ids))
        stack.standin.set_latency(latency)
        stack.standin.reset()
        worker = stack.start_worker(database, 1.0, cleanup)
        time.sleep(3)  # started, polling an empty queue
        memory = Memory(users, worker.rss_kib(), [])
        stack.manage(configs.BACKGROUND, database, "bench_db", "sweep")
        started = time.monotonic()
        deadline = started + 120 + users * (latency + 0.1)
        while time.monotonic() < deadline:
            worker.check_alive()
            done = stack.standin.count("worker", "user-token")
            memory.samples.append(MemorySample(time.monotonic() - started, done, worker.rss_kib()))
            if done >= users:
                break
            time.sleep(0.5)
        stack.standin.set_latency(stack.latency)
    if memory.samples[-1].refreshed < users:
        raise RuntimeError(f"The worker refreshed {memory.samples[-1].refreshed} of {users} users.")
    return memory
